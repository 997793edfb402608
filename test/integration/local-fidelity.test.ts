/**
 * Where the local stack used to answer differently from AWS, through the real SDK clients:
 * each case is AWS's documented (or observed, where cited) behaviour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  CreateSchedulingPolicyCommand,
  ListSchedulingPoliciesCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  TagResourceCommand,
  type ComputeResource,
} from '@aws-sdk/client-batch';
import { CreateScheduleCommand, GetScheduleCommand, type CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRuleNamesByTargetCommand,
  ListRulesCommand,
  ListTagsForResourceCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  TagResourceCommand as TagEventsResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-eventbridge';
import { eventually, startTestStack, type TestStack } from '#test/helpers/stack';

let t: TestStack;
beforeAll(async () => {
  t = await startTestStack();
  await t.clients.batch.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: 'fargate',
      type: 'MANAGED',
      computeResources: { type: 'FARGATE', maxvCpus: 4, subnets: ['subnet-1'], securityGroupIds: ['sg-1'] },
    }),
  );
  await t.clients.batch.send(new CreateJobQueueCommand({ jobQueueName: 'q', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'fargate' }] }));
  await t.clients.batch.send(
    new RegisterJobDefinitionCommand({ jobDefinitionName: 'ok', type: 'container', containerProperties: { image: 'x', command: ['true'], vcpus: 1, memory: 512 } }),
  );
});
afterAll(async () => {
  await t?.stop();
});

const fiftyOneTags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));

describe('Batch answers as AWS does', () => {
  it.each([
    ['SubmitJob', () => new SubmitJobCommand({ jobName: 'tagged', jobQueue: 'q', jobDefinition: 'ok', tags: fiftyOneTags })],
    ['RegisterJobDefinition', () => new RegisterJobDefinitionCommand({ jobDefinitionName: 'tagged', type: 'container', containerProperties: { image: 'x', command: ['true'] }, tags: fiftyOneTags })],
    ['CreateJobQueue', () => new CreateJobQueueCommand({ jobQueueName: 'tagged', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'fargate' }], tags: fiftyOneTags })],
  ])('refuses more than 50 tags on %s', async (_op, command) => {
    await expect(t.clients.batch.send(command() as SubmitJobCommand)).rejects.toMatchObject({
      name: 'ClientException',
      message: 'tags: a resource can have at most 50 tags; this request would give it 51.',
    });
  });

  it('refuses a TagResource that would take a job queue past 50 tags, and a tag key in the reserved aws: prefix', async () => {
    // Prepare
    const { jobQueueArn } = await t.clients.batch.send(
      new CreateJobQueueCommand({ jobQueueName: 'forty-nine', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'fargate' }], tags: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`k${i}`, 'v'])) }),
    );

    // Act
    const over = t.clients.batch.send(new TagResourceCommand({ resourceArn: jobQueueArn!, tags: { a: '1', b: '2' } })).catch((e: unknown) => e);
    const reserved = t.clients.batch.send(new TagResourceCommand({ resourceArn: jobQueueArn!, tags: { 'aws:owner': 'me' } })).catch((e: unknown) => e);

    // Assess
    expect(await over).toMatchObject({ name: 'ClientException', message: expect.stringContaining('at most 50 tags; this request would give it 51') });
    expect(await reserved).toMatchObject({ name: 'ClientException', message: expect.stringContaining('reserved for AWS use') });
  });

  it.each([
    ['instanceRole', { type: 'EC2', minvCpus: 0, maxvCpus: 4, subnets: ['subnet-1'] }],
    ['minvCpus', { type: 'EC2', maxvCpus: 4, subnets: ['subnet-1'], instanceRole: 'ecsInstanceRole' }],
    ['instanceRole', { type: 'SPOT', minvCpus: 0, maxvCpus: 4, subnets: ['subnet-1'] }],
  ] as [string, ComputeResource][])('refuses a MANAGED compute environment without %s (%o)', async (member, computeResources) => {
    await expect(
      t.clients.batch.send(new CreateComputeEnvironmentCommand({ computeEnvironmentName: `no-${member}`, type: 'MANAGED', computeResources })),
    ).rejects.toMatchObject({ name: 'ClientException', message: `computeResources.${member} is required for a MANAGED compute environment of type ${computeResources.type}.` });
  });

  it('refuses an EKS job definition rather than storing half of it', async () => {
    await expect(
      t.clients.batch.send(
        new RegisterJobDefinitionCommand({
          jobDefinitionName: 'eks',
          type: 'container',
          eksProperties: { podProperties: { containers: [{ image: 'x', command: ['true'] }] } },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ClientException', message: expect.stringMatching(/^eksProperties is not emulated by the local Batch/) });
  });

  it('refuses fair-share scheduling policies, and a queue that names one, with a message that says so', async () => {
    // Act
    const create = await t.clients.batch.send(new CreateSchedulingPolicyCommand({ name: 'fair', fairsharePolicy: { shareDecaySeconds: 60 } })).catch((e: unknown) => e);
    const list = await t.clients.batch.send(new ListSchedulingPoliciesCommand({})).catch((e: unknown) => e);
    const queue = await t.clients.batch.send(
      new CreateJobQueueCommand({
        jobQueueName: 'fair-q',
        priority: 1,
        schedulingPolicyArn: 'arn:aws:batch:us-east-1:000000000000:scheduling-policy/fair',
        computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'fargate' }],
      }),
    ).catch((e: unknown) => e);

    // Assess
    for (const refused of [create, list, queue]) {
      expect(refused).toMatchObject({ name: 'ClientException', message: expect.stringMatching(/^Fair-share scheduling policies are not emulated/) });
    }
  });
});

describe('Batch ARNs carry the region that signed the request', () => {
  it('names a queue, a definition, a job and its events in eu-west-1 when the client signs for eu-west-1', async () => {
    // Prepare
    const eu = new BatchClient({ endpoint: t.stack.url, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const regions: string[] = [];
    const off = t.stack.bus.onEvent((a) => {
      if (a.kind === 'published' && a.event.resources[0]?.includes(':eu-west-1:')) regions.push(a.event.region);
    });

    // Act
    const queue = await eu.send(new CreateJobQueueCommand({ jobQueueName: 'eu-q', priority: 1, computeEnvironmentOrder: [{ order: 1, computeEnvironment: 'fargate' }] }));
    const def = await eu.send(new RegisterJobDefinitionCommand({ jobDefinitionName: 'eu-def', type: 'container', containerProperties: { image: 'x', command: ['true'] } }));
    const job = await eu.send(new SubmitJobCommand({ jobName: 'eu-job', jobQueue: 'eu-q', jobDefinition: 'eu-def' }));
    await eventually(() => regions.length > 0, 'a state-change event of the job');
    off();

    // Assess
    expect(queue.jobQueueArn).toBe('arn:aws:batch:eu-west-1:000000000000:job-queue/eu-q');
    expect(def.jobDefinitionArn).toBe('arn:aws:batch:eu-west-1:000000000000:job-definition/eu-def:1');
    expect(job.jobArn).toBe(`arn:aws:batch:eu-west-1:000000000000:job/${job.jobId}`);
    expect(new Set(regions)).toEqual(new Set(['eu-west-1']));
    eu.destroy();
  });
});

describe('Scheduler answers as AWS does', () => {
  const schedule = (name: string, over: Partial<CreateScheduleCommandInput>): CreateScheduleCommand =>
    new CreateScheduleCommand({
      Name: name,
      ScheduleExpression: 'rate(5 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: 'arn:aws:scheduler:::aws-sdk:batch:submitJob', RoleArn: 'arn:aws:iam::000000000000:role/scheduler', Input: '{}' },
      ...over,
    });

  it('refuses a recurring schedule whose StartDate is more than 5 minutes in the past, and accepts one within 5 minutes', async () => {
    // Prepare
    const now = t.stack.clock.now();

    // Act
    const old = await t.clients.scheduler.send(schedule('started-long-ago', { StartDate: new Date(now - 6 * 60_000) })).catch((e: unknown) => e);
    const recent = await t.clients.scheduler.send(schedule('started-just-now', { StartDate: new Date(now - 4 * 60_000) }));

    // Assess
    expect(old).toMatchObject({ name: 'ValidationException', message: 'The StartDate you specify cannot be earlier than 5 minutes ago.' });
    expect(recent.ScheduleArn).toMatch(/schedule\/default\/started-just-now$/);
  });

  it('ignores the StartDate of a one-time schedule, as its reference says', async () => {
    // Prepare
    const now = t.stack.clock.now();
    const at = new Date(now + 3_600_000).toISOString().slice(0, 19);

    // Act
    await t.clients.scheduler.send(schedule('once-with-old-start', { ScheduleExpression: `at(${at})`, StartDate: new Date(now - 86_400_000) }));
    const got = await t.clients.scheduler.send(new GetScheduleCommand({ Name: 'once-with-old-start' }));

    // Assess
    expect(got.ScheduleExpression).toBe(`at(${at})`);
  });
});

describe('EventBridge answers as AWS does', () => {
  const events = () =>
    new EventBridgeClient({ endpoint: t.stack.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  const fn = 'arn:aws:lambda:us-east-1:000000000000:function:nowhere';

  it('refuses PutEvents entries with the error codes and messages AWS gives', async () => {
    // Act
    const out = await events().send(
      new PutEventsCommand({
        Entries: [
          { DetailType: 'x', Detail: '{}' },
          { Source: 'app', Detail: '{}' },
          { Source: 'app', DetailType: 'x' },
          { Source: 'app', DetailType: 'x', Detail: '[1,2]' },
          { Source: 'app', DetailType: 'x', Detail: 'not json' },
          { Source: 'app', DetailType: 'x', Detail: '{"ok":true}' },
        ],
      }),
    );

    // Assess
    expect(out.FailedEntryCount).toBe(5);
    expect(out.Entries!.slice(0, 5)).toEqual([
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.' },
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
    ]);
    expect(out.Entries![5]!.EventId).toEqual(expect.any(String));
  });

  it('refuses a scheduled rule with a message that points at EventBridge Scheduler, and one on a custom bus as AWS does', async () => {
    // Prepare
    await events().send(new CreateEventBusCommand({ Name: 'sched-bus' }));

    // Act
    const onDefault = await events().send(new PutRuleCommand({ Name: 'every-5', ScheduleExpression: 'rate(5 minutes)' })).catch((e: unknown) => e);
    const onCustom = await events().send(new PutRuleCommand({ Name: 'every-5', ScheduleExpression: 'rate(5 minutes)', EventBusName: 'sched-bus' })).catch((e: unknown) => e);

    // Assess
    expect(onDefault).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('create the schedule with EventBridge Scheduler (CreateSchedule)') });
    expect(onCustom).toMatchObject({ name: 'ValidationException', message: 'ScheduleExpression is supported only on the default event bus.' });
  });

  it('refuses a target that is not an ARN, and a sixth target', async () => {
    // Prepare
    await events().send(new PutRuleCommand({ Name: 'targets', EventPattern: '{"source":["app"]}' }));

    // Act
    const notArn = await events().send(new PutTargetsCommand({ Rule: 'targets', Targets: [{ Id: 'a', Arn: 'my-function' }] })).catch((e: unknown) => e);
    const sixth = await events()
      .send(new PutTargetsCommand({ Rule: 'targets', Targets: Array.from({ length: 6 }, (_, i) => ({ Id: `t${i}`, Arn: `${fn}${i}` })) }))
      .catch((e: unknown) => e);

    // Assess
    expect(notArn).toMatchObject({ name: 'ValidationException', message: 'Parameter my-function is not valid. Reason: Provided Arn is not in correct format.' });
    expect(sixth).toMatchObject({ name: 'LimitExceededException' });
  });

  it('describes, disables, enables and finds rules by target, and tags rules and buses', async () => {
    // Prepare
    const { RuleArn } = await events().send(new PutRuleCommand({ Name: 'described', EventPattern: '{"source":["app"]}', Description: 'for a test' }));
    await events().send(new PutTargetsCommand({ Rule: 'described', Targets: [{ Id: 'fn', Arn: fn }] }));

    // Act
    await events().send(new DisableRuleCommand({ Name: 'described' }));
    const disabled = await events().send(new DescribeRuleCommand({ Name: 'described' }));
    await events().send(new EnableRuleCommand({ Name: 'described' }));
    const enabled = await events().send(new DescribeRuleCommand({ Name: 'described' }));
    const byTarget = await events().send(new ListRuleNamesByTargetCommand({ TargetArn: fn }));
    await events().send(new TagEventsResourceCommand({ ResourceARN: RuleArn!, Tags: [{ Key: 'team', Value: 'data' }] }));
    await events().send(new UntagResourceCommand({ ResourceARN: RuleArn!, TagKeys: ['nothing'] }));
    const tags = await events().send(new ListTagsForResourceCommand({ ResourceARN: RuleArn! }));
    const missing = await events().send(new DescribeRuleCommand({ Name: 'nope' })).catch((e: unknown) => e);

    // Assess
    expect(disabled).toMatchObject({ Name: 'described', Arn: RuleArn, State: 'DISABLED', EventBusName: 'default', Description: 'for a test', EventPattern: '{"source":["app"]}' });
    expect(enabled.State).toBe('ENABLED');
    expect(byTarget.RuleNames).toEqual(['described']);
    expect(tags.Tags).toEqual([{ Key: 'team', Value: 'data' }]);
    expect(missing).toMatchObject({ name: 'ResourceNotFoundException', message: 'Rule nope does not exist on EventBus default.' });
  });

  it('keeps custom buses apart: a rule on one sees only the events put on it', async () => {
    // Prepare
    const created = await events().send(new CreateEventBusCommand({ Name: 'orders', Tags: [{ Key: 'team', Value: 'shop' }] }));
    const { RuleArn } = await events().send(new PutRuleCommand({ Name: 'on-orders', EventBusName: 'orders', EventPattern: '{"source":["shop"]}' }));
    const seen: string[] = [];
    const off = t.stack.bus.onEvent((a) => {
      if (a.kind === 'published' && a.rules.includes('on-orders')) seen.push((a.event.detail as { n: string }).n);
    });

    // Act
    await events().send(
      new PutEventsCommand({
        Entries: [
          { Source: 'shop', DetailType: 'x', Detail: '{"n":"default bus"}' },
          { Source: 'shop', DetailType: 'x', Detail: '{"n":"orders by name"}', EventBusName: 'orders' },
          { Source: 'shop', DetailType: 'x', Detail: '{"n":"orders by arn"}', EventBusName: created.EventBusArn },
        ],
      }),
    );
    off();
    const unknown = await events().send(new PutEventsCommand({ Entries: [{ Source: 'shop', DetailType: 'x', Detail: '{}', EventBusName: 'nope' }] }));
    const buses = await events().send(new ListEventBusesCommand({}));
    const described = await events().send(new DescribeEventBusCommand({ Name: 'orders' }));
    const busTags = await events().send(new ListTagsForResourceCommand({ ResourceARN: created.EventBusArn! }));
    const rules = await events().send(new ListRulesCommand({ EventBusName: 'orders' }));
    const deleteDefault = await events().send(new DeleteEventBusCommand({ Name: 'default' })).catch((e: unknown) => e);
    await events().send(new DeleteEventBusCommand({ Name: 'orders' }));
    const afterDelete = await events().send(new DescribeRuleCommand({ Name: 'on-orders', EventBusName: 'orders' })).catch((e: unknown) => e);

    // Assess
    expect(created.EventBusArn).toBe('arn:aws:events:us-east-1:000000000000:event-bus/orders');
    expect(RuleArn).toBe('arn:aws:events:us-east-1:000000000000:rule/orders/on-orders');
    expect(seen).toEqual(['orders by name', 'orders by arn']);
    expect(unknown.Entries).toEqual([{ ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus nope does not exist.' }]);
    expect(buses.EventBuses!.map((b) => b.Name)).toEqual(expect.arrayContaining(['default', 'orders']));
    expect(described).toMatchObject({ Name: 'orders', Arn: created.EventBusArn });
    expect(busTags.Tags).toEqual([{ Key: 'team', Value: 'shop' }]);
    expect(rules.Rules!.map((r) => r.Name)).toEqual(['on-orders']);
    expect(deleteDefault).toMatchObject({ name: 'ValidationException', message: 'Cannot delete event bus default.' });
    expect(afterDelete).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
