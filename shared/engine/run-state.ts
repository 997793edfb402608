/**
 * The run state machine as pure functions: (run, what happened) → next run. No I/O, no
 * clock reads (the time comes in `ctx`), so the same inputs always give the same state;
 * the property test feeds shuffled, duplicated event streams through these and the store.
 *
 * Side effects are never *decided* here, only *implied by the state*: a READY task must be
 * submitted, a RETRY_WAIT task must have a retry schedule, a settled run must be finalized,
 * a PENDING notification must be sent. Whoever writes a state then performs what it
 * implies (shared/engine/drive.ts), and if that invocation dies, the next delivery or the
 * sweeper reads the same state and performs it again. The state is the outbox.
 */
import type { FireInput, ScheduleDefinition, TaskDefinition } from '../config/definition.ts';
import { activeShard, runKey, runsByScheduleKey, runsByScheduleSort } from '../store/keys.ts';
import type { Attempt, AttemptStatus, RunItem, RunStatus, TaskState } from '../store/schema.ts';
import { retryDelayMs } from './backoff.ts';
import { globMatch, shouldRetry } from './classify.ts';
import { jobName } from './naming.ts';
import { attemptAdvances, isLiveTask, isTerminalAttempt, isTerminalRun, isTerminalTask, runAdvances } from './status.ts';

/** What a transition may depend on besides the run itself. */
export interface TransitionContext {
  /** Epoch ms. */
  now: number;
  /** The invocation doing the transition; it gets the submission leases it creates. */
  owner: string;
  leaseMs: number;
  deployment: string;
  retentionDays: number;
  /** Status-reason globs whose failures end the run `interrupted`, without a failure message. */
  quietFailureReasons?: readonly string[];
}

/** An attempt that a transition created with a lease for `ctx.owner`: submit it without a lookup. */
export interface Claim {
  task: string;
  attempt: number;
}

/** A retry the transition decided on: a one-time schedule must start `attempt` of `task` at `at`. */
export interface PlannedRetry {
  task: string;
  attempt: number;
  /** Epoch ms. */
  at: number;
}

/** A transition's result: the next state plus what it newly implies. */
export interface Transition {
  run: RunItem;
  claims: Claim[];
  retries: PlannedRetry[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** All task definitions of a run, main and on-failure, by name. */
export function taskDefinitions(definition: ScheduleDefinition): Map<string, { def: TaskDefinition; phase: 'main' | 'onFailure' }> {
  const map = new Map<string, { def: TaskDefinition; phase: 'main' | 'onFailure' }>();
  for (const def of definition.tasks) map.set(def.name, { def, phase: 'main' });
  for (const def of definition.onFailure) map.set(def.name, { def, phase: 'onFailure' });
  return map;
}

/** How a new run starts. */
export interface NewRunOptions {
  runId: string;
  /** `start`: roots READY now; `hold`: QUEUED behind an active run (queue-one); `skip`: SKIPPED. */
  mode: 'start' | 'hold' | 'skip';
  reason?: string;
  supersedes?: string[];
}

/** Builds the item for a new run; with mode `start` the root tasks are claimed for `ctx.owner`. */
export function newRun(input: FireInput, options: NewRunOptions, ctx: TransitionContext): Transition {
  const scheduledTime = new Date(input.scheduledTime).toISOString();
  const tasks: Record<string, TaskState> = {};
  for (const def of input.definition.tasks) tasks[def.name] = { name: def.name, phase: 'main', status: 'PENDING', attempts: [] };
  for (const def of input.definition.onFailure) tasks[def.name] = { name: def.name, phase: 'onFailure', status: 'PENDING', attempts: [] };
  const skipped = options.mode === 'skip';
  const run: RunItem = {
    ...runKey(options.runId),
    gsi1pk: runsByScheduleKey(input.schedule),
    gsi1sk: runsByScheduleSort(scheduledTime, options.runId),
    kind: 'run',
    runId: options.runId,
    schedule: input.schedule,
    scheduledTime,
    trigger: input.trigger,
    ...(input.recoveredBy ? { recoveredBy: input.recoveredBy } : {}),
    parameters: withDefaults(input.definition, input.parameters),
    definition: input.definition,
    status: skipped ? 'SKIPPED' : 'QUEUED',
    statusReason: options.reason,
    tasks,
    createdAt: iso(ctx.now),
    updatedAt: iso(ctx.now),
    since: skipped ? {} : { QUEUED: iso(ctx.now) },
    notify: {},
    settled: skipped,
    finalized: skipped,
    version: 0,
  };
  if (options.mode === 'hold') run.held = true;
  if (options.supersedes?.length) run.supersedes = options.supersedes;
  if (skipped) {
    for (const task of Object.values(tasks)) Object.assign(task, { status: 'CANCELLED', reason: 'run skipped' });
    run.endedAt = iso(ctx.now);
    run.expiresAt = expiry(ctx);
    return { run, claims: [], retries: [] };
  }
  run.activePk = activeShard(options.runId);
  run.activeSk = `${iso(ctx.now)}#${options.runId}`;
  if (options.mode === 'hold') return { run, claims: [], retries: [] };
  const claims: Claim[] = [];
  settle(run, ctx, claims);
  return { run, claims, retries: [] };
}

/** What a re-run runs again: every task, or only the failed and cancelled ones (the succeeded keep their result). */
export type RerunTasks = 'all' | 'failed';

/**
 * A finished run's next attempt: the attempt that ended goes to `history`, the tasks to run
 * again go back to PENDING (their attempts stay, numbering continues), on-failure tasks are
 * reset, and the run is QUEUED and active again with its roots claimed. The run keeps its id,
 * so everything that names it (its scheduled time, its place in listings) stays.
 */
export function rerunRun(run: RunItem, tasks: RerunTasks, ctx: TransitionContext, key?: string): Transition {
  const next = structuredClone(run);
  const entry = {
    attempt: run.attempt ?? 1,
    status: run.status,
    ...(run.statusReason ? { statusReason: run.statusReason } : {}),
    startedAt: run.attemptStartedAt ?? run.createdAt,
    ...(run.endedAt ? { endedAt: run.endedAt } : {}),
    tasks: Object.fromEntries(Object.values(run.tasks).map((t) => [t.name, t.status])),
    ...(run.rerunKey ? { rerunKey: run.rerunKey } : {}),
  };
  next.history = [...(run.history ?? []), entry];
  next.attempt = entry.attempt + 1;
  next.attemptStartedAt = iso(ctx.now);
  if (key !== undefined) next.rerunKey = key;
  else delete next.rerunKey;
  for (const task of Object.values(next.tasks)) {
    if (task.phase === 'main' && tasks === 'failed' && task.status === 'SUCCEEDED') continue;
    task.status = 'PENDING';
    delete task.reason;
    delete task.retryAt;
    task.firstAttempt = task.attempts.length + 1;
  }
  next.status = 'QUEUED';
  delete next.statusReason;
  delete next.endedAt;
  delete next.expiresAt;
  delete next.held;
  delete next.supersedes;
  next.since = { QUEUED: iso(ctx.now) };
  next.notify = {};
  next.settled = false;
  next.finalized = false;
  next.activePk = activeShard(run.runId);
  next.activeSk = `${iso(ctx.now)}#${run.runId}`;
  next.updatedAt = iso(ctx.now);
  const claims: Claim[] = [];
  settle(next, ctx, claims);
  return { run: next, claims, retries: [] };
}

/** Starts a held (queue-one) run once the active one has ended. */
export function releaseHeld(run: RunItem, ctx: TransitionContext): Transition {
  const next = structuredClone(run);
  const claims: Claim[] = [];
  if (!next.held || isTerminalRun(next.status)) return { run, claims, retries: [] };
  delete next.held;
  settle(next, ctx, claims);
  return finish(run, next, ctx, claims, []);
}

/** What Batch said about one attempt (from an event or from DescribeJobs). */
export interface AttemptUpdate {
  task: string;
  attempt: number;
  jobId: string;
  status: AttemptStatus;
  exitCode?: number;
  statusReason?: string;
  logStreamName?: string;
  /** Epoch ms. */
  startedAt?: number;
  stoppedAt?: number;
}

/**
 * Applies what Batch said about an attempt. Statuses only move forward; an update for an
 * attempt that is not the task's current one records on that attempt and nothing else.
 */
export function applyAttemptUpdate(run: RunItem, update: AttemptUpdate, ctx: TransitionContext): Transition {
  const next = structuredClone(run);
  const task = next.tasks[update.task];
  const record = task?.attempts[update.attempt - 1];
  if (!task || !record) return { run, claims: [], retries: [] };
  // A second job with the same name (the lookup raced a slow ListJobs) is not this attempt's.
  if (record.jobId !== undefined && record.jobId !== update.jobId) return { run, claims: [], retries: [] };
  if (record.jobId === undefined) {
    // The event proves the job exists: adopt its id (a crash lost our own record of it).
    record.jobId = update.jobId;
    delete record.leaseOwner;
    delete record.leaseUntil;
    // A deferred attempt's slot is spent once its job exists (the event can beat recordSubmission).
    delete record.slotAt;
    record.submittedAt ??= iso(ctx.now);
    if (record.status === 'SUBMITTING') record.status = 'SUBMITTED';
  }
  if (attemptAdvances(record.status, update.status)) {
    record.status = update.status;
    if (update.exitCode !== undefined) record.exitCode = update.exitCode;
    if (update.statusReason !== undefined) record.statusReason = update.statusReason;
    if (update.logStreamName !== undefined) record.logStreamName = update.logStreamName;
    if (update.startedAt !== undefined) record.startedAt = iso(update.startedAt);
    if (update.stoppedAt !== undefined) record.stoppedAt = iso(update.stoppedAt);
  } else if (record.logStreamName === undefined && update.logStreamName !== undefined) {
    record.logStreamName = update.logStreamName;
  }
  const claims: Claim[] = [];
  const retries: PlannedRetry[] = [];
  if (update.attempt === task.attempts.length) advanceTask(next, task, record, ctx, claims, retries);
  settle(next, ctx, claims);
  return finish(run, next, ctx, claims, retries);
}

function advanceTask(run: RunItem, task: TaskState, record: Attempt, ctx: TransitionContext, claims: Claim[], retries: PlannedRetry[]): void {
  if (isTerminalTask(task.status) || task.status === 'RETRY_WAIT') return;
  switch (record.status) {
    case 'SUBMITTING':
      return;
    case 'SUBMITTED':
      if (task.status === 'READY') task.status = 'SUBMITTED';
      return;
    case 'RUNNING':
      task.status = 'RUNNING';
      return;
    case 'SUCCEEDED':
      task.status = 'SUCCEEDED';
      return;
    case 'FAILED': {
      const def = taskDefinitions(run.definition).get(task.name)!.def;
      // Once the run has failed, its remaining main tasks are not worth retrying.
      const retryable = !(task.phase === 'main' && isTerminalRun(run.status));
      const facts = { exitCode: record.exitCode, statusReason: record.statusReason };
      // Retries count from the task's first attempt in this run attempt (a re-run starts afresh).
      const nth = record.attempt - (task.firstAttempt ?? 1) + 1;
      if (!retryable || !shouldRetry(def.retry, nth, facts)) {
        task.status = 'FAILED';
        task.reason = describeFailure(record);
        return;
      }
      const nextAttempt = record.attempt + 1;
      const base = record.stoppedAt ? Date.parse(record.stoppedAt) : ctx.now;
      const delay = retryDelayMs(def.retry.backoff, nth + 1, `${run.runId}#${task.name}`);
      if (delay === 0) {
        claim(run, task, nextAttempt, ctx, claims);
        return;
      }
      task.status = 'RETRY_WAIT';
      task.retryAt = iso(base + delay);
      retries.push({ task: task.name, attempt: nextAttempt, at: base + delay });
      return;
    }
  }
}

/** Starts attempt `attempt` of a RETRY_WAIT task (its retry schedule fired, or the sweeper found it overdue). */
export function startRetry(run: RunItem, taskName: string, attempt: number, ctx: TransitionContext): Transition {
  const next = structuredClone(run);
  const task = next.tasks[taskName];
  if (!task || task.status !== 'RETRY_WAIT' || task.attempts.length !== attempt - 1) return { run, claims: [], retries: [] };
  const claims: Claim[] = [];
  delete task.retryAt;
  claim(next, task, attempt, ctx, claims);
  settle(next, ctx, claims);
  return finish(run, next, ctx, claims, []);
}

/**
 * Takes over the submission lease of a READY task whose holder is gone (lease expired) or
 * is this very invocation retried. The new holder must look the job up before submitting.
 */
export function takeOverLease(run: RunItem, taskName: string, ctx: TransitionContext): Transition {
  const next = structuredClone(run);
  const task = next.tasks[taskName];
  const record = task?.attempts.at(-1);
  if (!task || task.status !== 'READY' || !record || record.jobId !== undefined) return { run, claims: [], retries: [] };
  if (record.leaseOwner !== ctx.owner && (record.leaseUntil ?? 0) > ctx.now) return { run, claims: [], retries: [] };
  record.leaseOwner = ctx.owner;
  record.leaseUntil = ctx.now + ctx.leaseMs;
  return finish(run, next, ctx, [], []);
}

/**
 * Hands an attempt's reserved SubmitJob slot over to a one-time schedule (a deferral): the
 * slot lies beyond what this invocation may wait. The lease is released (expires now), the
 * slot and the deferral count are kept on the attempt; whoever drives the run from
 * `slotAt − deferralLeadMs` on (the deferral's schedule, a duplicate, the sweeper) takes the
 * lease and submits at the slot without reserving another. Only the lease holder may defer.
 */
export function deferSubmission(run: RunItem, taskName: string, attempt: number, slotAt: number, ctx: TransitionContext): Transition {
  const next = structuredClone(run);
  const task = next.tasks[taskName];
  const record = task?.attempts[attempt - 1];
  if (!task || task.status !== 'READY' || !record || record !== task.attempts.at(-1) || record.jobId !== undefined) return { run, claims: [], retries: [] };
  if (record.leaseOwner !== ctx.owner) return { run, claims: [], retries: [] };
  record.slotAt = slotAt;
  record.deferrals = (record.deferrals ?? 0) + 1;
  delete record.leaseOwner;
  record.leaseUntil = ctx.now;
  return finish(run, next, ctx, [], []);
}

/** Records the job id a submission (or a lookup) produced for an attempt. */
export function recordSubmission(run: RunItem, taskName: string, attempt: number, jobId: string, ctx: TransitionContext): Transition {
  const next = structuredClone(run);
  const task = next.tasks[taskName];
  const record = task?.attempts[attempt - 1];
  if (!task || !record || record.jobId !== undefined) return { run, claims: [], retries: [] };
  record.jobId = jobId;
  record.status = 'SUBMITTED';
  record.submittedAt = iso(ctx.now);
  delete record.leaseOwner;
  delete record.leaseUntil;
  delete record.slotAt;
  if (task.status === 'READY' && attempt === task.attempts.length) task.status = 'SUBMITTED';
  const claims: Claim[] = [];
  settle(next, ctx, claims);
  return finish(run, next, ctx, claims, []);
}

/**
 * Records that Batch refused an attempt's submission for good (`ClientException`: the job
 * definition or queue does not exist, an invalid resource override). No job exists and the
 * same request can never succeed, so the attempt fails with Batch's message as its reason
 * and the task fails without a retry; the run then fails as for any failed task (on-failure
 * tasks, one notification). Without this the task stays READY and every driver (Lambda's
 * retries, the sweeper every period) would send the same refused request for ever.
 */
export function refuseSubmission(run: RunItem, taskName: string, attempt: number, reason: string, ctx: TransitionContext): Transition {
  const next = structuredClone(run);
  const task = next.tasks[taskName];
  const record = task?.attempts[attempt - 1];
  if (!task || task.status !== 'READY' || !record || record !== task.attempts.at(-1) || record.jobId !== undefined) return { run, claims: [], retries: [] };
  record.status = 'FAILED';
  record.statusReason = reason;
  record.stoppedAt = iso(ctx.now);
  delete record.leaseOwner;
  delete record.leaseUntil;
  delete record.slotAt;
  task.status = 'FAILED';
  task.reason = `Batch refused the job: ${reason}`;
  const claims: Claim[] = [];
  settle(next, ctx, claims);
  return finish(run, next, ctx, claims, []);
}

/** Cancels a run: every task not over is CANCELLED (their jobs are terminated by the driver). */
export function cancelRun(run: RunItem, reason: string, ctx: TransitionContext): Transition {
  if (isTerminalRun(run.status)) return { run, claims: [], retries: [] };
  const next = structuredClone(run);
  next.status = 'CANCELLED';
  next.statusReason = reason;
  next.endedAt = iso(ctx.now);
  delete next.held;
  for (const task of Object.values(next.tasks)) {
    if (isTerminalTask(task.status)) continue;
    task.status = 'CANCELLED';
    task.reason = reason;
    delete task.retryAt;
  }
  settle(next, ctx, []);
  return finish(run, next, ctx, [], []);
}

/** Marks the finishing steps done: out of the active index, expiring after the retention period. */
export function markFinalized(run: RunItem, ctx: TransitionContext): RunItem {
  const next = structuredClone(run);
  next.finalized = true;
  delete next.activePk;
  delete next.activeSk;
  next.expiresAt = expiry(ctx);
  next.updatedAt = iso(ctx.now);
  return next;
}

/**
 * Derives what follows from the task states: releases dependents whose dependencies all
 * succeeded (fan-in), fails the run when a main task failed for good (cancelling what has
 * not started, activating on-failure tasks, owing one notification), succeeds it when all
 * main tasks succeeded, and moves the run status forward.
 */
function settle(run: RunItem, ctx: TransitionContext, claims: Claim[]): void {
  const main = run.definition.tasks;
  const state = (name: string) => run.tasks[name]!;
  if (run.status !== 'CANCELLED' && run.status !== 'SKIPPED' && !run.held) {
    const failed = main.find((t) => state(t.name).status === 'FAILED');
    if (failed) {
      for (const def of main) {
        const task = state(def.name);
        // Started jobs of other branches finish (their work may be half-written elsewhere;
        // killing them is the cancel API's job); what has not started never will.
        if (task.status === 'PENDING' || task.status === 'RETRY_WAIT' || (task.status === 'READY' && !task.attempts.at(-1)?.jobId)) {
          task.status = 'CANCELLED';
          task.reason = `task ${failed.name} failed`;
          delete task.retryAt;
        }
      }
      if (run.status !== 'FAILED') {
        run.status = 'FAILED';
        run.statusReason = `task ${failed.name} failed: ${state(failed.name).reason ?? 'unknown reason'}`;
        run.endedAt = iso(ctx.now);
        const reason = state(failed.name).attempts.at(-1)?.statusReason;
        if (reason && ctx.quietFailureReasons?.some((glob) => globMatch(glob, reason))) {
          // Ended by its own infrastructure's stop (the local stack's Ctrl-C), not by the job:
          // the retry policy has had its say; nobody is paged for it.
          run.interrupted = true;
        } else if (run.definition.notify.onFailure) {
          run.notify.failure = { status: 'PENDING', tries: 0 };
        }
      }
      for (const def of run.definition.onFailure) {
        const task = state(def.name);
        if (task.status === 'PENDING') claim(run, task, task.attempts.length + 1, ctx, claims);
      }
    } else if (main.every((t) => state(t.name).status === 'SUCCEEDED')) {
      if (!isTerminalRun(run.status)) {
        run.status = 'SUCCEEDED';
        run.endedAt = iso(ctx.now);
      }
    } else if (!isTerminalRun(run.status)) {
      for (const def of main) {
        const task = state(def.name);
        if (task.status === 'PENDING' && def.dependsOn.every((d) => state(d).status === 'SUCCEEDED')) claim(run, task, task.attempts.length + 1, ctx, claims);
      }
      const derived = derivedStatus(run);
      if (runAdvances(run.status, derived)) {
        run.status = derived;
        run.since[derived as 'SUBMITTED' | 'RUNNING'] ??= iso(ctx.now);
      }
    }
  }
  run.settled = isTerminalRun(run.status) && !Object.values(run.tasks).some((t) => isLiveTask(t.status));
}

function derivedStatus(run: RunItem): RunStatus {
  const statuses = run.definition.tasks.map((t) => run.tasks[t.name]!.status);
  if (statuses.some((s) => s === 'RUNNING' || s === 'SUCCEEDED' || s === 'RETRY_WAIT' || s === 'FAILED')) return 'RUNNING';
  if (statuses.some((s) => s === 'SUBMITTED')) return 'SUBMITTED';
  // A task that ran and is being retried counts as running, not as back in the queue.
  if (run.definition.tasks.some((t) => run.tasks[t.name]!.attempts.some((a) => a.status !== 'SUBMITTING'))) return 'RUNNING';
  return 'QUEUED';
}

function claim(run: RunItem, task: TaskState, attempt: number, ctx: TransitionContext, claims: Claim[]): void {
  task.status = 'READY';
  task.attempts[attempt - 1] = {
    attempt,
    jobName: jobName(ctx.deployment, run.runId, task.name, attempt),
    status: 'SUBMITTING',
    leaseOwner: ctx.owner,
    leaseUntil: ctx.now + ctx.leaseMs,
  };
  claims.push({ task: task.name, attempt });
}

function finish(before: RunItem, next: RunItem, ctx: TransitionContext, claims: Claim[], retries: PlannedRetry[]): Transition {
  if (sameState(before, next)) return { run: before, claims: [], retries: [] };
  next.updatedAt = iso(ctx.now);
  return { run: next, claims, retries };
}

/** True when two versions of a run differ in nothing but bookkeeping timestamps. */
export function sameState(a: RunItem, b: RunItem): boolean {
  return JSON.stringify({ ...a, updatedAt: '' }) === JSON.stringify({ ...b, updatedAt: '' });
}

function withDefaults(definition: ScheduleDefinition, given: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(definition.parameters)) if (spec.default !== undefined) out[name] = spec.default;
  return { ...out, ...given };
}

function expiry(ctx: TransitionContext): number {
  return Math.floor(ctx.now / 1000) + ctx.retentionDays * 86_400;
}

function describeFailure(record: Attempt): string {
  const parts = [];
  if (record.exitCode !== undefined) parts.push(`exit code ${record.exitCode}`);
  if (record.statusReason) parts.push(record.statusReason);
  return parts.join(': ') || 'failed';
}

/** Tasks whose current attempt must be submitted, with their attempt records. */
export function readyTasks(run: RunItem): { task: TaskState; record: Attempt }[] {
  const out: { task: TaskState; record: Attempt }[] = [];
  for (const task of Object.values(run.tasks)) {
    const record = task.attempts.at(-1);
    if (task.status === 'READY' && record && record.jobId === undefined) out.push({ task, record });
  }
  return out;
}

/** Jobs that may still be running although their task no longer wants them (cancelled). */
export function jobsToTerminate(run: RunItem): { task: string; attempt: number; jobId: string }[] {
  const out: { task: string; attempt: number; jobId: string }[] = [];
  for (const task of Object.values(run.tasks)) {
    if (task.status !== 'CANCELLED') continue;
    for (const a of task.attempts) if (a.jobId && !isTerminalAttempt(a.status)) out.push({ task: task.name, attempt: a.attempt, jobId: a.jobId });
  }
  return out;
}

/** Attempts with a job that is not over yet: what the sweeper asks Batch about. */
export function liveJobs(run: RunItem): { task: string; attempt: number; jobId: string }[] {
  const out: { task: string; attempt: number; jobId: string }[] = [];
  for (const task of Object.values(run.tasks)) {
    for (const a of task.attempts) if (a.jobId && !isTerminalAttempt(a.status)) out.push({ task: task.name, attempt: a.attempt, jobId: a.jobId });
  }
  return out;
}
