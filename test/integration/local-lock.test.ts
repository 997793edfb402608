/**
 * Two stacks on one data folder would write the same DynamoDB Local files and state snapshots;
 * the second start is refused, naming the first, and a lock left by a crash is taken over.
 * Driven through the real `batchron local` command, as a user would start it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startTestStack, type TestStack } from '#test/helpers/stack';

const children: ChildProcess[] = [];
const stacks: TestStack[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of stacks.splice(0)) await s.stop();
});

/** `batchron local` on `dataDir` (port 0, the tests' DynamoDB Local); resolves with its output once it is up or has exited. */
function batchronLocal(dataDir: string): Promise<{ child: ChildProcess; up: boolean; output: () => string; exit: Promise<number | null> }> {
  const child = spawn(
    process.execPath,
    ['bin/batchron.mjs', 'local', '--port', '0', '--data-dir', dataDir, '--dynamodb-endpoint', inject('dynamodbUrl'), '--quiet'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  children.push(child);
  let text = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('is up at')) resolve({ child, up: true, output: () => text, exit });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exit.then(() => resolve({ child, up: false, output: () => text, exit }));
  });
}

describe('one local stack per data folder', () => {
  it('refuses a second start on the same folder with a message naming the running one', async () => {
    // Prepare: a stack holding the folder (this test process)
    const first = await startTestStack({ command: 'batchron start' });
    stacks.push(first);

    // Act
    const second = await batchronLocal(first.dataDir);
    const code = await second.exit;

    // Assess
    expect(second.up).toBe(false);
    expect(code).toBe(1);
    expect(second.output()).toContain(`another Batchron local stack (pid ${process.pid}, \`batchron start\``);
    expect(second.output()).toContain(`is using ${first.dataDir}`);
    expect(first.stack.dataDir).toBe(first.dataDir);
  });

  it('takes over the lock a killed stack left behind, and frees it on a clean stop', async () => {
    // Prepare: a `batchron local` killed with SIGKILL (no chance to clean up)
    const dataDir = mkdtempSync(join(tmpdir(), 'batchron-lock-crash-'));
    const crashed = await batchronLocal(dataDir);
    expect(crashed.up).toBe(true);
    crashed.child.kill('SIGKILL');
    await crashed.exit;
    const left = JSON.parse(readFileSync(join(dataDir, 'stack.lock'), 'utf8')) as { pid: number };
    expect(left.pid).toBe(crashed.child.pid);

    // Act
    const lines: string[] = [];
    const next = await startTestStack({ dataDir, log: (l) => lines.push(l) });
    await next.stop({ keepData: true });

    // Assess
    expect(lines).toContain(`local stack: took over the lock of ${dataDir} from pid ${crashed.child.pid}, which no longer runs`);
    expect(existsSync(join(dataDir, 'stack.lock'))).toBe(false);
  });
});
