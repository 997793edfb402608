/**
 * zod for everything the Lambda functions bundle (shared/, functions/): `zod/mini`, the
 * functional API of the same zod 4 package, with English messages. Import it as
 * `import * as z from '<this file>'`; cli/ and local/ run outside Lambda and keep classic
 * `zod` (a test holds the function bundles to this).
 *
 * Why not classic: its schemas carry every method, so a bundle that uses one ships them all
 * (zod took 99 KB of the api bundle, 36 KB as mini) and builds each schema with them (the
 * config schemas alone took 13 ms more to load, median on the 2-core build machine).
 * Mini schemas are plain functions esbuild can shake. Both share zod/v4/core: issues and
 * messages are the same, and a mini schema can be parsed by or embedded in a classic one.
 *
 * Why the locale: classic registers English the first time a schema is built; mini loads
 * none, and a bundle without classic would say only "Invalid input". The setting is global
 * to zod/v4/core, and English is what classic would set anyway.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
