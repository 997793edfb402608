// @ts-check
/**
 * The local job launcher: a small long-lived child of the stack that starts job
 * processes for it. libuv's spawn is synchronous: it forks the calling process and waits
 * until the child has exec'd. Forking the stack's main process (large: every simulated
 * service and the Lambda handlers live in it) and then waiting for a saturated machine
 * to schedule the child cost the spike benchmark 14% of the main thread. This process is
 * small, does nothing else, and pays that price instead; the stack only sends it one IPC
 * message per job (see runner.ts, which owns the protocol and everything else).
 *
 * Plain JavaScript on purpose: runner.ts forks it with bare `node` and no loader. Under
 * vitest's workers and under tsx, `process.execArgv` differ, so a .ts file could not be
 * forked reliably; this file needs nothing but Node. The types are JSDoc, checked with
 * `// @ts-check` in an editor.
 *
 * Protocol (JSON over the IPC channel), keyed by the request's `id`:
 *   in:  { id, file, args, cwd, env, logFile }
 *   out: { type: 'spawn', id, pid }            the OS started the process
 *        { type: 'error', id, code?, message } it could not be started (nothing follows)
 *        { type: 'exit', id, code, signal }    it ended
 * Messages for one job go out in that order, and IPC keeps it.
 *
 * Lifetime: exactly that of the IPC channel. When the stack goes away (even SIGKILLed)
 * the channel disconnects and the launcher exits WITHOUT touching the jobs: they lead
 * their own process groups and outlive a crashed stack, which reconciles them on
 * restart. Ctrl-C, a closed terminal or a group-wide SIGTERM reach every process in the
 * stack's process group, this one included; they are ignored here because stopping jobs
 * is the stack's call (SIGTERM, then SIGKILL after the grace period), and a launcher
 * dying first would make the stack SIGKILL every job it can no longer watch.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * @typedef {{ id: number, file: string, args: string[], cwd: string, env: Record<string, string>, logFile: string }} LaunchRequest
 * @typedef {{ type: 'spawn', id: number, pid: number }
 *   | { type: 'error', id: number, code?: string, message: string }
 *   | { type: 'exit', id: number, code: number | null, signal: NodeJS.Signals | null }} LaunchReport
 */

if (!process.send) {
  console.error('launcher.mjs is started by local/batch/runner.ts over IPC, not run by hand');
  process.exit(1);
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) process.on(signal, () => {});
process.on('disconnect', () => process.exit(0));
process.on('message', (message) => launch(/** @type {LaunchRequest} */ (message)));

/**
 * Starts one job the way runner.ts always has: output appended to its log file, in its
 * own process group (`detached`), so a signal to `-pid` reaches everything it started.
 * @param {LaunchRequest} req
 */
function launch(req) {
  let fd;
  try {
    // Job output stays private to the user, like the rest of the data folder.
    mkdirSync(dirname(req.logFile), { recursive: true, mode: 0o700 });
    fd = openSync(req.logFile, 'a', 0o600);
  } catch (error) {
    const e = /** @type {NodeJS.ErrnoException} */ (error);
    report({ type: 'error', id: req.id, message: `cannot open the log file ${req.logFile}: ${e.message}` });
    return;
  }
  try {
    const child = spawn(req.file, req.args, { cwd: req.cwd, env: req.env, stdio: ['ignore', fd, fd], detached: true });
    child.once('spawn', () => report({ type: 'spawn', id: req.id, pid: /** @type {number} */ (child.pid) }));
    child.once('error', (/** @type {NodeJS.ErrnoException} */ error) => {
      try {
        appendFileSync(req.logFile, `[batchron] cannot start ${req.file}: ${error.message}\n`);
      } catch {
        // The log file vanished; the stack still gets the reason.
      }
      report({ type: 'error', id: req.id, code: error.code, message: error.message });
    });
    child.once('exit', (code, signal) => report({ type: 'exit', id: req.id, code, signal }));
  } catch (error) {
    const e = /** @type {NodeJS.ErrnoException} */ (error);
    report({ type: 'error', id: req.id, code: e.code, message: e.message });
  } finally {
    // The job has its own copy of the descriptor; ours was only needed to hand it over.
    closeSync(fd);
  }
}

/** @param {LaunchReport} message */
function report(message) {
  // A closed channel means the stack is gone; 'disconnect' is about to end this process.
  if (process.connected) process.send?.(message, undefined, undefined, () => {});
}
