/**
 * A schedule's series (shared/expressions/series.ts) and the answers built on it: the next
 * fires `GET /schedules` shows, the times a backfill runs, and the backfill command printed
 * for missed fires. One table per defect of issue 10's "Why" that these answers had.
 */
import { describe, expect, it } from 'vitest';
import type { GetScheduleCommandOutput } from '@aws-sdk/client-scheduler';
import { firesBetween, nextFires, rateAnchor, seriesOfSchedule, type SeriesSpec } from '#shared/expressions/series';
import { scheduleView, type ScheduleEntry } from '#shared/api/schedules';
import { backfillTimes, planBackfill } from '#shared/api/backfill';
import { unrecordedFires } from '#shared/engine/missed';
import { missedFireSummaries } from '#cli/missed';
import { definition, task } from '#test/helpers/engine';
import type { RunStatus } from '#shared/store/schema';

const d = (iso: string) => new Date(iso);
const isos = (dates: Date[]) => dates.map((t) => t.toISOString());

/** A registry entry as GetSchedule returns it (dates as the SDK parses them). */
function entry(raw: Partial<GetScheduleCommandOutput> & { ScheduleExpression: string }): ScheduleEntry {
  const def = definition('every-minute', [task('main')], { expression: raw.ScheduleExpression, timezone: raw.ScheduleExpressionTimezone ?? 'UTC' });
  return {
    name: def.name,
    definition: def,
    origin: 'declared',
    state: 'ENABLED',
    raw: { Name: def.name, $metadata: {}, ...raw } as GetScheduleCommandOutput,
  };
}

const STATE = { pk: 'SCHED#every-minute', sk: 'STATE', kind: 'schedule-state' as const, schedule: 'every-minute', paused: false, version: 0 };

describe('next fires come from the schedule\'s own series, not from now', () => {
  // Defect: "every-minute said next 00:26:13 and fired at 00:25:55; the value moves on every call".
  it.each([
    {
      what: 'rate(1 minute) created at 00:00:55, asked at 00:25:13',
      raw: { ScheduleExpression: 'rate(1 minute)', CreationDate: d('2026-11-30T00:00:55.400Z') },
      nows: ['2026-11-30T00:25:13Z', '2026-11-30T00:25:40Z'],
      next: '2026-11-30T00:25:55.000Z',
    },
    {
      what: 'rate(5 minutes) with a StartDate, created later',
      raw: { ScheduleExpression: 'rate(5 minutes)', StartDate: d('2026-11-29T10:02:00Z'), CreationDate: d('2026-11-29T12:00:31Z') },
      nows: ['2026-11-30T00:00:00Z', '2026-11-30T00:01:59Z'],
      next: '2026-11-30T00:02:00.000Z',
    },
    {
      what: 'rate(1 hour) edited since its creation keeps its creation anchor',
      raw: { ScheduleExpression: 'rate(1 hour)', CreationDate: d('2026-11-29T08:17:00Z'), LastModificationDate: d('2026-11-29T20:40:00Z') },
      nows: ['2026-11-30T00:00:00Z', '2026-11-30T00:16:00Z'],
      next: '2026-11-30T00:17:00.000Z',
    },
  ])('$what: next $next, the same on every call', ({ raw, nows, next }) => {
    // Act
    const views = nows.map((now) => scheduleView(entry(raw), STATE, Date.parse(now)));
    // Assess
    for (const v of views) expect(v.nextFireTimes[0]).toBe(next);
  });

  it('shows the latest run by scheduled time as the last run, whatever its status', () => {
    const view = scheduleView(entry({ ScheduleExpression: 'rate(1 minute)', CreationDate: d('2026-11-30T00:00:00Z') }), { ...STATE, lastRunId: 'old', lastOutcome: 'SUCCEEDED' }, Date.parse('2026-11-30T01:00:00Z'), new Map(), {
      runId: 'every-minute.20261130T005900Z',
      schedule: 'every-minute',
      scheduledTime: '2026-11-30T00:59:00.000Z',
      trigger: 'schedule',
      status: 'RUNNING',
      createdAt: '2026-11-30T00:59:00.100Z',
    });
    expect(view.lastRun).toMatchObject({ runId: 'every-minute.20261130T005900Z', status: 'RUNNING' });
  });
});

describe('backfill runs the series, not times invented from --from', () => {
  const rate = { name: 'every-minute', series: seriesOfSchedule({ ScheduleExpression: 'rate(1 minute)', CreationDate: d('2026-11-30T00:00:55Z') }) };
  // Defect: "backfill of a rate schedule invents times from --from (7 runs at :59 beside the real ones at :55)".
  it.each([
    {
      what: 'seven minutes of a rate created at :55',
      from: '2026-11-30T00:10:00Z',
      to: '2026-11-30T00:17:00Z',
      times: ['00:10:55', '00:11:55', '00:12:55', '00:13:55', '00:14:55', '00:15:55', '00:16:55'],
    },
    {
      // Defect: the command `npm start` prints for missed fires found "no scheduled time in that range".
      what: 'the printed command for missed fires at 00:20:55 and 00:21:55 (--to = last + 1 s)',
      from: '2026-11-30T00:20:55.000Z',
      to: '2026-11-30T00:21:56.000Z',
      times: ['00:20:55', '00:21:55'],
    },
    {
      what: 'a range before the schedule was created (the anchor extends backwards)',
      from: '2026-11-29T23:58:00Z',
      to: '2026-11-30T00:00:00Z',
      times: ['23:58:55', '23:59:55'],
    },
  ])('$what', ({ from, to, times }) => {
    const got = backfillTimes(rate, d(from), d(to)).map((t) => t.toISOString().slice(11, 19));
    expect(got).toEqual(times);
  });

  // Defect: backfill of an `overlap: skip` schedule recorded most times SKIPPED (they overlapped each other).
  it.each([
    { parallel: 1, recorded: {}, start: ['a.1'] },
    { parallel: 1, recorded: { 'a.1': 'RUNNING' }, start: [] },
    { parallel: 1, recorded: { 'a.1': 'SUCCEEDED' }, start: ['a.2'] },
    { parallel: 2, recorded: { 'a.1': 'SUCCEEDED' }, start: ['a.2', 'a.3'] },
    { parallel: 2, recorded: { 'a.2': 'RUNNING' }, start: ['a.1'] },
    // --rerun: an ended run with a listed status is a candidate like a time without a run.
    { parallel: 1, recorded: { 'a.1': 'FAILED' }, start: ['a.2'] },
    { parallel: 1, recorded: { 'a.1': 'FAILED' }, rerun: ['FAILED'], start: ['a.1'] },
    { parallel: 3, recorded: { 'a.1': 'SKIPPED', 'a.2': 'FAILED', 'a.3': 'SUCCEEDED' }, rerun: ['SKIPPED'], start: ['a.1'] },
  ] as const)('with parallel $parallel, runs $recorded and rerun $rerun, starts $start', ({ parallel, recorded, start, ...rest }) => {
    const times = [d('2026-11-30T00:01:00Z'), d('2026-11-30T00:02:00Z'), d('2026-11-30T00:03:00Z')];
    const ids = ['a.20261130T000100Z', 'a.20261130T000200Z', 'a.20261130T000300Z'];
    const short = (id: string) => `a.${ids.indexOf(id) + 1}`;
    const map = new Map(Object.entries(recorded).map(([k, status]) => [ids[Number(k.slice(2)) - 1]!, { status, trigger: 'backfill' as const }]));
    const rerun = 'rerun' in rest ? new Set<RunStatus>(rest.rerun) : undefined;
    const plan = planBackfill('a', times, map, parallel, rerun);
    expect(plan.candidates.slice(0, plan.slots).map((c) => short(c.runId))).toEqual(start);
  });
});

describe('the series follows Scheduler', () => {
  it.each<{ what: string; spec: SeriesSpec; from: string; to: string; want: string[]; history?: 'all' | 'since-created' }>([
    {
      what: 'cron in New York across the spring-forward gap: 02:30 is skipped',
      spec: { expression: 'cron(30 2 * * ? *)', timezone: 'America/New_York' },
      from: '2026-03-07T00:00:00Z',
      to: '2026-03-10T00:00:00Z',
      want: ['2026-03-07T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
    },
    {
      what: 'cron in New York across the autumn repeat: 01:30 fires once',
      spec: { expression: 'cron(30 1 * * ? *)', timezone: 'America/New_York' },
      from: '2026-10-31T12:00:00Z',
      to: '2026-11-02T12:00:00Z',
      want: ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    },
    {
      what: 'start and end dates bound a cron inclusively',
      spec: { expression: 'cron(0 * * * ? *)', startDate: d('2026-11-30T02:00:00Z'), endDate: d('2026-11-30T04:00:00Z') },
      from: '2026-11-30T00:00:00Z',
      to: '2026-11-30T08:00:00Z',
      want: ['2026-11-30T02:00:00.000Z', '2026-11-30T03:00:00.000Z', '2026-11-30T04:00:00.000Z'],
    },
    {
      what: 'a rate created without StartDate fires at its creation, to the second',
      spec: { expression: 'rate(10 minutes)', createdAt: d('2026-11-30T00:00:07.900Z') },
      from: '2026-11-29T00:00:00Z',
      to: '2026-11-30T00:25:00Z',
      want: ['2026-11-30T00:00:07.000Z', '2026-11-30T00:10:07.000Z', '2026-11-30T00:20:07.000Z'],
      history: 'since-created',
    },
    {
      what: 'a flexible window does not move the scheduled time (the window starts at it)',
      spec: { expression: 'cron(0 9 * * ? *)', flexibleWindowMinutes: 15 },
      from: '2026-11-30T00:00:00Z',
      to: '2026-12-01T00:00:00Z',
      want: ['2026-11-30T09:00:00.000Z'],
    },
    {
      what: 'at() ignores start and end dates',
      spec: { expression: 'at(2026-12-01T10:00:00)', timezone: 'Europe/Berlin', startDate: d('2026-12-05T00:00:00Z'), endDate: d('2026-11-01T00:00:00Z') },
      from: '2026-11-30T00:00:00Z',
      to: '2026-12-31T00:00:00Z',
      want: ['2026-12-01T09:00:00.000Z'],
    },
  ])('$what', ({ spec, from, to, want, history = 'all' }) => {
    expect(isos(firesBetween(spec, d(from), d(to), { history }))).toEqual(want);
    // nextFires lists the same instants.
    expect(isos(nextFires(spec, new Date(Date.parse(from) - 1), want.length, history))).toEqual(want);
  });

  it('anchors a rate at its StartDate, else its creation, to the second', () => {
    expect(rateAnchor({ expression: 'rate(1 hour)', createdAt: d('2026-11-30T00:00:55.700Z') })?.toISOString()).toBe('2026-11-30T00:00:55.000Z');
    expect(rateAnchor({ expression: 'rate(1 hour)', createdAt: d('2026-11-30T00:00:55Z'), startDate: d('2026-12-01T06:00:00Z') })?.toISOString()).toBe('2026-12-01T06:00:00.000Z');
    expect(rateAnchor({ expression: 'cron(0 * * * ? *)', createdAt: d('2026-11-30T00:00:55Z') })).toBeUndefined();
  });

  it('lists nothing before the schedule existed, or before its last modification when asked', () => {
    const spec: SeriesSpec = { expression: 'cron(0 * * * ? *)', createdAt: d('2026-11-30T01:30:00Z'), modifiedAt: d('2026-11-30T03:30:00Z') };
    const range = [d('2026-11-30T00:00:00Z'), d('2026-11-30T05:00:00Z')] as const;
    expect(isos(firesBetween(spec, ...range, { history: 'since-created' }))).toEqual(['2026-11-30T02:00:00.000Z', '2026-11-30T03:00:00.000Z', '2026-11-30T04:00:00.000Z']);
    expect(isos(firesBetween(spec, ...range, { history: 'since-modified' }))).toEqual(['2026-11-30T04:00:00.000Z']);
  });
});

describe('the sweeper matches recorded runs to series instants', () => {
  it.each([
    { what: 'an exact match', due: ['00:01:00', '00:02:00'], recorded: ['00:01:00'], missing: ['00:02:00'] },
    { what: 'runs Scheduler delivered truncated to the minute (AWS works to the minute)', due: ['00:01:27', '00:02:27'], recorded: ['00:01:00', '00:02:00'], missing: [] },
    { what: 'no run at all', due: ['00:01:27', '00:02:27'], recorded: [], missing: ['00:01:27', '00:02:27'] },
    { what: 'a neighbour a whole minute away does not count', due: ['00:01:00'], recorded: ['00:02:00'], missing: ['00:01:00'] },
  ])('$what', ({ due, recorded, missing }) => {
    const at = (hms: string) => d(`2026-11-30T${hms}Z`);
    const got = unrecordedFires(due.map(at), recorded.map((hms) => ({ scheduledTime: at(hms).toISOString() })));
    expect(got.map((t) => t.toISOString().slice(11, 19))).toEqual(missing);
  });
});

describe('the missed fires `npm start` reports', () => {
  const FIRE = 'arn:aws:lambda:us-east-1:000000000000:function:batchron-dev-fire';
  const at = (hms: string) => d(`2026-11-30T${hms}Z`);
  const missed = [
    { group: 'batchron-dev', name: 'every-minute', scheduledTime: at('00:20:55'), targetArn: FIRE },
    // Created through the API: not in serverless.yml, still one of the deployment's schedules.
    { group: 'batchron-dev', name: 'dyn-report', scheduledTime: at('00:30:00'), targetArn: FIRE },
    { group: 'batchron-dev', name: 'every-minute', scheduledTime: at('00:21:55'), targetArn: FIRE },
    { group: 'batchron-dev', name: '_sweep', scheduledTime: at('00:25:00'), targetArn: 'arn:aws:lambda:us-east-1:000000000000:function:batchron-dev-sweep' },
    { group: 'default', name: 'other', scheduledTime: at('00:25:00'), targetArn: FIRE },
  ];

  // Defect: the report "leaves dynamic schedules out", and its backfill command found "no scheduled time in that range".
  it('lists declared and dynamic schedules, and each printed command backfills exactly the missed fires', () => {
    const summaries = missedFireSummaries(missed, 'batchron-dev', FIRE);
    expect(summaries.map((s) => s.name)).toEqual(['every-minute', 'dyn-report']);
    const series: Record<string, SeriesSpec> = {
      'every-minute': seriesOfSchedule({ ScheduleExpression: 'rate(1 minute)', CreationDate: d('2026-11-30T00:00:55.300Z') }),
      'dyn-report': seriesOfSchedule({ ScheduleExpression: 'cron(0/15 * * * ? *)', CreationDate: d('2026-11-29T00:00:00Z') }),
    };
    for (const s of summaries) {
      const [, from, to] = /--from (\S+) --to (\S+)$/.exec(s.command)!;
      expect(isos(backfillTimes({ name: s.name, series: series[s.name]! }, d(from!), d(to!)))).toEqual(isos(s.times));
    }
  });
});
