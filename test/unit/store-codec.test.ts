/**
 * The stored form of a run (shared/store/codec.ts): short attribute names and numeric
 * times, read back to exactly the run that was written, and small enough that a run that
 * retried and failed is still one write unit per save.
 */
import { describe, expect, it } from 'vitest';
import { decodeRun, encodeRun, storedRunName } from '#shared/store/codec';
import { RunItemSchema, type RunItem } from '#shared/store/schema';
import { plainItemSize } from '#shared/store/size';
import { loadEvent } from '#test/helpers/events';

/** A run that used every field: retried, failed, notified, re-run once, cancelling an older run. */
function busyRun(): RunItem {
  const at = (m: number) => new Date(Date.parse('2026-11-23T02:00:00.000Z') + m * 60_000).toISOString();
  const attempt = (n: number, status: 'FAILED' | 'SUCCEEDED') => ({
    attempt: n,
    jobName: `batchron-prod_nightly-report-20261123T020000Z-extract-${n}`,
    jobId: `5dc0a3f1-9e4b-4c53-8d1e-2b7f6a0c9e1${n}`,
    status,
    exitCode: status === 'FAILED' ? 3 : 0,
    statusReason: status === 'FAILED' ? 'Essential container in task exited' : undefined,
    logStreamName: 'batchron-prod-etl/default/0f5e8c2b9d7a4e61b3c2a1d0e9f8a7b6',
    submittedAt: at(n),
    startedAt: at(n + 1),
    stoppedAt: at(n + 2),
  });
  return RunItemSchema.parse({
    pk: 'RUN#nightly-report.20261123T020000Z',
    sk: 'RUN',
    gsi1pk: 'SCHED#nightly-report',
    gsi1sk: '2026-11-23T02:00:00.000Z#nightly-report.20261123T020000Z',
    activePk: 'ACTIVE#3',
    activeSk: 'nightly-report.20261123T020000Z',
    expiresAt: 1_800_000_000,
    kind: 'run',
    runId: 'nightly-report.20261123T020000Z',
    schedule: 'nightly-report',
    // As Scheduler sends it (no milliseconds): kept as it came.
    scheduledTime: '2026-11-23T02:00:00Z',
    trigger: 'schedule',
    parameters: { day: '2026-11-22', status: 'x' },
    definition: loadEvent('engine', 'definition-single'),
    status: 'FAILED',
    statusReason: 'extract failed after 2 attempts (exit 3)',
    attempt: 2,
    attemptStartedAt: at(30),
    rerunKey: 'rerun-1',
    history: [{ attempt: 1, status: 'FAILED', statusReason: 'extract failed', startedAt: at(0), endedAt: at(20), tasks: { extract: 'FAILED' } }],
    supersedes: ['nightly-report.20261122T020000Z'],
    tasks: {
      extract: { name: 'extract', phase: 'main', status: 'FAILED', reason: 'exit 3', firstAttempt: 1, attempts: [attempt(1, 'FAILED'), attempt(2, 'FAILED')] },
      cleanup: { name: 'cleanup', phase: 'onFailure', status: 'PENDING', attempts: [] },
    },
    createdAt: at(0),
    updatedAt: at(40),
    endedAt: at(39),
    since: { QUEUED: at(0), SUBMITTED: at(1), RUNNING: at(2) },
    notify: { failure: { status: 'SENT', tries: 1 }, stuck: { RUNNING: { status: 'PENDING', tries: 2, lastError: 'HTTPError', until: 1_800_000_000_000 } } },
    settled: true,
    finalized: false,
    version: 7,
  });
}

describe('the stored form of a run', () => {
  it('reads back exactly the run that was written', () => {
    const run = busyRun();
    const { definition: _definition, ...state } = run;
    const stored = encodeRun(state);
    expect(RunItemSchema.parse({ ...decodeRun(stored), definition: run.definition })).toEqual(run);
  });

  it('keeps the keys and what listings read under their own names', () => {
    const { definition: _definition, ...state } = busyRun();
    const stored = encodeRun(state);
    for (const name of ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'activePk', 'activeSk', 'expiresAt', 'runId', 'schedule', 'scheduledTime', 'trigger', 'createdAt', 'status', 'statusReason', 'endedAt']) {
      expect(stored[name]).toEqual(state[name as keyof typeof state]);
    }
    expect(stored[storedRunName('version')]).toBe(7);
  });

  it('stores a field it has no short name for under its own name, and reads it back', () => {
    const { definition: _definition, ...state } = busyRun();
    const stored = encodeRun({ ...state, dependsOnRuns: ['other.1'] });
    expect(stored.dependsOnRuns).toEqual(['other.1']);
    expect(decodeRun(stored).dependsOnRuns).toEqual(['other.1']);
  });

  it('refuses a new field whose name is the stored name of another', () => {
    const { definition: _definition, ...state } = busyRun();
    expect(() => encodeRun({ ...state, [storedRunName('tasks')]: 1 })).toThrow(/collides/);
  });

  it('keeps a failed, notified one-task run under 1 KB (one write unit a save), where the long form passes it', () => {
    // What a failed run's last saves write: its task's attempt ended, the failure message owed.
    const { definition: _definition, history: _h, supersedes: _s, rerunKey: _r, attempt: _a, attemptStartedAt: _as, ...state } = busyRun();
    const extract = state.tasks.extract!;
    const failed = { ...state, tasks: { extract: { ...extract, attempts: extract.attempts.slice(0, 1) } }, notify: { failure: state.notify.failure } };
    expect(plainItemSize(failed)).toBeGreaterThan(1024);
    expect(plainItemSize(encodeRun(failed))).toBeLessThan(1024);
    // The whole busy run shrinks by about a quarter.
    expect(plainItemSize(encodeRun(busyRun()))).toBeLessThan(0.8 * plainItemSize(busyRun()));
  });
});
