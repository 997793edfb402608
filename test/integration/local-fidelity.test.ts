/**
 * Where the local stack used to answer differently from AWS, through the real SDK clients:
 * each case is AWS's documented (or observed, where cited) behaviour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
import { startTestStack, type TestStack } from '#test/helpers/stack';

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
