import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirLockedError, lockDataDir, processAlive } from '#local/lock';

const folder = () => mkdtempSync(join(tmpdir(), 'batchron-lock-'));
/** The pid of a process that has exited (and so cannot hold a lock). */
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());

describe('the data folder lock', () => {
  it('refuses a second lock while the holder runs, naming the holder pid and command', () => {
    // Prepare
    const dir = folder();
    lockDataDir(dir, { command: 'batchron local' });

    // Act
    const second = () => lockDataDir(dir, { command: 'batchron start', pid: process.pid + 1, alive: (pid) => pid === process.pid });

    // Assess
    expect(second).toThrow(DataDirLockedError);
    expect(second).toThrow(new RegExp(`another Batchron local stack \\(pid ${process.pid}, \`batchron local\`, started .*\\) is using ${dir}`));
  });

  it('refuses a second stack in the same process', () => {
    const dir = folder();
    lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
  });

  it('takes over a lock whose holder no longer runs, and says from whom', () => {
    // Prepare: a lock left behind by a process that crashed
    const dir = folder();
    const pid = deadPid();
    expect(processAlive(pid)).toBe(false);
    writeFileSync(join(dir, 'stack.lock'), JSON.stringify({ pid, startedAt: '2026-01-01T00:00:00.000Z', command: 'batchron start' }));

    // Act
    const lock = lockDataDir(dir);

    // Assess
    expect(lock.tookOverFrom?.pid).toBe(pid);
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
  });

  it('takes over a lock file that was left empty by a crash', () => {
    const dir = folder();
    writeFileSync(join(dir, 'stack.lock'), '');
    expect(lockDataDir(dir).tookOverFrom).toBeDefined();
  });

  it('frees the folder on release, and a release never removes another holder lock', () => {
    // Prepare
    const dir = folder();
    const first = lockDataDir(dir);

    // Act
    first.release();
    const second = lockDataDir(dir, { pid: process.pid + 1, alive: () => true });
    first.release();

    // Assess
    expect(existsSync(second.file)).toBe(true);
    expect(JSON.parse(readFileSync(second.file, 'utf8')).pid).toBe(process.pid + 1);
  });

  it('is readable by its owner only', () => {
    const lock = lockDataDir(folder());
    expect(statSync(lock.file).mode & 0o077).toBe(0);
  });
});
