import { describe, expect, it } from 'vitest';
import { attemptAdvances, attemptStatusOf, isTerminalRun, runAdvances } from '#shared/engine/status';

describe('status ordering', () => {
  it('moves an attempt only forward', () => {
    expect(attemptAdvances('SUBMITTING', 'SUBMITTED')).toBe(true);
    expect(attemptAdvances('SUBMITTED', 'RUNNING')).toBe(true);
    expect(attemptAdvances('RUNNING', 'SUCCEEDED')).toBe(true);
    expect(attemptAdvances('RUNNING', 'SUBMITTED')).toBe(false);
    expect(attemptAdvances('SUCCEEDED', 'RUNNING')).toBe(false);
    expect(attemptAdvances('SUCCEEDED', 'FAILED')).toBe(false);
    expect(attemptAdvances('RUNNING', 'RUNNING')).toBe(false);
  });

  it('never moves a run out of a terminal status', () => {
    for (const end of ['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'] as const) {
      expect(isTerminalRun(end)).toBe(true);
      for (const to of ['QUEUED', 'SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const) expect(runAdvances(end, to)).toBe(false);
    }
    expect(runAdvances('QUEUED', 'SUBMITTED')).toBe(true);
    expect(runAdvances('RUNNING', 'SUBMITTED')).toBe(false);
  });

  it('maps the Batch statuses before RUNNING to SUBMITTED and ignores unknown ones', () => {
    expect(['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING'].map(attemptStatusOf)).toEqual(['SUBMITTED', 'SUBMITTED', 'SUBMITTED', 'SUBMITTED']);
    expect(attemptStatusOf('RUNNING')).toBe('RUNNING');
    expect(attemptStatusOf('DELETED')).toBeUndefined();
  });
});
