/**
 * zod for the Lambda side: `zod/mini`, the functional API of the same zod 4 package, with
 * English messages. Import it as `import * as z from '<this file>'`.
 *
 * Why not classic `zod`: its schemas carry every method as a property, so a bundle that
 * uses one of them ships them all (about 180 KB minified, plus 260 KB of locales when the
 * `z` namespace is imported by name). Mini schemas are plain functions esbuild can shake.
 * Both share zod/v4/core, so a mini schema can be parsed by and embedded in classic ones
 * (shared/config/schema.ts does), and issues and messages are the same.
 *
 * Why the locale: classic registers English the first time a schema is built; mini loads
 * no locale, and a Lambda bundle without classic would then say only "Invalid input". The
 * setting is global to zod/v4/core, and English is what classic would set anyway.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
