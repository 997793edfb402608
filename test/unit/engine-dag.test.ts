import { describe, expect, it } from 'vitest';
import { applyAttemptUpdate, deferSubmission, newRun, recordSubmission, type TransitionContext } from '#shared/engine/run-state';
import type { RunItem } from '#shared/store/schema';
import { definition, fire, retry, task } from '#test/helpers/engine';

const ctx: TransitionContext = { now: Date.parse('2025-01-15T02:00:00Z'), owner: 'inv-1', leaseMs: 60_000, deployment: 'dep', retentionDays: 7 };

/** Submits every READY task with a fake job id, as the driver would after SubmitJob. */
function submitReady(run: RunItem): RunItem {
  let r = run;
  for (const t of Object.values(r.tasks)) {
    if (t.status === 'READY') r = recordSubmission(r, t.name, t.attempts.length, `job-${t.name}-${t.attempts.length}`, ctx).run;
  }
  return r;
}

function finish(run: RunItem, name: string, status: 'SUCCEEDED' | 'FAILED', exitCode = status === 'SUCCEEDED' ? 0 : 1): RunItem {
  const attempt = run.tasks[name]!.attempts.length;
  return applyAttemptUpdate(run, { task: name, attempt, jobId: `job-${name}-${attempt}`, status, exitCode, stoppedAt: ctx.now }, ctx).run;
}

// extract → (transform-a, transform-b) → load: a fan-out and a fan-in.
const dag = definition(
  'dag',
  [task('extract'), task('transform-a', 'exit 0', { dependsOn: ['extract'] }), task('transform-b', 'exit 0', { dependsOn: ['extract'] }), task('load', 'exit 0', { dependsOn: ['transform-a', 'transform-b'] })],
  { onFailure: [task('cleanup')] },
);

describe('DAG release', () => {
  it('starts only the root tasks, with a lease for the creating invocation', () => {
    // Act
    const { run, claims } = newRun(fire(dag, '2025-01-15T02:00:00Z'), { runId: 'dag.1', mode: 'start' }, ctx);
    // Assess
    expect(claims).toEqual([{ task: 'extract', attempt: 1 }]);
    expect(run.tasks.extract!.attempts[0]).toMatchObject({ status: 'SUBMITTING', leaseOwner: 'inv-1', leaseUntil: ctx.now + 60_000 });
    expect(Object.values(run.tasks).filter((t) => t.status === 'PENDING').map((t) => t.name)).toEqual(['transform-a', 'transform-b', 'load', 'cleanup']);
  });

  it('fans out after the root succeeds and fans in only when every dependency succeeded', () => {
    // Prepare
    let run = submitReady(newRun(fire(dag, '2025-01-15T02:00:00Z'), { runId: 'dag.1', mode: 'start' }, ctx).run);
    // Act
    run = submitReady(finish(run, 'extract', 'SUCCEEDED'));
    const afterFanOut = Object.values(run.tasks).filter((t) => t.status === 'SUBMITTED').map((t) => t.name);
    run = finish(run, 'transform-a', 'SUCCEEDED');
    const loadAfterOne = run.tasks.load!.status;
    run = submitReady(finish(run, 'transform-b', 'SUCCEEDED'));
    const loadAfterBoth = run.tasks.load!.status;
    run = finish(run, 'load', 'SUCCEEDED');
    // Assess
    expect(afterFanOut).toEqual(['transform-a', 'transform-b']);
    expect(loadAfterOne).toBe('PENDING');
    expect(loadAfterBoth).toBe('SUBMITTED');
    expect(run.status).toBe('SUCCEEDED');
    expect(run.settled).toBe(true);
    expect(run.tasks.cleanup!.status).toBe('PENDING');
  });

  it('fails the run, cancels what has not started, lets the running branch finish and starts on-failure tasks', () => {
    // Prepare
    let run = submitReady(newRun(fire(dag, '2025-01-15T02:00:00Z'), { runId: 'dag.1', mode: 'start' }, ctx).run);
    run = submitReady(finish(run, 'extract', 'SUCCEEDED'));
    // Act
    run = finish(run, 'transform-a', 'FAILED', 2);
    // Assess
    expect(run.status).toBe('FAILED');
    expect(run.statusReason).toContain('transform-a');
    expect(run.tasks.load!.status).toBe('CANCELLED');
    expect(run.tasks['transform-b']!.status).toBe('SUBMITTED');
    expect(run.tasks.cleanup!.status).toBe('READY');
    expect(run.notify.failure).toEqual({ status: 'PENDING', tries: 0 });
    expect(run.settled).toBe(false);
    // The other branch and the cleanup end: now the run is settled, still FAILED.
    run = submitReady(run);
    run = finish(finish(run, 'transform-b', 'SUCCEEDED'), 'cleanup', 'SUCCEEDED');
    expect(run.status).toBe('FAILED');
    expect(run.tasks.load!.status).toBe('CANCELLED');
    expect(run.settled).toBe(true);
  });

  it('waits for a retry instead of failing while attempts are left', () => {
    // Prepare
    const def = definition('flaky', [task('main', 'exit 3', { retry: retry(3, 10) })]);
    let run = submitReady(newRun(fire(def, '2025-01-15T02:00:00Z'), { runId: 'flaky.1', mode: 'start' }, ctx).run);
    // Act
    const t = applyAttemptUpdate(run, { task: 'main', attempt: 1, jobId: 'job-main-1', status: 'FAILED', exitCode: 3, stoppedAt: ctx.now }, ctx);
    run = t.run;
    // Assess
    expect(run.tasks.main!.status).toBe('RETRY_WAIT');
    expect(t.retries).toEqual([{ task: 'main', attempt: 2, at: ctx.now + 10_000 }]);
    expect(run.status).toBe('RUNNING');
    expect(run.notify.failure).toBeUndefined();
  });
});

describe('a deferred submission', () => {
  it('spends its slot when a job event proves the job exists before the submitter recorded it', () => {
    // Prepare: the attempt was deferred to a slot; its job was then submitted, and its event comes first.
    const { run } = newRun(fire(definition('deferred', [task('main')]), '2025-01-15T02:00:00Z'), { runId: 'deferred.1', mode: 'start' }, ctx);
    const deferred = deferSubmission(run, 'main', 1, ctx.now + 30_000, ctx).run;
    // Act
    const after = applyAttemptUpdate(deferred, { task: 'main', attempt: 1, jobId: 'job-main-1', status: 'RUNNING' }, ctx).run;
    // Assess: the attempt is the job's, with no slot left for a later driver to wait for.
    expect(deferred.tasks.main!.attempts[0]!.slotAt).toBe(ctx.now + 30_000);
    expect(after.tasks.main!.attempts[0]).toMatchObject({ jobId: 'job-main-1', status: 'RUNNING', deferrals: 1 });
    expect(after.tasks.main!.attempts[0]!.slotAt).toBeUndefined();
  });
});
