import { describe, expect, it } from 'vitest';
import { isPermanentBatchError } from '#shared/engine/ports';
import { applyAttemptUpdate, newRun, recordSubmission, refuseSubmission, type TransitionContext } from '#shared/engine/run-state';
import { isRetryable, RequestRefusedError } from '#shared/errors';
import { definition, fire, task } from '#test/helpers/engine';

const ctx: TransitionContext = { now: Date.parse('2025-03-01T00:00:01Z'), owner: 'fire-1', leaseMs: 60_000, deployment: 'bt', retentionDays: 7 };
const awsError = (name: string, message: string, httpStatusCode: number) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });

describe('Batch refusals', () => {
  it.each([
    { error: awsError('ClientException', "Job definition 'x' does not exist or is not ACTIVE.", 400), permanent: true },
    { error: awsError('ClientException', 'Invalid vCPU value 0.3 for Fargate.', 400), permanent: true },
    { error: awsError('ClientException', 'Too Many Requests', 400), permanent: false },
    { error: awsError('ClientException', 'anything', 429), permanent: false },
    { error: awsError('TooManyRequestsException', 'Too Many Requests', 429), permanent: false },
    { error: awsError('ServerException', 'internal', 500), permanent: false },
    { error: new Error('socket hang up'), permanent: false },
  ])('tells a refusal for good from a passing fault: $error.name "$error.message" → $permanent', ({ error, permanent }) => {
    expect(isPermanentBatchError(error)).toBe(permanent);
  });

  it('types a refusal as never retried', () => {
    const error = new RequestRefusedError('SubmitJob', 'no such definition');
    expect(isRetryable(error)).toBe(false);
    expect(error.message).toBe('SubmitJob refused: no such definition');
  });

  it('fails the task with Batch message, fails the run, owes one notification and claims the on-failure task', () => {
    // Prepare
    const def = definition('r', [task('main'), task('after', 'exit 0', { dependsOn: ['main'] })], { onFailure: [task('cleanup')] });
    const started = newRun(fire(def, '2025-03-01T00:00:00Z'), { runId: 'r.1', mode: 'start' }, ctx).run;
    // Act
    const t = refuseSubmission(started, 'main', 1, "Job definition 'x' does not exist", ctx);
    const again = refuseSubmission(t.run, 'main', 1, "Job definition 'x' does not exist", ctx);
    // Assess
    expect(t.run.status).toBe('FAILED');
    expect(t.run.statusReason).toBe("task main failed: Batch refused the job: Job definition 'x' does not exist");
    expect(t.run.tasks.main!.attempts[0]).toMatchObject({ status: 'FAILED', statusReason: "Job definition 'x' does not exist" });
    expect(t.run.tasks.main!.attempts[0]!.leaseOwner).toBeUndefined();
    expect(t.run.tasks.after!.status).toBe('CANCELLED');
    expect(t.run.notify.failure).toEqual({ status: 'PENDING', tries: 0 });
    expect(t.claims).toEqual([{ task: 'cleanup', attempt: 1 }]);
    expect(again.run).toBe(t.run);
  });
});

describe('quiet failure reasons', () => {
  it.each([
    { reason: "Host EC2 (instance i-1) terminated. (The local stack stopped: the job's process was sent SIGTERM, then SIGKILL after 100 ms.)", quiet: true },
    { reason: 'Host EC2 (instance i-1) terminated.', quiet: false },
    { reason: 'Essential container in task exited', quiet: false },
  ])('a run failed by "$reason" is interrupted and not notified: $quiet', ({ reason, quiet }) => {
    // Prepare
    const quietCtx = { ...ctx, quietFailureReasons: ['*(The local stack stopped:*'] };
    const started = newRun(fire(definition('q', [task('main')]), '2025-03-01T00:00:00Z'), { runId: 'q.1', mode: 'start' }, quietCtx).run;
    const submitted = recordSubmission(started, 'main', 1, 'job-1', quietCtx).run;
    // Act
    const t = applyAttemptUpdate(submitted, { task: 'main', attempt: 1, jobId: 'job-1', status: 'FAILED', exitCode: 143, statusReason: reason }, quietCtx);
    // Assess
    expect(t.run.status).toBe('FAILED');
    expect(t.run.interrupted === true).toBe(quiet);
    expect(t.run.notify.failure === undefined).toBe(quiet);
  });
});
