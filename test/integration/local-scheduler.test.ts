import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConflictException,
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleGroupCommand,
  GetScheduleCommand,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  TagResourceCommand,
  ThrottlingException,
  UntagResourceCommand,
  UpdateScheduleCommand,
  ValidationException,
  type CreateScheduleCommandInput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { Clock } from '#local/clock';
import type { BatchSubmitter, LambdaInvoker, SubmitJobRequest } from '#local/contracts';
import { startEndpoint, type Endpoint } from '#local/endpoint';
import { Faults } from '#local/faults';
import { LocalScheduler, type FireReport, type MissedFire } from '#local/scheduler/index';
import { awsClients } from '#test/helpers/aws';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/scheduler`;
const FIRE_FN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:batchron-dev-fire`;

/** Stands in for the local Lambda runtime: records async invokes, can fail the first N. */
class RecordingLambda implements LambdaInvoker {
  readonly invocations: { arn: string; payload: unknown }[] = [];
  failures = 0;
  has(arn: string) {
    return arn === FIRE_FN;
  }
  async invokeAsync(arn: string, payload: unknown) {
    if (!this.has(arn)) throw new Error(`Function not found: ${arn}`);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('Rate Exceeded.');
    }
    this.invocations.push({ arn, payload });
  }
  async invoke(): Promise<unknown> {
    throw new Error('not used by the Scheduler');
  }
}

class RecordingBatch implements BatchSubmitter {
  readonly submitted: SubmitJobRequest[] = [];
  async submitJob(req: SubmitJobRequest) {
    this.submitted.push(req);
    return { jobId: `job-${this.submitted.length}`, jobName: req.jobName, jobArn: `arn:aws:batch:${REGION}:${ACCOUNT}:job/job-${this.submitted.length}` };
  }
}

interface Stack {
  clock: Clock;
  faults: Faults;
  lambda: RecordingLambda;
  batch: RecordingBatch;
  fires: FireReport[];
  logs: string[];
  scheduler: LocalScheduler;
  endpoint: Endpoint;
  client: SchedulerClient;
  missed: Awaited<ReturnType<LocalScheduler['start']>>['missed'];
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function stack(opts: { now: string; dataDir?: string; clock?: Clock; lambda?: RecordingLambda }): Promise<Stack> {
  const clock = opts.clock ?? new Clock(new Date(opts.now));
  const faults = new Faults(() => clock.now(), 7);
  const lambda = opts.lambda ?? new RecordingLambda();
  const batch = new RecordingBatch();
  const fires: FireReport[] = [];
  const logs: string[] = [];
  const scheduler = new LocalScheduler({
    clock, faults, region: REGION, account: ACCOUNT, dataDir: opts.dataDir, lambda, batch,
    onFire: (f) => fires.push(f),
    log: (line) => logs.push(line),
  });
  const { missed } = await scheduler.start();
  const endpoint = await startEndpoint({ port: 0, services: [scheduler] });
  const client = awsClients(endpoint.url).scheduler;
  cleanups.push(async () => {
    client.destroy();
    await endpoint.close();
    await scheduler.stop();
  });
  return { clock, faults, lambda, batch, fires, logs, scheduler, endpoint, client, missed };
}

/** Moves the clock forward in steps, letting each step's deliveries (promises) settle. */
async function advance(s: Stack, ms: number, step = 60_000): Promise<void> {
  for (let left = ms; left > 0; left -= step) {
    s.clock.advance(Math.min(step, left));
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }
}

const lambdaSchedule = (name: string, expression: string, extra: Partial<CreateScheduleCommandInput> = {}): CreateScheduleCommandInput => ({
  Name: name,
  ScheduleExpression: expression,
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: {
    Arn: FIRE_FN,
    RoleArn: ROLE,
    Input: JSON.stringify({ schedule: name, scheduledTime: '<aws.scheduler.scheduled-time>' }),
  },
  ...extra,
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('LocalScheduler firing', () => {
  it('fires a cron schedule on time and its Lambda target receives the substituted input', async () => {
    const s = await stack({ now: '2026-11-23T15:59:50Z' });
    await s.client.send(
      new CreateScheduleCommand({
        ...lambdaSchedule('nightly', 'cron(0 16 * * ? *)'),
        Target: {
          Arn: FIRE_FN,
          RoleArn: ROLE,
          Input: JSON.stringify({
            schedule: 'nightly',
            scheduledTime: '<aws.scheduler.scheduled-time>',
            arn: '<aws.scheduler.schedule-arn>',
            execution: '<aws.scheduler.execution-id>',
            attempt: '<aws.scheduler.attempt-number>',
          }),
        },
      }),
    );

    await advance(s, 5_000, 5_000);
    expect(s.lambda.invocations).toEqual([]);
    await advance(s, 5_000, 5_000);

    expect(s.lambda.invocations).toHaveLength(1);
    const { arn, payload } = s.lambda.invocations[0]!;
    expect(arn).toBe(FIRE_FN);
    expect(payload).toEqual({
      schedule: 'nightly',
      scheduledTime: '2026-11-23T16:00:00Z',
      arn: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/nightly`,
      execution: expect.stringMatching(/^[0-9a-f]{16}$/),
      attempt: '1',
    });
    expect(s.fires).toEqual([
      { group: 'default', name: 'nightly', scheduledTime: new Date('2026-11-23T16:00:00Z'), targetArn: FIRE_FN, ok: true, attempt: 1 },
    ]);
  });

  it('captures the fire Lambda input as events/scheduler/fire-input.json', async () => {
    const s = await stack({ now: '2026-11-23T15:59:50Z' });
    await s.client.send(new CreateScheduleCommand(lambdaSchedule('nightly-report', 'cron(0 16 * * ? *)')));
    await advance(s, 10_000, 10_000);
    expect(s.lambda.invocations[0]!.payload).toEqual({ schedule: 'nightly-report', scheduledTime: '2026-11-23T16:00:00Z' });
    writeFileSync(join(import.meta.dirname, '../../events/scheduler/fire-input.json'), `${JSON.stringify(s.lambda.invocations[0]!.payload, null, 2)}\n`);
  });

  it('fires a rate schedule at its start date and every period after', async () => {
    const s = await stack({ now: '2026-01-01T00:00:00Z' });
    await s.client.send(new CreateScheduleCommand(lambdaSchedule('every-5', 'rate(5 minutes)', { StartDate: new Date('2026-01-01T00:02:00Z') })));
    await advance(s, 15 * 60_000);
    expect(s.fires.map((f) => f.scheduledTime.toISOString())).toEqual([
      '2026-01-01T00:02:00.000Z', '2026-01-01T00:07:00.000Z', '2026-01-01T00:12:00.000Z',
    ]);
  });

  it('fires a new rate schedule without a start date at once, then every period', async () => {
    const s = await stack({ now: '2026-01-01T00:00:10Z' });
    await s.client.send(new CreateScheduleCommand(lambdaSchedule('every-5-now', 'rate(5 minutes)')));
    await advance(s, 11 * 60_000);
    expect(s.fires.map((f) => f.scheduledTime.toISOString().slice(0, 19))).toEqual([
      '2026-01-01T00:00:10', '2026-01-01T00:05:10', '2026-01-01T00:10:10',
    ]);
  });

  it('does not fire an updated rate schedule at once, only on its period', async () => {
    const s = await stack({ now: '2026-01-01T00:00:10Z' });
    await s.client.send(new CreateScheduleCommand(lambdaSchedule('updated', 'rate(5 minutes)')));
    await advance(s, 2 * 60_000);
    await s.client.send(new UpdateScheduleCommand(lambdaSchedule('updated', 'rate(5 minutes)')));
    await advance(s, 4 * 60_000);
    expect(s.fires.map((f) => f.scheduledTime.toISOString().slice(0, 19))).toEqual(['2026-01-01T00:00:10', '2026-01-01T00:05:10']);
  });

  it('fires an at() schedule with ActionAfterCompletion DELETE once, then the schedule is gone', async () => {
    const s = await stack({ now: '2026-06-01T09:00:00Z' });
    await s.client.send(
      new CreateScheduleCommand(lambdaSchedule('retry-once', 'at(2026-06-01T11:05:00)', { ScheduleExpressionTimezone: 'Europe/Berlin', ActionAfterCompletion: 'DELETE' })),
    );
    await advance(s, 5 * 60_000);
    expect(s.lambda.invocations.map((i) => i.payload)).toEqual([{ schedule: 'retry-once', scheduledTime: '2026-06-01T09:05:00Z' }]);
    const error = await rejection(s.client.send(new GetScheduleCommand({ Name: 'retry-once' })));
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error.message).toBe('Schedule retry-once does not exist.');
    await advance(s, 24 * 3_600_000, 3_600_000);
    expect(s.lambda.invocations).toHaveLength(1);
  });

  it('does not fire a DISABLED schedule, and fires it once enabled', async () => {
    const s = await stack({ now: '2026-01-01T00:00:30Z' });
    await s.client.send(new CreateScheduleCommand(lambdaSchedule('paused', 'rate(1 minute)', { State: 'DISABLED' })));
    await advance(s, 10 * 60_000);
    expect(s.fires).toEqual([]);
    await s.client.send(new UpdateScheduleCommand(lambdaSchedule('paused', 'cron(* * * * ? *)', { State: 'ENABLED' })));
    await advance(s, 60_000);
    expect(s.fires.map((f) => f.scheduledTime.toISOString())).toEqual(['2026-01-01T00:11:00.000Z']);
  });

  it('fires in the schedule time zone across the spring DST change, skipping the missing 02:30', async () => {
    const s = await stack({ now: '2026-03-07T00:00:00Z' });
    await s.client.send(new CreateScheduleCommand(lambdaSchedule('ny', 'cron(30 2 * * ? *)', { ScheduleExpressionTimezone: 'America/New_York' })));
    await advance(s, 3 * 86_400_000, 3_600_000);
    expect(s.fires.map((f) => f.scheduledTime.toISOString())).toEqual(['2026-03-07T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  it('retries a failing delivery per the RetryPolicy, then drops it to the dead-letter queue', async () => {
    const s = await stack({ now: '2026-01-01T00:59:00Z' });
    s.lambda.failures = 10;
    await s.client.send(
      new CreateScheduleCommand({
        ...lambdaSchedule('flaky', 'cron(0 1 * * ? *)'),
        Target: {
          Arn: FIRE_FN,
          RoleArn: ROLE,
          Input: '{"attempt":"<aws.scheduler.attempt-number>"}',
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:scheduler-dlq` },
        },
      }),
    );
    await advance(s, 10 * 60_000, 5_000);
    expect(s.fires.map((f) => [f.attempt, f.ok])).toEqual([[1, false], [2, false], [3, false]]);
    expect(s.fires[0]!.error).toBe('Rate Exceeded.');
    expect(s.logs).toEqual([
      `scheduler: default/flaky fire at 2026-01-01T01:00:00Z dropped after 3 attempt(s): Rate Exceeded. (sent to dead-letter queue arn:aws:sqs:${REGION}:${ACCOUNT}:scheduler-dlq)`,
    ]);
  });

  it('delivers on a retry once the target recovers, with the attempt number substituted', async () => {
    const s = await stack({ now: '2026-01-01T00:59:00Z' });
    s.lambda.failures = 1;
    await s.client.send(
      new CreateScheduleCommand({
        ...lambdaSchedule('recovers', 'cron(0 1 * * ? *)'),
        Target: { Arn: FIRE_FN, RoleArn: ROLE, Input: '{"attempt":"<aws.scheduler.attempt-number>"}' },
      }),
    );
    await advance(s, 5 * 60_000, 5_000);
    expect(s.fires.map((f) => [f.attempt, f.ok])).toEqual([[1, false], [2, true]]);
    expect(s.lambda.invocations.map((i) => i.payload)).toEqual([{ attempt: '2' }]);
  });

  it('submits a Batch job through the universal target, mapping PascalCase input to the SubmitJob request', async () => {
    const s = await stack({ now: '2026-06-01T08:59:00Z' });
    await s.client.send(
      new CreateScheduleCommand({
        Name: 'batch-direct',
        ScheduleExpression: 'at(2026-06-01T09:00:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: 'arn:aws:scheduler:::aws-sdk:batch:submitJob',
          RoleArn: ROLE,
          Input: JSON.stringify({
            JobName: 'nightly-<aws.scheduler.attempt-number>',
            JobQueue: 'batchron-queue',
            JobDefinition: 'batchron-job',
            Parameters: { ScheduledTime: '<aws.scheduler.scheduled-time>' },
            ContainerOverrides: { Environment: [{ Name: 'MODE', Value: 'full' }] },
          }),
        },
      }),
    );
    await advance(s, 2 * 60_000);
    expect(s.batch.submitted).toEqual([
      {
        jobName: 'nightly-1',
        jobQueue: 'batchron-queue',
        jobDefinition: 'batchron-job',
        parameters: { ScheduledTime: '2026-06-01T09:00:00Z' },
        containerOverrides: { environment: [{ name: 'MODE', value: 'full' }] },
      },
    ]);
    expect(await rejection(s.client.send(new GetScheduleCommand({ Name: 'batch-direct' })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('fires within a FLEXIBLE window, after the scheduled time and before the window closes', async () => {
    const s = await stack({ now: '2026-01-01T00:59:00Z' });
    await s.client.send(
      new CreateScheduleCommand(lambdaSchedule('flex', 'cron(0 1 * * ? *)', { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 } })),
    );
    let deliveredAt: number | undefined;
    for (let i = 0; i < 17 * 6; i++) {
      await advance(s, 10_000, 10_000);
      if (deliveredAt === undefined && s.lambda.invocations.length > 0) deliveredAt = s.clock.now();
    }
    expect(s.lambda.invocations).toHaveLength(1);
    expect(s.fires[0]!.scheduledTime.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    // Seen within one 10 s step of the delivery, which lies inside [01:00, 01:15].
    expect(deliveredAt).toBeGreaterThanOrEqual(Date.parse('2026-01-01T01:00:00Z'));
    expect(deliveredAt).toBeLessThanOrEqual(Date.parse('2026-01-01T01:15:10Z'));
  });

  it('lists the fires missed while stopped on restart, without running them, and fires the next one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'batchron-scheduler-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const clock = new Clock(new Date('2026-01-01T00:00:30Z'));
    const first = await stack({ now: '', clock, dataDir });
    await first.client.send(new CreateScheduleCommand(lambdaSchedule('minutely', 'cron(* * * * ? *)')));
    await advance(first, 60_000);
    expect(first.fires.map((f) => f.scheduledTime.toISOString())).toEqual(['2026-01-01T00:01:00.000Z']);
    await first.scheduler.stop();

    clock.advance(3 * 60_000); // 00:04:30, three fires missed while stopped
    const lambda = new RecordingLambda();
    const second = await stack({ now: '', clock, dataDir, lambda });
    expect(second.missed.map(({ group, name, scheduledTime }) => ({ group, name, scheduledTime }))).toEqual([
      { group: 'default', name: 'minutely', scheduledTime: new Date('2026-01-01T00:02:00Z') },
      { group: 'default', name: 'minutely', scheduledTime: new Date('2026-01-01T00:03:00Z') },
      { group: 'default', name: 'minutely', scheduledTime: new Date('2026-01-01T00:04:00Z') },
    ]);
    await new Promise((r) => setImmediate(r));
    expect(lambda.invocations).toEqual([]);
    await advance(second, 60_000);
    expect(second.fires.map((f) => f.scheduledTime.toISOString())).toEqual(['2026-01-01T00:05:00.000Z']);
  });
});

describe('the missed-fire report is durable', () => {
  const times = (missed: MissedFire[]) => missed.map((m) => m.scheduledTime.toISOString().slice(11, 19));

  // Defect: "the missed-fire report on restart is lost when a start fails (e.g. a YAML typo)".
  it.each([
    { what: 'a start that failed before the stack was up', failedStarts: 1, report: ['00:02:00', '00:03:00', '00:04:00', '00:05:00'] },
    { what: 'two failed starts in a row', failedStarts: 2, report: ['00:02:00', '00:03:00', '00:04:00', '00:05:00', '00:06:00'] },
  ])('keeps the report after $what, and a started stack moves it on', async ({ failedStarts, report }) => {
    // Prepare: a running stack fires 00:01, then stops.
    const dataDir = mkdtempSync(join(tmpdir(), 'batchron-scheduler-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const clock = new Clock(new Date('2026-01-01T00:00:30Z'));
    const first = await stack({ now: '', clock, dataDir });
    first.scheduler.markRunning();
    await first.client.send(new CreateScheduleCommand(lambdaSchedule('minutely', 'cron(* * * * ? *)')));
    await advance(first, 60_000);
    await first.scheduler.stop();
    clock.advance(3 * 60_000);
    // Act: starts that fail after the Scheduler loaded its state (never marked running), a minute apart.
    for (let i = 0; i < failedStarts; i++) {
      const failed = await stack({ now: '', clock, dataDir });
      await failed.scheduler.stop();
      clock.advance(60_000);
    }
    const next = await stack({ now: '', clock, dataDir });
    // Assess: every fire since the last running instant, with its target.
    expect(times(next.missed)).toEqual(report);
    expect(next.missed[0]!.targetArn).toBe(FIRE_FN);
    // A start that got up moves the mark: the following start reports only what fell due after it.
    next.scheduler.markRunning();
    await next.scheduler.stop();
    clock.advance(2 * 60_000);
    const after = await stack({ now: '', clock, dataDir });
    expect(times(after.missed)).toEqual(report.length === 4 ? ['00:06:00', '00:07:00'] : ['00:07:00', '00:08:00']);
  });
});

describe('LocalScheduler API', () => {
  it('answers GetSchedule with the stored definition, dates in epoch seconds', async () => {
    const s = await stack({ now: '2026-01-01T00:00:00Z' });
    const { ScheduleArn } = await s.client.send(
      new CreateScheduleCommand(lambdaSchedule('daily', 'cron(0 10 * * ? *)', {
        ScheduleExpressionTimezone: 'Europe/Berlin',
        StartDate: new Date('2026-02-01T00:00:00Z'),
        EndDate: new Date('2026-12-31T00:00:00Z'),
        Description: 'daily at ten',
      })),
    );
    const got = await s.client.send(new GetScheduleCommand({ Name: 'daily' }));
    expect(got).toMatchObject({
      Arn: ScheduleArn,
      Name: 'daily',
      GroupName: 'default',
      ScheduleExpression: 'cron(0 10 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      StartDate: new Date('2026-02-01T00:00:00Z'),
      EndDate: new Date('2026-12-31T00:00:00Z'),
      State: 'ENABLED',
      ActionAfterCompletion: 'NONE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: FIRE_FN, RoleArn: ROLE, RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 } },
      CreationDate: expect.any(Date),
    });
    expect(ScheduleArn).toBe(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/daily`);
  });

  const invalid: [string, Partial<CreateScheduleCommandInput>, string][] = [
    ['a five-field cron', { ScheduleExpression: 'cron(0 10 * * *)' }, 'Invalid Schedule Expression cron(0 10 * * *). cron(0 10 * * *) needs 6 fields (minutes hours day-of-month month day-of-week year), got 5'],
    ['a plural unit with 1', { ScheduleExpression: 'rate(1 hours)' }, 'a value of 1 takes the singular unit (rate(1 hour))'],
    ['an unknown time zone', { ScheduleExpressionTimezone: 'Mars/Olympus' }, 'Invalid Schedule Expression Timezone Mars/Olympus.'],
    ['a bad name', { Name: 'no spaces' }, "Value 'no spaces' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern"],
    ['a FLEXIBLE window without its size', { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }, 'MaximumWindowInMinutes is required when FlexibleTimeWindow Mode is FLEXIBLE.'],
    ['an unknown State', { State: 'PAUSED' as 'ENABLED' }, "Value 'PAUSED' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"],
    ['too many retries', { Target: { Arn: FIRE_FN, RoleArn: ROLE, RetryPolicy: { MaximumRetryAttempts: 186 } } }, "at 'target.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185"],
    ['a role that is not an IAM role ARN', { Target: { Arn: FIRE_FN, RoleArn: 'scheduler-role' } }, "Value 'scheduler-role' at 'target.roleArn' failed to satisfy constraint"],
    ['a read-only universal target', { Target: { Arn: 'arn:aws:scheduler:::aws-sdk:batch:describeJobs', RoleArn: ROLE } }, 'does not call read-only API actions (describeJobs)'],
    ['an end date in the past', { EndDate: new Date('2025-01-01T00:00:00Z') }, 'The EndDate you specify must be in the future.'],
  ];
  it.each(invalid)('refuses %s with ValidationException', async (_name, change, message) => {
    const s = await stack({ now: '2026-01-01T00:00:00Z' });
    const error = await rejection(s.client.send(new CreateScheduleCommand({ ...lambdaSchedule('bad', 'cron(0 10 * * ? *)'), ...change })));
    expect(error).toBeInstanceOf(ValidationException);
    expect(error.message).toContain(message);
  });

  it('answers ConflictException for an existing name and ResourceNotFoundException for a missing schedule or group', async () => {
    const s = await stack({ now: '2026-01-01T00:00:00Z' });
    await s.client.send(new CreateScheduleCommand(lambdaSchedule('twice', 'rate(1 hour)')));
    const conflict = await rejection(s.client.send(new CreateScheduleCommand(lambdaSchedule('twice', 'rate(1 hour)'))));
    expect(conflict).toBeInstanceOf(ConflictException);
    expect(conflict.message).toBe('Schedule twice already exists.');
    const missing = await rejection(s.client.send(new UpdateScheduleCommand(lambdaSchedule('ghost', 'rate(1 hour)'))));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.message).toBe('Schedule ghost does not exist.');
    const noGroup = await rejection(s.client.send(new CreateScheduleCommand(lambdaSchedule('x', 'rate(1 hour)', { GroupName: 'nope' }))));
    expect(noGroup).toBeInstanceOf(ResourceNotFoundException);
    expect(noGroup.message).toBe('Schedule group nope does not exist.');
  });

  it('answers ThrottlingException when the operation is throttled', async () => {
    const s = await stack({ now: '2026-01-01T00:00:00Z' });
    s.faults.throttle('scheduler', 'GetSchedule', 1);
    await rejection(s.client.send(new GetScheduleCommand({ Name: 'a' })));
    expect(await rejection(s.client.send(new GetScheduleCommand({ Name: 'a' })))).toBeInstanceOf(ThrottlingException);
  });

  it('pages ListSchedules and filters by group, name prefix and state', async () => {
    const s = await stack({ now: '2026-01-01T00:00:00Z' });
    await s.client.send(new CreateScheduleGroupCommand({ Name: 'reports' }));
    for (let i = 0; i < 5; i++) await s.client.send(new CreateScheduleCommand(lambdaSchedule(`job-${i}`, 'rate(1 hour)')));
    await s.client.send(new CreateScheduleCommand(lambdaSchedule('report-a', 'rate(1 hour)', { GroupName: 'reports', State: 'DISABLED' })));
    await s.client.send(new CreateScheduleCommand(lambdaSchedule('report-b', 'rate(1 hour)', { GroupName: 'reports' })));

    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s.client.send(new ListSchedulesCommand({ MaxResults: 3, NextToken: token }));
      names.push(...page.Schedules!.map((x) => `${x.GroupName}/${x.Name}`));
      token = page.NextToken;
      pages += 1;
    } while (token);
    expect(pages).toBe(3);
    expect(names).toEqual(['default/job-0', 'default/job-1', 'default/job-2', 'default/job-3', 'default/job-4', 'reports/report-a', 'reports/report-b']);

    const inGroup = await s.client.send(new ListSchedulesCommand({ GroupName: 'reports' }));
    expect(inGroup.Schedules!.map((x) => x.Name)).toEqual(['report-a', 'report-b']);
    const disabled = await s.client.send(new ListSchedulesCommand({ State: 'DISABLED' }));
    expect(disabled.Schedules!.map((x) => x.Name)).toEqual(['report-a']);
    const prefixed = await s.client.send(new ListSchedulesCommand({ NamePrefix: 'job-1' }));
    expect(prefixed.Schedules).toEqual([
      expect.objectContaining({ Name: 'job-1', GroupName: 'default', State: 'ENABLED', Target: { Arn: FIRE_FN } }),
    ]);
  });

  it('manages schedule groups and their tags; deleting a group deletes its schedules', async () => {
    const s = await stack({ now: '2026-01-01T00:00:00Z' });
    const { ScheduleGroupArn } = await s.client.send(new CreateScheduleGroupCommand({ Name: 'team', Tags: [{ Key: 'owner', Value: 'data' }] }));
    expect(ScheduleGroupArn).toBe(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/team`);
    expect(await rejection(s.client.send(new CreateScheduleGroupCommand({ Name: 'team' })))).toBeInstanceOf(ConflictException);

    await s.client.send(new TagResourceCommand({ ResourceArn: ScheduleGroupArn, Tags: [{ Key: 'env', Value: 'dev' }] }));
    await s.client.send(new UntagResourceCommand({ ResourceArn: ScheduleGroupArn, TagKeys: ['owner'] }));
    const tags = await s.client.send(new ListTagsForResourceCommand({ ResourceArn: ScheduleGroupArn }));
    expect(tags.Tags).toEqual([{ Key: 'env', Value: 'dev' }]);

    const groups = await s.client.send(new ListScheduleGroupsCommand({}));
    expect(groups.ScheduleGroups!.map((g) => [g.Name, g.State])).toEqual([['default', 'ACTIVE'], ['team', 'ACTIVE']]);

    await s.client.send(new CreateScheduleCommand(lambdaSchedule('in-team', 'rate(1 hour)', { GroupName: 'team' })));
    await s.client.send(new DeleteScheduleGroupCommand({ Name: 'team' }));
    expect(await rejection(s.client.send(new GetScheduleCommand({ Name: 'in-team', GroupName: 'team' })))).toBeInstanceOf(ResourceNotFoundException);
    const defaultDelete = await rejection(s.client.send(new DeleteScheduleGroupCommand({ Name: 'default' })));
    expect(defaultDelete).toBeInstanceOf(ValidationException);
    expect(defaultDelete.message).toBe('You cannot delete the default schedule group.');
  });
});

