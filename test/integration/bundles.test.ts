/**
 * What the function bundles contain, from the source maps `osls package` ships beside them
 * (the run's shared packaging, test/helpers/packaged.ts): every file of node_modules that
 * puts code into a bundle is among its map's sources. Classic zod costs a function about
 * 65 KB and 13 ms of module init more than zod/mini (shared/zod.ts), and one
 * `import * as z from 'zod'` under shared/ would bring it back without failing anything else.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { functionEntries, type ServiceFile } from '../../bench/lib/serverless-esbuild.ts';
import { packagedOnce } from '../helpers/packaged.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const service = parse(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as ServiceFile;
let packaged: string;

beforeAll(async () => {
  const out = await packagedOnce();
  if (out.code !== 0) throw new Error(`osls package failed:\n${out.stdout}\n${out.stderr}`);
  packaged = out.dir;
  // Packaging bundles every function with esbuild; under a full run on the shared 2-core
  // machine it can take longer than the default hook timeout.
}, 300_000);

/** The node_modules files in the shipped bundle of function `name` (paths after `node_modules/`). */
function bundledPackages(name: string): string[] {
  const zip = path.join(packaged, '.serverless', `${name}.zip`);
  const map = execFileSync('unzip', ['-Z1', zip]).toString('utf8').split('\n').find((f) => f.endsWith('.mjs.map'));
  if (!map) throw new Error(`${name}.zip holds no source map`);
  const { sources } = JSON.parse(execFileSync('unzip', ['-p', zip, map], { maxBuffer: 64 * 1024 * 1024 }).toString('utf8')) as { sources: string[] };
  return sources.flatMap((source) => /node_modules\/(.*)$/.exec(source)?.[1] ?? []);
}

describe('function bundles', () => {
  for (const fn of functionEntries(service, ROOT)) {
    it(`${fn.name} bundles zod/mini with English messages, not classic zod`, () => {
      // Act
      const files = bundledPackages(fn.name);
      // Assess
      expect(files.filter((f) => f.startsWith('zod/v4/classic/'))).toEqual([]);
      expect(files).toContain('zod/v4/mini/schemas.js');
      expect(files).toContain('zod/v4/locales/en.js');
      expect(files.filter((f) => f.startsWith('zod/v4/locales/') && !/\/(en|index)\.js$/.test(f))).toEqual([]);
    });
  }
});
