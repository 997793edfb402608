/**
 * The schedule calendar's pure parts (shared/api/calendar.ts): a month on the schedule's
 * clock as instants, days that start at local midnight across DST, runs and fires put into
 * the day of the schedule's zone, the bounded `?month=`; and the listings that show a
 * trigger-only schedule as "on events".
 */
import { describe, expect, it } from 'vitest';
import { calendarDays, MonthSchema, monthFires, monthOf, monthRange } from '#shared/api/calendar';
import { schedulesTable } from '#cli/commands/schedules';
import { weeksOf } from '../../web/components/calendar.tsx';

describe('a month on the schedule clock', () => {
  it('runs from local midnight to the next month\'s, across a DST change (New York, March 2027)', () => {
    const r = monthRange('2027-03', 'America/New_York');
    expect(r.from.toISOString()).toBe('2027-03-01T05:00:00.000Z'); // EST
    expect(r.to.toISOString()).toBe('2027-04-01T04:00:00.000Z'); // EDT
    expect(r.days).toHaveLength(31);
    expect(r.days[13]).toEqual({ date: '2027-03-14', start: Date.parse('2027-03-14T05:00:00Z') });
    expect(r.days[14]).toEqual({ date: '2027-03-15', start: Date.parse('2027-03-15T04:00:00Z') });
    expect([r.previous, r.next]).toEqual(['2027-02', '2027-04']);
  });

  it('starts a day whose midnight DST skips at the first instant after the gap (Santiago, September 2026)', () => {
    // Chile moves its clocks from 24:00 to 01:00 on the first Sunday of September.
    const r = monthRange('2026-09', 'America/Santiago');
    const sixth = r.days.find((d) => d.date === '2026-09-06')!;
    expect(new Date(sixth.start).toISOString()).toBe('2026-09-06T04:00:00.000Z'); // 01:00 -03:00
  });

  it('rolls the neighbouring months over the year', () => {
    expect(monthRange('2026-12', 'UTC')).toMatchObject({ previous: '2026-11', next: '2027-01' });
    expect(monthRange('2027-01', 'UTC')).toMatchObject({ previous: '2026-12', next: '2027-02' });
  });

  it('takes this month on the schedule clock, not on UTC\'s', () => {
    // 2026-11-30T20:00Z is already December 1st in Tokyo.
    expect(monthOf(Date.parse('2026-11-30T20:00:00Z'), 'Asia/Tokyo')).toBe('2026-12');
    expect(monthOf(Date.parse('2026-11-30T20:00:00Z'), 'UTC')).toBe('2026-11');
  });
});

describe('the days of the calendar', () => {
  it('puts a run into the day of the schedule zone and counts it by outcome', () => {
    const r = monthRange('2026-12', 'Asia/Tokyo');
    const days = calendarDays(r, [
      // 02:00 Tokyo on December 1st is 17:00 UTC on November 30th.
      { runId: 'a', status: 'FAILED', scheduledTime: '2026-11-30T17:00:00.000Z' },
      { runId: 'b', status: 'SUCCEEDED', scheduledTime: '2026-12-01T17:00:00.000Z' },
      { runId: 'c', status: 'SUCCEEDED', scheduledTime: '2026-12-01T18:00:00.000Z' },
      // November 30th in Tokyo: not this month.
      { runId: 'd', status: 'SUCCEEDED', scheduledTime: '2026-11-30T14:59:59.000Z' },
    ], []);
    expect(days).toHaveLength(31);
    expect(days[0]!.runs).toEqual({ total: 1, byStatus: { FAILED: 1 }, shown: [{ runId: 'a', status: 'FAILED', scheduledTime: '2026-11-30T17:00:00.000Z' }] });
    expect(days[1]!.runs.byStatus).toEqual({ SUCCEEDED: 2 });
    expect(days.reduce((n, d) => n + d.runs.total, 0)).toBe(3);
  });

  it('lists the first few fires of a day, counts up to the cap and says when a day has more', () => {
    const r = monthRange('2026-12', 'UTC');
    const spec = { expression: 'rate(1 minute)', startDate: new Date('2026-01-01T00:00:00Z') };
    const after = Date.parse('2026-12-05T23:50:00Z');
    const days = calendarDays(r, [], monthFires(spec, r, after, 24), { shown: 3, firesPerDay: 24 });
    expect(days[3]!.fires.total).toBe(0);
    // Nine minutes left of December 5th after 23:50 (the next fire is 23:51).
    expect(days[4]!.fires).toEqual({ total: 9, more: false, shown: ['2026-12-05T23:51:00.000Z', '2026-12-05T23:52:00.000Z', '2026-12-05T23:53:00.000Z'] });
    expect(days[30]!.fires).toMatchObject({ total: 24, more: true });
  });

  it('lists the first few runs of a day and counts them all', () => {
    const r = monthRange('2026-12', 'UTC');
    const runs = Array.from({ length: 30 }, (_, i) => ({ runId: `r${i}`, status: 'SUCCEEDED' as const, scheduledTime: new Date(Date.parse('2026-12-02T00:00:00Z') + i * 60_000).toISOString() }));
    const day = calendarDays(r, runs, [], { shown: 2, firesPerDay: 24 })[1]!;
    expect(day.runs.total).toBe(30);
    expect(day.runs.shown.map((x) => x.runId)).toEqual(['r0', 'r1']);
  });

  it('shows no fire on the night DST skips 02:30 and one on the night it repeats it (New York)', () => {
    const spec = { expression: 'cron(30 2 * * ? *)', timezone: 'America/New_York' };
    const march = monthRange('2027-03', spec.timezone);
    const marchDays = calendarDays(march, [], monthFires(spec, march, 0, 24));
    expect(marchDays.find((d) => d.date === '2027-03-14')!.fires.total).toBe(0);
    expect(marchDays.find((d) => d.date === '2027-03-15')!.fires.shown).toEqual(['2027-03-15T06:30:00.000Z']);
    const november = monthRange('2027-11', spec.timezone);
    const novemberDays = calendarDays(november, [], monthFires(spec, november, 0, 24));
    expect(novemberDays.find((d) => d.date === '2027-11-07')!.fires.total).toBe(1);
    expect(novemberDays.reduce((n, d) => n + d.fires.total, 0)).toBe(30);
  });

  it('lays the month out in weeks that start on Monday', () => {
    const r = monthRange('2026-12', 'UTC'); // December 1st, 2026 is a Tuesday
    const weeks = weeksOf(calendarDays(r, [], []));
    expect(weeks).toHaveLength(5);
    expect(weeks[0]![0]).toBeNull();
    expect(weeks[0]![1]!.date).toBe('2026-12-01');
    expect(weeks[4]![3]!.date).toBe('2026-12-31');
    expect(weeks.every((w) => w.length === 7)).toBe(true);
  });
});

describe('?month=', () => {
  it.each([
    ['2026-12', true],
    ['2099-01', true],
    ['2026-13', false],
    ['2026-1', false],
    ['1999-12', false],
    ['2100-01', false],
  ])('%s is %s', (month, ok) => {
    expect(MonthSchema.safeParse(month).success).toBe(ok);
  });

  it('says what a month must look like', () => {
    const result = MonthSchema.safeParse('December');
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.message).toBe('must be a month as YYYY-MM (e.g. 2026-12)');
  });
});

describe('a schedule started only by events', () => {
  it('shows "on events" in the CLI listing where a next fire would be', () => {
    const base = { origin: 'declared' as const, timezone: 'UTC', enabled: true, paused: false, tasks: [] };
    const out = schedulesTable(
      [
        { ...base, name: 'on-upload', source: 'declared', expression: '', firedBy: 'events', nextFireTimes: [] },
        { ...base, name: 'every-minute', source: 'declared', expression: 'rate(1 minute)', firedBy: 'time', nextFireTimes: ['2026-12-01T00:01:00.000Z'] },
      ],
      120,
    );
    const row = out.split('\n').find((l) => l.includes('on-upload'))!;
    expect(row).toContain('on events');
    expect(out.split('\n').find((l) => l.includes('every-minute'))).not.toContain('on events');
  });
});
