/**
 * Runs one job attempt as a local process: the container command, in the project
 * folder, with its output appended to the attempt's log file. Each process leads its
 * own process group so a kill reaches everything it started (`sh -c 'sleep 60'` leaves
 * no orphan), the way stopping a container takes its whole process tree with it.
 *
 * The stack does not spawn the processes itself: libuv's spawn is synchronous (it forks
 * the caller, then waits until the child has exec'd), and forking the stack's large main
 * process on a saturated machine took 14% of its main thread in the spike benchmark,
 * the thread that also runs the Lambda handlers and every other simulated service. A
 * small long-lived launcher process (launcher.mjs, whose header has the protocol) does
 * the spawning; here each job costs one IPC message. It is forked lazily on first use,
 * one per stack process, shared by every LocalBatch in it.
 *
 * What stays here: signals go straight from this process to the job's group
 * (`process.kill(-pid)`), so a stop or kill never waits behind the launcher; one asked
 * for before the launcher has reported the pid is applied as soon as it does. The IPC
 * channel holds the event loop open only while a job is in flight, so the CLI and tests
 * exit when they are done. If the launcher dies, every job it was watching is SIGKILLed
 * and ends as killed (or, if it never reported starting, with a start error), and the
 * next job starts a fresh launcher. If this process dies instead, the launcher exits and
 * leaves the jobs running, as they always have: a restarted stack reconciles them.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  /** Undefined until the launcher reports the process started. */
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
  let pid: number | undefined;
  let exited = false;
  /** A signal asked for before the pid was known; sent once it is. */
  let wanted: NodeJS.Signals | undefined;
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
  const signalGroup = (sig: NodeJS.Signals) => {
    if (exited) return;
    if (pid === undefined) {
      if (wanted !== 'SIGKILL') wanted = sig;
      return;
    }
    try {
      process.kill(-pid, sig);
    } catch {
      // The group is already gone; the exit report will follow or has arrived.
    }
  };

  const [file, ...args] = spec.command;
  if (!file) {
    // As before the launcher: the attempt still gets its (empty) log file.
    mkdirSync(dirname(spec.logFile), { recursive: true, mode: 0o700 });
    closeSync(openSync(spec.logFile, 'a', 0o600));
    finish({ startError: 'the job has no command to run (the local stack cannot use an image default)' });
  } else {
    const request = { file, args, cwd: resolve(spec.cwd), env: spec.env, logFile: resolve(spec.logFile) };
    try {
      launcher().launch(request, {
        spawned(reportedPid) {
          pid = reportedPid;
          resolveStarted(true);
          if (wanted) signalGroup(wanted);
        },
        failed(error) {
          finish({ startError: startErrorText(file, error) });
        },
        exited(code, signal) {
          if (signal) finish({ signal, exitCode: exitCodeOf(signal) });
          else finish({ exitCode: code ?? 0 });
        },
        launcherDied() {
          if (pid === undefined) {
            finish({ startError: `"${file}": the local job launcher died before it reported starting the process` });
            return;
          }
          // Nobody is left to report its exit: end it rather than leave an unwatched job.
          signalGroup('SIGKILL');
          finish({ signal: 'SIGKILL', exitCode: exitCodeOf('SIGKILL') });
        },
      });
    } catch (error) {
      finish({ startError: startErrorText(file, error as NodeJS.ErrnoException) });
    }
  }

  return {
    get pid() {
      return pid;
    },
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

/** Test hook: the pid of the current launcher process, undefined before the first job or after it died. */
export function launcherPid(): number | undefined {
  return current?.alive ? current.pid : undefined;
}

function startErrorText(file: string, error: { code?: string; message: string }): string {
  if (error.code === 'ENOENT') return `"${file}": executable file not found in $PATH or project folder`;
  if (error.code === 'EACCES') return `"${file}": permission denied`;
  return `"${file}": ${error.message}`;
}

function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

// ---- the launcher process ------------------------------------------------------------

const LAUNCHER_SCRIPT = fileURLToPath(new URL('./launcher.mjs', import.meta.url));

/** What the launcher is asked to start (launcher.mjs's LaunchRequest without the id). */
interface LaunchRequest {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
}

/** What the launcher reports about a job, keyed by the request's id. */
type LaunchReport =
  | { type: 'spawn'; id: number; pid: number }
  | { type: 'error'; id: number; code?: string; message: string }
  | { type: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null };

/** One job's end of the protocol. After `failed`, `exited` or `launcherDied` nothing more arrives. */
interface LaunchWatcher {
  spawned(pid: number): void;
  failed(error: { code?: string; message: string }): void;
  exited(code: number | null, signal: NodeJS.Signals | null): void;
  launcherDied(): void;
}

let current: Launcher | undefined;

/** The live launcher, forking a fresh one on first use or after the last one died. */
function launcher(): Launcher {
  if (!current?.alive) current = new Launcher();
  return current;
}

class Launcher {
  alive = true;
  private readonly child: ChildProcess;
  private readonly jobs = new Map<number, LaunchWatcher>();
  private nextId = 1;

  constructor() {
    // No loader flags (execArgv) and no NODE_OPTIONS: launcher.mjs needs bare Node, and
    // a tsx or vitest hook would only slow its start.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    this.child = fork(LAUNCHER_SCRIPT, [], {
      execArgv: [],
      env,
      // stderr is shared so a launcher crash is seen in the stack's output.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'json',
    });
    // Neither the process nor (while no job is in flight) its channel holds this process open.
    this.child.unref();
    this.child.channel?.unref();
    this.child.on('message', (message) => this.receive(message as LaunchReport));
    // The channel closes when the launcher dies, after every report it sent was read.
    this.child.once('disconnect', () => this.died());
    // Backstops: 'exit' may be handled before the last reports are read, so it waits a turn;
    // 'error' means the fork itself failed.
    this.child.once('exit', () => setImmediate(() => this.died()));
    this.child.once('error', () => this.died());
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  launch(request: LaunchRequest, watcher: LaunchWatcher): void {
    const id = this.nextId++;
    this.jobs.set(id, watcher);
    // A caller may be awaiting `done` with nothing else pending: the channel keeps it alive.
    if (this.jobs.size === 1) this.child.channel?.ref();
    this.child.send({ id, ...request }, (error) => {
      if (error) this.died();
    });
  }

  private receive(report: LaunchReport): void {
    const watcher = this.jobs.get(report.id);
    if (!watcher) return;
    if (report.type === 'spawn') {
      watcher.spawned(report.pid);
      return;
    }
    this.forget(report.id);
    if (report.type === 'error') watcher.failed(report);
    else watcher.exited(report.code, report.signal);
  }

  private forget(id: number): void {
    this.jobs.delete(id);
    if (this.jobs.size === 0 && this.alive) this.child.channel?.unref();
  }

  /** Ends every job it was watching; the next runProcess forks a new launcher. Idempotent. */
  private died(): void {
    if (!this.alive) return;
    this.alive = false;
    if (current === this) current = undefined;
    // Reached through a failed send, it may still be running: make it as dead as we treat it.
    this.child.kill('SIGKILL');
    const watchers = [...this.jobs.values()];
    this.jobs.clear();
    for (const watcher of watchers) watcher.launcherDied();
  }
}
