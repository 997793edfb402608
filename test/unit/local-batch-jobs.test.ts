/**
 * The local Batch's jobs as data (local/batch/jobs.ts), without processes: what SubmitJob
 * makes of an array job's dependencies, and what an ended attempt records and whether the
 * retry strategy may be asked, as AWS Batch decides them.
 */
import { describe, expect, it } from 'vitest';
import { endedAttempt, submittedJobs } from '#local/batch/jobs';
import { BatchResources } from '#local/batch/resources';
import type { BatchState, JobRecord } from '#local/batch/types';

function resources(): BatchResources {
  const state: BatchState = { computeEnvironments: [], jobQueues: [], jobDefinitions: [], jobs: [], seq: 0 };
  const r = new BatchResources(() => state, { region: 'us-east-1', account: '000000000000' }, () => undefined, () => 0);
  r.createComputeEnvironment({ computeEnvironmentName: 'ce', type: 'MANAGED', computeResources: { type: 'FARGATE', maxvCpus: 4, subnets: ['s'], securityGroupIds: ['g'] } });
  r.createJobQueue({ jobQueueName: 'q', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'ce' }] });
  r.registerJobDefinition({
    jobDefinitionName: 'd',
    type: 'container',
    platformCapabilities: ['FARGATE'],
    containerProperties: { image: 'alpine', command: ['echo', 'Ref::who'], resourceRequirements: [{ type: 'VCPU', value: '0.5' }, { type: 'MEMORY', value: '1024' }] },
    parameters: { who: 'world' },
  });
  return r;
}

let seq = 0;
const identify = () => {
  seq += 1;
  return { jobId: `job-${seq}`, seq, now: 1_000, arnOf: (id: string) => `arn:aws:batch:us-east-1:000000000000:job/${id}` };
};

describe('SubmitJob as job records', () => {
  it('chains a SEQUENTIAL array job child after child, each also waiting on the plain dependency', () => {
    // Prepare
    const r = resources();
    const [before] = submittedJobs({ jobName: 'first', jobQueue: 'q', jobDefinition: 'd' }, r, () => undefined, identify);
    const known = new Map<string, JobRecord>([[before!.detail.jobId, before!]]);
    // Act
    const [parent, ...children] = submittedJobs(
      { jobName: 'array', jobQueue: 'q', jobDefinition: 'd', arrayProperties: { size: 3 }, dependsOn: [{ type: 'SEQUENTIAL' }, { jobId: before!.detail.jobId }] },
      r,
      (id) => known.get(id),
      identify,
    );
    // Assess
    expect(parent!.children).toEqual(children.map((c) => c.detail.jobId));
    expect(parent!.detail.arrayProperties).toEqual({ size: 3, statusSummary: { STARTING: 0, FAILED: 0, RUNNING: 0, SUCCEEDED: 0, RUNNABLE: 0, SUBMITTED: 3, PENDING: 0 } });
    expect(children.map((c) => c.waitsFor)).toEqual([[before!.detail.jobId], [before!.detail.jobId, `${parent!.detail.jobId}:0`], [before!.detail.jobId, `${parent!.detail.jobId}:1`]]);
    expect(children[0]!.detail.container.command).toEqual(['echo', 'world']);
    expect(children[0]!.vcpus).toBe(0.5);
  });

  it('refuses a request Batch refuses before it takes a job id', () => {
    // Prepare
    const r = resources();
    let identified = 0;
    // Act
    const refused = () => submittedJobs({ jobName: 'x', jobQueue: 'q', jobDefinition: 'd', dependsOn: [{ jobId: 'nope' }] }, r, () => undefined, () => (identified++, identify()));
    // Assess
    expect(refused).toThrow("Dependent job ID 'nope' does not exist.");
    expect(identified).toBe(0);
  });
});

describe('an ended attempt', () => {
  const job = (): JobRecord => {
    const [j] = submittedJobs({ jobName: 'j', jobQueue: 'q', jobDefinition: 'd' }, resources(), () => undefined, identify);
    j!.ceName = 'ce';
    return j!;
  };
  const o = { now: 5_000, instanceId: (ce: string) => `i-${ce}` };

  it.each([
    ['a clean exit 0', { exitCode: 0 }, undefined, { succeeded: true, retryable: false, jobReason: 'Essential container in task exited', exitCode: 0 }],
    ['a failing exit', { exitCode: 3 }, undefined, { succeeded: false, retryable: true, jobReason: 'Essential container in task exited', exitCode: 3 }],
    ['a timeout (never retried)', { exitCode: 143 }, { kind: 'timeout' as const }, { succeeded: false, retryable: false, jobReason: 'Job attempt duration exceeded timeout', exitCode: 143 }],
    ['a TerminateJob (never retried; the job keeps the caller’s reason)', { exitCode: 143 }, { kind: 'terminate' as const, reason: 'cancelled' }, { succeeded: false, retryable: false, jobReason: 'cancelled', exitCode: 143 }],
    ['a lost host (retried; no exit code)', { exitCode: 137 }, { kind: 'lost' as const, reason: 'Host EC2 (instance i-1) terminated.' }, { succeeded: false, retryable: true, jobReason: 'Host EC2 (instance i-1) terminated.', exitCode: undefined }],
  ])('%s', (_, result, ending, expected) => {
    // Act
    const out = endedAttempt(job(), result, 4_000, ending, o);
    // Assess
    expect({ succeeded: out.succeeded, retryable: out.retryable, jobReason: out.jobReason, exitCode: out.attempt.container.exitCode }).toEqual(expected);
    expect(out.attempt.startedAt).toBe(4_000);
    expect(out.attempt.stoppedAt).toBe(5_000);
  });
});
