/**
 * Pacing of SubmitJob: a slot per submission from the deployment's pacer, waited for within
 * the invocation's budget or deferred past it, and throttle answers absorbed the same way.
 */
import { throttleDelayMs } from './backoff.ts';
import { DEFAULTS, type EngineDeps } from './deps.ts';
import { sleep } from './mutate.ts';
import type { submitJobInput } from './submit.ts';

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
export async function submitPaced(
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
