/**
 * Runs one job attempt as a local process: the container command, in the project
 * folder, with its output appended to the attempt's log file. Each process leads its
 * own process group so a kill reaches everything it started (`sh -c 'sleep 60'` leaves
 * no orphan), the way stopping a container takes its whole process tree with it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { constants } from 'node:os';

export interface RunSpec {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
}

/** How the process ended, in Docker's terms: a signal shows as exit code 128 + signal number. */
export interface RunResult {
  exitCode?: number;
  signal?: NodeJS.Signals;
  /** Set when the process could not be started at all (e.g. the executable does not exist). */
  startError?: string;
}

export interface RunningProcess {
  readonly pid: number | undefined;
  /** Resolves true once the OS has started the process, false when it could not be started. */
  readonly started: Promise<boolean>;
  /** Resolves once the process (group) has exited. */
  readonly done: Promise<RunResult>;
  /** SIGTERM, then SIGKILL after `graceMs` of real time if it is still alive. */
  stop(graceMs: number): Promise<RunResult>;
  /** SIGKILL at once, as a vanished host would. */
  kill(): void;
}

/** Starts the attempt's process; never throws (a failed start resolves `done` with `startError`). */
export function runProcess(spec: RunSpec): RunningProcess {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  let child: ChildProcess | undefined;
  let exited = false;
  let resolveDone!: (r: RunResult) => void;
  const done = new Promise<RunResult>((resolve) => (resolveDone = resolve));
  let resolveStarted!: (ok: boolean) => void;
  const started = new Promise<boolean>((resolve) => (resolveStarted = resolve));
  const finish = (r: RunResult) => {
    if (exited) return;
    exited = true;
    resolveStarted(false); // no-op when 'spawn' already resolved it
    resolveDone(r);
  };

  const [file, ...args] = spec.command;
  if (!file) {
    closeSync(fd);
    finish({ startError: 'the job has no command to run (the local stack cannot use an image default)' });
  } else {
    try {
      child = spawn(file, args, {
        cwd: spec.cwd,
        env: spec.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      child.once('spawn', () => resolveStarted(true));
      child.once('error', (error: NodeJS.ErrnoException) => {
        appendFileSync(spec.logFile, `[batchron] cannot start ${file}: ${error.message}\n`);
        finish({ startError: startErrorText(file, error) });
      });
      child.once('exit', (code, signal) => {
        if (signal) finish({ signal, exitCode: 128 + (constants.signals[signal] ?? 0) });
        else finish({ exitCode: code ?? 0 });
      });
    } catch (error) {
      finish({ startError: startErrorText(file, error as NodeJS.ErrnoException) });
    } finally {
      // The child has its own copy of the descriptor; ours is only needed to hand it over.
      closeSync(fd);
    }
  }

  const signalGroup = (sig: NodeJS.Signals) => {
    if (exited || !child?.pid) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // The group is already gone; the exit event will follow or has fired.
    }
  };

  return {
    pid: child?.pid,
    started,
    done,
    stop(graceMs: number) {
      signalGroup('SIGTERM');
      // Real time, not the stack's clock: the OS process needs wall time to shut down,
      // even when a test has jumped the clock forward.
      const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      return done.finally(() => clearTimeout(timer));
    },
    kill() {
      signalGroup('SIGKILL');
    },
  };
}

function startErrorText(file: string, error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOENT') return `"${file}": executable file not found in $PATH or project folder`;
  if (error.code === 'EACCES') return `"${file}": permission denied`;
  return `"${file}": ${error.message}`;
}
