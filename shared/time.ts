/**
 * The clock every decision reads. On AWS it is `Date.now`; the local runtime replaces it
 * with the local stack's Clock so a test that fast-forwards hours sees leases expire,
 * backoffs elapse and stuck alerts fire consistently. Handlers and the engine never call
 * `Date.now()` for a decision.
 */
let source: () => number = () => Date.now();

/** Current time in epoch milliseconds from the active clock. */
export function now(): number {
  return source();
}

/** Current time as an ISO-8601 string from the active clock. */
export function nowIso(): string {
  return new Date(source()).toISOString();
}

/** Replaces the clock (the local runtime passes its Clock's `now`); returns a restore function. */
export function setClock(fn: () => number): () => void {
  const previous = source;
  source = fn;
  return () => {
    source = previous;
  };
}

/** `2025-01-02T03:04:05.678Z` → `20250102T030405Z`: the compact UTC form used in run ids. */
export function compactUtc(iso: string | number | Date): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a time: ${String(iso)}`);
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** EventBridge Scheduler's `at(...)` form (UTC, no zone suffix, whole seconds). */
export function schedulerAt(epochMs: number): string {
  return `at(${new Date(Math.ceil(epochMs / 1000) * 1000).toISOString().slice(0, 19)})`;
}
