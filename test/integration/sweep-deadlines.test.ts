/**
 * A deadline across the spring-forward night, on the local stack clock: a Berlin schedule
 * firing at 01:00 with `deadline: { at: "02:30" }` on 30 March 2025, when 02:30 does not
 * exist (02:00 CET jumps to 03:00 CEST). The deadline is 03:30 CEST (01:30Z, the gap moved
 * on). The real Scheduler fires, the run fails on the local Batch, and the real sweeper (the
 * engine's `sweep` and the deployed `sweep` function with its own wiring, racing), on the
 * Scheduler registry and DynamoDB Local, sends one alert however many sweeps run, to the
 * deadline's own webhook (an SSM parameter on the local stack), and one "met late" message
 * when a run for the same logical date then succeeds. The run's failure message goes to the
 * deployment's webhook.
 */
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CreateScheduleCommand, DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fireInputTemplate } from '#shared/config/validate';
import { runIdFor } from '#shared/engine/naming';
import { sdkScheduleRegistry } from '#shared/engine/registry';
import { startRun } from '#shared/engine/start';
import { sweep, type SweepReport } from '#shared/engine/sweep';
import { routedNotifier } from '#shared/notify/routing';
import { dynamoDeadlineStore } from '#shared/store/deadlines';
import { definition, eventually, fire, startEngineStack, startSlackCapture, task, type EngineStack, type SlackCapture } from '#test/helpers/engine';

let e: EngineStack;
let oncall: SlackCapture;
let ssm: SSMClient;

beforeAll(async () => {
  e = await startEngineStack();
  oncall = await startSlackCapture();
  ssm = new SSMClient({ endpoint: e.stack.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await ssm.send(new PutParameterCommand({ Name: '/batchron/test/oncall-slack', Type: 'SecureString', Value: oncall.url }));
}, 60_000);

afterAll(async () => {
  ssm?.destroy();
  await oncall?.close();
  await e?.stop();
});

/** Moves the stack clock in steps, letting what falls due run. */
async function advance(ms: number, step = 500): Promise<void> {
  for (let left = ms; left > 0; left -= step) {
    e.stack.clock.advance(Math.min(step, left));
    await new Promise((r) => setTimeout(r, 5));
  }
}

const notify = { onFailure: true, onRecovery: true, stuckAfterMinutes: { queued: 30, submitted: 120, running: 720 } };

describe('a deadline on the spring-forward night (Europe/Berlin, 30 March 2025, at 02:30)', () => {
  it('alerts once at 03:30 CEST to its own webhook, and says "met late" once when the date then succeeds', async () => {
    // Prepare: the schedule, deployed the evening before; its job fails.
    const name = 'nightly-report';
    const def = definition(name, [task('main', 'exit 3')], {
      expression: 'cron(0 1 * * ? *)',
      timezone: 'Europe/Berlin',
      deadline: { at: '02:30', timezone: 'Europe/Berlin', forLogicalDate: 'same' },
      notify: { ...notify, slack: { deadline: { ssm: '/batchron/test/oncall-slack' } } },
    });
    e.stack.clock.set(Date.parse('2025-03-29T23:59:00Z'));
    await e.ts.clients.scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: e.deployment,
        ScheduleExpression: def.expression,
        ScheduleExpressionTimezone: def.timezone,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: e.arns.fire, RoleArn: 'arn:aws:iam::000000000000:role/batchron-scheduler', Input: JSON.stringify(fireInputTemplate(def)) },
      }),
    );
    const registry = sdkScheduleRegistry(e.ts.clients.scheduler, { groupName: e.deployment, fireTargetArn: e.arns.fire });
    const deadlines = dynamoDeadlineStore({ doc: e.ts.clients.doc, table: e.table });
    const notifier = routedNotifier({ url: e.slack.url, ssm: () => ssm, log: e.deps().log });
    const sweeper = (id: string) => sweep({ ...e.deps(id), registry, deadlineStore: deadlines, notifier });
    const deadlineMessages = () => oncall.messages.filter((m) => m.text.includes(`*${name}*`));

    // Act 1: 01:00 CET (00:00Z) fires; the run fails; its failure message goes to the deployment's webhook.
    await advance(90_000);
    const runId = runIdFor({ schedule: name, scheduledTime: '2025-03-30T00:00:00Z' });
    await e.waitRun(runId, (r) => r.status === 'FAILED', 'the run FAILED', 30_000);
    await eventually(async () => (e.slack.messages.some((m) => m.text.includes(`*${name}* failed`)) ? true : undefined), 'the failure message', 10_000);

    // Assess 1: nothing at 02:31 CEST (a deadline read as 02:30 CEST would have fallen), nor at 03:29 CEST.
    for (const t of ['2025-03-30T00:31:00Z', '2025-03-30T01:29:00Z']) {
      e.stack.clock.set(Date.parse(t));
      await sweeper('early');
    }
    expect(deadlineMessages()).toEqual([]);

    // Act 2: 03:31 CEST, three sweepers at once (one of them the deployed sweep function, with
    // its own wiring: the deadline store, the routed notifier reading SSM), then another.
    e.stack.clock.set(Date.parse('2025-03-30T01:31:00Z'));
    const reports = await Promise.all([sweeper('s1'), sweeper('s2'), e.stack.lambda.invoke(e.arns.sweep, {}) as Promise<SweepReport>]);
    await sweeper('s3');

    // Assess 2: one alert, to the deadline's webhook only.
    expect(reports.reduce((n, r) => n + (r.deadlines?.missed ?? 0), 0)).toBe(1);
    expect(deadlineMessages().map((m) => m.text)).toEqual([
      `:alarm_clock: *${name}* missed its deadline: the run for 2025-03-30 had not succeeded by 2025-03-30T03:30:00+02:00 (2025-03-30T01:30:00.000Z); latest run \`${runId}\` is FAILED.`,
    ]);
    expect(e.slack.messages.filter((m) => m.text.includes('deadline'))).toEqual([]);

    // Act 3: a run for the same logical date (a fixed job, started as a backfill) succeeds; sweeps at once and later.
    const fixed = { ...def, tasks: [task('main', 'exit 0')] };
    const rerun = await startRun(fire(fixed, '2025-03-30T00:05:00Z', { trigger: 'backfill' }), e.deps('backfill'), { overlap: 'ignore' });
    await e.waitRun(rerun.runId, (r) => r.status === 'SUCCEEDED', 'the backfilled run SUCCEEDED', 30_000);
    e.stack.clock.set(Date.parse('2025-03-30T01:40:00Z'));
    // The deployed sweep function alone first: its own wiring finds the success and sends
    // through the SSM-routed webhook; then two more sweeps at once find nothing left to send.
    await e.stack.lambda.invoke(e.arns.sweep, {});
    expect(deadlineMessages()).toHaveLength(2);
    await Promise.all([sweeper('s4'), sweeper('s5')]);

    // Assess 3: one "met late" message, and the record says so.
    expect(deadlineMessages()).toHaveLength(2);
    expect(deadlineMessages()[1]!.text).toContain(`*${name}* met its deadline late: the run for 2025-03-30 succeeded (run \`${rerun.runId}\`)`);
    expect(await deadlines.latestDeadline(name, '2025-03-30T02:00:00.000Z')).toMatchObject({
      deadlineAt: '2025-03-30T01:30:00.000Z',
      logicalDate: '2025-03-30',
      status: 'MET_LATE',
      runId: rerun.runId,
      alert: { status: 'SENT' },
      metLate: { status: 'SENT' },
    });
    await e.ts.clients.scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: e.deployment }));
  }, 120_000);
});
