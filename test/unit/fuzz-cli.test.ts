/**
 * Generated malformed command lines for every `batchron` command, run in-process through
 * buildProgram() (process.exit stubbed, output captured), plus a few as child processes
 * to show the in-process exit codes are the real ones. Every invalid input: exit 2, a
 * message naming the flag or argument at fault, no stack trace, never exit 0, and no call
 * to the API (`--api` points at a closed port; reaching it would exit 5).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inProcessCli, type CliOutcome } from '#test/helpers/cli';

const API = ['--api', 'http://127.0.0.1:9'];

type Outcome = CliOutcome;

const runCli = inProcessCli();
/** Runs `batchron ...args` in this process; an invalid command line is refused at once, so one still running after 5 s went further than it should. */
const cli = (args: string[]): Promise<Outcome> => runCli(args, { refusedWithinMs: 5_000 });

/* ------------------------------------------------------------------ generators: [argv, what the message must name] */

type Case = [string[], string];

const junk = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.startsWith('-') && s.trim() !== ''),
  fc.constantFrom('abc', '-1', '0', '1.5', '1e9', 'NaN', 'Infinity', '0x10', ' ', '２'),
);
// Refused: anything Number() does not read as a whole number in range (the flags coerce, so `+7` and `0x10` pass: lenient, not wrong).
const badNumber = (max: number) =>
  fc.oneof(
    junk.filter((s) => {
      const n = Number(s);
      return !(Number.isInteger(n) && n >= 1 && n <= max);
    }),
    fc.constantFrom(String(max + 1), '0', '100000'),
  );
const badInstant = fc.oneof(
  junk.filter((s) => Number.isNaN(Date.parse(s)) || !/^\d{4}-/.test(s)),
  fc.constantFrom('yesterday', '2026-13-01T00:00:00Z', '2026-02-30', '2026-01-01T25:00:00Z', '01/02/2026', '2026-1-1', 'T00:00Z'),
);
const badZone = fc.oneof(fc.constantFrom('Mars/Olympus', 'UTC+25', 'Europe/Nowhere', 'utc/x', 'Asia/Tokio', '+99:00'), fc.stringMatching(/^[A-Z][a-z]{2,8}\/[A-Z][a-z]{2,8}x$/));
const badExpression = fc.oneof(
  fc.constantFrom('cron(0 25 * * ? *)', 'cron(* * * * * *)', 'rate(0 minutes)', 'rate(1 fortnight)', 'at(2026-13-01T00:00:00)', 'cron()', 'rate()', 'at()', '* * * * *', 'cron(0 9 ? * MON-FRI)'),
  junk.filter((s) => !/^(cron|rate|at)\(/.test(s)),
);
const badParam = fc.oneof(junk.filter((s) => !/^[^=]+=/.test(s)), fc.constantFrom('=value', '=', 'novalue'));
const badStatus = junk.filter((s) => !['QUEUED', 'SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'].includes(s.toUpperCase()));
const badSeconds = fc.oneof(
  fc.constantFrom('abc', '0', '0.1', '-1', '3601', '1e9'),
  junk.filter((s) => !(Number(s) >= 0.2 && Number(s) <= 3600)),
);
const unknownFlag = fc.stringMatching(/^[a-z][a-z0-9-]{1,12}$/).map((s) => `--zz-${s}`);

const COMMANDS: Record<string, { base: string[]; flags: string[] }> = {
  next: { base: ['next', 'rate(1 hour)'], flags: ['--tz', '--from', '--count'] },
  trigger: { base: ['trigger', 'nightly', ...API], flags: ['--param', '--idempotency-key', '--interval'] },
  runs: { base: ['runs', ...API], flags: ['--schedule', '--status', '--limit', '--cursor', '--interval'] },
  run: { base: ['run', 'nightly.20260101T000000Z', ...API], flags: [] },
  logs: { base: ['logs', 'nightly.20260101T000000Z', ...API], flags: ['--task', '--attempt', '--interval'] },
  cancel: { base: ['cancel', 'nightly.20260101T000000Z', ...API], flags: [] },
  pause: { base: ['pause', 'nightly', ...API], flags: ['--prefix', '--tag'] },
  resume: { base: ['resume', 'nightly', ...API], flags: ['--prefix', '--tag'] },
  backfill: { base: ['backfill', 'nightly', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z', ...API], flags: ['--from', '--to'] },
  schedules: { base: ['schedules', ...API], flags: [] },
  validate: { base: ['validate'], flags: ['--dir', '--stage'] },
  start: { base: ['start'], flags: ['--port', '--api-port', '--data-dir', '--project-dir', '--stage', '--grace'] },
  local: { base: ['local'], flags: ['--port', '--host', '--data-dir', '--project-dir', '--grace', '--dynamodb-endpoint'] },
};

const command = fc.constantFrom(...Object.keys(COMMANDS));

/** An unknown flag anywhere, or a value-taking flag left without its value at the end. */
const usageCase: fc.Arbitrary<Case> = fc.oneof(
  // Right after the command, or last (anywhere else it could be the value of the flag before it).
  fc.tuple(command, unknownFlag, fc.boolean()).map(([c, flag, last]): Case => {
    const argv = [...COMMANDS[c]!.base];
    argv.splice(last ? argv.length : 1, 0, flag);
    return [argv, flag];
  }),
  fc
    .tuple(command, fc.nat())
    .filter(([c]) => COMMANDS[c]!.flags.length > 0)
    .map(([c, i]): Case => {
      const flags = COMMANDS[c]!.flags;
      const flag = flags[i % flags.length]!;
      return [[...COMMANDS[c]!.base, flag], flag];
    }),
);

/** Bad values for each flag and argument that has a format. */
const valueCase: fc.Arbitrary<Case> = fc.oneof(
  badNumber(1000).map((v): Case => [['next', 'rate(1 hour)', '--count', v], '--count']),
  badInstant.map((v): Case => [['next', 'rate(1 hour)', '--from', v], '--from']),
  badZone.map((v): Case => [['next', 'rate(1 hour)', '--tz', v], '--tz']),
  badExpression.map((v): Case => [['next', v], v]),
  badParam.map((v): Case => [['trigger', 'nightly', '--param', v, ...API], '--param']),
  badSeconds.map((v): Case => [['trigger', 'nightly', '--wait', '--interval', v, ...API], '--interval']),
  badStatus.map((v): Case => [['runs', '--status', v, ...API], '--status']),
  badNumber(100).map((v): Case => [['runs', '--limit', v, ...API], '--limit']),
  badSeconds.map((v): Case => [['runs', '--watch', '--interval', v, ...API], '--interval']),
  badNumber(10).map((v): Case => [['logs', 'r1', '--attempt', v, ...API], '--attempt']),
  badInstant.map((v): Case => [['backfill', 'nightly', '--from', v, '--to', '2026-01-02T00:00:00Z', ...API], '--from']),
  badInstant.map((v): Case => [['backfill', 'nightly', '--from', '2026-01-01T00:00:00Z', '--to', v, ...API], '--to']),
  // Calendar days that do not exist (Date.parse rolls them over): refused, not shifted.
  fc.constantFrom('2026-02-30', '2026-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-00-10').map((v): Case => [['next', 'rate(1 hour)', '--from', v], '--from']),
  fc.constantFrom<Case>([['backfill', 'nightly', ...API], '--from'], [['backfill', 'nightly', '--from', '2026-01-01T00:00:00Z', ...API], '--to']),
  fc.constantFrom('pause', 'resume').map((c): Case => [[c, ...API], c]),
  fc.tuple(fc.constantFrom('pause', 'resume'), badParam).map(([c, v]): Case => [[c, '--tag', v, ...API], '--tag']),
  // A required argument missing.
  fc.constantFrom<Case>(
    [['next'], 'expression'],
    [['trigger', ...API], 'schedule'],
    [['backfill', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z', ...API], 'schedule'],
    [['run', ...API], 'run'],
    [['logs', ...API], 'run'],
    [['cancel', ...API], 'run'],
  ),
  // Only values both parsers refuse: a valid one would start the stack.
  fc.tuple(fc.constantFrom('start', 'local'), fc.constantFrom('--port', '--grace'), fc.constantFrom('abc', '-1', '1.5', 'x1', '-0.5')).map(([c, f, v]): Case => [[c, f, v], f]),
  fc.tuple(fc.constantFrom('start', 'local'), fc.constantFrom('70000', '65536')).map(([c, v]): Case => [[c, '--port', v], '--port']),
);

function check([argv, culprit]: Case, res: Outcome): void {
  const where = `batchron ${argv.join(' ')} → exit ${res.code}\n${res.stderr}${res.stdout}`;
  expect(res.code, where).toBe(2);
  expect(res.stderr, where).toContain(culprit);
  expect(res.stderr + res.stdout, where).not.toMatch(/\n\s+at |Error: .*\n.*node:|\[object Object\]/);
}

describe('fuzzed CLI input', () => {
  it('refuses unknown flags and flags missing their value with exit 2, naming the flag', async () => {
    await fc.assert(
      fc.asyncProperty(usageCase, async (c) => check(c, await cli(c[0]))),
      { numRuns: 600 },
    );
  });

  it('refuses malformed numbers, dates, zones, expressions, statuses and parameters with exit 2, naming the flag or argument', async () => {
    await fc.assert(
      fc.asyncProperty(valueCase, async (c) => check(c, await cli(c[0]))),
      { numRuns: 1_500 },
    );
  });

  it('exits the same way as a child process (a sample)', async () => {
    vi.restoreAllMocks();
    const run = promisify(execFile);
    const bin = fileURLToPath(new URL('../../bin/batchron.mjs', import.meta.url));
    const sample: Case[] = [
      [['next', 'rate(1 hour)', '--count', 'abc'], '--count'],
      [['trigger', 'nightly', '--param', 'novalue', ...API], '--param'],
      [['runs', '--zz-nope', ...API], '--zz-nope'],
      [['backfill', 'nightly', '--from', 'yesterday', '--to', '2026-01-02T00:00:00Z', ...API], '--from'],
    ];
    await Promise.all(
      sample.map(async (c) => {
        const res = await run(process.execPath, [bin, ...c[0]], { env: { ...process.env, NO_COLOR: '1' } }).then(
          (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
          (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
        );
        check(c, res);
      }),
    );
  }, 30_000);
});
