/** Notifications owed by a run (failure, recovery, stuck alerts), each sent at most once per claim. */
import { failureMessage, recoveryMessage, stuckMessage, type NotificationMessage } from '../notify/messages.ts';
import type { Notification, RunItem, StuckState } from '../store/schema.ts';
import { DEFAULTS, type EngineDeps } from './deps.ts';
import { writeFinalized } from './finalization.ts';
import { mutateRun } from './mutate.ts';
import { markFinalized } from './run-state.ts';

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
