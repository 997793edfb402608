/**
 * The whole local stack, driven only through the real `@aws-sdk` clients and the control
 * API: DynamoDB through the shared endpoint (and across a restart), throttling answered
 * with each service's own exception, the clock and fault controls, Batch events reaching
 * a rule's Lambda target, and an `at()` schedule submitting a Batch job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  type BatchClient,
} from '@aws-sdk/client-batch';
import { CreateScheduleCommand, GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import {
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  ThrottlingException,
} from '@aws-sdk/client-dynamodb';
import type { EventBridgeEvent } from '#local/contracts';
import { eventually, startTestStack, type TestStack } from '#test/helpers/stack';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});
afterAll(async () => {
  await t?.stop();
});

async function control(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${t.stack.url}/_batchron/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.stack.token}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function createQueue(batch: BatchClient, name: string): Promise<void> {
  await batch.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: `${name}-ce`,
      type: 'MANAGED',
      computeResources: { type: 'EC2', minvCpus: 0, maxvCpus: 4, subnets: ['subnet-1'], instanceRole: 'ecsInstanceRole' },
    }),
  );
  await batch.send(
    new CreateJobQueueCommand({ jobQueueName: name, priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: `${name}-ce` }] }),
  );
}

async function registerNodeJob(batch: BatchClient, name: string, script: string): Promise<void> {
  await batch.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: name,
      type: 'container',
      containerProperties: {
        image: 'node:20',
        command: ['node', '-e', script],
        resourceRequirements: [
          { type: 'VCPU', value: '1' },
          { type: 'MEMORY', value: '512' },
        ],
      },
    }),
  );
}

const uniqueName = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

describe('DynamoDB through the stack endpoint', () => {
  it('creates a table and reads back an item through the SDK', async () => {
    // Prepare
    const { dynamodb } = t.clients;
    const table = uniqueName('runs');
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );

    // Act
    await dynamodb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'run#1' }, status: { S: 'RUNNING' } } }));
    const got = await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'run#1' } } }));

    // Assess
    expect(got.Item).toEqual({ pk: { S: 'run#1' }, status: { S: 'RUNNING' } });
    expect(t.stack.dynamodb?.requestCounts()).toMatchObject({ CreateTable: expect.any(Number), PutItem: expect.any(Number) });
  });

  it('keeps DynamoDB data across a restart on the same data folder', async () => {
    // Prepare: a stack with its own DynamoDB Local writing under the data folder.
    const dataDir = mkdtempSync(join(tmpdir(), 'batchron-restart-'));
    try {
      const first = await startTestStack({ dataDir, dynamodb: 'spawn' });
      await first.clients.dynamodb.send(
        new CreateTableCommand({
          TableName: 'kept',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      await first.clients.dynamodb.send(new PutItemCommand({ TableName: 'kept', Item: { pk: { S: 'a' }, n: { N: '42' } } }));
      await first.stop({ keepData: true });

      // Act
      const second = await startTestStack({ dataDir, dynamodb: 'spawn' });
      try {
        const got = await second.clients.dynamodb.send(new GetItemCommand({ TableName: 'kept', Key: { pk: { S: 'a' } } }));
        const table = await second.clients.dynamodb.send(new DescribeTableCommand({ TableName: 'kept' }));

        // Assess
        expect(got.Item).toEqual({ pk: { S: 'a' }, n: { N: '42' } });
        expect(table.Table?.TableStatus).toBe('ACTIVE');
      } finally {
        await second.stop({ keepData: true });
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('throttling injection', () => {
  /** Calls `send` until one is throttled; the limit is per clock second, so a few calls always cross it. */
  async function firstThrottle(send: () => Promise<unknown>): Promise<unknown> {
    for (let i = 0; i < 10; i++) {
      const error = await send().then(
        () => undefined,
        (e: unknown) => e,
      );
      if (error) return error;
    }
    throw new Error('never throttled');
  }

  it('answers DynamoDB\'s ThrottlingException to the DynamoDB client', async () => {
    t.stack.faults.throttle('dynamodb', 'ListTables', 1);
    try {
      const error = await firstThrottle(() => t.clients.dynamodb.send(new ListTablesCommand({})));

      expect(error).toBeInstanceOf(ThrottlingException);
      expect(t.stack.faults.counters.get('throttled:dynamodb:ListTables')).toBeGreaterThan(0);
    } finally {
      t.stack.faults.throttle('dynamodb', 'ListTables', 0);
    }
  });

  it('answers Batch\'s TooManyRequestsException (HTTP 429) to the Batch client', async () => {
    t.stack.faults.throttle('batch', 'DescribeJobs', 1);
    try {
      const error = await firstThrottle(() => t.clients.batch.send(new DescribeJobsCommand({ jobs: [] })));

      expect(error).toMatchObject({ name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
    } finally {
      t.stack.faults.throttle('batch', 'DescribeJobs', 0);
    }
  });

  it('answers Scheduler\'s ThrottlingException to the Scheduler client, set through the control API', async () => {
    const set = await control('faults/throttle', { service: 'scheduler', operation: 'ListSchedules', perSecond: 1 });
    try {
      const error = await firstThrottle(() => t.clients.scheduler.send(new ListSchedulesCommand({})));

      expect(set.status).toBe(200);
      expect(error).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
    } finally {
      await control('faults/throttle', { service: 'scheduler', operation: 'ListSchedules', perSecond: 0 });
    }
  });
});

describe('control API', () => {
  it('reports health with the services it serves', async () => {
    const { status, json } = await control('health');

    expect(status).toBe(200);
    expect(json).toMatchObject({ ok: true, services: expect.arrayContaining(['batch', 'scheduler', 'dynamodb', 'lambda', 'events']) });
  });

  it('sets and advances the stack clock', async () => {
    const { clock } = t.stack;
    const target = new Date(clock.now() + 3_600_000);
    target.setUTCMilliseconds(0);

    const set = await control('clock', { set: target.toISOString() });
    const advanced = await control('clock', { advanceMs: 60_000 });

    expect(set.status).toBe(200);
    expect(Date.parse(String(set.json.now))).toBeGreaterThanOrEqual(target.getTime());
    expect(Number(advanced.json.epochMs)).toBeGreaterThanOrEqual(target.getTime() + 60_000);
    expect(clock.now()).toBeGreaterThanOrEqual(target.getTime() + 60_000);
  });

  it('answers 400 naming the field of a bad body', async () => {
    const badClock = await control('clock', { advanceMs: -5 });
    const badFaults = await control('faults/events', { dropRate: 2 });
    const badThrottle = await control('faults/throttle', { service: 'batch', perSecond: 1 });

    expect(badClock.status).toBe(400);
    expect(badClock.json.message).toMatch(/advanceMs/);
    expect(badFaults.status).toBe(400);
    expect(badFaults.json.message).toMatch(/dropRate/);
    expect(badThrottle.json.message).toMatch(/operation/);
  });

  it('sets event faults with a seed, reports them and resets them', async () => {
    const set = await control('faults/events', { duplicateRate: 0.5, delayRate: 0.1, delayMs: 250, seed: 9 });
    const shown = await control('faults');
    const reset = await control('faults/reset', {});

    expect(set.status).toBe(200);
    expect(shown.json).toMatchObject({ events: { duplicateRate: 0.5, delayRate: 0.1, delayMs: [250, 250] }, seed: 9 });
    expect(reset.json).toMatchObject({ events: {}, throttles: {} });
    expect(t.stack.faults.events).toEqual({});
  });

  it('answers 404 when asked to kill a job that is not running', async () => {
    const { status, json } = await control('jobs/no-such-job/kill', {});

    expect(status).toBe(404);
    expect(json.message).toMatch(/no-such-job/);
  });
});

describe('Batch, the bus and Scheduler together', () => {
  it('delivers a job\'s state-change events to a rule\'s Lambda target with the documented shape', async () => {
    // Prepare
    const { batch } = t.clients;
    const queue = uniqueName('events-q');
    await createQueue(batch, queue);
    await registerNodeJob(batch, `${queue}-def`, 'console.log("hello from the job")');
    const received: EventBridgeEvent[] = [];
    const arn = t.stack.lambda.register(uniqueName('job-events'), async (event: EventBridgeEvent) => {
      received.push(event);
    });
    t.stack.bus.putRule({
      name: uniqueName('batch-jobs'),
      pattern: { source: ['aws.batch'], 'detail-type': ['Batch Job State Change'], detail: { jobQueue: [{ suffix: `/${queue}` }] } },
      targets: [{ id: 'job-events', arn }],
    });

    // Act
    const { jobId, jobArn } = await batch.send(new SubmitJobCommand({ jobName: 'shape', jobQueue: queue, jobDefinition: `${queue}-def` }));
    await eventually(async () => {
      const out = await batch.send(new DescribeJobsCommand({ jobs: [jobId!] }));
      return out.jobs?.[0]?.status === 'SUCCEEDED';
    }, 'the job to succeed');
    await eventually(() => received.some((e) => (e.detail as { status: string }).status === 'SUCCEEDED'), 'the SUCCEEDED event');
    await t.stack.idle();

    // Assess
    const statuses = received.map((e) => (e.detail as { status: string }).status);
    expect(statuses).not.toContain('SUBMITTED');
    // PENDING only shows for a job with dependencies; this one has none.
    expect(statuses).toEqual(['RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED']);
    const last = received.find((e) => (e.detail as { status: string }).status === 'SUCCEEDED')!;
    expect(last).toMatchObject({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Batch Job State Change',
      source: 'aws.batch',
      account: t.stack.account,
      region: t.stack.region,
      resources: [jobArn],
      detail: { jobId, jobName: 'shape', jobArn, status: 'SUCCEEDED', container: { exitCode: 0 } },
    });
    expect(last.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(t.stack.batch.readLog(jobId!)).toContain('hello from the job');
  });

  it('fires an at() schedule with the universal Batch target, which submits its job and deletes itself', async () => {
    // Prepare
    const { batch, scheduler } = t.clients;
    const queue = uniqueName('sched-q');
    await createQueue(batch, queue);
    await registerNodeJob(batch, `${queue}-def`, 'process.exit(0)');
    const due = new Date(Math.ceil((t.stack.clock.now() + 120_000) / 1000) * 1000);
    const name = uniqueName('once');

    // Act
    await scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        ScheduleExpression: `at(${due.toISOString().slice(0, 19)})`,
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: 'arn:aws:scheduler:::aws-sdk:batch:submitJob',
          RoleArn: 'arn:aws:iam::000000000000:role/scheduler',
          Input: JSON.stringify({ JobName: `${name}-job`, JobQueue: queue, JobDefinition: `${queue}-def` }),
        },
      }),
    );
    t.stack.clock.set(due.getTime() + 1_000);

    // Assess
    const listed = await eventually(async () => {
      const out = await batch.send(new ListJobsCommand({ jobQueue: queue, jobStatus: 'SUCCEEDED' }));
      return out.jobSummaryList?.find((j) => j.jobName === `${name}-job`);
    }, 'the scheduled job to succeed');
    expect(listed.jobName).toBe(`${name}-job`);
    await eventually(
      () => scheduler.send(new GetScheduleCommand({ Name: name })).then(() => false, (e: unknown) => (e as Error).name === 'ResourceNotFoundException'),
      'the schedule to delete itself',
    );
  });
});

describe('stopping and killing jobs', () => {
  const LONG_JOB = 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)';

  it('kills a running job through the control API as a lost host would', async () => {
    // Prepare
    const { batch } = t.clients;
    const queue = uniqueName('kill-q');
    await createQueue(batch, queue);
    await registerNodeJob(batch, `${queue}-def`, LONG_JOB);
    const { jobId } = await batch.send(new SubmitJobCommand({ jobName: 'lost', jobQueue: queue, jobDefinition: `${queue}-def` }));
    await eventually(() => t.stack.batch.describe(jobId!)?.status === 'RUNNING', 'the job to run');

    // Act
    const killed = await control(`jobs/${jobId}/kill`, { reason: 'Host EC2 (instance i-0) terminated.' });

    // Assess
    expect(killed).toEqual({ status: 200, json: { killed: jobId } });
    const job = await eventually(() => {
      const d = t.stack.batch.describe(jobId!);
      return d?.status === 'FAILED' ? d : undefined;
    }, 'the killed job to fail');
    expect(job.statusReason).toBe('Host EC2 (instance i-0) terminated.');
  });

  it('on stop, fails running jobs after SIGTERM then SIGKILL and does not deliver the FAILED event the stop caused', async () => {
    // Prepare: a stack of its own, with a rule recording Batch events.
    const own = await startTestStack();
    const { batch } = own.clients;
    await createQueue(batch, 'stop-q');
    await registerNodeJob(batch, 'stop-def', LONG_JOB);
    const statuses: string[] = [];
    const arn = own.stack.lambda.register('job-events', async (event: EventBridgeEvent<{ status: string }>) => {
      statuses.push(event.detail.status);
    });
    own.stack.bus.putRule({ name: 'jobs', pattern: { source: ['aws.batch'] }, targets: [{ id: 'fn', arn }] });
    const { jobId } = await batch.send(new SubmitJobCommand({ jobName: 'stubborn', jobQueue: 'stop-q', jobDefinition: 'stop-def' }));
    await eventually(() => own.stack.batch.describe(jobId!)?.status === 'RUNNING', 'the job to run');

    // Act
    await own.stop({ graceMs: 200 });

    // Assess
    const job = own.stack.batch.describe(jobId!);
    expect(job?.status).toBe('FAILED');
    expect(job?.statusReason).toMatch(/SIGTERM.*SIGKILL/);
    // The next start's sweep reads the job from Batch; the stop itself runs no function.
    expect(statuses).toContain('RUNNING');
    expect(statuses).not.toContain('FAILED');
  });
});
