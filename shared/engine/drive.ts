/**
 * Performs what a run's state implies (see run-state.ts: the state is the outbox):
 * submits READY tasks under their lease, cancels superseded runs, terminates jobs of
 * cancelled tasks, sends owed notifications, and finalizes a settled run (overlap release,
 * queue-one waiter, "recovered" message, out of the active index, TTL). Every step is
 * idempotent, so any invocation (a duplicate delivery, a Lambda retry, the sweeper) may run
 * it again on the same state.
 *
 * The steps live in modules of their own: ./mutate.ts (read-modify-write of a run),
 * ./submission.ts and ./pacing.ts, ./cancellation.ts, ./notification.ts, ./finalization.ts.
 */
import type { RunItem } from '../store/schema.ts';
import { cancelSuperseded, terminateCancelled } from './cancellation.ts';
import type { EngineDeps } from './deps.ts';
import { finalize } from './finalization.ts';
import { deliver } from './notification.ts';
import type { Claim } from './run-state.ts';
import { isTerminalRun } from './status.ts';
import { submitReady } from './submission.ts';

export { cancelRunById } from './cancellation.ts';
export { finalizeInline, startQueued, type ScheduleStateReader } from './finalization.ts';
export { mutateRun, type Mutation } from './mutate.ts';
export { deliver, type Slot } from './notification.ts';
export { throttleDeadline } from './pacing.ts';

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
