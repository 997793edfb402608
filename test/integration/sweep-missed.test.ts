/**
 * A fire whose delivery is lost for good (`fire` fails on every attempt, so Lambda drops the
 * event after its two retries) becomes a run all the same: the sweeper compares the
 * schedule's series with the runs recorded and creates the missing one, exactly once, within
 * one sweep period, however many sweepers race. A fire older than the schedule's catch-up
 * window is recorded SKIPPED with one alert instead.
 *
 * On the local stack: the real local Scheduler fires on the stack clock and invokes the
 * local Lambda, whose `fire` is swapped for one that always throws; the sweeps are the real
 * engine's, on the real Scheduler registry and DynamoDB Local.
 */
import { CreateScheduleCommand, DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatchUp } from '#shared/config/definition';
import { fireInputTemplate } from '#shared/config/validate';
import { runIdFor } from '#shared/engine/naming';
import { sdkScheduleRegistry } from '#shared/engine/registry';
import { sweep, type SweepReport } from '#shared/engine/sweep';
import { listRunsScheduledBetween } from '#shared/store/series-runs';
import { definition, eventually, startEngineStack, task, type EngineStack } from '#test/helpers/engine';

let e: EngineStack;
/** Delivery attempts the broken `fire` received, by schedule. */
const attempts = new Map<string, number>();

beforeAll(async () => {
  e = await startEngineStack({ lambdaRetryDelaysMs: [1_000, 2_000] });
  // `fire` fails on every attempt: Lambda retries twice, then drops the event (no DLQ).
  e.stack.lambda.unregister(e.arns.fire);
  e.stack.lambda.register(`${e.deployment}-fire`, async (event: { schedule: string }) => {
    attempts.set(event.schedule, (attempts.get(event.schedule) ?? 0) + 1);
    throw new Error('fire is broken');
  });
}, 60_000);

afterAll(async () => {
  await e?.stop();
});

/** Moves the stack clock in steps, letting what falls due run (deliveries, Lambda retries). */
async function advance(ms: number, step = 500): Promise<void> {
  for (let left = ms; left > 0; left -= step) {
    e.stack.clock.advance(Math.min(step, left));
    await new Promise((r) => setTimeout(r, 5));
  }
}

const SWEEP_PERIOD_MS = 5 * 60_000;

describe('the sweeper repairs a fire that never became a run', () => {
  it.each<{ sweepers: number; catchUp?: CatchUp; status: string; alerts: number }>([
    { sweepers: 1, status: 'SUCCEEDED', alerts: 0 },
    { sweepers: 2, status: 'SUCCEEDED', alerts: 0 },
    // Older than its window (1 minute) when the sweep comes: recorded SKIPPED, one alert.
    { sweepers: 2, catchUp: { mode: 'alert', windowMinutes: 1 }, status: 'SKIPPED', alerts: 1 },
  ])('with $sweepers sweeper(s) and catchUp $catchUp: one run, $status, within one sweep period', async ({ sweepers, catchUp, status, alerts }) => {
    // Prepare: a schedule firing every ten minutes, created at :09:30.
    const name = `lost-${sweepers}-${catchUp?.mode ?? 'run'}`;
    const def = definition(name, [task('main', 'exit 0')], { expression: 'cron(0/10 * * * ? *)', ...(catchUp ? { catchUp } : {}) });
    const base = Date.parse('2027-01-01T00:00:00Z') + (sweepers * 10 + (catchUp ? 5 : 0)) * 3_600_000;
    e.stack.clock.set(base + 9 * 60_000 + 30_000);
    await e.ts.clients.scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: e.deployment,
        ScheduleExpression: def.expression,
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: e.arns.fire, RoleArn: 'arn:aws:iam::000000000000:role/batchron-scheduler', Input: JSON.stringify(fireInputTemplate(def)) },
      }),
    );
    const slackBefore = e.slack.messages.length;
    const scheduledTime = new Date(base + 10 * 60_000).toISOString();
    const runId = runIdFor({ schedule: name, scheduledTime });

    // Act: the fire at :10:00 and Lambda's two retries all fail; the event is gone.
    await advance(30_000 + 5_000);
    await eventually(async () => (attempts.get(name) === 3 ? true : undefined), 'three failed attempts', 10_000);
    expect(await e.run(runId)).toBeUndefined();
    // The first sweep after the fire is overdue, within one sweep period of it.
    const sweepAt = base + 10 * 60_000 + SWEEP_PERIOD_MS;
    e.stack.clock.set(sweepAt);
    const registry = sdkScheduleRegistry(e.ts.clients.scheduler, { groupName: e.deployment, fireTargetArn: e.arns.fire });
    const reports: SweepReport[] = await Promise.all(Array.from({ length: sweepers }, (_, i) => sweep({ ...e.deps(`sweeper-${i}`), registry })));

    // Assess: exactly one run for that time, created by one sweeper, marked as recovered.
    const created = reports.reduce((n, r) => n + (r.missed?.runsRecovered ?? 0) + (r.missed?.firesSkipped ?? 0), 0);
    expect(created).toBe(1);
    const recorded = await listRunsScheduledBetween({ doc: e.ts.clients.doc, table: e.table }, name, new Date(base), new Date(sweepAt));
    expect(recorded.map((r) => r.runId)).toEqual([runId]);
    const run = await e.waitRun(runId, (r) => r.status === status, `run ${status}`, 30_000);
    expect(run).toMatchObject({ trigger: 'schedule', recoveredBy: 'sweeper', scheduledTime });
    await eventually(async () => (e.slack.messages.length - slackBefore >= alerts ? true : undefined), 'the alert', 5_000);
    const sent = e.slack.messages.slice(slackBefore).filter((m) => m.text.includes(name));
    expect(sent).toHaveLength(alerts);
    if (alerts) expect(sent[0]!.text).toContain(`${name}* fire at ${scheduledTime} never ran`);
    // A later sweep finds the run and creates nothing.
    const again = await sweep({ ...e.deps('sweeper-late'), registry });
    expect((again.missed?.runsRecovered ?? 0) + (again.missed?.firesSkipped ?? 0)).toBe(0);
    await e.ts.clients.scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: e.deployment }));
  }, 90_000);
});
