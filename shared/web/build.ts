/**
 * Builds the dashboard from web/ with esbuild (a devDependency: the local stack and tests
 * only; the Lambda bundle carries the files prebuilt, see shared/web/embedded.ts).
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** URL path -> file text; `/` is the HTML shell. */
export async function buildWebFiles(): Promise<Record<string, string>> {
  // Specifiers in variables: a bundler of this module must not try to pull esbuild in.
  const esbuildName = 'esbuild';
  const builderPath = resolve(root, 'web/build.mjs');
  const [esbuild, { buildWeb }] = (await Promise.all([import(esbuildName), import(builderPath)])) as [
    typeof import('esbuild'),
    typeof import('../../web/build.mjs'),
  ];
  return buildWeb({ esbuild, root });
}
