/**
 * The local Batch driven only through the real `@aws-sdk/client-batch` over the shared
 * endpoint: lifecycle, exit codes, timeouts, capacity, events, retries, dependencies,
 * array jobs, ListJobs filters, cancel/terminate, lost hosts and errors.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CancelJobCommand,
  DescribeComputeEnvironmentsCommand,
  DescribeJobDefinitionsCommand,
  DescribeJobQueuesCommand,
  ListJobsCommand,
  ListTagsForResourceCommand,
  SubmitJobCommand,
  TagResourceCommand,
  TerminateJobCommand,
  UntagResourceCommand,
  RegisterJobDefinitionCommand,
} from '@aws-sdk/client-batch';
import {
  FIXTURES,
  createQueue,
  describeJob,
  hasStatus,
  isDone,
  registerDefinition,
  startStack,
  statusesOf,
  until,
  waitForJob,
  type Stack,
} from './local-batch.helpers.ts';

let stack: Stack;
let gateDir: string;

beforeEach(async () => {
  stack = await startStack();
  gateDir = mkdtempSync(join(tmpdir(), 'batchron-gates-'));
});

afterEach(async () => {
  await stack.close();
});

const gate = (name: string) => join(gateDir, name);
const open = (name: string) => writeFileSync(gate(name), '');

describe('job lifecycle', () => {
  it('runs a job to SUCCEEDED with parameters, environment and AWS_BATCH_* variables in its process', async () => {
    // Prepare
    const { client, batch } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'greet', ['sh', '-c', 'echo "$GREETING Ref::who from $AWS_BATCH_JQ_NAME/$AWS_BATCH_CE_NAME attempt $AWS_BATCH_JOB_ATTEMPT $EXTRA_FROM_STACK $AWS_BATCH_JOB_ID"'], {
      parameters: { who: 'nobody' },
      containerProperties: { environment: [{ name: 'GREETING', value: 'hello' }] },
    });

    // Act
    const { jobId } = await client.send(
      new SubmitJobCommand({
        jobName: 'greet-1',
        jobQueue: 'main',
        jobDefinition: 'greet',
        parameters: { who: 'world' },
        containerOverrides: { environment: [{ name: 'GREETING', value: 'hi' }] },
      }),
    );
    const job = await waitForJob(client, jobId!, isDone);

    // Assess
    expect(job.status).toBe('SUCCEEDED');
    expect(job.statusReason).toBe('Essential container in task exited');
    expect(job.container?.exitCode).toBe(0);
    expect(job.container?.logStreamName).toMatch(/^greet\/default\/[0-9a-f]{32}$/);
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts![0]!.container?.exitCode).toBe(0);
    expect(job.startedAt).toBeGreaterThanOrEqual(job.createdAt!);
    expect(job.stoppedAt).toBeGreaterThanOrEqual(job.startedAt!);
    expect(batch.readLog(jobId!)).toBe(`hi world from main/main-ce attempt 1 stack-env ${jobId}\n`);
  });

  it('fails a job that exits non-zero and reports its exit code in DescribeJobs', async () => {
    // Prepare
    const { client } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'broken', ['sh', '-c', 'echo boom >&2; exit 42']);

    // Act
    const { jobId } = await client.send(new SubmitJobCommand({ jobName: 'broken', jobQueue: 'main', jobDefinition: 'broken' }));
    const job = await waitForJob(client, jobId!, isDone);

    // Assess
    expect(job.status).toBe('FAILED');
    expect(job.container?.exitCode).toBe(42);
    expect(job.statusReason).toBe('Essential container in task exited');
    expect(job.attempts!.map((a) => a.container?.exitCode)).toEqual([42]);
    expect(stack.batch.readLog(jobId!)).toContain('boom');
  });

  it('fails an attempt that outlives attemptDurationSeconds with the documented reason once the clock passes it', async () => {
    // Prepare
    const { client, clock } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'slow', ['sh', FIXTURES + '/wait-for-file.sh', gate('never')], {
      timeout: { attemptDurationSeconds: 60 },
      retryStrategy: { attempts: 3 },
    });
    const { jobId } = await client.send(new SubmitJobCommand({ jobName: 'slow', jobQueue: 'main', jobDefinition: 'slow' }));
    await waitForJob(client, jobId!, hasStatus('RUNNING'));

    // Act
    clock.advance(61_000);
    const job = await waitForJob(client, jobId!, isDone);

    // Assess: a timed-out attempt is not retried, even with attempts left.
    expect(job.status).toBe('FAILED');
    expect(job.statusReason).toBe('Job attempt duration exceeded timeout');
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts![0]!.statusReason).toBe('Job attempt duration exceeded timeout');
  });

  it('refuses a timeout shorter than 60 seconds, as Batch does', async () => {
    // Prepare
    const { client } = stack;

    // Act
    const attempt = registerDefinition(client, 'hasty', ['true'], { timeout: { attemptDurationSeconds: 5 } });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ClientException', message: expect.stringContaining('at least 60 seconds') });
  });
});

describe('capacity', () => {
  it('keeps the second job RUNNABLE while the first holds the only vCPU', async () => {
    // Prepare
    const { client, events } = stack;
    await createQueue(client, 'small', 1);
    await registerDefinition(client, 'gated', ['sh', FIXTURES + '/wait-for-file.sh', 'Ref::gate']);
    const first = await client.send(new SubmitJobCommand({ jobName: 'first', jobQueue: 'small', jobDefinition: 'gated', parameters: { gate: gate('first') } }));
    await waitForJob(client, first.jobId!, hasStatus('RUNNING'));

    // Act
    const second = await client.send(new SubmitJobCommand({ jobName: 'second', jobQueue: 'small', jobDefinition: 'gated', parameters: { gate: gate('second') } }));
    await waitForJob(client, second.jobId!, hasStatus('RUNNABLE'));
    const whileBlocked = await describeJob(client, second.jobId!);
    open('first');
    open('second');
    await waitForJob(client, second.jobId!, isDone);

    // Assess: the second job only started after the first one ended.
    expect(whileBlocked.status).toBe('RUNNABLE');
    const order = events.map((e) => `${(e.detail as { jobName: string }).jobName}:${(e.detail as { status: string }).status}`);
    expect(order.indexOf('second:STARTING')).toBeGreaterThan(order.indexOf('first:SUCCEEDED'));
    expect((await describeJob(client, second.jobId!)).status).toBe('SUCCEEDED');
  });

  it('counts containerOverrides vCPUs, so a job bigger than the environment waits RUNNABLE', async () => {
    // Prepare
    const { client } = stack;
    await createQueue(client, 'tiny', 2);
    await registerDefinition(client, 'cpu', ['true']);

    // Act
    const big = await client.send(
      new SubmitJobCommand({ jobName: 'big', jobQueue: 'tiny', jobDefinition: 'cpu', containerOverrides: { resourceRequirements: [{ type: 'VCPU', value: '4' }] } }),
    );
    const small = await client.send(new SubmitJobCommand({ jobName: 'small', jobQueue: 'tiny', jobDefinition: 'cpu' }));
    await waitForJob(client, small.jobId!, isDone);
    const stuck = await waitForJob(client, big.jobId!, (j) => j.status === 'RUNNABLE' && j.statusReason !== undefined);

    // Assess
    expect(stuck.statusReason).toMatch(/^MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT/);
    expect(stuck.container?.resourceRequirements).toContainEqual({ type: 'VCPU', value: '4' });
  });
});

describe('state change events', () => {
  it('publishes one AWS-shaped event per transition after SUBMITTED, the last one equal to DescribeJobs', async () => {
    // Prepare
    const { client, events } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'ok', ['true']);

    // Act
    const { jobId, jobArn } = await client.send(new SubmitJobCommand({ jobName: 'ok', jobQueue: 'main', jobDefinition: 'ok', tags: { team: 'data' } }));
    const final = await waitForJob(client, jobId!, isDone);
    await until(() => statusesOf(events, jobId!).includes('SUCCEEDED'), 'the SUCCEEDED event');

    // Assess
    expect(statusesOf(events, jobId!)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
    const mine = events.filter((e) => (e.detail as { jobId: string }).jobId === jobId);
    for (const e of mine) {
      expect(e).toMatchObject({
        version: '0',
        'detail-type': 'Batch Job State Change',
        source: 'aws.batch',
        account: '000000000000',
        region: 'us-east-1',
        resources: [jobArn],
      });
      expect(e.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(mine.map((e) => e.id)).size).toBe(mine.length);
    const { $metadata: _m, ...wire } = { ...final, $metadata: undefined };
    expect(mine.at(-1)!.detail).toEqual(JSON.parse(JSON.stringify(wire)));
    expect(final.tags).toEqual({ team: 'data' });
  });
});

describe('retries', () => {
  it('retries on an exit code a RETRY rule names and stops on one an EXIT rule names', async () => {
    // Prepare
    const { client } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'flaky', ['sh', FIXTURES + '/exit-by-attempt.sh', '3,4,0'], {
      retryStrategy: {
        attempts: 5,
        evaluateOnExit: [
          { onExitCode: '3', action: 'RETRY' },
          // Batch reads the action case-insensitively; the SDK's type only spells it in upper case.
          { onExitCode: '4', action: 'exit' as 'EXIT' },
        ],
      },
    });

    // Act
    const { jobId } = await client.send(new SubmitJobCommand({ jobName: 'flaky', jobQueue: 'main', jobDefinition: 'flaky' }));
    const job = await waitForJob(client, jobId!, isDone);

    // Assess
    expect(job.status).toBe('FAILED');
    expect(job.attempts!.map((a) => a.container?.exitCode)).toEqual([3, 4]);
    expect(new Set(job.attempts!.map((a) => a.container?.logStreamName)).size).toBe(2);
    expect(statusesOf(stack.events, jobId!)).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'RUNNABLE', 'STARTING', 'RUNNING', 'FAILED']);
  });

  it('retries when no evaluateOnExit rule matches, as Batch does', async () => {
    // Prepare
    const { client } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'unlucky', ['sh', FIXTURES + '/exit-by-attempt.sh', '7,0'], {
      retryStrategy: { attempts: 3, evaluateOnExit: [{ onExitCode: '4*', action: 'EXIT' }] },
    });

    // Act
    const { jobId } = await client.send(new SubmitJobCommand({ jobName: 'unlucky', jobQueue: 'main', jobDefinition: 'unlucky' }));
    const job = await waitForJob(client, jobId!, isDone);

    // Assess
    expect(job.status).toBe('SUCCEEDED');
    expect(job.attempts!.map((a) => a.container?.exitCode)).toEqual([7, 0]);
  });

  it('fails after the last allowed attempt even when the rules say RETRY', async () => {
    // Prepare
    const { client } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'hopeless', ['sh', '-c', 'exit 3'], {
      retryStrategy: { attempts: 2, evaluateOnExit: [{ onExitCode: '*', action: 'RETRY' }] },
    });

    // Act
    const { jobId } = await client.send(new SubmitJobCommand({ jobName: 'hopeless', jobQueue: 'main', jobDefinition: 'hopeless' }));
    const job = await waitForJob(client, jobId!, isDone);

    // Assess
    expect(job.status).toBe('FAILED');
    expect(job.attempts).toHaveLength(2);
  });
});

describe('dependencies and array jobs', () => {
  it('holds a dependent job PENDING until its dependency succeeds, then runs it', async () => {
    // Prepare
    const { client, events } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'gated', ['sh', FIXTURES + '/wait-for-file.sh', 'Ref::gate']);
    await registerDefinition(client, 'ok', ['true']);
    const a = await client.send(new SubmitJobCommand({ jobName: 'a', jobQueue: 'main', jobDefinition: 'gated', parameters: { gate: gate('a') } }));

    // Act
    const b = await client.send(new SubmitJobCommand({ jobName: 'b', jobQueue: 'main', jobDefinition: 'ok', dependsOn: [{ jobId: a.jobId! }] }));
    const waiting = await waitForJob(client, b.jobId!, hasStatus('PENDING'));
    open('a');
    const done = await waitForJob(client, b.jobId!, isDone);

    // Assess
    expect(waiting.dependsOn).toEqual([{ jobId: a.jobId }]);
    expect(done.status).toBe('SUCCEEDED');
    expect(statusesOf(events, b.jobId!)).toEqual(['PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
  });

  it('fails a dependent job with the dependency-failed reason when its dependency fails', async () => {
    // Prepare
    const { client } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'bad', ['false']);
    await registerDefinition(client, 'ok', ['true']);
    const a = await client.send(new SubmitJobCommand({ jobName: 'a', jobQueue: 'main', jobDefinition: 'bad' }));

    // Act
    const b = await client.send(new SubmitJobCommand({ jobName: 'b', jobQueue: 'main', jobDefinition: 'ok', dependsOn: [{ jobId: a.jobId! }] }));
    const done = await waitForJob(client, b.jobId!, isDone);

    // Assess
    expect(done.status).toBe('FAILED');
    expect(done.statusReason).toBe('Dependent Job failed');
    expect(done.attempts).toEqual([]);
  });

  it('runs an array job as children <parentId>:<index> that each see AWS_BATCH_JOB_ARRAY_INDEX', async () => {
    // Prepare
    const { client, batch } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'fan', ['sh', '-c', 'echo "index=$AWS_BATCH_JOB_ARRAY_INDEX id=$AWS_BATCH_JOB_ID"']);

    // Act
    const { jobId } = await client.send(new SubmitJobCommand({ jobName: 'fan', jobQueue: 'main', jobDefinition: 'fan', arrayProperties: { size: 3 } }));
    const parent = await waitForJob(client, jobId!, isDone);
    const children = await client.send(new ListJobsCommand({ arrayJobId: jobId!, jobStatus: 'SUCCEEDED' }));

    // Assess
    expect(parent.status).toBe('SUCCEEDED');
    expect(parent.arrayProperties).toMatchObject({ size: 3, statusSummary: { SUCCEEDED: 3, FAILED: 0 } });
    expect(children.jobSummaryList!.map((j) => j.jobId).sort()).toEqual([0, 1, 2].map((i) => `${jobId}:${i}`));
    for (const i of [0, 1, 2]) expect(batch.readLog(`${jobId}:${i}`)).toBe(`index=${i} id=${jobId}:${i}\n`);
    expect(statusesOf(stack.events, jobId!)).toEqual(['PENDING', 'SUCCEEDED']);
  });

  it('fails the array parent when any child fails, and runs SEQUENTIAL children one after another', async () => {
    // Prepare
    const { client, events } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'picky', ['sh', '-c', 'test "$AWS_BATCH_JOB_ARRAY_INDEX" != 1']);

    // Act
    const { jobId } = await client.send(
      new SubmitJobCommand({ jobName: 'picky', jobQueue: 'main', jobDefinition: 'picky', arrayProperties: { size: 3 }, dependsOn: [{ type: 'SEQUENTIAL' }] }),
    );
    const parent = await waitForJob(client, jobId!, isDone);

    // Assess: child 1 fails, so child 2 (which waits on it) fails as a dependent.
    expect(parent.status).toBe('FAILED');
    expect((await describeJob(client, `${jobId}:2`)).statusReason).toBe('Dependent Job failed');
    const order = events.map((e) => `${(e.detail as { jobId: string }).jobId}:${(e.detail as { status: string }).status}`);
    expect(order.indexOf(`${jobId}:1:STARTING`)).toBeGreaterThan(order.indexOf(`${jobId}:0:SUCCEEDED`));
  });
});

describe('ListJobs', () => {
  it('lists jobs of every status whose name matches a JOB_NAME filter, with prefix matching on a trailing *', async () => {
    // Prepare
    const { client } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'ok', ['true']);
    await registerDefinition(client, 'gated', ['sh', FIXTURES + '/wait-for-file.sh', gate('x')]);
    const done = await client.send(new SubmitJobCommand({ jobName: 'nightly-report-1', jobQueue: 'main', jobDefinition: 'ok' }));
    await waitForJob(client, done.jobId!, isDone);
    const running = await client.send(new SubmitJobCommand({ jobName: 'Nightly-report-2', jobQueue: 'main', jobDefinition: 'gated' }));
    await client.send(new SubmitJobCommand({ jobName: 'weekly', jobQueue: 'main', jobDefinition: 'ok' }));
    await waitForJob(client, running.jobId!, hasStatus('RUNNING'));

    // Act
    const prefix = await client.send(new ListJobsCommand({ jobQueue: 'main', filters: [{ name: 'JOB_NAME', values: ['nightly-report*'] }] }));
    const exact = await client.send(new ListJobsCommand({ jobQueue: 'main', filters: [{ name: 'JOB_NAME', values: ['weekly'] }] }));
    const byStatus = await client.send(new ListJobsCommand({ jobQueue: 'main', jobStatus: 'RUNNING' }));
    const firstPage = await client.send(new ListJobsCommand({ jobQueue: 'main', filters: [{ name: 'JOB_NAME', values: ['*'] }], maxResults: 2 }));
    const secondPage = await client.send(
      new ListJobsCommand({ jobQueue: 'main', filters: [{ name: 'JOB_NAME', values: ['*'] }], maxResults: 2, nextToken: firstPage.nextToken }),
    );
    open('x');

    // Assess
    expect(prefix.jobSummaryList!.map((j) => j.jobName).sort()).toEqual(['Nightly-report-2', 'nightly-report-1']);
    expect(prefix.jobSummaryList!.find((j) => j.jobName === 'nightly-report-1')).toMatchObject({ status: 'SUCCEEDED', container: { exitCode: 0 } });
    expect(exact.jobSummaryList!.map((j) => j.jobName)).toEqual(['weekly']);
    expect(byStatus.jobSummaryList!.map((j) => j.jobId)).toEqual([running.jobId]);
    expect(firstPage.jobSummaryList).toHaveLength(2);
    expect(secondPage.jobSummaryList).toHaveLength(1);
    expect(secondPage.nextToken).toBeUndefined();
  });
});

describe('cancel and terminate', () => {
  it('cancels a RUNNABLE job but leaves a RUNNING one alone, which TerminateJob then stops', async () => {
    // Prepare
    const { client } = stack;
    await createQueue(client, 'small', 1);
    await registerDefinition(client, 'gated', ['sh', FIXTURES + '/wait-for-file.sh', gate('never')]);
    const running = await client.send(new SubmitJobCommand({ jobName: 'running', jobQueue: 'small', jobDefinition: 'gated' }));
    await waitForJob(client, running.jobId!, hasStatus('RUNNING'));
    const queued = await client.send(new SubmitJobCommand({ jobName: 'queued', jobQueue: 'small', jobDefinition: 'gated' }));
    await waitForJob(client, queued.jobId!, hasStatus('RUNNABLE'));

    // Act
    await client.send(new CancelJobCommand({ jobId: queued.jobId!, reason: 'not needed any more' }));
    await client.send(new CancelJobCommand({ jobId: running.jobId!, reason: 'cancel cannot stop me' }));
    const cancelled = await waitForJob(client, queued.jobId!, isDone);
    const stillRunning = await describeJob(client, running.jobId!);
    await client.send(new TerminateJobCommand({ jobId: running.jobId!, reason: 'operator stopped it' }));
    const terminated = await waitForJob(client, running.jobId!, isDone);

    // Assess
    expect(cancelled).toMatchObject({ status: 'FAILED', statusReason: 'not needed any more', attempts: [] });
    expect(stillRunning.status).toBe('RUNNING');
    expect(terminated.status).toBe('FAILED');
    expect(terminated.statusReason).toBe('operator stopped it');
    expect(terminated.attempts![0]!.container?.exitCode).toBe(143);
  });

  it('answers 200 with an empty body for a job id it does not know, as Batch does', async () => {
    // Act
    const terminated = await stack.client.send(new TerminateJobCommand({ jobId: 'no-such-job', reason: 'x' }));
    const cancelled = await stack.client.send(new CancelJobCommand({ jobId: 'no-such-job', reason: 'x' }));

    // Assess
    expect(terminated.$metadata.httpStatusCode).toBe(200);
    expect(cancelled.$metadata.httpStatusCode).toBe(200);
  });
});

describe('lost hosts', () => {
  it('fails a killed job with the host-terminated reason, and retries it when a rule matches that reason', async () => {
    // Prepare
    const { client, batch } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'victim', ['sh', FIXTURES + '/wait-for-file.sh', gate('never')]);
    await registerDefinition(client, 'survivor', ['sh', '-c', `[ "$AWS_BATCH_JOB_ATTEMPT" = 2 ] || sh ${FIXTURES}/wait-for-file.sh ${gate('never')}`], {
      retryStrategy: { attempts: 2, evaluateOnExit: [{ onStatusReason: 'Host EC2*', action: 'RETRY' }, { onReason: '*', action: 'EXIT' }] },
    });
    const victim = await client.send(new SubmitJobCommand({ jobName: 'victim', jobQueue: 'main', jobDefinition: 'victim' }));
    const survivor = await client.send(new SubmitJobCommand({ jobName: 'survivor', jobQueue: 'main', jobDefinition: 'survivor' }));
    await waitForJob(client, victim.jobId!, hasStatus('RUNNING'));
    await waitForJob(client, survivor.jobId!, hasStatus('RUNNING'));

    // Act
    const killedVictim = batch.killJob(victim.jobId!);
    const killedSurvivor = batch.killJob(survivor.jobId!);
    const lost = await waitForJob(client, victim.jobId!, isDone);
    const retried = await waitForJob(client, survivor.jobId!, isDone);

    // Assess
    expect([killedVictim, killedSurvivor]).toEqual([true, true]);
    expect(lost.status).toBe('FAILED');
    expect(lost.statusReason).toMatch(/^Host EC2 \(instance i-[0-9a-f]{17}\) terminated\.$/);
    expect(lost.attempts![0]!.statusReason).toBe(lost.statusReason);
    expect(lost.attempts![0]!.container?.exitCode).toBeUndefined();
    expect(retried.status).toBe('SUCCEEDED');
    expect(retried.attempts!.map((a) => a.statusReason)).toEqual([lost.statusReason, 'Essential container in task exited']);
  });
});

describe('resources, tags and errors', () => {
  it('describes the compute environment, queue and latest definition revision it created', async () => {
    // Prepare
    const { client } = stack;
    const queueArn = await createQueue(client, 'main', 8);
    await registerDefinition(client, 'def', ['true']);
    await registerDefinition(client, 'def', ['echo', 'v2']);

    // Act
    const ces = await client.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['main-ce'] }));
    const queues = await client.send(new DescribeJobQueuesCommand({ jobQueues: [queueArn] }));
    const defs = await client.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: 'def', status: 'ACTIVE' }));
    const { jobId } = await client.send(new SubmitJobCommand({ jobName: 'latest', jobQueue: queueArn, jobDefinition: 'def' }));
    const job = await waitForJob(client, jobId!, isDone);

    // Assess
    expect(ces.computeEnvironments![0]).toMatchObject({ computeEnvironmentName: 'main-ce', status: 'VALID', state: 'ENABLED', computeResources: { maxvCpus: 8 } });
    expect(queues.jobQueues![0]).toMatchObject({ jobQueueName: 'main', jobQueueArn: queueArn, status: 'VALID', priority: 1 });
    expect(defs.jobDefinitions!.map((d) => d.revision).sort()).toEqual([1, 2]);
    expect(job.jobDefinition).toBe('arn:aws:batch:us-east-1:000000000000:job-definition/def:2');
    expect(stack.batch.readLog(jobId!)).toBe('v2\n');
  });

  it('tags and untags resources and lists a job’s tags by its ARN', async () => {
    // Prepare
    const { client } = stack;
    const queueArn = await createQueue(client, 'main');
    await registerDefinition(client, 'ok', ['true']);
    const { jobArn } = await client.send(new SubmitJobCommand({ jobName: 'tagged', jobQueue: 'main', jobDefinition: 'ok', tags: { run: 'r-1' }, propagateTags: true }));

    // Act
    await client.send(new TagResourceCommand({ resourceArn: queueArn, tags: { team: 'data', env: 'dev' } }));
    await client.send(new UntagResourceCommand({ resourceArn: queueArn, tagKeys: ['env'] }));
    const queueTags = await client.send(new ListTagsForResourceCommand({ resourceArn: queueArn }));
    const jobTags = await client.send(new ListTagsForResourceCommand({ resourceArn: jobArn! }));

    // Assess
    expect(queueTags.tags).toEqual({ team: 'data' });
    expect(jobTags.tags).toEqual({ run: 'r-1' });
  });

  it('answers ClientException with a message naming the unknown queue, unknown definition or bad name', async () => {
    // Prepare
    const { client } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'ok', ['true']);

    // Act
    const unknownQueue = client.send(new SubmitJobCommand({ jobName: 'x', jobQueue: 'nope', jobDefinition: 'ok' }));
    const unknownDef = client.send(new SubmitJobCommand({ jobName: 'x', jobQueue: 'main', jobDefinition: 'missing:3' }));
    const badName = client.send(new SubmitJobCommand({ jobName: 'bad name!', jobQueue: 'main', jobDefinition: 'ok' }));
    const badRetry = client.send(new RegisterJobDefinitionCommand({ jobDefinitionName: 'r', type: 'container', containerProperties: { command: ['true'] }, retryStrategy: { attempts: 11 } }));

    // Assess
    await expect(unknownQueue).rejects.toMatchObject({ name: 'ClientException', message: "Job queue 'nope' does not exist.", $metadata: { httpStatusCode: 400 } });
    await expect(unknownDef).rejects.toMatchObject({ name: 'ClientException', message: expect.stringContaining("'missing:3'") });
    await expect(badName).rejects.toMatchObject({ name: 'ClientException', message: expect.stringContaining("Job name 'bad name!' is invalid") });
    await expect(badRetry).rejects.toMatchObject({ name: 'ClientException', message: expect.stringContaining('from 1 to 10') });
  });

  it('throttles SubmitJob with TooManyRequestsException when faults say so', async () => {
    // Prepare
    const { client, faults } = stack;
    await createQueue(client, 'main');
    await registerDefinition(client, 'ok', ['true']);
    faults.throttle('batch', 'SubmitJob', 1);

    // Act
    const results = await Promise.allSettled(
      [1, 2, 3].map((i) => client.send(new SubmitJobCommand({ jobName: `t${i}`, jobQueue: 'main', jobDefinition: 'ok' }))),
    );

    // Assess
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
  });
});
