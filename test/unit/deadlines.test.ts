/**
 * Deadlines (SLA): the config's validation, which deadlines a schedule has (across DST
 * nights), and what the sweeper's check sends: one alert for a missed deadline and one
 * "met late" message after, whatever the number of sweeps, concurrent or crashed. Pure logic
 * and the in-memory stores; test/integration/sweep-deadlines.test.ts runs the real sweeper
 * on DynamoDB Local.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '#shared/errors';
import { deploymentContext, normalizeConfig, parseConfig } from '#shared/config/validate';
import type { ScheduleDefinition } from '#shared/config/definition';
import type { DeadlineDefinition } from '#shared/config/deadline';
import { checkDeadlines, deadlinesBetween, deadlineView, nextDeadline } from '#shared/engine/deadline';
import type { EngineDeps } from '#shared/engine/deps';
import type { RegisteredSchedule } from '#shared/engine/registry';
import { newRun } from '#shared/engine/run-state';
import { runIdFor } from '#shared/engine/naming';
import type { SeriesSpec } from '#shared/expressions/series';
import type { NotificationMessage } from '#shared/notify/messages';
import { memoryStore, type MemoryStore } from '#shared/store/memory';
import { memoryDeadlineStore } from '#shared/store/memory-deadlines';
import { definition, fire, MemoryLog, task } from '#test/helpers/engine';
import { CountingMetrics } from '#test/helpers/metrics';

const ctx = deploymentContext('batchron-dev');
const job = { definition: 'extract' };

function problemsOf(raw: unknown): string[] {
  try {
    parseConfig(raw, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected parseConfig to throw');
}

function configWith(schedule: Record<string, unknown>): Record<string, unknown> {
  return { jobDefinitions: { extract: { image: 'alpine', command: ['true'] } }, schedules: { report: { job, ...schedule } } };
}

describe('deadline config', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['a time that is not HH:MM', { expression: 'cron(0 2 * * ? *)', deadline: { at: '6am' } }, 'schedules.report.deadline.at: must be a time of day as HH:MM between 00:00 and 23:59, e.g. "06:00" (got "6am")'],
    ['an hour past 23', { expression: 'cron(0 2 * * ? *)', deadline: { at: '24:00' } }, 'schedules.report.deadline.at: must be a time of day as HH:MM between 00:00 and 23:59, e.g. "06:00" (got "24:00")'],
    ['an unknown zone', { expression: 'cron(0 2 * * ? *)', deadline: { at: '06:00', timezone: 'Europe/Berlinn' } }, 'schedules.report.deadline.timezone: unknown time zone "Europe/Berlinn" (use an IANA name such as "Europe/Berlin")'],
    ['both forms at once', { expression: 'cron(0 2 * * ? *)', deadline: { at: '06:00', after: '90m' } }, 'schedules.report.deadline: declare either at (a time of day, for a logical date) or after (a duration after each scheduled time), not both'],
    ['neither form', { expression: 'cron(0 2 * * ? *)', deadline: { forLogicalDate: 'previous' } }, 'schedules.report.deadline: needs at (a time of day such as "06:00") or after (a duration such as "90m")'],
    ['a bad duration', { expression: 'cron(0 2 * * ? *)', deadline: { after: '90 minutes' } }, 'schedules.report.deadline.after: must be a duration such as "90m", "2h" or "1h30m" (got "90 minutes")'],
    ['a duration over a week', { expression: 'cron(0 2 * * ? *)', deadline: { after: '200h' } }, 'schedules.report.deadline.after: must be between 1 minute and 7 days (got "200h")'],
    ['a zone with after', { expression: 'cron(0 2 * * ? *)', deadline: { after: '2h', timezone: 'UTC' } }, 'schedules.report.deadline.timezone: applies only to at; after counts from each scheduled time'],
    ['an unknown logical date', { expression: 'cron(0 2 * * ? *)', deadline: { at: '06:00', forLogicalDate: 'next' } }, 'schedules.report.deadline.forLogicalDate: must be one of "same", "previous" (got "next")'],
    ['an unknown field', { expression: 'cron(0 2 * * ? *)', deadline: { at: '06:00', by: '07:00' } }, 'schedules.report.deadline: unknown field "by" (did you mean "at"? allowed: at, timezone, forLogicalDate, after)'],
    [
      'an event-only schedule',
      { on: [{ event: { source: ['aws.s3'] } }], deadline: { at: '06:00' } },
      "schedules.report.deadline: needs the schedule's expression (cron, rate or at): deadlines are checked against its scheduled times, and a schedule started only by events has none",
    ],
    ['a route that is neither ssm nor env', { expression: 'cron(0 2 * * ? *)', notify: { slack: { deadline: { url: 'x' } } } }, 'schedules.report.notify.slack.deadline: must be { ssm: <SSM parameter name> } or { env: <environment variable name> } (got {"url":"x"})'],
    ['an unknown message kind', { expression: 'cron(0 2 * * ? *)', notify: { slack: { success: { ssm: '/a' } } } }, 'schedules.report.notify.slack: unknown field "success" (allowed: webhook, failure, recovery, stuck, deadline, missed)'],
  ])('refuses %s, naming the field', (_, schedule, message) => {
    expect(problemsOf(configWith(schedule))).toContain(message);
  });

  it('normalizes at (zone and logical date defaulted from the schedule) and after (in minutes), and keeps the routes', () => {
    const config = parseConfig(
      {
        jobDefinitions: { extract: { image: 'alpine', command: ['true'] } },
        schedules: {
          a: { expression: 'cron(0 2 * * ? *)', timezone: 'Europe/Berlin', job, deadline: { at: '06:00' }, notify: { slack: { deadline: { ssm: '/oncall/slack' } } } },
          b: { expression: 'rate(1 hour)', job, deadline: { after: '1h30m' } },
        },
      },
      ctx,
    );
    const defs = normalizeConfig(config, ctx);
    expect(defs.a!.deadline).toEqual({ at: '06:00', timezone: 'Europe/Berlin', forLogicalDate: 'same' });
    expect(defs.a!.notify.slack).toEqual({ deadline: { ssm: '/oncall/slack' } });
    expect(defs.b!.deadline).toEqual({ afterMinutes: 90 });
  });
});

/* ------------------------------------------------------------------ which deadlines, across DST nights */

const iso = (t: number) => new Date(t).toISOString();
const berlinDaily: SeriesSpec = { expression: 'cron(0 1 * * ? *)', timezone: 'Europe/Berlin', createdAt: new Date('2025-01-01T00:00:00Z') };
const at = (hhmm: string, forLogicalDate: 'same' | 'previous' = 'same', timezone = 'Europe/Berlin'): { timezone: string; deadline: DeadlineDefinition } => ({
  timezone: 'Europe/Berlin',
  deadline: { at: hhmm, timezone, forLogicalDate },
});

describe('when deadlines fall', () => {
  it('puts 02:30 in the spring-forward gap (Berlin, 30 March) at 03:30 CEST, the gap moved on', () => {
    const found = deadlinesBetween(at('02:30'), berlinDaily, Date.parse('2025-03-29T12:00:00Z'), Date.parse('2025-03-31T12:00:00Z'));
    expect(found.map((d) => [d.logicalDate, iso(d.at)])).toEqual([
      ['2025-03-30', '2025-03-30T01:30:00.000Z'], // 03:30 CEST: 02:30 does not exist that night
      ['2025-03-31', '2025-03-31T00:30:00.000Z'], // 02:30 CEST
    ]);
  });

  it('puts 02:30 in the autumn repeat (Berlin, 26 October) at its first occurrence, 02:30 CEST', () => {
    const found = deadlinesBetween(at('02:30'), berlinDaily, Date.parse('2025-10-25T12:00:00Z'), Date.parse('2025-10-27T12:00:00Z'));
    expect(found.map((d) => [d.logicalDate, iso(d.at)])).toEqual([
      ['2025-10-26', '2025-10-26T00:30:00.000Z'], // the first 02:30 (CEST); the second is 01:30Z
      ['2025-10-27', '2025-10-27T01:30:00.000Z'], // 02:30 CET
    ]);
    // The logical date 26 October spans 25 hours on the schedule's clock.
    expect(found[0]!.runsTo - found[0]!.runsFrom).toBe(25 * 3_600_000);
  });

  it('puts a `previous` deadline on the day after the logical date, in its own zone', () => {
    const found = deadlinesBetween(at('06:00', 'previous', 'America/New_York'), berlinDaily, Date.parse('2025-06-10T00:00:00Z'), Date.parse('2025-06-11T00:00:00Z'));
    expect(found.map((d) => [d.logicalDate, iso(d.at)])).toEqual([['2025-06-09', '2025-06-10T10:00:00.000Z']]);
  });

  it('honours logicalDate.offsetDays: the 01:00 run of 11 June is the run for 10 June, due by 06:00 the day after', () => {
    // A nightly 01:00 run that processes yesterday (offsetDays -1), with "done by 06:00 the day after the business day".
    const def = { ...at('06:00', 'previous'), logicalDateOffsetDays: -1 };
    const found = deadlinesBetween(def, berlinDaily, Date.parse('2025-06-10T12:00:00Z'), Date.parse('2025-06-11T12:00:00Z'));
    expect(found.map((d) => [d.logicalDate, iso(d.at), iso(d.runsFrom)])).toEqual([
      // Logical date 10 June: its run fires at 01:00 CEST on 11 June (the runs of 11 June's calendar day), due 06:00 CEST on 11 June.
      ['2025-06-10', '2025-06-11T04:00:00.000Z', '2025-06-10T22:00:00.000Z'],
    ]);
  });

  it('has no deadline on a date the schedule does not fire (a weekday cron at the weekend)', () => {
    const weekdays: SeriesSpec = { expression: 'cron(0 1 ? * MON-FRI *)', timezone: 'Europe/Berlin', createdAt: new Date('2025-01-01T00:00:00Z') };
    // Friday 6 June to Tuesday 10 June 2025.
    const found = deadlinesBetween(at('06:00'), weekdays, Date.parse('2025-06-06T00:00:00Z'), Date.parse('2025-06-10T23:00:00Z'));
    expect(found.map((d) => d.logicalDate)).toEqual(['2025-06-06', '2025-06-09', '2025-06-10']);
  });

  it('has no deadline for dates before the definition in force (no alert for the days before it was deployed)', () => {
    const fresh = { ...berlinDaily, modifiedAt: new Date('2025-06-10T08:00:00Z') };
    expect(deadlinesBetween(at('06:00'), fresh, Date.parse('2025-06-09T00:00:00Z'), Date.parse('2025-06-11T12:00:00Z')).map((d) => d.logicalDate)).toEqual(['2025-06-11']);
  });

  it('puts an `after` deadline after each fire, and the next one after now', () => {
    const hourly: SeriesSpec = { expression: 'cron(0 * * * ? *)', timezone: 'UTC', createdAt: new Date('2025-01-01T00:00:00Z') };
    const def = { timezone: 'UTC', deadline: { afterMinutes: 90 } };
    const found = deadlinesBetween(def, hourly, Date.parse('2025-06-10T10:00:00Z'), Date.parse('2025-06-10T12:00:00Z'));
    expect(found.map((d) => [d.scheduledTime, iso(d.at)])).toEqual([
      ['2025-06-10T09:00:00.000Z', '2025-06-10T10:30:00.000Z'],
      ['2025-06-10T10:00:00.000Z', '2025-06-10T11:30:00.000Z'],
    ]);
    expect(iso(nextDeadline(def, hourly, Date.parse('2025-06-10T10:45:00Z'))!.at)).toBe('2025-06-10T11:30:00.000Z');
  });
});

/* ------------------------------------------------------------------ the sweeper's check */

interface World {
  clock: { now: number };
  /** When the test's first sweep comes: the definition was deployed 20 hours before it. */
  since?: number;
  store: MemoryStore;
  deadlines: ReturnType<typeof memoryDeadlineStore>;
  sent: NotificationMessage[];
  slackDown: boolean;
  deps: () => EngineDeps;
}

function world(): World {
  const w: World = {
    clock: { now: 0 },
    store: memoryStore(),
    deadlines: memoryDeadlineStore(),
    sent: [],
    slackDown: false,
    deps: () => ({
      store: w.store,
      batch: undefined as never,
      retries: undefined as never,
      notifier: {
        send: async (m) => {
          if (w.slackDown) throw new Error('slack: 500');
          w.sent.push(m);
        },
      },
      env: { deployment: 'd', defaultQueue: 'q', retentionDays: 7, jobLogGroup: '/aws/batch/job', region: 'us-east-1', stuckMinutes: { queued: 30, submitted: 120, running: 720 }, submitRate: 50 },
      now: () => w.clock.now,
      owner: 'sweeper',
      log: new MemoryLog(),
      metrics: new CountingMetrics(),
    }),
  };
  return w;
}

const reportDef: ScheduleDefinition = definition('report', [task('main')], {
  expression: 'cron(0 1 * * ? *)',
  timezone: 'Europe/Berlin',
  deadline: { at: '02:30', timezone: 'Europe/Berlin', forLogicalDate: 'same' },
  notify: { onFailure: true, onRecovery: true, stuckAfterMinutes: { queued: 30, submitted: 120, running: 720 }, slack: { deadline: { ssm: '/oncall/slack' } } },
});
/** The schedule as the registry lists it: its definition in force since the day before `t` (no deadlines before). */
const registered = (t: number): RegisteredSchedule => ({ name: 'report', definition: reportDef, series: { ...berlinDaily, modifiedAt: new Date(t - 20 * 3_600_000) } });

/** Records a run of `report` at `scheduledTime` ending in `status` at `endedAt`. */
async function recordRun(w: World, scheduledTime: string, status: 'SUCCEEDED' | 'FAILED', endedAt: string): Promise<string> {
  const runId = runIdFor({ schedule: 'report', scheduledTime });
  const { run } = newRun(fire(reportDef, scheduledTime), { runId, mode: 'start' }, { now: Date.parse(scheduledTime), owner: 't', leaseMs: 60_000, deployment: 'd', retentionDays: 7 });
  await w.store.putNewRun(run, 7);
  await w.store.saveRun({ ...run, status, endedAt });
  return runId;
}

const sweepAt = async (w: World, t: string, sweepers = 1) => {
  w.clock.now = Date.parse(t);
  w.since ??= w.clock.now;
  return Promise.all(Array.from({ length: sweepers }, () => checkDeadlines(w.deps(), w.deadlines, [registered(w.since!)])));
};

describe('the deadline check', () => {
  let w: World;
  beforeEach(() => {
    w = world();
  });

  it('across the spring-forward night: nothing before 03:30 CEST, one alert after it from three concurrent sweeps, then one "met late"', async () => {
    // The 01:00 CET fire of 30 March 2025 (00:00Z) failed.
    await recordRun(w, '2025-03-30T00:00:00Z', 'FAILED', '2025-03-30T00:10:00Z');
    // 02:31 CEST would be past a deadline read as 02:30 CEST; the deadline is 03:30 CEST (01:30Z).
    await sweepAt(w, '2025-03-30T00:31:00Z', 3);
    await sweepAt(w, '2025-03-30T01:29:00Z', 3);
    expect(w.sent).toEqual([]);

    const reports = await sweepAt(w, '2025-03-30T01:31:00Z', 3);
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0]).toMatchObject({ kind: 'deadline', schedule: 'report', route: { ssm: '/oncall/slack' } });
    expect(w.sent[0]!.text).toContain('*report* missed its deadline: the run for 2025-03-30 had not succeeded by 2025-03-30T03:30:00+02:00');
    expect(w.sent[0]!.text).toContain('is FAILED');
    expect(reports.reduce((n, r) => n + r.missed, 0)).toBe(1);
    await sweepAt(w, '2025-03-30T01:40:00Z', 2);
    expect(w.sent).toHaveLength(1);

    // A re-run for the same logical date succeeds at 04:00Z: one "met late", however many sweeps.
    const late = await recordRun(w, '2025-03-30T03:00:00Z', 'SUCCEEDED', '2025-03-30T04:00:00Z');
    await sweepAt(w, '2025-03-30T04:01:00Z', 3);
    await sweepAt(w, '2025-03-30T04:02:00Z', 2);
    expect(w.sent).toHaveLength(2);
    expect(w.sent[1]!.text).toContain(`*report* met its deadline late: the run for 2025-03-30 succeeded (run \`${late}\`) at 2025-03-30T04:00:00.000Z, 150 min after`);
    expect(w.deadlines.all()).toMatchObject([{ logicalDate: '2025-03-30', status: 'MET_LATE', alert: { status: 'SENT' }, metLate: { status: 'SENT' } }]);
  });

  it('across the autumn night: the deadline is the first 02:30 (00:30Z); a run done by then meets it with no message', async () => {
    // The 01:00 CEST fire of 26 October 2025 is 23:00Z on the 25th.
    await recordRun(w, '2025-10-25T23:00:00Z', 'SUCCEEDED', '2025-10-26T00:20:00Z');
    await sweepAt(w, '2025-10-26T00:31:00Z', 2);
    expect(w.sent).toEqual([]);
    expect(w.deadlines.all()).toMatchObject([{ logicalDate: '2025-10-26', deadlineAt: '2025-10-26T00:30:00.000Z', status: 'MET' }]);
  });

  it('alerts at the first 02:30 of the autumn night, not the second, when the run is still running', async () => {
    await sweepAt(w, '2025-10-26T00:29:00Z');
    expect(w.sent).toEqual([]);
    await sweepAt(w, '2025-10-26T00:31:00Z');
    expect(w.sent.map((m) => m.text)).toEqual([expect.stringContaining('had not succeeded by 2025-10-26T02:30:00+02:00 (2025-10-26T00:30:00.000Z); no run has started')]);
  });

  it('keeps the alert owed while Slack is down and sends it once when it is back, naming the latest run', async () => {
    const failed = await recordRun(w, '2025-06-09T23:00:00Z', 'FAILED', '2025-06-09T23:05:00Z');
    w.slackDown = true;
    await sweepAt(w, '2025-06-10T00:31:00Z');
    await sweepAt(w, '2025-06-10T00:32:00Z');
    expect(w.deadlines.all()).toMatchObject([{ status: 'MISSED', alert: { status: 'PENDING', lastError: expect.stringContaining('slack: 500') } }]);
    w.slackDown = false;
    await sweepAt(w, '2025-06-10T00:33:00Z', 2);
    await sweepAt(w, '2025-06-10T00:34:00Z');
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0]!.text).toContain(`latest run \`${failed}\` is FAILED`);
  });

  it('resends once after a sweeper died holding the claim (after the claim expired), never while it is live', async () => {
    // A sweeper claimed the alert and died before sending: the record says SENDING.
    const deps = w.deps();
    w.clock.now = Date.parse('2025-06-10T00:31:00Z');
    const dying = { ...deps, notifier: { send: () => new Promise<void>(() => undefined) } };
    w.since = w.clock.now;
    void checkDeadlines(dying, w.deadlines, [registered(w.since)]);
    await new Promise((r) => setTimeout(r, 20));
    expect(w.deadlines.all()).toMatchObject([{ alert: { status: 'SENDING' } }]);
    await sweepAt(w, '2025-06-10T00:31:30Z');
    expect(w.sent).toHaveLength(0);
    await sweepAt(w, '2025-06-10T00:32:01Z');
    await sweepAt(w, '2025-06-10T00:33:00Z');
    expect(w.sent).toHaveLength(1);
  });

  it('reports a run that succeeded after the deadline but before any sweep looked as missed, then met late', async () => {
    await recordRun(w, '2025-06-09T23:00:00Z', 'SUCCEEDED', '2025-06-10T01:00:00Z');
    await sweepAt(w, '2025-06-10T02:00:00Z', 2);
    expect(w.sent.map((m) => m.text.replace(/^:\w+: /, '').split(':')[0])).toEqual(['*report* missed its deadline', '*report* met its deadline late']);
  });

  it('shows the next deadline and how the last went', async () => {
    await recordRun(w, '2025-06-09T23:00:00Z', 'FAILED', '2025-06-09T23:05:00Z');
    await sweepAt(w, '2025-06-10T00:31:00Z');
    const last = await w.deadlines.latestDeadline('report', iso(w.clock.now));
    const view = deadlineView(reportDef as ScheduleDefinition & { deadline: DeadlineDefinition }, berlinDaily, w.clock.now, last);
    expect(view).toEqual({
      rule: '02:30 Europe/Berlin, for the same logical date',
      next: { at: '2025-06-11T00:30:00.000Z', atLocal: '2025-06-11T02:30:00+02:00', logicalDate: '2025-06-11' },
      last: { at: '2025-06-10T00:30:00.000Z', logicalDate: '2025-06-10', state: 'missed' },
    });
  });
});

describe('the schedules listing (CLI)', () => {
  it('shows the next deadline and how the last went, in a deadline column only when a schedule has one', async () => {
    const { schedulesTable } = await import('#cli/commands/schedules');
    const base = { source: 'declared' as const, origin: 'declared' as const, timezone: 'UTC', enabled: true, paused: false, nextFireTimes: [], tasks: [] };
    const withDeadline = schedulesTable(
      [
        {
          ...base,
          name: 'report',
          expression: 'cron(0 1 * * ? *)',
          deadline: { rule: '02:30 UTC, for the same logical date', next: { at: '2025-06-11T02:30:00.000Z', atLocal: '2025-06-11T02:30:00+00:00', logicalDate: '2025-06-11' }, last: { at: '2025-06-10T02:30:00.000Z', logicalDate: '2025-06-10', state: 'met late' } },
        },
        { ...base, name: 'other', expression: 'rate(1 hour)' },
      ],
      200,
    );
    expect(withDeadline).toMatch(/deadline/);
    expect(withDeadline).toMatch(/next 2025-06-11T02:30:00Z?.*; last met late \(2025-06-10\)/);
    expect(schedulesTable([{ ...base, name: 'other', expression: 'rate(1 hour)' }], 200)).not.toMatch(/deadline/);
  });
});

describe('an `after` deadline', () => {
  it('holds each fire to its own deadline: met on time quietly, one alert for a late one and one "met late"', async () => {
    const w = world();
    const hourlyDef = definition('hourly', [task('main')], { expression: 'cron(0 * * * ? *)', deadline: { afterMinutes: 30 } });
    const schedule: RegisteredSchedule = { name: 'hourly', definition: hourlyDef, series: { expression: 'cron(0 * * * ? *)', timezone: 'UTC', createdAt: new Date('2025-06-10T09:30:00Z') } };
    const record = async (scheduledTime: string, status: 'SUCCEEDED' | 'RUNNING', endedAt?: string) => {
      const runId = runIdFor({ schedule: 'hourly', scheduledTime });
      const { run } = newRun(fire(hourlyDef, scheduledTime), { runId, mode: 'start' }, { now: Date.parse(scheduledTime), owner: 't', leaseMs: 60_000, deployment: 'd', retentionDays: 7 });
      await w.store.putNewRun(run, 7);
      const stored = (await w.store.getRun(runId))!;
      await w.store.saveRun({ ...stored, status, ...(endedAt ? { endedAt } : {}) });
      return runId;
    };
    const check = async (t: string) => {
      w.clock.now = Date.parse(t);
      await Promise.all([checkDeadlines(w.deps(), w.deadlines, [schedule]), checkDeadlines(w.deps(), w.deadlines, [schedule])]);
    };
    await record('2025-06-10T10:00:00Z', 'SUCCEEDED', '2025-06-10T10:20:00Z');
    const slow = await record('2025-06-10T11:00:00Z', 'RUNNING');
    await check('2025-06-10T11:31:00Z');
    expect(w.sent.map((m) => m.text)).toEqual([
      `:alarm_clock: *hourly* missed its deadline: the run of 2025-06-10T11:00:00.000Z had not succeeded by 2025-06-10T11:30:00+00:00 (2025-06-10T11:30:00.000Z); latest run \`${slow}\` is RUNNING.`,
    ]);
    await w.store.saveRun({ ...(await w.store.getRun(slow))!, status: 'SUCCEEDED', endedAt: '2025-06-10T11:45:00.000Z' });
    await check('2025-06-10T11:46:00Z');
    await check('2025-06-10T11:47:00Z');
    expect(w.sent).toHaveLength(2);
    expect(w.sent[1]!.text).toContain('*hourly* met its deadline late: the run of 2025-06-10T11:00:00.000Z succeeded');
    expect(w.deadlines.all().map((r) => [r.scheduledTime, r.status])).toEqual([
      ['2025-06-10T10:00:00.000Z', 'MET'],
      ['2025-06-10T11:00:00.000Z', 'MET_LATE'],
    ]);
  });
});
