/**
 * runProcess through the launcher process (local/batch/launcher.mjs), with real
 * processes: exit codes, stop and kill (also before the launcher reported the pid),
 * start errors, the launcher dying under running jobs, the launcher ignoring the
 * signals a terminal sends to the whole process group, and the event loop: a process
 * that ran a job exits on its own, stays alive while it waits for one, and leaves its
 * jobs running (with the launcher gone) when it is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launcherPid, runProcess, type RunSpec } from '#local/batch/runner';
import { eventually } from '#test/helpers/eventually';

const REPO = resolve(import.meta.dirname, '../..');
let logDir: string;
let n = 0;
/** Process groups a test started and must not leave behind. */
const groups = new Set<number>();
/** Parent processes a test started (test/fixtures/run-one-job.ts), same. */
const parents = new Set<ChildProcess>();

beforeAll(() => {
  logDir = mkdtempSync(join(tmpdir(), 'batchron-launcher-test-'));
});

afterEach(() => {
  for (const pid of groups) signal(-pid, 'SIGKILL');
  groups.clear();
  for (const child of parents) child.kill('SIGKILL');
  parents.clear();
});

function spec(command: string[]): RunSpec {
  return { command, cwd: REPO, env: { PATH: process.env.PATH ?? '' }, logFile: join(logDir, `job-${++n}`, 'output.log') };
}

/** process.kill that reports whether the target existed instead of throwing. */
function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a process (pid > 0) or a process group (pid < 0) still has a live member.
 * Zombies do not count: an orphaned job is reaped by init, which some containers' pid 1
 * never does. Without /proc (macOS) a zombie counts as alive.
 */
function alive(pid: number): boolean {
  if (!existsSync('/proc/self/stat')) return signal(pid, 0);
  const stats = pid > 0 ? [statOf(pid)] : readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map((d) => statOf(Number(d)));
  return stats.some((s) => s !== undefined && s.state !== 'Z' && (pid > 0 || s.pgrp === -pid));
}

/** State and process group from /proc/<pid>/stat (the command name may contain spaces and parentheses). */
function statOf(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, , pgrp] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: state!, pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

describe('runProcess through the launcher', () => {
  it('runs a job that exits 0, with its output in the log file and started resolved before done', async () => {
    // Prepare
    const s = spec(['sh', '-c', 'echo "hello from $$"']);
    const order: string[] = [];

    // Act
    const proc = runProcess(s);
    void proc.started.then(() => order.push('started'));
    const result = await proc.done.then((r) => (order.push('done'), r));

    // Assess
    expect(result).toEqual({ exitCode: 0 });
    expect(await proc.started).toBe(true);
    expect(order).toEqual(['started', 'done']);
    expect(readFileSync(s.logFile, 'utf8')).toBe(`hello from ${proc.pid}\n`);
    expect(launcherPid()).toEqual(expect.any(Number));
  });

  it('reports a non-zero exit code', async () => {
    // Act
    const result = await runProcess(spec(['sh', '-c', 'exit 3'])).done;

    // Assess
    expect(result).toEqual({ exitCode: 3 });
  });

  it('stop() sends SIGTERM to the whole process group and reports the signal as exit code 143', async () => {
    // Prepare
    const proc = runProcess(spec(['sh', '-c', 'sleep 60 & wait']));
    expect(await proc.started).toBe(true);
    groups.add(proc.pid!);

    // Act
    const result = await proc.stop(10_000);

    // Assess
    expect(result).toEqual({ signal: 'SIGTERM', exitCode: 143 });
    await eventually(() => !alive(-proc.pid!), 'the background sleep to end with its group');
  });

  it('stop() escalates to SIGKILL after the grace period when the job ignores SIGTERM', async () => {
    // Prepare
    const s = spec(['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done']);
    const proc = runProcess(s);
    expect(await proc.started).toBe(true);
    groups.add(proc.pid!);
    await eventually(() => readFileSync(s.logFile, 'utf8').includes('ready'), 'the trap to be set');

    // Act
    const result = await proc.stop(200);

    // Assess
    expect(result).toEqual({ signal: 'SIGKILL', exitCode: 137 });
  });

  it('reports a missing executable as a start error, in the log too', async () => {
    // Prepare
    const s = spec(['batchron-no-such-executable', '--flag']);

    // Act
    const proc = runProcess(s);
    const result = await proc.done;

    // Assess
    expect(result).toEqual({ startError: '"batchron-no-such-executable": executable file not found in $PATH or project folder' });
    expect(await proc.started).toBe(false);
    expect(proc.pid).toBeUndefined();
    expect(readFileSync(s.logFile, 'utf8')).toBe('[batchron] cannot start batchron-no-such-executable: spawn batchron-no-such-executable ENOENT\n');
  });

  it('answers an empty command without the launcher', async () => {
    // Act
    const result = await runProcess(spec([])).done;

    // Assess
    expect(result).toEqual({ startError: 'the job has no command to run (the local stack cannot use an image default)' });
  });

  it('applies a stop() made before the launcher reported the pid as soon as it does', async () => {
    // Act
    const proc = runProcess(spec(['sleep', '60']));
    const pidWhenStopped = proc.pid;
    const result = await proc.stop(10_000);

    // Assess: SIGTERM, so it was not the grace period's SIGKILL that ended it
    expect(pidWhenStopped).toBeUndefined();
    expect(result).toEqual({ signal: 'SIGTERM', exitCode: 143 });
    expect(await proc.started).toBe(true);
  });

  it('applies a kill() made before the launcher reported the pid as soon as it does', async () => {
    // Act
    const proc = runProcess(spec(['sleep', '60']));
    proc.kill();
    const result = await proc.done;

    // Assess
    expect(result).toEqual({ signal: 'SIGKILL', exitCode: 137 });
  });
});

describe('when the launcher dies', () => {
  it('kills the jobs it was running, fails the ones it had not started, and the next job gets a new launcher', async () => {
    // Prepare: one running job, and one request the launcher will never read (it is stopped)
    const running = runProcess(spec(['sleep', '60']));
    expect(await running.started).toBe(true);
    groups.add(running.pid!);
    const first = launcherPid()!;
    expect(signal(first, 'SIGSTOP')).toBe(true);
    const unstarted = runProcess(spec(['sleep', '60']));

    // Act
    signal(first, 'SIGKILL');
    const [killed, neverStarted] = await Promise.all([running.done, unstarted.done]);
    const next = await runProcess(spec(['sh', '-c', 'exit 0'])).done;

    // Assess
    expect(killed).toEqual({ signal: 'SIGKILL', exitCode: 137 });
    await eventually(() => !alive(-running.pid!), 'the running job to be SIGKILLed');
    expect(neverStarted).toEqual({ startError: '"sleep": the local job launcher died before it reported starting the process' });
    expect(await unstarted.started).toBe(false);
    expect(next).toEqual({ exitCode: 0 });
    expect(launcherPid()).toEqual(expect.any(Number));
    expect(launcherPid()).not.toBe(first);
  });

  it('does not die of the signals a terminal or a group-wide stop sends to the stack process group', async () => {
    // Prepare
    const proc = runProcess(spec(['sleep', '60']));
    expect(await proc.started).toBe(true);
    groups.add(proc.pid!);
    const pid = launcherPid()!;

    // Act
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) signal(pid, sig);
    await new Promise((r) => setTimeout(r, 200));
    const result = await proc.stop(10_000);

    // Assess: the stack still decides how its jobs stop
    expect(alive(pid)).toBe(true);
    expect(launcherPid()).toBe(pid);
    expect(result).toEqual({ signal: 'SIGTERM', exitCode: 143 });
  });
});

describe('the process that runs jobs', () => {
  /** Runs test/fixtures/run-one-job.ts with `command`; lines are its JSON output. */
  function runOneJob(command: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/run-one-job.ts', join(logDir, `parent-${++n}.log`), ...command], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    parents.add(child);
    const lines: Record<string, unknown>[] = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const line of parts) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, sig) => r({ code, signal: sig })));
    return { child, lines, exited };
  }

  it('waits for a job with nothing else pending, then exits on its own, and so does its launcher', async () => {
    // Act
    const { lines, exited } = runOneJob(['sh', '-c', 'sleep 0.5; exit 4']);
    const ended = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 15_000))]);

    // Assess
    expect(ended).toEqual({ code: 0, signal: null });
    expect(lines).toEqual([{ started: true, pid: expect.any(Number), launcherPid: expect.any(Number) }, { result: { exitCode: 4 } }]);
    const launcher = lines[0]!.launcherPid as number;
    await eventually(() => !alive(launcher), 'the launcher to exit with its parent', 5_000);
  });

  it('when killed, takes its launcher with it but leaves the job running', async () => {
    // Prepare
    const { child, lines, exited } = runOneJob(['sleep', '60']);
    await eventually(() => lines.length > 0, 'the job to start');
    const { pid, launcherPid: launcher } = lines[0] as { pid: number; launcherPid: number };
    groups.add(pid);

    // Act
    child.kill('SIGKILL');
    await exited;

    // Assess
    await eventually(() => !alive(launcher), 'the launcher to exit on disconnect', 5_000);
    expect(alive(-pid)).toBe(true);
  });
});
