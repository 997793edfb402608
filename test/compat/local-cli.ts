/**
 * `npx batchron local` started as a user starts it, for the compatibility tests that drive it
 * with clients we did not write (the AWS CLI, boto3). Stopped with SIGINT to its process group,
 * as a terminal's Ctrl-C stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freePort } from '#local/ports';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '#test/helpers/stack';

export interface CompatStack {
  endpoint: string;
  /** A scratch folder for the clients' HOME and config (removed on stop). */
  dir: string;
  /** Environment for a client process: test credentials, and none of the machine's own AWS configuration. */
  clientEnv: NodeJS.ProcessEnv;
  /** Sets the stack's clock (the control API), so a schedule falls due without waiting. */
  setClock(at: Date): Promise<number>;
  /** The stack's clock, epoch ms. */
  clock(): Promise<number>;
  stop(): Promise<void>;
}


export async function startCompatStack(prefix: string): Promise<CompatStack> {
  const dir = mkdtempSync(join(tmpdir(), `batchron-${prefix}-`));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('npx', ['batchron', 'local', '--port', String(port), '--data-dir', join(dir, 'stack'), '--grace', '500'], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
    // Its own process group, so Ctrl-C can be sent the way a terminal sends it: to npx and everything under it.
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  await eventually(
    () => {
      if (child.exitCode !== null) throw new Error(`batchron local exited early:\n${output}`);
      return output.includes('is up at');
    },
    'batchron local to print its endpoint',
    90_000,
  );
  if (!output.includes(`export AWS_ENDPOINT_URL=${endpoint}`)) throw new Error(`batchron local did not print its endpoint:\n${output}`);
  // The control API takes the token `batchron local` keeps in its data folder.
  const authorization = `Bearer ${readFileSync(join(dir, 'stack', 'api-token'), 'utf8').trim()}`;
  const control = (path: string, init: RequestInit = {}) =>
    fetch(`${endpoint}/_batchron/${path}`, { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization } });
  return {
    endpoint,
    dir,
    clientEnv: {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_PAGER: '',
    },
    async clock() {
      return ((await (await control('clock')).json()) as { epochMs: number }).epochMs;
    },
    async setClock(at) {
      const res = await control('clock', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ set: at.toISOString() }),
      });
      return res.status;
    },
    async stop() {
      if (child.pid !== undefined && child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(-child.pid, 'SIGINT');
        const force = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
        await exited;
        clearTimeout(force);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
