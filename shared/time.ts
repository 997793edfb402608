/**
 * Time formats. The clock itself is injected (`EngineDeps.now`, `ApiDeps.now`, the `Runtime`
 * of shared/runtime.ts): handlers and the engine never call `Date.now()` for a decision.
 */

/** `2025-01-02T03:04:05.678Z` → `20250102T030405Z`: the compact UTC form used in run ids. */
export function compactUtc(iso: string | number | Date): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a time: ${String(iso)}`);
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * When to ask a one-time schedule for: `at`, or the next second when `at` is already past (a
 * late or redelivered event). Scheduler never fires a one-time schedule created in the past.
 */
export function oneTimeAt(at: number, now: number): number {
  return Math.max(at, now + 1000);
}

/** EventBridge Scheduler's `at(...)` form (UTC, no zone suffix, whole seconds). */
export function schedulerAt(epochMs: number): string {
  return `at(${new Date(Math.ceil(epochMs / 1000) * 1000).toISOString().slice(0, 19)})`;
}
