/** Polling for tests that wait on something asynchronous (a job, a fire, an event). */

/**
 * The pause before poll number `n` (from 0): 10 ms, growing by half each time up to 200 ms.
 * A short wait is seen at once; a long one (a job running for seconds) does not keep a core
 * busy asking: each check is HTTP requests through the local stack, and the suite is bound
 * by the CPU of a 2-core machine.
 */
export function pollDelayMs(n: number): number {
  return Math.min(200, Math.round(10 * 1.5 ** n));
}

/** Polls (real time) until `check` resolves truthy; fails after `timeoutMs` naming `what`. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (let n = 0; ; n++) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollDelayMs(n)));
  }
}
