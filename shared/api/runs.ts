/**
 * Runs through the API: start one ad hoc (parameters checked against what the schedule
 * declares, `Idempotency-Key` honoured), show one, list them with a cursor, cancel one,
 * read a task's log. Starting and cancelling go through the engine, so an API run follows
 * the same overlap policy and state machine as a scheduled one.
 */
import { randomUUID } from 'node:crypto';
import { DescribeJobsCommand } from '@aws-sdk/client-batch';
import { GetLogEventsCommand, ResourceNotFoundException as LogsNotFound } from '@aws-sdk/client-cloudwatch-logs';
import { ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import pLimit from 'p-limit';
import * as z from '../zod.ts';
import type { ScheduleDefinition } from '../config/definition.ts';
import { compilePattern } from '../config/pattern.ts';
import { fireInput } from '../config/validate.ts';
import { ConflictError, CorruptItemError, NotFoundError, ValidationError } from '../errors.ts';
import { isTerminalRun } from '../engine/status.ts';
import { jobRef } from '../engine/submit.ts';
import { decodeCursor, encodeCursor } from '../store/cursor.ts';
import { type Attempt, type RunAttemptSummary, type RunItem, type RunStatus, type RunSummary } from '../store/schema.ts';
import type { ApiDeps } from './deps.ts';
import { validationError, type Issue } from './http.ts';
import { getAnyScheduleEntry, listTriggerOnlyEntries } from './schedules.ts';

// ---- parameters ---------------------------------------------------------------------

/**
 * Checks run parameters against the schedule's declaration and fills in defaults:
 * an unknown name, a missing required one and a value that does not match its pattern
 * are each an issue naming the parameter.
 */
export function resolveParameters(def: ScheduleDefinition, given: Record<string, string>): Record<string, string> {
  const declared = def.parameters;
  const names = Object.keys(declared);
  const issues: Issue[] = [];
  for (const key of Object.keys(given)) {
    if (!(key in declared)) {
      issues.push({
        path: `body.parameters.${key}`,
        message:
          names.length === 0
            ? `is not a parameter of schedule '${def.name}' (it declares none)`
            : `is not a parameter of schedule '${def.name}' (it declares: ${names.join(', ')})`,
      });
    }
  }
  const resolved: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    const value = given[name] ?? spec.default;
    if (value === undefined) {
      if (spec.required) issues.push({ path: `body.parameters.${name}`, message: `is required by schedule '${def.name}'${spec.description ? ` (${spec.description})` : ''}` });
      continue;
    }
    if (spec.pattern !== undefined && given[name] !== undefined) {
      // Patterns match the whole value, in linear time (RE2, shared/config/pattern.ts).
      // One that does not compile was refused when the schedule was declared, but a
      // definition written by an older version (JavaScript syntax) may still hold one: the
      // value cannot be checked, so it is refused rather than let through unchecked.
      const re = compilePattern(spec.pattern);
      if (!('test' in re)) {
        issues.push({ path: `body.parameters.${name}`, message: `cannot be checked: the schedule's pattern ${spec.pattern} is ${re.problem}; update the schedule` });
      } else if (!re.test(value)) {
        issues.push({ path: `body.parameters.${name}`, message: `"${value}" does not match the pattern ${spec.pattern}` });
      }
    }
    resolved[name] = value;
  }
  if (issues.length > 0) throw validationError(issues);
  return resolved;
}

// ---- views --------------------------------------------------------------------------

/** An attempt as the API shows it, with where its log is. */
export interface AttemptView {
  attempt: number;
  status: string;
  jobName: string;
  jobId?: string;
  exitCode?: number;
  statusReason?: string;
  submittedAt?: string;
  startedAt?: string;
  stoppedAt?: string;
  log?: { group: string; stream: string };
}

/** A run as the API shows it: no keys, leases or versions. */
export interface RunView {
  runId: string;
  schedule: string;
  scheduledTime: string;
  trigger: string;
  status: RunStatus;
  statusReason?: string;
  parameters: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  /** `sweeper`: the fire's delivery was lost and the sweeper created the run. */
  recoveredBy?: 'sweeper';
  /** The run's attempt (1, then one more per re-run) and the attempts before it, oldest first. */
  attempt: number;
  history: RunAttemptSummary[];
  tasks: {
    name: string;
    phase: 'main' | 'onFailure';
    status: string;
    reason?: string;
    retryAt?: string;
    dependsOn: string[];
    attempts: AttemptView[];
  }[];
}

function attemptView(a: Attempt, logGroup: string): AttemptView {
  return {
    attempt: a.attempt,
    status: a.status,
    jobName: a.jobName,
    ...(a.jobId ? { jobId: a.jobId } : {}),
    ...(a.exitCode !== undefined ? { exitCode: a.exitCode } : {}),
    ...(a.statusReason ? { statusReason: a.statusReason } : {}),
    ...(a.submittedAt ? { submittedAt: a.submittedAt } : {}),
    ...(a.startedAt ? { startedAt: a.startedAt } : {}),
    ...(a.stoppedAt ? { stoppedAt: a.stoppedAt } : {}),
    ...(a.logStreamName ? { log: { group: logGroup, stream: a.logStreamName } } : {}),
  };
}

/** Shapes a stored run for the API; tasks in the definition's order, on-failure ones last. */
export function runView(run: RunItem, logGroup: string): RunView {
  const order = [...run.definition.tasks, ...run.definition.onFailure];
  const dependsOn = new Map(order.map((t) => [t.name, t.dependsOn]));
  const names = [...order.map((t) => t.name), ...Object.keys(run.tasks).filter((n) => !dependsOn.has(n))];
  return {
    runId: run.runId,
    schedule: run.schedule,
    scheduledTime: run.scheduledTime,
    trigger: run.trigger,
    status: run.status,
    ...(run.statusReason ? { statusReason: run.statusReason } : {}),
    parameters: run.parameters,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    ...(run.endedAt ? { endedAt: run.endedAt } : {}),
    ...(run.recoveredBy ? { recoveredBy: run.recoveredBy } : {}),
    attempt: run.attempt ?? 1,
    history: run.history ?? [],
    tasks: names
      .map((name) => run.tasks[name])
      .filter((t) => t !== undefined)
      .map((t) => ({
        name: t.name,
        phase: t.phase,
        status: t.status,
        ...(t.reason ? { reason: t.reason } : {}),
        ...(t.retryAt ? { retryAt: t.retryAt } : {}),
        dependsOn: dependsOn.get(t.name) ?? [],
        attempts: t.attempts.map((a) => attemptView(a, logGroup)),
      })),
  };
}

// ---- start, get, cancel -------------------------------------------------------------

/** The most an `Idempotency-Key` may be; longer ones are refused as bad input. */
export const IDEMPOTENCY_KEY_MAX = 255;

/**
 * POST /schedules/{name}/runs. With a key: the same key and parameters give back the same
 * run (`created: false`); the same key with other parameters is a ConflictError.
 */
export async function triggerRun(
  deps: ApiDeps,
  input: { schedule: string; parameters: Record<string, string>; idempotencyKey?: string },
): Promise<{ run: RunView; created: boolean }> {
  const entry = await getAnyScheduleEntry(deps, input.schedule);
  const parameters = resolveParameters(entry.definition, input.parameters);
  const scheduledTime = new Date(deps.now()).toISOString();
  // No key: every request is a new run, so a random key gives it a fresh id.
  const key = input.idempotencyKey ?? randomUUID();
  const started = await deps.engine.startRun(fireInput(entry.definition, scheduledTime, { trigger: 'api', parameters }), {
    idempotencyKey: key,
  });
  if (!started.created && input.idempotencyKey !== undefined && !sameParameters(started.run.parameters, parameters)) {
    throw new ConflictError(
      `Idempotency-Key '${input.idempotencyKey}' was already used for run ${started.run.runId} with other parameters; use a new key for a different request.`,
    );
  }
  return { run: runView(started.run, deps.env.jobLogGroup), created: started.created };
}

function sameParameters(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

async function requireRun(deps: ApiDeps, runId: string): Promise<RunItem> {
  const run = await deps.store.getRun(runId, false);
  if (!run) throw new NotFoundError(`Run '${runId}' does not exist (or expired after the retention period).`);
  return run;
}

/** GET /runs/{id}. */
export async function showRun(deps: ApiDeps, runId: string): Promise<RunView> {
  return runView(await requireRun(deps, runId), deps.env.jobLogGroup);
}

/** POST /runs/{id}/rerun: a new attempt of a finished run, whole or only its failed and cancelled tasks. */
export async function rerunRun(
  deps: ApiDeps,
  runId: string,
  options: { tasks: 'all' | 'failed'; key?: string },
): Promise<{ run: RunView; created: boolean }> {
  const result = await deps.engine.rerunRun(runId, options);
  switch (result.outcome) {
    case 'not-found':
      throw new NotFoundError(`Run '${runId}' does not exist.`);
    case 'not-finished':
      throw new ConflictError(
        `Run '${runId}' is ${result.run.status}${isTerminalRun(result.run.status) ? ' and still finishing' : ''}; only a finished run can be re-run (cancel it first, or wait for it to end).`,
      );
    case 'nothing-to-rerun':
      throw new ConflictError(`Run '${runId}' has no failed or cancelled task to re-run; use tasks: 'all' to run it again whole.`);
    case 'rerun':
      return { run: runView(result.run, deps.env.jobLogGroup), created: result.created };
  }
}

/** POST /runs/{id}/cancel: 409 when the run already finished. */
export async function cancelRun(deps: ApiDeps, runId: string): Promise<RunView> {
  const run = await requireRun(deps, runId);
  if (isTerminalRun(run.status)) {
    throw new ConflictError(`Run '${runId}' already finished (${run.status}${run.endedAt ? ` at ${run.endedAt}` : ''}); there is nothing to cancel.`);
  }
  const cancelled = await deps.engine.cancelRun(runId, 'Cancelled through the API');
  return runView(cancelled, deps.env.jobLogGroup);
}

// ---- listing ------------------------------------------------------------------------

/** Page size bounds of GET /runs. */
export const LIST_LIMIT = { default: 20, max: 100 } as const;

/** Names of every schedule of the deployment, those only events start included (for listings across schedules). */
async function scheduleNames(deps: ApiDeps): Promise<string[]> {
  const names: string[] = (await listTriggerOnlyEntries(deps)).map((e) => e.name);
  let token: string | undefined;
  do {
    const page = await deps.scheduler.send(new ListSchedulesCommand({ GroupName: deps.env.scheduleGroup, NextToken: token }));
    for (const s of page.Schedules ?? []) if (s.Name && s.Target?.Arn === deps.env.fireTargetArn) names.push(s.Name);
    token = page.NextToken;
  } while (token);
  return names;
}

/**
 * GET /runs: newest scheduled time first. The cursor is the sort key of the last run
 * shown, so one schedule's page is one query and a page across schedules is one query per
 * schedule merged (keyset paging: a run created meanwhile never shifts a page).
 */
export async function listRuns(
  deps: ApiDeps,
  query: { schedule?: string; status?: RunStatus; limit?: number; cursor?: string; scheduledFrom?: string; scheduledTo?: string },
): Promise<{ runs: RunSummary[]; cursor?: string }> {
  const limit = query.limit ?? LIST_LIMIT.default;
  // Scheduled-time range [from, to) as sort-key bounds: `<iso>` sorts before every `<iso>#<runId>`.
  const cursor = decodeCursor(query.cursor);
  const to = query.scheduledTo === undefined ? undefined : new Date(query.scheduledTo).toISOString();
  const before = cursor !== undefined && to !== undefined ? (cursor < to ? cursor : to) : (cursor ?? to);
  const after = query.scheduledFrom === undefined ? undefined : new Date(query.scheduledFrom).toISOString();
  let schedules: string[];
  if (query.schedule !== undefined) {
    // Runs outlive a deleted dynamic schedule, so the name is not checked against the registry.
    schedules = [query.schedule];
  } else {
    schedules = await scheduleNames(deps);
  }
  const gate = pLimit(8);
  const pages = await Promise.all(schedules.map((s) => gate(() => deps.store.listRunsBySchedule(s, { limit, before, after, status: query.status }))));
  const merged = pages.flatMap((p) => p.items).sort((a, b) => (a.sortKey < b.sortKey ? 1 : a.sortKey > b.sortKey ? -1 : 0));
  const page = merged.slice(0, limit);
  const more = merged.length > limit || pages.some((p) => p.more);
  const last = page.at(-1);
  return { runs: page.map((p) => p.summary), ...(more && last ? { cursor: encodeCursor(last.sortKey) } : {}) };
}

// ---- by Batch job id -----------------------------------------------------------------

/**
 * A Batch job id as `?jobId=` takes it: Batch's ids are UUIDs, with `:<index>` for an array
 * child and `#<node>` for a multi-node one.
 */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}(?::\d{1,5}|#\d{1,5})?$/;

/** The run, task and attempt a Batch job belongs to, as GET /runs?jobId= answers it. */
export interface JobRunView {
  jobId: string;
  task: string;
  attempt: number;
  runs: RunSummary[];
}

/**
 * GET /runs?jobId=: the run a Batch job belongs to, found from the job itself (Batch
 * DescribeJobs; the engine tags every job with its deployment, run, task and attempt:
 * shared/engine/submit.ts), so no item maps job ids to runs. 404 for a job Batch does not
 * know, one of another deployment, or one whose run has expired.
 */
export async function findRunByJobId(deps: ApiDeps, jobId: string): Promise<JobRunView> {
  const out = await deps.batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
  const job = out.jobs?.find((j) => j.jobId === jobId);
  const ref = jobRef(job?.tags);
  if (!job || !ref || ref.deployment !== deps.env.deployment) {
    throw new NotFoundError(`No run for job '${jobId}': Batch has no job of this deployment with that id (jobs are kept about 7 days after they end).`);
  }
  const run = await deps.store.getRun(ref.runId, false);
  if (!run) throw new NotFoundError(`No run for job '${jobId}': its run '${ref.runId}' does not exist (or expired after the retention period).`);
  const { runId, schedule, scheduledTime, trigger, status, statusReason, createdAt, endedAt } = run;
  return {
    jobId,
    task: ref.task,
    attempt: ref.attempt,
    runs: [{ runId, schedule, scheduledTime, trigger, status, ...(statusReason ? { statusReason } : {}), createdAt, ...(endedAt ? { endedAt } : {}) }],
  };
}

// ---- logs ---------------------------------------------------------------------------

/** What GET /runs/{id}/logs answers. */
export interface LogPage {
  runId: string;
  task: string;
  attempt: number;
  jobId?: string;
  /** Attempt status, so a follower knows when to stop. */
  status: string;
  log?: { group: string; stream: string };
  events: { timestamp: string; message: string }[];
  /** Pass back to read on; unchanged when there was nothing new. */
  nextToken?: string;
}

/**
 * GET /runs/{id}/logs: one page of a task attempt's log through CloudWatch Logs
 * GetLogEvents, oldest first. The task may be left out when the run has one task; the
 * attempt defaults to the latest.
 */
export async function readRunLogs(
  deps: ApiDeps,
  input: { runId: string; task?: string; attempt?: number; nextToken?: string; limit?: number },
): Promise<LogPage> {
  const run = await requireRun(deps, input.runId);
  const tasks = Object.values(run.tasks);
  let taskName = input.task;
  if (taskName === undefined) {
    const started = tasks.filter((t) => t.attempts.length > 0);
    if (tasks.length === 1) taskName = tasks[0]!.name;
    else if (started.length === 1) taskName = started[0]!.name;
    else {
      throw validationError([
        { path: 'query.task', message: `is required: run '${run.runId}' has tasks ${tasks.map((t) => t.name).join(', ')}` },
      ]);
    }
  }
  const task = run.tasks[taskName];
  if (!task) {
    throw new NotFoundError(`Run '${run.runId}' has no task '${taskName}' (its tasks: ${tasks.map((t) => t.name).join(', ')}).`);
  }
  const attempt =
    input.attempt === undefined ? task.attempts.at(-1) : task.attempts.find((a) => a.attempt === input.attempt);
  if (!attempt) {
    if (input.attempt !== undefined) {
      throw new NotFoundError(`Task '${taskName}' of run '${run.runId}' has no attempt ${input.attempt} (it has ${task.attempts.length}).`);
    }
    return { runId: run.runId, task: taskName, attempt: 0, status: task.status, events: [] };
  }
  const base = {
    runId: run.runId,
    task: taskName,
    attempt: attempt.attempt,
    ...(attempt.jobId ? { jobId: attempt.jobId } : {}),
    status: attempt.status,
  };
  const stream = attempt.logStreamName ?? (attempt.jobId ? await logStreamOf(deps, attempt.jobId) : undefined);
  if (!stream) return { ...base, events: [], ...(input.nextToken ? { nextToken: input.nextToken } : {}) };
  const log = { group: deps.env.jobLogGroup, stream };
  try {
    const out = await deps.logs.send(
      new GetLogEventsCommand({
        logGroupName: log.group,
        logStreamName: log.stream,
        startFromHead: true,
        ...(input.nextToken ? { nextToken: input.nextToken } : {}),
        ...(input.limit ? { limit: input.limit } : {}),
      }),
    );
    return {
      ...base,
      log,
      events: (out.events ?? []).map((e) => ({ timestamp: new Date(e.timestamp ?? 0).toISOString(), message: e.message ?? '' })),
      ...(out.nextForwardToken ? { nextToken: out.nextForwardToken } : {}),
    };
  } catch (error) {
    // A job that has not written anything yet has no stream; that is an empty log, not an error.
    if (error instanceof LogsNotFound) return { ...base, log, events: [], ...(input.nextToken ? { nextToken: input.nextToken } : {}) };
    if ((error as { name?: string }).name === 'InvalidParameterException' && input.nextToken) {
      throw validationError([{ path: 'query.nextToken', message: 'is not a token this API returned for this log' }]);
    }
    throw error;
  }
}

/** The log stream of a job's latest attempt, from Batch itself (an event may not have recorded it yet). */
async function logStreamOf(deps: ApiDeps, jobId: string): Promise<string | undefined> {
  const out = await deps.batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
  const job = out.jobs?.[0];
  return job?.attempts?.at(-1)?.container?.logStreamName ?? job?.container?.logStreamName;
}
