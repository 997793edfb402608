import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { deferralScheduleName, isReservedScheduleName, jobName, retryScheduleName, runIdFor } from '#shared/engine/naming';
import { NameSchema } from '#shared/config/schema';

describe('deterministic names', () => {
  it('names a scheduled run by schedule and UTC scheduled time, whatever offset the time was given in', () => {
    expect(runIdFor({ schedule: 'nightly', scheduledTime: '2025-01-15T02:00:00Z' })).toBe('nightly.20250115T020000Z');
    expect(runIdFor({ schedule: 'nightly', scheduledTime: '2025-01-15T11:00:00+09:00' })).toBe('nightly.20250115T020000Z');
  });

  it('names an ad hoc run by its idempotency key, so the same key finds the same run', () => {
    const a = runIdFor({ schedule: 'nightly', scheduledTime: '2025-01-15T02:00:00Z' }, 'key-1');
    const b = runIdFor({ schedule: 'nightly', scheduledTime: '2025-01-16T09:30:00Z' }, 'key-1');
    const c = runIdFor({ schedule: 'nightly', scheduledTime: '2025-01-15T02:00:00Z' }, 'key-2');
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a.startsWith('nightly.adhoc-')).toBe(true);
  });

  it('keeps a readable job name when the parts are already valid', () => {
    expect(jobName('batchron-prod', 'nightly.20250115T020000Z', 'extract', 2)).toBe('batchron-prod_nightly-20250115T020000Z-extract-2');
  });

  it("never gives a stage's job a name that another stage's rule prefix matches (dev vs dev-2)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }), (run, task) => {
        // The job-events rule of stage `dev` matches names starting `batchron-dev_`.
        expect(jobName('batchron-dev-2', run, task, 1).startsWith('batchron-dev_')).toBe(false);
        expect(jobName('batchron-dev', run, task, 1).startsWith('batchron-dev_')).toBe(true);
      }),
    );
  });

  it('always produces a valid, distinct Batch job name (≤ 128 of [A-Za-z0-9_-])', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 100 }), fc.string({ minLength: 1, maxLength: 100 }), fc.integer({ min: 1, max: 10 }), (run, task, attempt) => {
        const name = jobName('batchron-prod', run, task, attempt);
        expect(name).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
        expect(jobName('batchron-prod', run, task, attempt)).toBe(name);
        if (attempt < 10) expect(jobName('batchron-prod', run, task, attempt + 1)).not.toBe(name);
      }),
    );
  });

  it('does not let invalid characters make two tasks share a job name', () => {
    expect(jobName('d', 'r.1', 'a b', 1)).not.toBe(jobName('d', 'r.1', 'a_b', 1));
    expect(jobName('d', 'r.1', 'a.b', 1)).not.toBe(jobName('d', 'r.1', 'a_b', 1));
  });

  it('makes retry schedule names Scheduler accepts (≤ 64 of [0-9A-Za-z_.-])', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), fc.integer({ min: 2, max: 10 }), (run, task, attempt) => {
        expect(retryScheduleName('batchron-prod', run, task, attempt)).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
      }),
    );
  });

  it('makes deferral schedule names Scheduler accepts, a new one for each deferral of an attempt', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 999 }), (run, task, attempt, n) => {
        const name = deferralScheduleName('batchron-prod', run, task, attempt, n);
        expect(name).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
        expect(deferralScheduleName('batchron-prod', run, task, attempt, n + 1)).not.toBe(name);
        expect(name).not.toBe(retryScheduleName('batchron-prod', run, task, attempt));
      }),
    );
  });

  it('gives one-time schedules reserved names that no declared or dynamic schedule can take', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), fc.string({ maxLength: 100 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 999 }), (run, task, attempt, n) => {
        for (const name of [retryScheduleName('batchron-prod', run, task, attempt), deferralScheduleName('batchron-prod', run, task, attempt, n)]) {
          expect(isReservedScheduleName(name)).toBe(true);
          expect(NameSchema.safeParse(name).success).toBe(false);
        }
      }),
    );
  });
});
