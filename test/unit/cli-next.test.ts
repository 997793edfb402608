/**
 * `batchron next`: one ISO-8601 instant per line, and exit code 2 with a clear message for
 * every bad flag or expression. The cases run the CLI in process (test/helpers/cli.ts); one
 * runs it as a user does, as a child process of bin/batchron.mjs.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inProcessCli } from '#test/helpers/cli';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/batchron.mjs', import.meta.url));
const inProcess = inProcessCli();

const cli = (...args: string[]) => inProcess(args);

/** The real command line: node bin/batchron.mjs in a child process. */
async function binCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('batchron next', () => {
  // Defect: a rate's next fires were counted from now instead of from the schedule's anchor.
  it.each([
    { flags: ['--created', '2026-11-30T00:00:55Z'], out: '2026-11-30T05:00:55Z\n2026-11-30T06:00:55Z\n' },
    { flags: ['--start', '2026-11-29T10:20:00Z', '--created', '2026-11-30T00:00:55Z'], out: '2026-11-30T05:20:00Z\n2026-11-30T06:20:00Z\n' },
    { flags: [], out: '2026-11-30T06:00:00Z\n2026-11-30T07:00:00Z\n' },
  ])('anchors rate(1 hour) as Scheduler does with $flags', async ({ flags, out }) => {
    const res = await cli('next', 'rate(1 hour)', '--from', '2026-11-30T05:00:00Z', '--count', '2', ...flags);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(out);
  });

  it('prints weekday 09:00 Tokyo as UTC instants, one per line (bin/batchron.mjs as a child process)', async () => {
    const out = await binCli('next', 'cron(0 9 ? * MON-FRI *)', '--tz', 'Asia/Tokyo', '--from', '2026-11-23T00:00:00Z', '--count', '3');
    expect(out.code).toBe(0);
    // 2026-11-23 is a Monday; 09:00 JST is 00:00Z, and `from` itself is excluded.
    expect(out.stdout).toBe('2026-11-24T00:00:00Z\n2026-11-25T00:00:00Z\n2026-11-26T00:00:00Z\n');
  });

  it('skips the weekend', async () => {
    const out = await cli('next', 'cron(0 9 ? * MON-FRI *)', '--tz', 'Asia/Tokyo', '--from', '2026-11-26T12:00:00Z', '--count', '2');
    expect(out.stdout).toBe('2026-11-27T00:00:00Z\n2026-11-30T00:00:00Z\n');
  });

  it('follows daylight saving time in the zone', async () => {
    // New York leaves DST on 2026-11-01: 09:00 local is 13:00Z before and 14:00Z after.
    const out = await cli('next', 'cron(0 9 * * ? *)', '--tz', 'America/New_York', '--from', '2026-10-31T00:00:00Z', '--count', '2');
    expect(out.stdout).toBe('2026-10-31T13:00:00Z\n2026-11-01T14:00:00Z\n');
  });

  it('prints a JSON array with --json and the wall clock with --local', async () => {
    const json = await cli('next', 'rate(1 hour)', '--from', '2026-01-01T00:00:00Z', '--count', '2', '--json');
    expect(JSON.parse(json.stdout)).toEqual(['2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z']);
    const local = await cli('next', 'at(2026-12-24T18:00:00)', '--tz', 'Europe/Berlin', '--from', '2026-01-01T00:00:00Z', '--local');
    expect(local.stdout).toBe('2026-12-24T17:00:00Z  2026-12-24 18:00 +01:00\n');
  });

  it.each([
    [['next', 'cron(0 25 * * ? *)'], /hours field '25'.*allowed: 0-23/],
    [['next', 'every day'], /cron\(|rate\(|at\(/],
    [['next', 'rate(1 hour)', '--tz', 'Mars/Olympus'], /--tz 'Mars\/Olympus' is not a time zone/],
    [['next', 'rate(1 hour)', '--count', 'abc'], /--count must be a number/],
    [['next', 'rate(1 hour)', '--count', '0'], /--count must be between 1 and 1000/],
    [['next', 'rate(1 hour)', '--from', 'tomorrow'], /--from must be an ISO-8601 instant/],
    [['next', 'rate(1 hour)', '--bogus'], /unknown option '--bogus'/],
    [['next'], /missing required argument 'expression'/],
  ])('exits 2 for %j with a message saying what is wrong', async (args, message) => {
    const out = await cli(...args);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(message);
  });
});
