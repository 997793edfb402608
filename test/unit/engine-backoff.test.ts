import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { baseDelayMs, jittered, retryDelayMs, throttleDelayMs } from '#shared/engine/backoff';

const backoff = (over: Partial<{ initialSeconds: number; multiplier: number; maxSeconds: number; jitter: 'full' | 'equal' | 'none' }> = {}) => ({
  initialSeconds: 30,
  multiplier: 2,
  maxSeconds: 900,
  jitter: 'none' as const,
  ...over,
});

describe('retry backoff', () => {
  it('waits the initial delay before the second attempt and multiplies it for each further one', () => {
    // Prepare
    const b = backoff();
    // Act
    const delays = [2, 3, 4, 5].map((n) => baseDelayMs(b, n));
    // Assess
    expect(delays).toEqual([30_000, 60_000, 120_000, 240_000]);
  });

  it('never waits longer than the cap', () => {
    const delays = [2, 5, 8, 10].map((n) => baseDelayMs(backoff({ initialSeconds: 60, multiplier: 3, maxSeconds: 300 }), n));
    expect(delays).toEqual([60_000, 300_000, 300_000, 300_000]);
  });

  it('keeps every jitter mode inside its documented bounds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (delay, u) => {
        const full = jittered('full', delay, u);
        const equal = jittered('equal', delay, u);
        expect(jittered('none', delay, u)).toBe(delay);
        expect(full).toBeGreaterThanOrEqual(0);
        expect(full).toBeLessThanOrEqual(delay);
        expect(equal).toBeGreaterThanOrEqual(Math.floor(delay / 2));
        expect(equal).toBeLessThanOrEqual(delay);
      }),
    );
  });

  it('gives the same delay for the same run, task and attempt, so duplicate failure events agree', () => {
    const b = backoff({ jitter: 'full' });
    expect(retryDelayMs(b, 3, 'run-1#extract')).toBe(retryDelayMs(b, 3, 'run-1#extract'));
    const spread = new Set(Array.from({ length: 20 }, (_, i) => retryDelayMs(b, 3, `run-${i}#extract`)));
    expect(spread.size).toBeGreaterThan(10);
  });

  it('spreads throttle retries below a growing ceiling that stops at the cap', () => {
    expect(throttleDelayMs(0, 250, 5_000, () => 0.999)).toBeLessThan(250);
    expect(throttleDelayMs(3, 250, 5_000, () => 0.999)).toBeLessThan(2_000);
    expect(throttleDelayMs(20, 250, 5_000, () => 0.999)).toBeLessThan(5_000);
    expect(throttleDelayMs(20, 250, 5_000, () => 0)).toBe(0);
  });
});
