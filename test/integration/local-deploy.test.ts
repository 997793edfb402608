import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeComputeEnvironmentsCommand, DescribeJobDefinitionsCommand, DescribeJobQueuesCommand } from '@aws-sdk/client-batch';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { CreateScheduleCommand, GetScheduleCommand, ListSchedulesCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { deployLocal, type LocalDeployment } from '#local/deploy';
import { resolvedOnce } from '#test/helpers/packaged';
import { startLocalStack, type LocalStack } from '#local/stack';
import { FireInputSchema, ENV } from '#shared/config/definition';
import { SWEEP_SCHEDULE_NAME } from '#shared/config/cloudformation';
import { TABLE } from '#shared/config/table';
import { awsClients } from '#test/helpers/aws';
import { PROJECT_DIR } from './package.helpers.ts';
import { loadEvent } from '#test/helpers/events';
import { eventually } from '#test/helpers/eventually';
import { getRun, listRunsBySchedule } from '#shared/store/runs';

const EXAMPLE_SCHEDULES = ['every-minute', 'nightly-tokyo', 'etl-dag', 'flaky', 'always-fails', 'overlap-skip', 'checkpointed', 'partner-sync'];

let stack: LocalStack;
let dataDir: string;
let first: LocalDeployment;
let clients: ReturnType<typeof awsClients>;

beforeAll(async () => {
  // Prepare: a fresh stack (its own data folder, a free port) and the project deployed on it.
  dataDir = mkdtempSync(join(tmpdir(), 'batchron-local-deploy-'));
  stack = await startLocalStack({ port: 0, dataDir, projectDir: PROJECT_DIR, log: () => undefined });
  clients = awsClients(stack.url);
  first = await deployLocal(stack, { projectDir: PROJECT_DIR });
});

afterAll(async () => {
  await stack?.stop({ graceMs: 0 });
  rmSync(dataDir, { recursive: true, force: true });
});

// First, on the deployment as declared; it waits for its windows' one-time close schedules to
// fire and delete themselves, so the schedule listings below see only the declared ones.
describe('deployLocal: event triggers', () => {
  it('registers the on-upload rule, and an S3 upload published as S3 would starts one run holding its key, however often it is sent', async () => {
    // Prepare
    const rule = first.rules.find((r) => r.name === 'batchron-dev-on-upload-on0');
    const upload = loadEvent('s3', 'object-created');
    upload.id = `deploy-test-${Date.now()}`;
    upload.detail.object.key = 'incoming/deploy-test.csv';
    const elsewhere = loadEvent('s3', 'object-created-other-prefix');
    const publish = (events: unknown[]) =>
      fetch(`${stack.url}/_batchron/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
    // Act: the same upload three times (S3 and EventBridge deliver at least once), and one outside incoming/.
    const sent = await publish([upload, upload, elsewhere]);
    const again = await publish([upload]);
    const unauthorized = await fetch(`${stack.url}/_batchron/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events: [upload] }) });
    // Assess
    expect(rule?.function).toBe('trigger');
    expect(sent.status).toBe(200);
    expect(again.status).toBe(200);
    expect(unauthorized.status).toBe(401);
    const runs = await eventually(
      async () => {
        const page = await listRunsBySchedule({ doc: clients.doc, table: first.table }, 'on-upload', { limit: 10 });
        return page.items.length > 0 ? page.items : undefined;
      },
      'the on-upload run of the batch window',
      40_000,
    );
    await stack.idle();
    const all = (await listRunsBySchedule({ doc: clients.doc, table: first.table }, 'on-upload', { limit: 10 })).items;
    expect(all).toHaveLength(1);
    const run = await getRun({ doc: clients.doc, table: first.table }, runs[0]!.summary.runId);
    expect(JSON.parse(run!.parameters.keys!)).toEqual(['incoming/deploy-test.csv']);
    expect(run!.trigger).toBe('event');
    await eventually(
      async () => {
        const names = ((await clients.scheduler.send(new ListSchedulesCommand({ GroupName: 'batchron-dev' }))).Schedules ?? []).map((s) => s.Name ?? '');
        return names.every((n) => !n.startsWith('_') || n === SWEEP_SCHEDULE_NAME) ? true : undefined;
      },
      'the window close schedules to delete themselves',
      30_000,
    );
  }, 90_000);
});

describe('deployLocal', () => {
  it('creates the table with its indexes and TTL', async () => {
    // Act
    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: first.table }));
    const ttl = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: first.table }));
    // Assess
    expect(first.table).toBe('batchron-dev');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual([TABLE.activeIndex, TABLE.byScheduleIndex].sort());
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe(TABLE.ttlAttribute);
  });

  it('creates the compute environment, the queue and the job definitions', async () => {
    // Act
    const ces = await clients.batch.send(new DescribeComputeEnvironmentsCommand({ computeEnvironments: ['batchron-dev'] }));
    const queues = await clients.batch.send(new DescribeJobQueuesCommand({ jobQueues: ['batchron-dev'] }));
    const defs = await clients.batch.send(new DescribeJobDefinitionsCommand({ status: 'ACTIVE' }));
    // Assess
    expect(ces.computeEnvironments?.[0]?.computeResources?.maxvCpus).toBe(16);
    expect(queues.jobQueues?.[0]).toMatchObject({ jobQueueName: 'batchron-dev', state: 'ENABLED' });
    const names = (defs.jobDefinitions ?? []).map((d) => d.jobDefinitionName);
    expect(names).toEqual(expect.arrayContaining(['batchron-dev-hello', 'batchron-dev-etl', 'batchron-dev-flaky', 'batchron-dev-slow']));
    const etl = defs.jobDefinitions?.find((d) => d.jobDefinitionName === 'batchron-dev-etl');
    expect(etl?.containerProperties).toMatchObject({
      command: ['sh', 'jobs/etl.sh'],
      resourceRequirements: expect.arrayContaining([
        { type: 'VCPU', value: '0.5' },
        { type: 'MEMORY', value: '1024' },
      ]),
    });
  });

  it('creates the schedule group and one schedule per example, targeting the local fire function', async () => {
    // Act
    const list = await clients.scheduler.send(new ListSchedulesCommand({ GroupName: 'batchron-dev' }));
    const dag = await clients.scheduler.send(new GetScheduleCommand({ GroupName: 'batchron-dev', Name: 'etl-dag' }));
    // Assess
    expect((list.Schedules ?? []).map((s) => s.Name).sort()).toEqual([...EXAMPLE_SCHEDULES, SWEEP_SCHEDULE_NAME].sort());
    expect(dag.Target?.Arn).toBe(stack.lambda.arnOf('batchron-dev-fire'));
    const input = FireInputSchema.parse({ ...JSON.parse(dag.Target!.Input!), scheduledTime: '2026-01-01T00:00:00Z' });
    expect(input.definition.tasks.map((t) => t.name)).toEqual(['extract', 'transform-orders', 'transform-customers', 'load']);
    const tokyo = await clients.scheduler.send(new GetScheduleCommand({ GroupName: 'batchron-dev', Name: 'nightly-tokyo' }));
    expect(tokyo).toMatchObject({ ScheduleExpression: 'cron(0 2 * * ? *)', ScheduleExpressionTimezone: 'Asia/Tokyo', State: 'ENABLED' });
  });

  it('registers every function, the job-events rule and the event triggers\' rules on the bus', () => {
    // Assess
    expect(stack.lambda.functions().sort()).toEqual(['batchron-dev-api', 'batchron-dev-fire', 'batchron-dev-job-events', 'batchron-dev-retry', 'batchron-dev-sweep', 'batchron-dev-trigger']);
    expect(stack.bus.rules()).toEqual([
      expect.objectContaining({
        name: 'batchron-dev-job-events-rule-1',
        pattern: {
          source: ['aws.batch'],
          'detail-type': ['Batch Job State Change'],
          detail: { status: ['RUNNING', 'SUCCEEDED', 'FAILED'], jobName: [{ prefix: 'batchron-dev_' }] },
        },
        targets: [expect.objectContaining({ arn: stack.lambda.arnOf('batchron-dev-job-events') })],
      }),
      expect.objectContaining({
        name: 'batchron-dev-on-upload-on0',
        pattern: {
          source: ['aws.s3'],
          'detail-type': ['Object Created'],
          detail: { bucket: { name: ['batchron-example-inbox'] }, object: { key: [{ prefix: 'incoming/' }] } },
        },
        targets: [expect.objectContaining({ arn: stack.lambda.arnOf('batchron-dev-trigger'), inputTransformer: expect.objectContaining({ inputTemplate: expect.stringContaining('"event":<aws.events.event.json>}') }) })],
      }),
    ]);
    expect(first.routes).toContainEqual(expect.objectContaining({ method: 'GET', path: '/runs/{id}', functionName: 'batchron-dev-api' }));
  });

  it('sets the functions environment to local names and ARNs', () => {
    expect(first.environment).toMatchObject({
      [ENV.table]: 'batchron-dev',
      [ENV.scheduleGroup]: 'batchron-dev',
      [ENV.fireTargetArn]: stack.lambda.arnOf('batchron-dev-fire'),
      [ENV.retryTargetArn]: stack.lambda.arnOf('batchron-dev-retry'),
      [ENV.schedulerRoleArn]: `arn:aws:iam::${stack.account}:role/batchron-dev-BatchronSchedulerRole`,
      AWS_ENDPOINT_URL: stack.url,
    });
    // Jobs the stack's own stop ends are not paged for (docs/cli.md).
    expect(JSON.parse(first.environment[ENV.quietFailureReasons]!)).toEqual(['*(The local stack stopped:*']);
    // Locally Slack comes from SLACK_WEBHOOK_URL: the stack has no SSM.
    expect(first.environment[ENV.slackWebhookParameter]).toBeUndefined();
  });

  it('updates instead of failing when run again, keeping a schedule paused meanwhile', async () => {
    // Prepare: pause one schedule as the API would
    const current = await clients.scheduler.send(new GetScheduleCommand({ GroupName: 'batchron-dev', Name: 'every-minute' }));
    await clients.scheduler.send(
      new UpdateScheduleCommand({
        Name: 'every-minute',
        GroupName: 'batchron-dev',
        ScheduleExpression: current.ScheduleExpression!,
        FlexibleTimeWindow: current.FlexibleTimeWindow!,
        Target: current.Target!,
        State: 'DISABLED',
      }),
    );
    // Act
    const second = await deployLocal(stack, { projectDir: PROJECT_DIR, service: await resolvedOnce() });
    // Assess
    expect(second.schedules.every((s) => !s.created)).toBe(true);
    expect(second.jobDefinitions.every((d) => !d.registered)).toBe(true);
    expect(second.jobDefinitions.map((d) => d.revision)).toEqual(first.jobDefinitions.map((d) => d.revision));
    const after = await clients.scheduler.send(new GetScheduleCommand({ GroupName: 'batchron-dev', Name: 'every-minute' }));
    expect(after.State).toBe('DISABLED');
  });

  it('removes the schedules serverless.yml no longer declares, as a deploy would, and keeps dynamic and retry schedules', async () => {
    // Prepare: a dynamic schedule (created through the API), a one-time retry schedule, and
    // serverless.yml without `flaky`.
    const etl = await clients.scheduler.send(new GetScheduleCommand({ GroupName: 'batchron-dev', Name: 'etl-dag' }));
    const fireInput = JSON.parse(etl.Target!.Input!) as Record<string, unknown>;
    const common = { GroupName: 'batchron-dev', FlexibleTimeWindow: { Mode: 'OFF' as const }, State: 'DISABLED' as const };
    await clients.scheduler.send(
      new CreateScheduleCommand({ ...common, Name: 'made-by-api', ScheduleExpression: 'rate(1 hour)', Target: { ...etl.Target!, Input: JSON.stringify({ ...fireInput, schedule: 'made-by-api', origin: 'api' }) } }),
    );
    await clients.scheduler.send(
      new CreateScheduleCommand({ ...common, Name: 'retry-x', ScheduleExpression: 'at(2030-01-01T00:00:00)', Target: { ...etl.Target!, Input: JSON.stringify({ runId: 'x', task: 'main', attempt: 2 }) } }),
    );
    const service = await resolvedOnce();
    const batchron = structuredClone(service.custom!.batchron) as { schedules: Record<string, unknown> };
    delete batchron.schedules.flaky;
    // Act
    const third = await deployLocal(stack, { projectDir: PROJECT_DIR, service: { ...service, custom: { ...service.custom, batchron } } });
    // Assess
    const names = ((await clients.scheduler.send(new ListSchedulesCommand({ GroupName: 'batchron-dev' }))).Schedules ?? []).map((s) => s.Name).sort();
    expect(third.removedSchedules).toEqual(['flaky']);
    expect(names).toEqual([...EXAMPLE_SCHEDULES.filter((n) => n !== 'flaky'), SWEEP_SCHEDULE_NAME, 'made-by-api', 'retry-x'].sort());
  });
});
