/**
 * One local stack per data folder. Two stacks on one `.batchron/` would both write the same
 * DynamoDB Local files and state snapshots, and each would then read the other's half-written
 * state; so a stack takes `<dataDir>/stack.lock` before it touches anything there.
 *
 * The lock file holds the holder's pid, so a refusal can name it. It is created with `wx`
 * (O_CREAT|O_EXCL, atomic on a local disk). A lock whose pid no longer runs is stale (the
 * holder crashed or was killed with SIGKILL) and is taken over: the taker renames its own
 * fresh lock over the stale one only after checking again, so two starts racing for one
 * stale lock cannot both win (the loser finds a live pid on its next read).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a lock file records. */
export interface LockHolder {
  pid: number;
  /** ISO-8601; when the holder took the lock. */
  startedAt: string;
  /** The command the holder runs (`npm start`, `batchron local`), for the refusal message. */
  command: string;
}

/** The data folder is in use by another live stack. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `another Batchron local stack (pid ${holder.pid}, \`${holder.command}\`, started ${holder.startedAt}) is using ${dataDir}; ` +
        'stop it first, or give this one its own --data-dir',
    );
    this.name = 'DataDirLockedError';
  }
}

/** A held lock; `release` is idempotent and removes the file only while it is still ours. */
export interface DataDirLock {
  readonly file: string;
  /** True when a stale lock (a holder that no longer runs) was taken over. */
  readonly tookOverFrom?: LockHolder;
  release(): void;
}

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder>;
    if (typeof parsed.pid !== 'number') return undefined;
    return { pid: parsed.pid, startedAt: String(parsed.startedAt ?? 'unknown'), command: String(parsed.command ?? 'unknown') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Unreadable or half-written: a holder dies between create and write only if it crashed, so treat as stale.
    return { pid: -1, startedAt: 'unknown', command: 'unknown' };
  }
}

/**
 * Takes the data folder's lock for this process.
 * @throws DataDirLockedError when a live process holds it (this one included: one stack per folder)
 */
export function lockDataDir(dataDir: string, opts: { command?: string; pid?: number; alive?: (pid: number) => boolean } = {}): DataDirLock {
  const pid = opts.pid ?? process.pid;
  const alive = opts.alive ?? processAlive;
  const holder: LockHolder = { pid, startedAt: new Date().toISOString(), command: opts.command ?? 'batchron' };
  const file = join(dataDir, 'stack.lock');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const body = `${JSON.stringify(holder)}\n`;
  let tookOverFrom: LockHolder | undefined;
  for (let tries = 0; ; tries++) {
    try {
      writeFileSync(file, body, { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const current = readHolder(file);
    if (current && (current.pid === pid || alive(current.pid))) throw new DataDirLockedError(dataDir, current);
    if (tries >= 3) throw new DataDirLockedError(dataDir, current ?? { pid: -1, startedAt: 'unknown', command: 'unknown' });
    // Stale: write ours beside it, check once more that nobody live took it meanwhile, then swap atomically.
    const mine = `${file}.${pid}.tmp`;
    writeFileSync(mine, body, { mode: 0o600 });
    const again = readHolder(file);
    if (again && again.pid !== current?.pid && alive(again.pid)) {
      rmSync(mine, { force: true });
      throw new DataDirLockedError(dataDir, again);
    }
    renameSync(mine, file);
    // Two takers may both rename; the last rename wins. Re-read: whoever is not in the file lost.
    const winner = readHolder(file);
    if (winner?.pid !== pid) {
      if (winner && alive(winner.pid)) throw new DataDirLockedError(dataDir, winner);
      continue;
    }
    tookOverFrom = current;
    break;
  }
  let released = false;
  return {
    file,
    ...(tookOverFrom ? { tookOverFrom } : {}),
    release() {
      if (released) return;
      released = true;
      if (readHolder(file)?.pid === pid) rmSync(file, { force: true });
    },
  };
}
