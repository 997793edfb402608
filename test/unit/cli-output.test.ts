/**
 * What scripts and people read from `batchron`: exit codes (a SKIPPED or CANCELLED run is
 * not a success), `--version` and usage errors, API field errors under the flag's name and
 * printed once, each attempt's start and end, and tables that fit in 100 columns. Run
 * in-process through buildProgram() (process.exit stubbed, output captured) against a stub
 * HTTP server answering as the API does; the CLI, not the API, is under test here.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { inProcessCli } from '#test/helpers/cli';
import { fitTable } from '#cli/format';

/** What the stub API answers per `METHOD /path` (query strings ignored). */
type Answer = { status: number; body: unknown };
let answers: Record<string, Answer | Answer[]> = {};
let server: Server;
let API: string[];

beforeAll(async () => {
  server = createServer((req, res) => {
    const key = `${req.method} ${decodeURIComponent((req.url ?? '').split('?')[0]!)}`;
    req.resume();
    req.on('end', () => {
      const entry = answers[key];
      const answer = Array.isArray(entry) ? (entry.length > 1 ? entry.shift()! : entry[0]!) : entry;
      if (!answer) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'NotFound', message: `no stub for ${key}` } }));
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  API = ['--api', `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  answers = {};
  vi.stubEnv('BATCHRON_API_TOKEN', 'test-token');
  vi.stubEnv('NO_COLOR', '1');
});

afterEach(() => {
  vi.unstubAllEnvs();
});

const runCli = inProcessCli();
const cli = (...args: string[]) => runCli(args);

// eslint-disable-next-line no-control-regex -- the ANSI escapes a coloured line may carry
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
const widest = (s: string) => Math.max(0, ...plain(s).split('\n').map((l) => [...l].length));

const LONG_REASON =
  'task load failed: exit code 143: Host EC2 (instance i-dc130281f54b081cf) terminated. (The local stack stopped: the job process was sent SIGTERM, then SIGKILL after 10000 ms.)';

function run(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    runId: 'nightly-report-for-the-finance-team.adhoc-4410079e4e213bf80401',
    schedule: 'nightly-report-for-the-finance-team',
    scheduledTime: '2026-11-23T17:08:00.000Z',
    trigger: 'api',
    status,
    parameters: { day: '2026-11-23' },
    createdAt: '2026-11-23T17:08:00.000Z',
    tasks: [
      {
        name: 'transform-customers-and-orders',
        phase: 'main',
        status: 'FAILED',
        reason: 'exit code 3',
        dependsOn: [],
        attempts: [
          {
            attempt: 1,
            status: 'FAILED',
            jobId: '3f1c1c9e-5d0e-4f6e-9a43-6c4b8e0f9d21',
            exitCode: 3,
            statusReason: 'Essential container in task exited',
            submittedAt: '2026-11-23T17:08:00.500Z',
            startedAt: '2026-11-23T17:08:01.000Z',
            stoppedAt: '2026-11-23T17:08:04.000Z',
          },
          {
            attempt: 2,
            status: 'FAILED',
            jobId: '9b2d7e51-0c1a-4b7f-8e3d-2f5a6c7d8e90',
            exitCode: 143,
            statusReason: LONG_REASON,
            submittedAt: '2026-11-23T17:08:34.000Z',
            startedAt: '2026-11-23T17:08:35.000Z',
            stoppedAt: '2026-11-23T17:09:02.000Z',
          },
        ],
      },
    ],
    ...extra,
  };
}

describe('exit codes', () => {
  it.each([
    { args: ['trigger', 'nightly'], answer: run('SKIPPED', { statusReason: 'schedule is paused' }), code: 8, says: 'SKIPPED' },
    { args: ['trigger', 'nightly', '--wait', '--interval', '0.2'], answer: run('SKIPPED', { statusReason: 'schedule is paused' }), code: 8, says: 'schedule is paused' },
    { args: ['trigger', 'nightly', '--wait', '--interval', '0.2'], answer: run('CANCELLED', { statusReason: 'cancelled through the API' }), code: 1, says: 'CANCELLED' },
    { args: ['trigger', 'nightly', '--wait', '--interval', '0.2'], answer: run('FAILED'), code: 1, says: 'FAILED' },
    { args: ['trigger', 'nightly', '--wait', '--interval', '0.2'], answer: run('SUCCEEDED'), code: 0, says: '' },
  ])('batchron $args.0 $args.2 → exit $code for a run $answer.status', async ({ args, answer, code, says }) => {
    answers['POST /schedules/nightly/runs'] = { status: 201, body: answer };
    const res = await cli(...args, ...API);
    expect(res.code, res.stderr).toBe(code);
    expect(res.stderr).toContain(says);
  });

  it.each([
    { args: ['--version'], code: 0, stdout: createRequire(import.meta.url)('../../package.json').version as string },
    { args: ['-V'], code: 0, stdout: '.' },
    { args: [], code: 2, stdout: '' },
    { args: ['no-such-command'], code: 2, stdout: '' },
  ])('batchron $args → exit $code', async ({ args, code, stdout }) => {
    const res = await cli(...args);
    expect(res.code).toBe(code);
    expect(res.stdout).toContain(stdout);
  });
});

describe('API errors on the command line', () => {
  it.each([
    {
      args: ['backfill', 'nightly', '--from', '2026-01-01T00:00:00Z', '--to', '2030-01-01T00:00:00Z'],
      route: 'POST /schedules/nightly/backfill',
      issue: { path: 'body.to', message: 'must not be in the future' },
      flag: '--to',
    },
    {
      args: ['trigger', 'nightly', '-p', 'day=yesterday'],
      route: 'POST /schedules/nightly/runs',
      issue: { path: 'body.parameters.day', message: 'must match \\d{4}-\\d{2}-\\d{2}' },
      flag: '--param day',
    },
    {
      args: ['runs', '--cursor', 'garbage'],
      route: 'GET /runs',
      issue: { path: 'query.cursor', message: 'is not a cursor this API gave out' },
      flag: '--cursor',
    },
  ])('names $flag, not $issue.path, and says it once', async ({ args, route, issue, flag }) => {
    answers[route] = { status: 400, body: { error: { code: 'ValidationError', message: `Invalid request: ${issue.path} ${issue.message}`, issues: [issue] } } };
    const res = await cli(...args, ...API);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${flag}: ${issue.message}`);
    expect(res.stderr).not.toContain(issue.path);
    expect(res.stderr.split(issue.message).length - 1).toBe(1);
  });
});

describe('batchron run', () => {
  it("shows each attempt's start and end", async () => {
    answers['GET /runs/r1'] = { status: 200, body: run('FAILED', { endedAt: '2026-11-23T17:09:03.000Z' }) };
    const res = await cli('run', 'r1', ...API);
    const lines = plain(res.stdout).split('\n');
    const first = lines.find((l) => l.includes('#1'))!;
    const second = lines.find((l) => l.includes('#2'))!;
    expect(res.code).toBe(0);
    expect(first).toMatch(/17:08:01Z.*17:08:04Z/);
    expect(second).toMatch(/17:08:35Z.*17:09:02Z/);
  });
});

describe('tables fit in 100 columns', () => {
  const schedules = Array.from({ length: 3 }, (_, i) => ({
    name: `nightly-report-for-the-finance-team-${i}`,
    source: i === 0 ? 'dynamic' : 'declared',
    origin: i === 0 ? 'api' : 'declared',
    expression: 'cron(0 2 ? * MON-FRI *)',
    timezone: 'America/Argentina/Buenos_Aires',
    enabled: true,
    paused: false,
    nextFireTimes: ['2026-11-24T05:00:00Z'],
    lastRun: { runId: 'nightly-report-for-the-finance-team.20261123T050000Z', outcome: 'SUCCEEDED' },
  }));
  const summaries = [run('FAILED', { statusReason: LONG_REASON, endedAt: '2026-11-23T17:09:03.000Z' }), run('SUCCEEDED', { runId: 'every-minute.20261123T170800Z', schedule: 'every-minute', trigger: 'schedule' })];

  it.each([
    { what: 'schedules', args: ['schedules'], route: 'GET /schedules', body: { schedules }, shows: ['nightly-report-for-the-finance-team-0', 'dynamic', 'declared'] },
    { what: 'runs', args: ['runs'], route: 'GET /runs', body: { runs: summaries }, shows: ['nightly-report-for-the-finance-team.adhoc-4410079e4e213bf80401', 'SIGKILL'] },
    { what: 'run', args: ['run', 'r1'], route: 'GET /runs/r1', body: run('FAILED'), shows: ['transform-customers-and-orders', 'SIGKILL'] },
  ])('$what: no line wider than 100 columns, ids never cut', async ({ args, route, body, shows }) => {
    answers[route] = { status: 200, body };
    const res = await cli(...args, ...API);
    expect(res.code, res.stderr).toBe(0);
    expect(widest(res.stdout), res.stdout).toBeLessThanOrEqual(100);
    for (const text of shows) expect(plain(res.stdout)).toContain(text);
  });

  it('runs --job-id: the run of a Batch job, with its task and attempt', async () => {
    answers['GET /runs'] = { status: 200, body: { jobId: '4f1b6c2e-8a7d-4a43-9a0e-2b8f2f0c9d11', task: 'load', attempt: 2, runs: [summaries[1]] } };
    const res = await cli('runs', '--job-id', '4f1b6c2e-8a7d-4a43-9a0e-2b8f2f0c9d11', ...API);
    expect(res.code, res.stderr).toBe(0);
    expect(plain(res.stdout)).toContain('every-minute.20261123T170800Z');
    expect(plain(res.stderr)).toContain('job 4f1b6c2e-8a7d-4a43-9a0e-2b8f2f0c9d11: task load, attempt 2');
  });

  it('uses the width of the terminal when there is one', () => {
    const rows = [['a'.repeat(30), LONG_REASON]];
    const narrow = fitTable([{ head: 'id' }, { head: 'reason', wrap: true }], rows, { width: 60 });
    const wide = fitTable([{ head: 'id' }, { head: 'reason', wrap: true }], rows, { width: 250 });
    expect(widest(narrow)).toBeLessThanOrEqual(60);
    expect(plain(wide).split('\n')).toHaveLength(5);
  });
});
