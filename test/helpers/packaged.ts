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
import { resolveService, type ResolvedService } from '#local/deploy';
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
 * What `produce` returns, computed once per test run for `key` across every worker: the
 * first caller creates `<packageRoot>/<key>` with an atomic mkdir and produces; callers
 * meanwhile, in other workers, wait for its result file. `produce` gets that directory.
 */
async function oncePerRun<T>(key: string, what: string, produce: (dir: string) => Promise<T>, failed: (error: unknown) => T): Promise<{ dir: string; value: T }> {
  const root = inject('packageRoot');
  const dir = join(root, key);
  const done = join(root, `${key}.json`);
  let mine = true;
  try {
    // Atomic across workers: exactly one mkdir of `dir` succeeds, and that caller produces.
    mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    mine = false;
  }
  if (mine) {
    let value: T;
    try {
      value = await produce(dir);
    } catch (error) {
      // Reported to the waiters too, instead of leaving them to time out.
      value = failed(error);
    }
    // Written whole, then renamed: a waiter never reads half a result.
    writeFileSync(`${done}.tmp`, JSON.stringify(value));
    renameSync(`${done}.tmp`, done);
    return { dir, value };
  }
  const deadline = Date.now() + WAIT_MS;
  while (!existsSync(done)) {
    if (Date.now() > deadline) throw new Error(`${what} in ${dir}, done by another test file, did not finish within ${WAIT_MS / 1000} s`);
    await sleep(250);
  }
  return { dir, value: JSON.parse(readFileSync(done, 'utf8')) as T };
}

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
  const { dir, value } = await oncePerRun<Omit<Packaged, 'dir'>>(
    key,
    `osls ${args.join(' ')}`,
    async (into) => {
      copyProject({ into, serverlessYml: () => yml });
      return osls(into, args);
    },
    (error) => ({ code: 1, stdout: '', stderr: `copying the project for packaging failed: ${String(error)}` }),
  );
  return { dir, ...value };
}

/**
 * The project's serverless.yml as `osls print` resolves it for `stage` (resolveService,
 * local/deploy.ts): resolved by the first file of the run that asks, shared with the rest,
 * so the files that deploy the project on their stack pay for one `osls print`, not one each.
 * deployLocal's own resolution stays tested where it is called without `service`.
 */
export async function resolvedOnce(options: { stage?: string } = {}): Promise<ResolvedService> {
  const yml = readFileSync(join(PROJECT_DIR, 'serverless.yml'), 'utf8');
  const key = `resolved-${createHash('sha256').update(JSON.stringify([yml, options.stage ?? null])).digest('hex').slice(0, 16)}`;
  const { value } = await oncePerRun<{ service?: ResolvedService; error?: string }>(
    key,
    'osls print',
    async () => ({ service: await resolveService(PROJECT_DIR, options) }),
    (error) => ({ error: String(error) }),
  );
  if (!value.service) throw new Error(`resolving serverless.yml failed (in the file that resolved it first): ${value.error}`);
  return value.service;
}
