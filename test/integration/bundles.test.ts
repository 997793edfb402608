/**
 * What the function bundles contain, from esbuild's metafile with the options
 * serverless-esbuild uses (bench/lib/serverless-esbuild.ts). Classic zod costs a function
 * about 65 KB and 13 ms of module init more than zod/mini (shared/zod.ts), and one
 * `import * as z from 'zod'` under shared/ would bring it back without failing anything else.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { functionEntries, serverlessEsbuildOptions, type ServiceFile } from '../../bench/lib/serverless-esbuild.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const service = parse(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as ServiceFile;
const outRoot = mkdtempSync(path.join(tmpdir(), 'batchron-bundles-'));

afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

/** The node_modules files that end up in the bundle of `entry` (paths after `node_modules/`). */
async function bundledPackages(entry: string): Promise<string[]> {
  const { metafile } = (await build({ ...serverlessEsbuildOptions(service, entry, outRoot, ROOT), write: false })) as { metafile: Metafile };
  const output = Object.entries(metafile.outputs).find(([file]) => !file.endsWith('.map'));
  if (!output) throw new Error(`esbuild produced no bundle for ${entry}`);
  return Object.keys(output[1].inputs).flatMap((input) => /node_modules\/(.*)$/.exec(input)?.[1] ?? []);
}

describe('function bundles', () => {
  for (const fn of functionEntries(service, ROOT)) {
    it(`${fn.name} bundles zod/mini with English messages, not classic zod`, async () => {
      // Act
      const files = await bundledPackages(fn.entry);
      // Assess
      expect(files.filter((f) => f.startsWith('zod/v4/classic/'))).toEqual([]);
      expect(files).toContain('zod/v4/mini/schemas.js');
      expect(files).toContain('zod/v4/locales/en.js');
      expect(files.filter((f) => f.startsWith('zod/v4/locales/') && !/\/(en|index)\.js$/.test(f))).toEqual([]);
    });
  }
});
