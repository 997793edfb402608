/**
 * Performs what a run's state implies (see run-state.ts: the state is the outbox):
 * submits READY tasks under their lease, cancels superseded runs, terminates jobs of
 * cancelled tasks, sends owed notifications, and finalizes a settled run (overlap release,
 * queue-one waiter, "recovered" message, out of the active index, TTL). Every step is
 * idempotent, so any invocation (a duplicate delivery, a Lambda retry, the sweeper) may run
 * it again on the same state.
 */
import { RequestRefusedError, RunVersionConflictError, VersionConflictError } from '../errors.ts';
import { failureMessage, recoveryMessage, stuckMessage, type NotificationMessage } from '../notify/messages.ts';
import type { Notification, RunItem, ScheduleState, StuckState } from '../store/schema.ts';
import { throttleDelayMs } from './backoff.ts';
import { releaseDependents } from './dependencies.ts';
import { contextOf, DEFAULTS, type EngineDeps } from './deps.ts';
import { deferralScheduleName } from './naming.ts';
import {
  cancelRun,
  deferSubmission,
  jobsToTerminate,
  markFinalized,
  readyTasks,
  recordSubmission,
  refuseSubmission,
  releaseHeld,
  takeOverLease,
  taskDefinitions,
  type Claim,
  type Transition,
  type TransitionContext,
} from './run-state.ts';
import { isTerminalRun } from './status.ts';
import { submitJobInput } from './submit.ts';

const MAX_CONFLICT_RETRIES = 25;

/** The outcome of a read-modify-write of a run. */
export interface Mutation {
  /** The run as stored after the mutation (undefined when no such run exists). */
  run: RunItem | undefined;
  changed: boolean;
  transition: Transition | undefined;
}

/**
 * Read-modify-write of one run under optimistic concurrency: reads (strongly consistent),
 * applies `fn`, writes over the version read. On a first version conflict (two events of one
 * run at once: a job's RUNNING and SUCCEEDED, two tasks finishing) it re-applies `fn` at once
 * to the run the failed write returned, without reading; on later ones it backs off with
 * jitter and reads again. `beforeSave` runs effects that must exist before the state that
 * implies them is visible (the retry schedule).
 */
export async function mutateRun(
  deps: EngineDeps,
  runId: string,
  fn: (run: RunItem, ctx: TransitionContext) => Transition,
  beforeSave?: (t: Transition) => Promise<void>,
  known?: RunItem,
): Promise<Mutation> {
  // `known`: a run in hand, typically as this invocation itself just wrote it. Writing over
  // its version saves the read; if anyone wrote since, the version condition fails and
  // returns the newer run.
  let next = known;
  for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
    const run = next ?? (await deps.store.getRun(runId));
    next = undefined;
    if (!run) return { run: undefined, changed: false, transition: undefined };
    const t = fn(run, contextOf(deps));
    if (t.run === run) return { run, changed: false, transition: t };
    if (beforeSave) await beforeSave(t);
    try {
      const saved = await deps.store.saveRun(t.run);
      return { run: saved, changed: true, transition: { ...t, run: saved } };
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      deps.metrics.count('VersionConflicts');
      if (i === 0 && error instanceof RunVersionConflictError && error.current) {
        next = error.current;
        continue;
      }
      await sleep(deps, throttleDelayMs(i, 10, 500, deps.random ?? Math.random));
    }
  }
  throw new VersionConflictError(`run ${runId}: gave up after ${MAX_CONFLICT_RETRIES} version conflicts`);
}

/** Performs everything `run`'s state implies. `claims` are attempts this invocation just leased. */
export async function drive(run: RunItem, deps: EngineDeps, claims: Claim[] = []): Promise<RunItem> {
  let current = await submitReady(run, deps, claims);
  if (current.supersedes?.length && !isTerminalRun(current.status)) await cancelSuperseded(current, deps);
  await terminateCancelled(current, deps);
  if (current.notify.failure && current.notify.failure.status !== 'SENT') {
    current = await deliver(current, deps, ['failure'], []);
  }
  if (current.settled && !current.finalized) current = await finalize(current, deps);
  return current;
}

/* ---------------------------------------------------------------- submission */

/** True while a deferred attempt is left to its one-time schedule (see `deferSubmission`). */
function awaitingDeferral(record: { slotAt?: number }, now: number): boolean {
  return record.slotAt !== undefined && record.slotAt - DEFAULTS.deferralLeadMs > now;
}

async function submitReady(run: RunItem, deps: EngineDeps, claims: Claim[]): Promise<RunItem> {
  const fresh = new Set(claims.map((c) => `${c.task}#${c.attempt}`));
  const now = deps.now();
  const defs = taskDefinitions(run.definition);
  const work = readyTasks(run).filter(
    ({ record }) => (record.leaseOwner === deps.owner || (record.leaseUntil ?? 0) <= now) && !awaitingDeferral(record, now),
  );
  if (work.length === 0) return run;
  const results: { task: string; attempt: number; jobId: string }[] = [];
  const deferred: { task: string; attempt: number; slotAt: number }[] = [];
  const refused: { task: string; attempt: number; reason: string }[] = [];
  const failures: unknown[] = [];
  await Promise.all(
    work.map(async ({ task, record }) => {
      const key = `${task.name}#${record.attempt}`;
      const log = { schedule: run.schedule, runId: run.runId, task: task.name, attempt: record.attempt, jobName: record.jobName };
      try {
        let lookup = true;
        let taken: Mutation | undefined;
        if (fresh.has(key) && record.leaseOwner === deps.owner) {
          // This invocation created the attempt with its lease a moment ago: nobody can have
          // submitted it yet, so the ListJobs lookup (itself rate-limited) is skipped.
          lookup = false;
        } else {
          taken = await mutateRun(deps, run.runId, (r, ctx) => takeOverLease(r, task.name, ctx));
          if (!taken.changed) return;
          deps.log.info('submission lease taken over', log);
        }
        const def = defs.get(task.name)!.def;
        if (lookup) {
          const found = await deps.batch.findJobsByName(def.jobQueue, record.jobName);
          if (found[0]) {
            deps.metrics.count('JobsAdopted');
            deps.log.info('job found by name; adopting it instead of submitting again', { ...log, jobId: found[0].jobId });
            results.push({ task: task.name, attempt: record.attempt, jobId: found[0].jobId });
            return;
          }
        }
        const leased = taken?.run?.tasks[task.name]?.attempts.at(-1) ?? record;
        const leaseUntil = leased.leaseUntil ?? deps.now() + (deps.leaseMs ?? DEFAULTS.leaseMs);
        const outcome = await submitPaced(deps, submitJobInput(run, def, record, deps.env.deployment), leaseUntil, leased.slotAt, log);
        if ('deferTo' in outcome) {
          deferred.push({ task: task.name, attempt: record.attempt, slotAt: outcome.deferTo });
          return;
        }
        const jobId = outcome.jobId;
        deps.metrics.count('JobsSubmitted');
        deps.log.info('job submitted', { ...log, jobId });
        results.push({ task: task.name, attempt: record.attempt, jobId });
      } catch (error) {
        if (error instanceof RequestRefusedError) {
          // Permanent: recorded below as the attempt's failure, never sent again.
          deps.metrics.count('SubmissionsRefused');
          deps.log.warn('Batch refused the submission for good; the task fails', { ...log, error: error.message });
          refused.push({ task: task.name, attempt: record.attempt, reason: error.reason });
          return;
        }
        deps.log.warn('submission failed', { ...log, error: String(error) });
        failures.push(error);
      }
    }),
  );
  let current = run;
  if (results.length) {
    const recorded = await mutateRun(deps, run.runId, (r, ctx) => {
      let t: Transition = { run: r, claims: [], retries: [] };
      for (const res of results) {
        const next = recordSubmission(t.run, res.task, res.attempt, res.jobId, ctx);
        t = { run: next.run, claims: [...t.claims, ...next.claims], retries: [] };
      }
      return t;
      // With fresh claims `run` is the state this invocation just wrote: no one else can have
      // recorded these jobs, so the first try writes over it without reading it again.
    }, undefined, claims.length ? run : undefined);
    current = recorded.run ?? run;
  } else if (!deferred.length && !refused.length) {
    current = (await deps.store.getRun(run.runId)) ?? run;
  }
  if (deferred.length) current = await defer(current, deferred, deps, claims.length > 0 && !results.length);
  if (refused.length) {
    const m = await mutateRun(deps, run.runId, (r, ctx) => {
      let t: Transition = { run: r, claims: [], retries: [] };
      for (const f of refused) {
        const next = refuseSubmission(t.run, f.task, f.attempt, f.reason, ctx);
        t = { run: next.run, claims: [...t.claims, ...next.claims], retries: [] };
      }
      return t;
    });
    current = m.run ?? current;
    // The failure may have claimed on-failure tasks: submit them now (they have no successors,
    // so this recursion is one level deep).
    if (m.transition?.claims.length) current = await submitReady(current, deps, m.transition.claims);
  }
  // Throw after recording what did succeed, so Lambda's retry re-drives only the rest.
  if (failures.length) throw failures[0];
  return current;
}

/**
 * Hands reserved slots beyond this invocation's budget to one-time schedules at those slots
 * (through the retry function, which drives the run). The schedules exist before the state
 * that says so, as a retry's do; a schedule left behind by a failed write only finds the
 * attempt still leased and does nothing.
 */
async function defer(run: RunItem, deferred: { task: string; attempt: number; slotAt: number }[], deps: EngineDeps, ownWrite: boolean): Promise<RunItem> {
  const m = await mutateRun(
    deps,
    run.runId,
    (r, ctx) => {
      let t: Transition = { run: r, claims: [], retries: [] };
      for (const d of deferred) t = { ...deferSubmission(t.run, d.task, d.attempt, d.slotAt, ctx), claims: [], retries: [] };
      return t;
    },
    async (t) => {
      for (const d of deferred) {
        const record = t.run.tasks[d.task]?.attempts[d.attempt - 1];
        if (record?.slotAt !== d.slotAt || record.deferrals === undefined) continue;
        const input = { runId: run.runId, task: d.task, attempt: d.attempt };
        await deps.retries.scheduleRetry({
          name: deferralScheduleName(deps.env.deployment, run.runId, d.task, d.attempt, record.deferrals),
          at: d.slotAt,
          input,
          description: `Batchron deferred submission: ${run.runId} ${d.task} attempt ${d.attempt}`,
        });
      }
    },
    // Only this invocation can have written since its own claim: write over it without a read.
    ownWrite ? run : undefined,
  );
  for (const d of deferred) {
    deps.metrics.count('SubmissionsDeferred');
    deps.log.info('SubmitJob slot beyond this invocation; handed to a one-time schedule', {
      schedule: run.schedule,
      runId: run.runId,
      task: d.task,
      attempt: d.attempt,
      slotAt: new Date(d.slotAt).toISOString(),
    });
  }
  return m.run ?? run;
}

function isThrottle(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'TooManyRequestsException' || e?.name === 'ThrottlingException' || e?.$metadata?.httpStatusCode === 429;
}

/**
 * The clock time until which an invocation may keep backing off a throttled SubmitJob: the
 * end of its lease and of its own run time, each less a reserve for recording the job, and
 * `throttleBudgetMs` from now if set. Inside the lease no taker-over can start, so waiting
 * longer never risks a second submission; the invocation's own timeout is what Lambda kills.
 */
export function throttleDeadline(deps: EngineDeps, leaseUntil: number): number {
  const reserve = DEFAULTS.throttleReserveMs;
  const now = deps.now();
  let deadline = leaseUntil - reserve;
  if (deps.remainingMs) deadline = Math.min(deadline, now + deps.remainingMs() - reserve);
  if (deps.throttleBudgetMs !== undefined) deadline = Math.min(deadline, now + deps.throttleBudgetMs);
  return deadline;
}

/**
 * SubmitJob at a paced slot: the deployment's pacer (shared/store/pacer.ts) gives every
 * submission its own slot at `submitRate` per second, so a top-of-the-hour burst reaches
 * Batch already spread, at the quota and not above it. The invocation waits for its slot
 * when the slot falls within its budget (the throttle deadline), and otherwise hands it to a
 * one-time schedule at the slot (`deferTo`), so no invocation waits longer than it may and
 * no run depends on Lambda's two retries. A deferred attempt comes back with its slot
 * (`reserved`) and submits without reserving another.
 *
 * A throttle answer anyway (a call delayed into a full second, another system using the
 * account's quota) takes a new slot, never sooner than a full-jitter backoff (250 ms base,
 * 2 s cap), until the same deadline; past it, that slot is deferred like any other. Lambda's
 * async retries (and, last, the sweeper) remain for crashes and timeouts.
 */
async function submitPaced(
  deps: EngineDeps,
  input: ReturnType<typeof submitJobInput>,
  leaseUntil: number,
  reserved: number | undefined,
  log: Record<string, unknown>,
): Promise<{ jobId: string } | { deferTo: number }> {
  const deadline = throttleDeadline(deps, leaseUntil);
  // Time passes on deps.now() or, with a frozen test clock and an instant sleep, in the waits.
  const started = deps.now();
  const slot = reserved ?? (await deps.store.reserveSubmitSlot(deps.env.submitRate, started));
  // A slot already due is used at once, whatever the budget: deferring it could only be later.
  if (slot > started && slot > deadline) return { deferTo: slot };
  let waited = 0;
  if (slot > started) {
    deps.metrics.count('PacedWaits');
    await sleep(deps, slot - started);
    waited = slot - started;
  }
  for (let i = 0; ; i++) {
    try {
      return { jobId: (await deps.batch.submitJob(input)).jobId };
    } catch (error) {
      if (!isThrottle(error)) throw error;
      deps.metrics.count('ThrottlesAbsorbed');
      // Refused at its slot (a call delayed into a second already full, or another system
      // using the account's quota): to the back of the pacer's queue, so it does not take
      // the next caller's slot, and never sooner than a jittered backoff.
      const at = Math.max(deps.now(), started + waited);
      const backoff = throttleDelayMs(i, 250, DEFAULTS.throttleCapMs, deps.random ?? Math.random);
      const next = Math.max(await deps.store.reserveSubmitSlot(deps.env.submitRate, at), at + backoff);
      if (next > deadline) {
        deps.log.warn('SubmitJob still throttled at the end of the invocation budget; its next slot goes to a one-time schedule', { ...log, tries: i + 1 });
        return { deferTo: next };
      }
      await sleep(deps, next - at);
      waited += next - at;
    }
  }
}

/* ---------------------------------------------------------------- cancellation */

/** Cancels a run by id and terminates its jobs; returns the run as stored. */
export async function cancelRunById(runId: string, reason: string, deps: EngineDeps): Promise<RunItem | undefined> {
  const m = await mutateRun(deps, runId, (r, ctx) => cancelRun(r, reason, ctx));
  if (!m.run) return undefined;
  if (m.changed) {
    deps.metrics.count('RunsCancelled');
    deps.log.info('run cancelled', { schedule: m.run.schedule, runId, reason });
  }
  return drive(m.run, deps);
}

async function cancelSuperseded(run: RunItem, deps: EngineDeps): Promise<void> {
  for (const previous of run.supersedes ?? []) {
    if (previous === run.runId) continue;
    await cancelRunById(previous, `cancelled by ${run.runId} (overlap: cancel-previous)`, deps);
  }
}

async function terminateCancelled(run: RunItem, deps: EngineDeps): Promise<void> {
  for (const job of jobsToTerminate(run)) {
    // Harmless on a job that already ended; its FAILED event then records the attempt as over.
    await deps.batch.terminateJob(job.jobId, `Batchron: ${run.tasks[job.task]?.reason ?? 'cancelled'}`);
    deps.log.info('job terminated', { schedule: run.schedule, runId: run.runId, task: job.task, attempt: job.attempt, jobId: job.jobId });
  }
}

/* ---------------------------------------------------------------- notifications */

/** A notification slot on a run: failure, recovery, or a stuck alert per state. */
export type Slot = 'failure' | 'recovery' | `stuck.${StuckState}`;

function getSlot(run: RunItem, slot: Slot): Notification | undefined {
  if (slot === 'failure' || slot === 'recovery') return run.notify[slot];
  return run.notify.stuck?.[slot.slice(6) as StuckState];
}

function setSlot(run: RunItem, slot: Slot, value: Notification): void {
  if (slot === 'failure' || slot === 'recovery') run.notify[slot] = value;
  else run.notify.stuck = { ...run.notify.stuck, [slot.slice(6) as StuckState]: value };
}

function messageFor(run: RunItem, slot: Slot, deps: EngineDeps): NotificationMessage {
  if (slot === 'failure') return failureMessage(run, { region: deps.env.region, logGroup: deps.env.jobLogGroup });
  if (slot === 'recovery') return recoveryMessage(run);
  const state = slot.slice(6) as StuckState;
  const minutes = run.definition.notify.stuckAfterMinutes[state.toLowerCase() as 'queued' | 'submitted' | 'running'];
  return stuckMessage(run, state, minutes);
}

/**
 * Sends owed notifications at most once per claim: a conditional claim (PENDING → SENDING
 * until a deadline) before sending, SENT after. Concurrent invocations cannot both send;
 * a crash between sending and recording SENT can resend after the claim expires (a webhook
 * offers no exactly-once; this is the smallest window). A failed send leaves the slot
 * PENDING for the sweeper and never blocks the run. `create` slots are added as owed.
 */
export async function deliver(
  run: RunItem,
  deps: EngineDeps,
  slots: Slot[],
  create: Slot[],
  finalizeAfter = false,
): Promise<RunItem> {
  const claimMs = deps.notifyClaimMs ?? DEFAULTS.notifyClaimMs;
  let claimed: Slot[] = [];
  const claim = await mutateRun(deps, run.runId, (r, ctx) => {
    const next = structuredClone(r);
    claimed = [];
    for (const slot of [...slots, ...create]) {
      const n = getSlot(next, slot) ?? (create.includes(slot) ? { status: 'PENDING' as const, tries: 0 } : undefined);
      if (!n || n.status === 'SENT') continue;
      if (n.status === 'SENDING' && (n.until ?? 0) > ctx.now) continue;
      setSlot(next, slot, { ...n, status: 'SENDING', until: ctx.now + claimMs, tries: n.tries + 1 });
      claimed.push(slot);
    }
    return claimed.length ? { run: next, claims: [], retries: [] } : { run: r, claims: [], retries: [] };
  });
  let current = claim.run ?? run;
  if (!claim.changed) {
    return finalizeAfter && allSent(current, [...slots, ...create]) ? writeFinalized(current, deps) : current;
  }
  const outcome = new Map<Slot, string | undefined>();
  for (const slot of claimed) {
    try {
      await deps.notifier.send(messageFor(current, slot, deps));
      deps.metrics.count('NotificationsSent');
      deps.log.info('notification sent', { schedule: current.schedule, runId: current.runId, notification: slot });
      outcome.set(slot, undefined);
    } catch (error) {
      deps.metrics.count('NotificationsFailed');
      // The error text only: a webhook error can echo the URL, which is a secret.
      const message = error instanceof Error ? error.name : 'error';
      deps.log.warn('notification failed; left pending for the sweeper', { schedule: current.schedule, runId: current.runId, notification: slot, error: message });
      outcome.set(slot, message);
    }
  }
  const done = await mutateRun(deps, run.runId, (r, ctx) => {
    let next = structuredClone(r);
    for (const [slot, error] of outcome) {
      const n = getSlot(next, slot)!;
      setSlot(next, slot, error === undefined ? { status: 'SENT', tries: n.tries } : { status: 'PENDING', tries: n.tries, lastError: error });
    }
    if (finalizeAfter && next.settled && !next.finalized && allSent(next, [...slots, ...create])) next = markFinalized(next, ctx);
    return { run: next, claims: [], retries: [] };
  });
  current = done.run ?? current;
  return current;
}

function allSent(run: RunItem, slots: Slot[]): boolean {
  return slots.every((slot) => {
    const n = getSlot(run, slot);
    return n === undefined || n.status === 'SENT';
  });
}

/* ---------------------------------------------------------------- finalization */

async function writeFinalized(run: RunItem, deps: EngineDeps): Promise<RunItem> {
  const m = await mutateRun(
    deps,
    run.runId,
    (r, ctx) => (r.finalized || !r.settled ? { run: r, claims: [], retries: [] } : { run: markFinalized(r, ctx), claims: [], retries: [] }),
    undefined,
    // Written over the run in hand (settled, so only bookkeeping can have changed since): a
    // newer version fails the condition and comes back with it, so no read is needed first.
    run,
  );
  return m.run ?? run;
}

/**
 * The finishing steps of a settled run: release its overlap slot and record its outcome,
 * start the queue-one waiter, send the "recovered" message if it follows a failure, then
 * leave the active index with a TTL.
 */
async function finalize(run: RunItem, deps: EngineDeps): Promise<RunItem> {
  // An interrupted run (failed by its stack's stop) counts as cancelled for the schedule: the
  // next success is no "recovery" from a failure nobody was told about.
  const outcome = run.interrupted ? 'CANCELLED' : run.status === 'SUCCEEDED' || run.status === 'FAILED' || run.status === 'CANCELLED' ? run.status : undefined;
  let recovery = false;
  if (outcome && (await needsRelease(run, outcome, deps))) {
    const released = await deps.store.releaseRun({
      schedule: run.schedule,
      runId: run.runId,
      scheduledTime: run.scheduledTime,
      outcome,
    });
    recovery = outcome === 'SUCCEEDED' && released.previousOutcome === 'FAILED' && run.definition.notify.onRecovery;
    if (released.state.queued && !released.state.active?.size) await startQueued(run.schedule, released.state.queued, deps);
  }
  await releaseDependents(run, deps);
  if (outcome === 'SUCCEEDED') deps.metrics.count('RunsSucceeded');
  if (outcome === 'FAILED') deps.metrics.count('RunsFailed');
  const slots: Slot[] = [];
  if (run.notify.failure) slots.push('failure');
  const create: Slot[] = recovery || run.notify.recovery ? ['recovery'] : [];
  const done = slots.length || create.length ? await deliver(run, deps, slots, create, true) : await writeFinalized(run, deps);
  deps.log.info('run finalized', { schedule: run.schedule, runId: run.runId, status: done.status, finalized: done.finalized });
  return done;
}

/** Reads a schedule's state; finalizeInline's callers may hand one that reads at most once. */
export type ScheduleStateReader = (schedule: string) => Promise<ScheduleState>;

/**
 * False when releasing would change nothing: an `allow` run (never in the overlap set)
 * whose outcome equals the schedule's last one. A read (0.5-1 RCU) instead of a write on
 * the common path: a schedule that keeps succeeding.
 */
async function needsRelease(
  run: RunItem,
  outcome: 'SUCCEEDED' | 'FAILED' | 'CANCELLED',
  deps: EngineDeps,
  readState: ScheduleStateReader = (schedule) => deps.store.getScheduleState(schedule),
): Promise<boolean> {
  if (run.definition.overlap !== 'allow') return true;
  const state = await readState(run.schedule);
  // lastRunId: a release already recorded this run's outcome, and its driver died before the
  // "recovered" message was claimed; releasing again (idempotent) reports the outcome before it.
  return state.lastOutcome !== outcome || state.lastRunId === run.runId || state.queued === run.runId || state.active?.has(run.runId) === true;
}

/**
 * Marks `run` finalized in the same write that settles it, when finalizing would do nothing
 * else: a SUCCEEDED `allow` run, nothing owed, no job to stop, and a schedule whose last
 * outcome already is SUCCEEDED. Saves one full run write on the most common path.
 * `readState`: a caller that re-applies after a version conflict passes a reader that keeps
 * its first read; the read is a moment old either way, and the conflict (another event of
 * this run) did not touch the schedule.
 */
export async function finalizeInline(run: RunItem, deps: EngineDeps, ctx: TransitionContext, readState?: ScheduleStateReader): Promise<RunItem> {
  if (!run.settled || run.finalized || run.status !== 'SUCCEEDED' || run.definition.overlap !== 'allow') return run;
  if (run.notify.failure || run.notify.recovery || run.supersedes?.length || run.definition.dependents?.length || jobsToTerminate(run).length) return run;
  if (await needsRelease(run, 'SUCCEEDED', deps, readState)) return run;
  return markFinalized(run, ctx);
}

/** Promotes and starts the queue-one waiter of `schedule` if nothing else is active. */
export async function startQueued(schedule: string, runId: string, deps: EngineDeps): Promise<void> {
  const promoted = await deps.store.promoteQueued(schedule, runId);
  if (!promoted) {
    // Promoted earlier by an invocation that died before starting it: start it now.
    const state = await deps.store.getScheduleState(schedule);
    if (!state.active?.has(runId)) return;
  }
  const m = await mutateRun(deps, runId, (r, ctx) => releaseHeld(r, ctx));
  if (!m.run) return;
  deps.log.info('queued run released', { schedule, runId });
  await drive(m.run, deps, m.transition?.claims ?? []);
}

function sleep(deps: EngineDeps, ms: number): Promise<void> {
  return deps.sleep ? deps.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
}

