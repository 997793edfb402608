import { describe, expect, it } from 'vitest';
import { BatchJobStateChangeSchema, factsFromEvent } from '#shared/events/batch';
import { jobRef } from '#shared/engine/submit';
import { loadEvent } from '#test/helpers/events';

describe('Batch job state-change events', () => {
  it('reads run, task and attempt from the job tags', () => {
    // Prepare
    const event = BatchJobStateChangeSchema.parse(loadEvent('engine', 'job-state-change'));
    // Act
    const facts = factsFromEvent(event);
    // Assess
    expect(jobRef(facts.tags)).toEqual({ deployment: 'batchron-test', runId: 'nightly-report.20250115T020000Z', task: 'main', attempt: 1 });
    expect(facts).toMatchObject({ status: 'RUNNING', logStreamName: 'engine-ok/default/abc', startedAt: 1736906402000 });
  });

  it('takes the exit code and status reason of a failed job from its last attempt when the container has none', () => {
    const raw = loadEvent('engine', 'job-state-change');
    raw.detail.status = 'FAILED';
    raw.detail.container = {};
    raw.detail.statusReason = 'Essential container in task exited';
    raw.detail.attempts = [{ container: { exitCode: 3, logStreamName: 'x/y/z' }, startedAt: 1, stoppedAt: 2 }];
    const facts = factsFromEvent(BatchJobStateChangeSchema.parse(raw));
    expect(facts).toMatchObject({ exitCode: 3, logStreamName: 'x/y/z', statusReason: 'Essential container in task exited' });
  });

  it('rejects an event without a job id or with an unknown status, naming the fields', () => {
    const parsed = BatchJobStateChangeSchema.safeParse(loadEvent('engine', 'job-state-change-invalid'));
    expect(parsed.success).toBe(false);
    const paths = parsed.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['detail.jobId', 'detail.status']));
  });

  it('parses every captured Batch event fixture', () => {
    for (const name of ['PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'FAILED-host-terminated']) {
      expect(BatchJobStateChangeSchema.safeParse(loadEvent('batch', name)).success, name).toBe(true);
    }
  });
});
