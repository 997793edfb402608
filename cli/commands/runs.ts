/**
 * The run commands: `trigger`, `runs`, `run`, `cancel`, `logs`. They talk to the API only,
 * so they work the same against the local stack and a deployed stage.
 */
import { Command, Option } from 'commander';
import pc from 'picocolors';
import * as z from 'zod';
import {
  action,
  clientFor,
  collectParam,
  EXIT,
  ExitCodeError,
  parseFlag,
  PositiveInt,
  seg,
  sleep,
  withApiOptions,
  type ApiOptions,
} from './common.ts';
import { details, duration, fitTable, iso, json, status } from '#cli/format';
import type { ApiClient } from '#cli/api-client';

/** The parts of a run the CLI reads (the API's RunView). */
export interface Run {
  runId: string;
  schedule: string;
  scheduledTime: string;
  trigger: string;
  recoveredBy?: string;
  attempt?: number;
  history?: { attempt: number; status: string; startedAt: string; endedAt?: string }[];
  status: string;
  statusReason?: string;
  parameters: Record<string, string>;
  createdAt: string;
  endedAt?: string;
  tasks: {
    name: string;
    phase: string;
    status: string;
    reason?: string;
    retryAt?: string;
    dependsOn: string[];
    attempts: {
      attempt: number;
      status: string;
      jobId?: string;
      exitCode?: number;
      statusReason?: string;
      submittedAt?: string;
      startedAt?: string;
      stoppedAt?: string;
      log?: { group: string; stream: string };
    }[];
  }[];
}

interface RunSummary {
  runId: string;
  schedule: string;
  scheduledTime: string;
  trigger: string;
  status: string;
  statusReason?: string;
  createdAt: string;
  endedAt?: string;
}

interface LogPage {
  task: string;
  attempt: number;
  status: string;
  events: { timestamp: string; message: string }[];
  nextToken?: string;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED']);
const RunStatus = z.enum(['QUEUED', 'SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'], {
  error: 'must be one of QUEUED, SUBMITTED, RUNNING, SUCCEEDED, FAILED, CANCELLED, SKIPPED',
});
const Seconds = z.coerce.number({ error: 'must be a number of seconds' }).min(0.2, { error: 'must be at least 0.2' }).max(3600);

function printRun(run: Run): void {
  const took = run.endedAt ? duration(Date.parse(run.endedAt) - Date.parse(run.createdAt)) : undefined;
  process.stdout.write(
    `${details([
      ['run', run.runId],
      ['schedule', run.schedule],
      ['status', status(run.status)],
      ['reason', run.statusReason],
      ['trigger', run.recoveredBy ? `${run.trigger} (fire lost; created by the ${run.recoveredBy})` : run.trigger],
      ['scheduled', iso(run.scheduledTime)],
      ['attempt', run.attempt && run.attempt > 1 ? String(run.attempt) : undefined],
      [
        'earlier',
        run.history?.length ? run.history.map((h) => `#${h.attempt} ${h.status}${h.endedAt ? ` ${iso(h.endedAt)}` : ''}`).join(', ') : undefined,
      ],
      ['created', iso(run.createdAt)],
      ['ended', run.endedAt ? `${iso(run.endedAt)} (${took})` : undefined],
      ['parameters', Object.entries(run.parameters).map(([k, v]) => `${k}=${v}`).join(' ') || undefined],
    ])}\n`,
  );
  process.stdout.write(`${attemptsTable(run)}\n`);
}

/** An instant to the second, as its time of day when it falls on `day` (the run's own date), else in full. */
function clock(t: string | undefined, day: string): string {
  if (!t) return '';
  const full = iso(Math.floor(Date.parse(t) / 1000) * 1000);
  return full.slice(0, 10) === day ? full.slice(11) : full;
}

/** One row per attempt: when it started and ended (or was submitted, when it never started), its job, exit code and reason. */
export function attemptsTable(run: Run, width?: number): string {
  const day = iso(run.createdAt).slice(0, 10);
  const rows = run.tasks.flatMap((t) => {
    if (t.attempts.length === 0) return [[t.name, status(t.status), '', '', '', '', '', t.reason ?? (t.dependsOn.length ? `after ${t.dependsOn.join(', ')}` : '')]];
    return t.attempts.map((a, i) => {
      const last = i === t.attempts.length - 1;
      const started = a.startedAt ? clock(a.startedAt, day) : a.submittedAt ? pc.dim(`${clock(a.submittedAt, day)} submitted`) : '';
      return [
        i === 0 ? `${t.name}${t.phase === 'onFailure' ? pc.dim(' (on failure)') : ''}` : '',
        last ? status(t.status) : pc.dim(a.status),
        `#${a.attempt}`,
        started,
        a.stoppedAt ? `${clock(a.stoppedAt, day)}${a.startedAt ? pc.dim(` ${duration(Date.parse(a.stoppedAt) - Date.parse(a.startedAt))}`) : ''}` : '',
        a.exitCode === undefined ? '' : String(a.exitCode),
        a.jobId ?? '',
        // Batch gives a succeeded job a reason too ("Essential container in task exited"): not shown.
        (a.status === 'SUCCEEDED' ? '' : a.statusReason) || (t.retryAt && last ? `retry at ${iso(t.retryAt)}` : '') || (last && t.reason && t.status !== 'SUCCEEDED' ? t.reason : ''),
      ];
    });
  });
  return fitTable(
    [
      { head: 'task' },
      { head: 'status' },
      { head: '#' },
      { head: 'started' },
      { head: 'ended' },
      { head: 'exit' },
      { head: 'job id', drop: 1 },
      { head: 'reason', wrap: true },
    ],
    rows,
    { empty: '(no tasks)', ...(width ? { width } : {}) },
  );
}

/** The exit code `trigger` ends with for a run in `status` (0 while it has not ended). */
export function runExitCode(status: string): number {
  if (status === 'FAILED' || status === 'CANCELLED') return EXIT.runFailed;
  if (status === 'SKIPPED') return EXIT.skipped;
  return EXIT.ok;
}

function runExit(run: { runId: string; status: string; statusReason?: string }): void {
  const code = runExitCode(run.status);
  if (code === EXIT.ok) return;
  const reason = run.statusReason ? `: ${run.statusReason}` : '';
  throw new ExitCodeError(code, code === EXIT.skipped ? `run ${run.runId} was SKIPPED, nothing ran${reason}` : `run ${run.runId} ended ${run.status}${reason}`);
}

/** `trigger <schedule>`. */
export function triggerCommand(): Command {
  const cmd = new Command('trigger')
    .description('start a run of a schedule now')
    .argument('<schedule>', 'schedule name')
    .option('-p, --param <name=value>', 'a run parameter (repeatable)', collectParam, {})
    .option('--idempotency-key <key>', 'same key and parameters give back the same run instead of a new one')
    .option('--wait', 'wait until the run ends; exit 1 when it FAILED or was CANCELLED, 8 when it was SKIPPED')
    .addOption(new Option('--interval <seconds>', 'poll interval with --wait').default('2'));
  withApiOptions(cmd);
  cmd.action(
    action(async (schedule: string, opts: ApiOptions & { param: Record<string, string>; idempotencyKey?: string; wait?: boolean; interval: string }) => {
      const interval = parseFlag('--interval', Seconds, opts.interval) * 1000;
      const api = clientFor(opts);
      let run = await api.post<Run>(`/schedules/${seg(schedule)}/runs`, {
        body: { parameters: opts.param },
        ...(opts.idempotencyKey ? { headers: { 'idempotency-key': opts.idempotencyKey } } : {}),
      });
      if (!opts.json) process.stderr.write(`${pc.bold(run.runId)} ${status(run.status)}\n`);
      if (opts.wait) {
        let last = run.status;
        while (!TERMINAL.has(run.status)) {
          await sleep(interval);
          run = await api.get<Run>(`/runs/${seg(run.runId)}`);
          if (!opts.json && run.status !== last) process.stderr.write(`${pc.bold(run.runId)} ${status(run.status)}\n`);
          last = run.status;
        }
      }
      if (opts.json) process.stdout.write(json(run));
      else if (opts.wait) printRun(run);
      else process.stdout.write(`${run.runId}\n`);
      // A run SKIPPED at once (paused schedule, overlap) ran nothing: say so, with or without --wait.
      if (opts.wait || run.status === 'SKIPPED') runExit(run);
    }),
  );
  return cmd;
}

async function fetchRuns(api: ApiClient, q: { schedule?: string; status?: string; limit: number }): Promise<{ runs: RunSummary[]; cursor?: string }> {
  return api.get('/runs', { query: q });
}

function runsTable(runs: RunSummary[]): string {
  return fitTable(
    [{ head: 'run' }, { head: 'schedule', drop: 3 }, { head: 'status' }, { head: 'trigger', drop: 4 }, { head: 'scheduled', drop: 1 }, { head: 'duration', drop: 2 }, { head: 'reason', wrap: true }],
    runs.map((r) => [
      r.runId,
      r.schedule,
      status(r.status),
      r.trigger,
      iso(r.scheduledTime),
      r.endedAt ? duration(Date.parse(r.endedAt) - Date.parse(r.createdAt)) : '',
      r.statusReason ?? '',
    ]),
    { empty: '(no runs)' },
  );
}

/** `runs`. */
export function runsCommand(): Command {
  const cmd = new Command('runs')
    .description('list runs, newest first')
    .option('-s, --schedule <name>', 'only this schedule')
    .option('--status <status>', 'only runs in this status')
    .addOption(new Option('-n, --limit <n>', 'how many (1-100)').default('20'))
    .option('--cursor <cursor>', 'the page after this cursor (printed by --json)')
    .option('--job-id <id>', 'the run of this AWS Batch job id (no other filter)')
    .option('-w, --watch', 'refresh every few seconds until interrupted')
    .addOption(new Option('--interval <seconds>', 'refresh interval with --watch').default('2'));
  withApiOptions(cmd);
  cmd.action(
    action(async (opts: ApiOptions & { schedule?: string; status?: string; limit: string; cursor?: string; jobId?: string; watch?: boolean; interval: string }) => {
      if (opts.jobId !== undefined) {
        const found = await clientFor(opts).get<{ jobId: string; task: string; attempt: number; runs: RunSummary[] }>('/runs', { query: { jobId: opts.jobId } });
        if (opts.json) process.stdout.write(json(found));
        else {
          process.stdout.write(`${runsTable(found.runs)}\n`);
          process.stderr.write(pc.dim(`job ${found.jobId}: task ${found.task}, attempt ${found.attempt}\n`));
        }
        return;
      }
      const limit = parseFlag('--limit', PositiveInt(100), opts.limit);
      const st = opts.status === undefined ? undefined : parseFlag('--status', RunStatus, opts.status.toUpperCase());
      const interval = parseFlag('--interval', Seconds, opts.interval) * 1000;
      const api = clientFor(opts);
      const query = { ...(opts.schedule ? { schedule: opts.schedule } : {}), ...(st ? { status: st } : {}), limit, ...(opts.cursor ? { cursor: opts.cursor } : {}) };
      for (;;) {
        const page = await fetchRuns(api, query);
        if (opts.json) process.stdout.write(json(page));
        else {
          if (opts.watch && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
          process.stdout.write(`${runsTable(page.runs)}\n`);
          if (page.cursor && !opts.watch) process.stderr.write(pc.dim(`more: --cursor ${page.cursor}\n`));
        }
        if (!opts.watch) return;
        await sleep(interval);
      }
    }),
  );
  return cmd;
}

/** `run <id>`. */
export function runCommand(): Command {
  const cmd = new Command('run').description('show a run: tasks, attempts, job ids, exit codes, reasons').argument('<run>', 'run id');
  withApiOptions(cmd);
  cmd.action(
    action(async (runId: string, opts: ApiOptions) => {
      const run = await clientFor(opts).get<Run>(`/runs/${seg(runId)}`);
      if (opts.json) process.stdout.write(json(run));
      else printRun(run);
    }),
  );
  return cmd;
}

/** `cancel <run>`. */
export function cancelCommand(): Command {
  const cmd = new Command('cancel').description('cancel a run and terminate its jobs').argument('<run>', 'run id');
  withApiOptions(cmd);
  cmd.action(
    action(async (runId: string, opts: ApiOptions) => {
      const run = await clientFor(opts).post<Run>(`/runs/${seg(runId)}/cancel`);
      if (opts.json) process.stdout.write(json(run));
      else process.stdout.write(`${run.runId} ${status(run.status)}\n`);
    }),
  );
  return cmd;
}

/** `rerun <run> [--failed]`: the run's next attempt, whole or only its failed and cancelled tasks. */
export function rerunCommand(): Command {
  const cmd = new Command('rerun')
    .description('re-run a finished run as its next attempt (the history keeps the earlier ones)')
    .argument('<run>', 'run id')
    .option('--failed', 'only its failed and cancelled tasks; the succeeded ones keep their result')
    .option('--idempotency-key <key>', 'the same key gives back the attempt it started instead of another')
    .option('--wait', 'wait until the attempt ends; exit 1 when it FAILED or was CANCELLED')
    .addOption(new Option('--interval <seconds>', 'poll interval with --wait').default('2'));
  withApiOptions(cmd);
  cmd.action(
    action(async (runId: string, opts: ApiOptions & { failed?: boolean; idempotencyKey?: string; wait?: boolean; interval: string }) => {
      const interval = parseFlag('--interval', Seconds, opts.interval) * 1000;
      const api = clientFor(opts);
      let run = await api.post<Run>(`/runs/${seg(runId)}/rerun`, {
        body: { tasks: opts.failed ? 'failed' : 'all' },
        ...(opts.idempotencyKey ? { headers: { 'idempotency-key': opts.idempotencyKey } } : {}),
      });
      if (!opts.json) process.stderr.write(`${pc.bold(run.runId)} attempt ${run.attempt ?? 1} ${status(run.status)}\n`);
      if (opts.wait) {
        while (!TERMINAL.has(run.status)) {
          await sleep(interval);
          run = await api.get<Run>(`/runs/${seg(run.runId)}`);
        }
      }
      if (opts.json) process.stdout.write(json(run));
      else if (opts.wait) printRun(run);
      else process.stdout.write(`${run.runId}\n`);
      if (opts.wait) runExit(run);
    }),
  );
  return cmd;
}

/** `logs <run>`: one task's log, or every started task's in turn; `--follow` reads on until the attempt ends. */
export function logsCommand(): Command {
  const cmd = new Command('logs')
    .description("print a run's job output")
    .argument('<run>', 'run id')
    .option('-t, --task <name>', 'the task (default: every task that ran)')
    .option('-a, --attempt <n>', 'the attempt (default: the latest)')
    .option('-f, --follow', 'keep printing new lines until the attempt ends')
    .addOption(new Option('--interval <seconds>', 'poll interval with --follow').default('1'));
  withApiOptions(cmd);
  cmd.action(
    action(async (runId: string, opts: ApiOptions & { task?: string; attempt?: string; follow?: boolean; interval: string }) => {
      const attempt = opts.attempt === undefined ? undefined : parseFlag('--attempt', PositiveInt(10), opts.attempt);
      const interval = parseFlag('--interval', Seconds, opts.interval) * 1000;
      const api = clientFor(opts);
      let tasks: string[];
      if (opts.task) tasks = [opts.task];
      else {
        const run = await api.get<Run>(`/runs/${seg(runId)}`);
        tasks = run.tasks.filter((t) => t.attempts.length > 0).map((t) => t.name);
        if (tasks.length === 0 && !opts.follow) {
          process.stderr.write(pc.dim(`run ${runId} has not started a job yet\n`));
          return;
        }
        // Following a run that has not started: wait on its first task.
        if (tasks.length === 0) tasks = run.tasks.slice(0, 1).map((t) => t.name);
      }
      const all: LogPage[] = [];
      for (const task of tasks) {
        if (tasks.length > 1 && !opts.json) process.stdout.write(pc.bold(`==> ${task} <==\n`));
        let token: string | undefined;
        for (;;) {
          const page: LogPage = await api.get(`/runs/${seg(runId)}/logs`, {
            query: { task, ...(attempt ? { attempt } : {}), ...(token ? { nextToken: token } : {}) },
          });
          if (opts.json) all.push(page);
          else for (const e of page.events) process.stdout.write(`${e.message}\n`);
          const moved = page.nextToken !== undefined && page.nextToken !== token;
          token = page.nextToken ?? token;
          if (moved && page.events.length > 0) continue; // more may be waiting right now
          if (!opts.follow || ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(page.status)) {
            // One more read after the end: lines written just before the job stopped.
            if (opts.follow && moved) continue;
            break;
          }
          await sleep(interval);
        }
      }
      if (opts.json) process.stdout.write(json(all));
    }),
  );
  return cmd;
}
