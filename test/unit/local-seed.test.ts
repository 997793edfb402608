/**
 * local-seed.yml: what `npm start` puts in the local Parameter Store and Secrets Manager.
 * Names take the stage; a bad file is refused naming the field, never echoing a value.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_SEED_FILE, loadLocalSeed } from '#local/seed';
import { LocalSeedError } from '#shared/errors';

const dirs: string[] = [];
function project(seed: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'batchron-seed-'));
  dirs.push(dir);
  if (seed !== undefined) writeFileSync(join(dir, LOCAL_SEED_FILE), seed);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('loadLocalSeed', () => {
  it('resolves ${sls:stage} in names and stores a map value as JSON', () => {
    const dir = project('ssm:\n  /batchron/${sls:stage}/db-password: pw-1\nsecretsManager:\n  batchron/${sls:stage}/api:\n    token: tok-1\n');
    expect(loadLocalSeed(dir, 'qa')).toEqual({
      ssm: [{ name: '/batchron/qa/db-password', value: 'pw-1' }],
      secretsManager: [{ name: 'batchron/qa/api', value: '{"token":"tok-1"}' }],
    });
  });

  it('is absent when the project has no seed file', () => {
    expect(loadLocalSeed(project(undefined), 'dev')).toBeUndefined();
  });

  it('refuses a bad file naming the field and what is allowed, without echoing any value', () => {
    const dir = project('ssm:\n  /ok: ""\nsecrets:\n  x: never-echo-me\n');
    const error = (() => {
      try {
        loadLocalSeed(dir, 'dev');
      } catch (e) {
        return e;
      }
    })() as LocalSeedError;
    expect(error).toBeInstanceOf(LocalSeedError);
    expect(error.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^ssm\.\/ok: must be a non-empty string/), expect.stringMatching(/unknown field\(s\) secrets; allowed: ssm, secretsManager/)]));
    expect(error.message).not.toContain('never-echo-me');
  });
});
