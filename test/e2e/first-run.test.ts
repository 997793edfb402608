/**
 * A new user's first minutes, end to end: `npm start` from a fresh copy of the project,
 * the example schedules running (one job with its own IAM role, one with a secret), the CLI triggering a run and reading its logs, a pause
 * and a resume, the always-failing job's message reaching "Slack", etl-dag run from the CLI
 * releasing the day's daily-report once, then Ctrl-C and a
 * second start with the history intact. Everything goes through the product's own
 * entry points (bin/batchron.mjs start, the CLI, the HTTP API) as a person would use them.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { startSlackCapture, type SlackCapture } from '#test/helpers/engine';
import { freePort } from '#local/ports';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const SKIP = new Set(['node_modules', '.git', '.batchron', '.serverless', '.esbuild', 'coverage']);

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let project: string;
let slack: SlackCapture;
let slackUrl: string;
/** The Slack messages received, each as the JSON it was posted as. */
const slackMessages = (): string[] => slack.messages.map((m) => JSON.stringify(m));
let awsPort: number;
let apiPort: number;
let api: string;
let current: Started | undefined;


/** Starts `npm start`'s command in the project copy and waits for its banner. */
async function start(): Promise<Started> {
  let out = '';
  const child = spawn(process.execPath, ['bin/batchron.mjs', 'start', '--port', String(awsPort), '--api-port', String(apiPort), '--grace', '2000'], {
    cwd: project,
    // As from a user's shell: without the test runner's own log settings (vitest.config.ts).
    env: { ...process.env, SLACK_WEBHOOK_URL: slackUrl, NO_COLOR: '1', AWS_ENDPOINT_URL: '', POWERTOOLS_LOG_LEVEL: undefined, POWERTOOLS_METRICS_DISABLED: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const started = { child, output: () => out, exited };
  await until(() => out.includes('is running offline'), 'the start banner', 90_000, started);
  return started;
}

/** Runs a CLI command against the local API, as a user would from the project folder. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/batchron.mjs', ...args, '--api', api], {
      cwd: project,
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function cliJson<T>(...args: string[]): Promise<T> {
  const r = await cli(...args, '--json');
  if (r.code !== 0) throw new Error(`batchron ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * A schedule's runs straight from the HTTP API with the local token, as the CLI reads them:
 * for the waits, which ask once a second (a CLI process per poll cost a second of CPU each).
 * What the user sees is still asserted through the CLI once the wait is over.
 */
async function apiRuns(schedule: string): Promise<RunJson[]> {
  const token = readFileSync(join(project, '.batchron', 'api-token'), 'utf8').trim();
  const res = await fetch(`${api}/runs?schedule=${encodeURIComponent(schedule)}`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`GET /runs?schedule=${schedule}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { runs: RunJson[] }).runs;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number, started?: Started): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (started && started.child.exitCode !== null) throw new Error(`npm start exited early while waiting for ${what}:\n${started.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output so far:\n${(started ?? current)?.output() ?? ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function stop(started: Started): Promise<number | null> {
  started.child.kill('SIGINT');
  return started.exited;
}

interface RunJson {
  runId: string;
  status: string;
  schedule: string;
}

beforeAll(async () => {
  // Prepare: a fresh copy of the project (as a clone would be), sharing node_modules.
  project = mkdtempSync(join(tmpdir(), 'batchron-e2e-'));
  cpSync(repo, project, {
    recursive: true,
    filter: (src) => !SKIP.has(relative(repo, src).split('/')[0] ?? ''),
  });
  symlinkSync(join(repo, 'node_modules'), join(project, 'node_modules'), 'dir');
  slack = await startSlackCapture();
  slackUrl = slack.url;
  awsPort = await freePort();
  apiPort = await freePort();
  api = `http://127.0.0.1:${apiPort}`;
});

afterAll(async () => {
  if (current && current.child.exitCode === null) {
    current.child.kill('SIGKILL');
    await current.exited;
  }
  await slack?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('a first run of npm start', () => {
  let triggered: RunJson;

  it('runs the every-minute example to SUCCEEDED on its own', async () => {
    current = await start();

    await until(
      async () => (await apiRuns('every-minute')).some((r) => r.status === 'SUCCEEDED'),
      'a SUCCEEDED every-minute run',
      90_000,
      current,
    );
    // As the user lists them.
    const listed = await cliJson<{ runs: RunJson[] }>('runs', '--schedule', 'every-minute');
    expect(listed.runs.some((r) => r.status === 'SUCCEEDED')).toBe(true);
    // The live view polls once a second, so its line may follow the API's answer by a moment.
    await until(() => /SUCCEEDED\s+run every-minute\./.test(current!.output()), 'the live view to show the run SUCCEEDED', 10_000, current);
    // The functions' JSON logs (info) and metric lines are for CloudWatch; the terminal shows the live view.
    const jsonLines = current.output().split('\n').filter((l) => /^\{"(level":"(INFO|DEBUG)"|_aws")/.test(l));
    expect(jsonLines.slice(0, 3)).toEqual([]);
  }, 180_000);

  it('triggers a run from the CLI, waits for it and reads its logs', async () => {
    const result = await cli('trigger', 'every-minute', '--wait', '--json');
    expect(result.code, result.stderr).toBe(0);
    triggered = JSON.parse(result.stdout) as RunJson;
    expect(triggered.status).toBe('SUCCEEDED');

    const logs = await cli('logs', triggered.runId);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain('hello from job');
    expect(logs.stdout).toContain('done');
  }, 120_000);

  it('runs the job-role example (its calls authorized as its role) and the secret example (the secret never shown)', async () => {
    // Prepare: the secret's value as the fresh copy seeds it (local-seed.yml), to look for it everywhere.
    const token = /token: (\S+)/.exec(readFileSync(join(project, 'local-seed.yml'), 'utf8'))![1]!;
    const succeeded = async (schedule: string) => {
      let run: RunJson | undefined;
      await until(
        async () => (run = (await apiRuns(schedule)).find((r) => r.status === 'SUCCEEDED')) !== undefined,
        `a SUCCEEDED ${schedule} run`,
        60_000,
        current,
      );
      return run!;
    };
    // Act: both fire as `npm start` creates them.
    const checkpointed = await succeeded('checkpointed');
    const partner = await succeeded('partner-sync');
    // Assess: the job role may advance its checkpoint in Parameter Store and nothing else.
    const checkpointLogs = await cli('logs', checkpointed.runId);
    expect(checkpointLogs.stdout).toMatch(/checkpoint: advanced to \d{4}-/);
    expect(checkpointLogs.stdout).toContain('checkpoint: reading /batchron/dev/slack-webhook is refused (AccessDeniedException)');
    // The secret reached the job, and shows in no log, run record or live view line.
    const partnerLogs = await cli('logs', partner.runId);
    expect(partnerLogs.stdout).toContain(`authenticating with PARTNER_TOKEN (${token.length} characters, not shown)`);
    const record = await cli('run', partner.runId, '--json');
    for (const text of [partnerLogs.stdout, record.stdout, current!.output()]) expect(text).not.toContain(token);
    expect(current!.output()).toContain('local seed    created batchron/dev/partner-api');
  }, 120_000);

  it('pauses and resumes a schedule', async () => {
    expect((await cli('pause', 'every-minute')).code).toBe(0);
    const paused = await cliJson<{ paused: boolean }>('schedules', 'every-minute');
    expect(paused.paused).toBe(true);

    expect((await cli('resume', 'every-minute')).code).toBe(0);
    const resumed = await cliJson<{ paused: boolean }>('schedules', 'every-minute');
    expect(resumed.paused).toBe(false);
  }, 60_000);

  it('sends the always-failing job to Slack once, after its last attempt', async () => {
    await until(() => slackMessages().some((m) => m.includes('always-fails')), 'the always-fails Slack message', 120_000, current);
    const failures = slackMessages().filter((m) => m.includes('always-fails'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/exit code[^0-9]*3|"3"|\b3\b/);
    const page = await cliJson<{ runs: RunJson[] }>('runs', '--schedule', 'always-fails');
    expect(page.runs.some((r) => r.status === 'FAILED')).toBe(true);
  }, 150_000);

  it('runs daily-report once, for the day, after etl-dag has succeeded', async () => {
    // As a user would rather than wait for etl-dag's even minute: run it now. Whichever etl-dag
    // run succeeds first (this one or a scheduled one) releases the day's report; later ones do not.
    // etl-dag is `overlap: skip`: when its scheduled run is still going, this one is skipped and
    // that run releases the report.
    const dag = await cli('trigger', 'etl-dag', '--wait', '--json');
    const ran = JSON.parse(dag.stdout) as RunJson & { statusReason?: string };
    if (ran.status === 'SKIPPED') {
      expect(dag.code).toBe(8);
      expect(ran.statusReason).toMatch(/^overlap: run etl-dag\.\d{8}T\d{6}Z is still active/);
    } else {
      expect(dag.code, dag.stderr).toBe(0);
      expect(ran.status).toBe('SUCCEEDED');
    }
    await until(
      async () => (await apiRuns('daily-report')).some((r) => r.status === 'SUCCEEDED'),
      'a SUCCEEDED daily-report run',
      150_000,
      current,
    );
    const page = await cliJson<{ runs: RunJson[] }>('runs', '--schedule', 'daily-report');
    // One run per day, whatever the number of etl-dag runs that succeeded (two days only across midnight UTC).
    expect(page.runs.every((r) => /^daily-report\.for-\d{4}-\d{2}-\d{2}$/.test(r.runId))).toBe(true);
    expect(page.runs.length).toBeLessThanOrEqual(2);
    const logs = await cli('logs', page.runs.find((r) => r.status === 'SUCCEEDED')!.runId);
    expect(logs.stdout).toMatch(/building the daily report for \d{4}-\d{2}-\d{2}/);
  }, 180_000);

  it('stops on Ctrl-C and starts again with its history intact', async () => {
    const code = await stop(current!);
    expect(code).toBe(0);
    expect(current!.output()).toContain('Stopped.');

    current = await start();
    const again = await cliJson<RunJson>('run', triggered.runId);
    expect(again.status).toBe('SUCCEEDED');
    const page = await cliJson<{ runs: RunJson[] }>('runs', '--schedule', 'always-fails');
    expect(page.runs.some((r) => r.status === 'FAILED')).toBe(true);

    expect(await stop(current)).toBe(0);
  }, 150_000);
});
