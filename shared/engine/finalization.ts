/**
 * Finalization of a settled run: overlap release and outcome, the queue-one waiter, the
 * "recovered" message, then out of the active index with a TTL (or all of it in the settling
 * write, when there is nothing else to do).
 */
import type { RunItem, ScheduleState } from '../store/schema.ts';
import { releaseDependents } from './dependencies.ts';
import type { EngineDeps } from './deps.ts';
import { drive } from './drive.ts';
import { mutateRun } from './mutate.ts';
import { deliver, type Slot } from './notification.ts';
import { jobsToTerminate, markFinalized, releaseHeld, type TransitionContext } from './run-state.ts';

/** Marks a settled run finalized, writing over the run in hand. */
export async function writeFinalized(run: RunItem, deps: EngineDeps): Promise<RunItem> {
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
export async function finalize(run: RunItem, deps: EngineDeps): Promise<RunItem> {
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
