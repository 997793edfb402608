/**
 * `osls package` once per test run for each distinct configuration, shared by every test
 * file that reads it: the first file to ask packages a copy of the project into this run's
 * `packageRoot` (test/helpers/global-setup.ts); files asking for the same serverless.yml
 * text and arguments meanwhile, in other workers, wait for that packaging instead of running
 * their own. The root is new for each run and removed after it, so a packaging is never read
 * by a later run. Callers must not modify or remove the directory they get.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { copyProject, osls, PROJECT_DIR } from '../integration/package.helpers.ts';

/** A packaged copy of the project and how `osls package` ended there. */
export interface Packaged {
  /** The copy; its `.serverless/` holds what osls wrote (readTemplate(dir)). */
  dir: string;
  code: number;
  stdout: string;
  stderr: string;
}

/** How long a file waits for another worker's packaging (esbuild under a full run on 2 cores). */
const WAIT_MS = 300_000;

/**
 * The project packaged with `serverlessYml` applied to its serverless.yml (as it is when not
 * given) and `args` after `package`: packaged by this call, or by the first call of the run
 * with the same resulting serverless.yml text and arguments.
 */
export async function packagedOnce(options: { serverlessYml?: (original: string) => string; args?: string[] } = {}): Promise<Packaged> {
  const original = readFileSync(join(PROJECT_DIR, 'serverless.yml'), 'utf8');
  const yml = options.serverlessYml ? options.serverlessYml(original) : original;
  const args = ['package', ...(options.args ?? [])];
  const key = createHash('sha256').update(JSON.stringify([yml, args])).digest('hex').slice(0, 16);
  const root = inject('packageRoot');
  const dir = join(root, key);
  const done = join(root, `${key}.json`);
  let mine = true;
  try {
    // Atomic across workers: exactly one mkdir of `dir` succeeds, and that caller packages.
    mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    mine = false;
  }
  if (mine) {
    let out: Omit<Packaged, 'dir'>;
    try {
      copyProject({ into: dir, serverlessYml: () => yml });
      out = await osls(dir, args);
    } catch (error) {
      // Reported to the waiters too, instead of leaving them to time out.
      out = { code: 1, stdout: '', stderr: `copying the project for packaging failed: ${String(error)}` };
    }
    // Written whole, then renamed: a waiter never reads half a result.
    writeFileSync(`${done}.tmp`, JSON.stringify(out));
    renameSync(`${done}.tmp`, done);
    return { dir, ...out };
  }
  const deadline = Date.now() + WAIT_MS;
  while (!existsSync(done)) {
    if (Date.now() > deadline) throw new Error(`osls ${args.join(' ')} in ${dir}, packaged by another test file, did not finish within ${WAIT_MS / 1000} s`);
    await sleep(250);
  }
  return { dir, ...(JSON.parse(readFileSync(done, 'utf8')) as Omit<Packaged, 'dir'>) };
}
