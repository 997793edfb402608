/**
 * Property: for random cron, rate and at schedules (random zones, creation instants, start
 * and end dates, flexible windows, pauses), over simulated days on the local stack's clock,
 * the series (shared/expressions/series.ts, read from GetSchedule as the API and the sweeper
 * read it) names exactly the instants at which the local Scheduler fires, step by step; and
 * the fires plus what a backfill of the whole period would start are the series, with no
 * duplicates.
 *
 * The local Scheduler is driven through its API (the SDK against the local endpoint) and its
 * clock is advanced directly, so three simulated days take milliseconds.
 */
import { CreateScheduleCommand, GetScheduleCommand, UpdateScheduleCommand, type CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Clock } from '#local/clock';
import type { BatchSubmitter, LambdaInvoker } from '#local/contracts';
import { startEndpoint } from '#local/endpoint';
import { Faults } from '#local/faults';
import { LocalScheduler, type FireReport } from '#local/scheduler/index';
import { backfillTimes, planBackfill } from '#shared/api/backfill';
import { runIdFor } from '#shared/engine/naming';
import { firesBetween, nextFires, seriesOfSchedule } from '#shared/expressions/series';
import { awsClients } from '#test/helpers/aws';
import '#test/helpers/fast-check-seed';

const FIRE_FN = 'arn:aws:lambda:us-east-1:000000000000:function:batchron-dev-fire';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAYS = 3;

class AcceptingLambda implements LambdaInvoker {
  has(arn: string) {
    return arn === FIRE_FN;
  }
  async invokeAsync() {}
  async invoke(): Promise<unknown> {
    throw new Error('not used by the Scheduler');
  }
}
const noBatch: BatchSubmitter = {
  async submitJob() {
    throw new Error('not used');
  },
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Nights with a DST change somewhere, and ordinary ones. */
const BASES = ['2026-03-07T00:00:00Z', '2026-03-28T00:00:00Z', '2026-10-03T12:00:00Z', '2026-10-31T00:00:00Z', '2026-11-28T00:00:00Z'].map(Date.parse);
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata'];
const CRONS = ['cron(0/15 * * * ? *)', 'cron(30 2 * * ? *)', 'cron(0 1 * * ? *)', 'cron(5 0/3 * * ? *)', 'cron(0 9 ? * MON-FRI *)', 'cron(45 2 L * ? *)'];
const RATES = ['rate(7 minutes)', 'rate(40 minutes)', 'rate(1 hour)', 'rate(5 hours)', 'rate(1 day)'];

/** Runs the timers that fall due as earlier ones run (a fire arms the next one, a delivery its delay). */
async function drain(clock: Clock): Promise<void> {
  for (let i = 0; i < 8; i++) {
    clock.advance(0);
    await new Promise((r) => setImmediate(r));
  }
}

const localAt = (ms: number) => new Date(ms).toISOString().slice(0, 19);

const scheduleArb = fc
  .record({
    base: fc.constantFrom(...BASES),
    /** The creation instant, any millisecond of the first day. */
    createdOffset: fc.integer({ min: 0, max: DAY - 1 }),
    zone: fc.constantFrom(...ZONES),
    kind: fc.constantFrom('cron', 'rate', 'at'),
    cron: fc.constantFrom(...CRONS),
    rate: fc.constantFrom(...RATES),
    /** at(): a wall time within the period (whole minutes). */
    atOffsetMinutes: fc.integer({ min: 0, max: DAYS * 24 * 60 }),
    // CreateSchedule refuses a StartDate more than 5 minutes back.
    startOffset: fc.option(fc.integer({ min: -4 * 60_000, max: DAY }), { nil: undefined }),
    endOffset: fc.option(fc.integer({ min: DAY / 2, max: 4 * DAY }), { nil: undefined }),
    window: fc.option(fc.constantFrom(5, 15, 60), { nil: undefined }),
    /** Pauses: [start offset from creation, length], in minutes. */
    pauses: fc.array(fc.tuple(fc.integer({ min: 1, max: DAYS * 24 * 60 }), fc.integer({ min: 1, max: 12 * 60 })), { maxLength: 3 }),
  })
  .map((r) => {
    const created = r.base + r.createdOffset;
    const expression = r.kind === 'cron' ? r.cron : r.kind === 'rate' ? r.rate : `at(${localAt(r.base + r.atOffsetMinutes * 60_000)})`;
    const start = r.startOffset === undefined ? undefined : created + r.startOffset;
    let end = r.endOffset === undefined ? undefined : created + r.endOffset;
    if (end !== undefined && start !== undefined && end <= start) end = start + DAY;
    // Sorted, non-overlapping pause intervals [from, to).
    const pauses: [number, number][] = [];
    for (const [at, len] of [...r.pauses].sort((a, b) => a[0] - b[0])) {
      const from = created + at * 60_000;
      if (pauses.length && from <= pauses[pauses.length - 1]![1]) continue;
      pauses.push([from, from + len * 60_000]);
    }
    return { created, expression, zone: r.zone, start, end, window: r.window, pauses };
  });

describe('the series is what the local Scheduler fires', () => {
  it('names every fire, step by step, and fires plus backfill are the series without duplicates', async () => {
    await fc.assert(
      fc.asyncProperty(scheduleArb, async (s) => {
        // Prepare: a Scheduler on its own clock, at the creation instant.
        const clock = new Clock(s.created);
        const fires: FireReport[] = [];
        const scheduler = new LocalScheduler({
          clock,
          faults: new Faults(() => clock.now(), 3),
          region: 'us-east-1',
          account: '000000000000',
          lambda: new AcceptingLambda(),
          batch: noBatch,
          onFire: (f) => fires.push(f),
          log: () => undefined,
        });
        await scheduler.start();
        const endpoint = await startEndpoint({ port: 0, services: [scheduler] });
        const client = awsClients(endpoint.url).scheduler;
        cleanups.push(async () => {
          client.destroy();
          await endpoint.close();
          await scheduler.stop();
          clock.dispose();
        });
        const body: CreateScheduleCommandInput = {
          Name: 'prop',
          ScheduleExpression: s.expression,
          ScheduleExpressionTimezone: s.zone,
          ...(s.start !== undefined ? { StartDate: new Date(s.start) } : {}),
          ...(s.end !== undefined ? { EndDate: new Date(s.end) } : {}),
          FlexibleTimeWindow: s.window ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: s.window } : { Mode: 'OFF' },
          Target: { Arn: FIRE_FN, RoleArn: 'arn:aws:iam::000000000000:role/scheduler', Input: '{}' },
        };
        await client.send(new CreateScheduleCommand(body));
        const periodEnd = s.created + DAYS * DAY;
        const boundaries = [...s.pauses.flat().filter((t) => t < periodEnd), periodEnd].sort((a, b) => a - b);
        const expected: number[] = [];
        let enabled = true;

        // Act + Assess, step by step: from one pause boundary to the next.
        let first = true;
        for (const boundary of boundaries) {
          // The first step counts every fire since the creation: a rate's fire at its creation
          // may already have been delivered while CreateSchedule's answer came back.
          const before = first ? 0 : fires.length;
          const now = clock.now();
          const out = await client.send(new GetScheduleCommand({ Name: 'prop' }));
          // The first step counts from the creation: a rate without a StartDate fires at it (to the second).
          const after = first ? new Date(out.CreationDate!.getTime() - 1001) : new Date(now);
          first = false;
          const next = out.State === 'ENABLED' ? nextFires(seriesOfSchedule(out), after, 1000).filter((t) => t.getTime() <= boundary) : [];
          // A quarter of an hour at a time; each fire arms the next, so run what fell due until nothing is left.
          while (clock.now() < boundary) {
            clock.advance(Math.min(15 * 60_000, boundary - clock.now()));
            await drain(clock);
          }
          if (s.window) {
            // Deliveries inside a flexible window land up to `window` later: count by scheduled time below.
          } else {
            expect(fires.slice(before).map((f) => f.scheduledTime.getTime())).toEqual(next.map((t) => t.getTime()));
          }
          expected.push(...next.map((t) => t.getTime()));
          if (boundary === periodEnd) break;
          // A pause or a resume: UpdateSchedule with the whole definition (as the API does), unless the schedule has ended.
          if (s.end !== undefined && boundary >= s.end) continue;
          enabled = !enabled;
          await client.send(new UpdateScheduleCommand({ ...body, State: enabled ? 'ENABLED' : 'DISABLED' }));
        }
        // Let the last flexible deliveries land.
        clock.advance(2 * HOUR);
        await drain(clock);
        const fired = fires.filter((f) => f.attempt === 1 && f.scheduledTime.getTime() <= periodEnd).map((f) => f.scheduledTime.getTime());
        // Flexible deliveries land in any order inside their windows: compare by scheduled time.
        fired.sort((a, b) => a - b);
        expect(fired).toEqual(expected);

        // Fires ∪ backfill = the series over the period, with no duplicates.
        const out = await client.send(new GetScheduleCommand({ Name: 'prop' }));
        const series = seriesOfSchedule(out);
        // From the schedule's first possible fire: its creation (to the second for a rate that fires at it).
        const createdAt = out.CreationDate!.getTime();
        const from = new Date(s.expression.startsWith('rate') && s.start === undefined ? Math.floor(createdAt / 1000) * 1000 : createdAt);
        const to = new Date(periodEnd + 1);
        const whole = firesBetween(series, from, to, { history: 'since-created', limit: 5000 }).map((t) => t.getTime());
        const times = backfillTimes({ name: 'prop', series }, from, to, 5000);
        expect(times.map((t) => t.getTime())).toEqual(whole);
        const recorded = new Map(fired.map((t) => [runIdFor({ schedule: 'prop', scheduledTime: new Date(t).toISOString() }), { status: 'SUCCEEDED' as const, trigger: 'schedule' as const }]));
        const plan = planBackfill('prop', times, recorded, 5000);
        const union = [...fired, ...plan.candidates.slice(0, plan.slots).map((c) => Date.parse(c.scheduledTime))];
        expect(new Set(union).size).toBe(union.length);
        expect([...union].sort((a, b) => a - b)).toEqual(whole);
      }),
      { numRuns: 25, endOnFailure: true },
    );
  }, 120_000);
});
