import { describe, expect, it } from 'vitest';
import { ExpressionError, isValidTimezone, nextFireTimes, parseExpression } from '#shared/expressions/index';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString().replace('.000Z', 'Z'));
const next = (expr: string, from: string, count = 3, extra: { timezone?: string; startDate?: string; endDate?: string } = {}) =>
  iso(
    nextFireTimes(expr, {
      from: new Date(from),
      count,
      timezone: extra.timezone,
      startDate: extra.startDate ? new Date(extra.startDate) : undefined,
      endDate: extra.endDate ? new Date(extra.endDate) : undefined,
    }),
  );

// 2026-01-02 is a Friday; 2026-01-05 the Monday after.
describe('cron: the examples table of the EventBridge Scheduler documentation (UTC)', () => {
  it.each([
    ['cron(0 10 * * ? *)', 'Run at 10:00 am every day', '2026-01-02T17:50:00Z', ['2026-01-03T10:00:00Z', '2026-01-04T10:00:00Z', '2026-01-05T10:00:00Z']],
    ['cron(15 12 * * ? *)', 'Run at 12:15 pm every day', '2026-01-02T17:50:00Z', ['2026-01-03T12:15:00Z', '2026-01-04T12:15:00Z', '2026-01-05T12:15:00Z']],
    ['cron(0 18 ? * MON-FRI *)', 'Run at 6:00 pm every Monday through Friday', '2026-01-02T17:50:00Z', ['2026-01-02T18:00:00Z', '2026-01-05T18:00:00Z', '2026-01-06T18:00:00Z']],
    ['cron(0 8 1 * ? *)', 'Run at 8:00 am every 1st day of the month', '2026-01-02T17:50:00Z', ['2026-02-01T08:00:00Z', '2026-03-01T08:00:00Z', '2026-04-01T08:00:00Z']],
    ['cron(0/15 * * * ? *)', 'Run every 15 minutes', '2026-01-02T17:50:00Z', ['2026-01-02T18:00:00Z', '2026-01-02T18:15:00Z', '2026-01-02T18:30:00Z']],
    ['cron(0/10 * ? * MON-FRI *)', 'Run every 10 minutes Monday through Friday', '2026-01-02T23:35:00Z', ['2026-01-02T23:40:00Z', '2026-01-02T23:50:00Z', '2026-01-05T00:00:00Z']],
    ['cron(0/5 8-17 ? * MON-FRI *)', 'Run every 5 minutes Monday through Friday between 8:00 am and 5:55 pm', '2026-01-02T17:50:00Z', ['2026-01-02T17:55:00Z', '2026-01-05T08:00:00Z', '2026-01-05T08:05:00Z']],
    [
      'cron(0/30 20-2 ? * MON-FRI *)',
      'Run every 30 minutes Monday through Friday between 10:00 pm on the starting day to 2:00 am on the following day; from 12:00 am to 2:00 am on Monday morning',
      '2026-01-02T23:00:00Z',
      ['2026-01-02T23:30:00Z', '2026-01-05T00:00:00Z', '2026-01-05T00:30:00Z', '2026-01-05T01:00:00Z', '2026-01-05T01:30:00Z', '2026-01-05T02:00:00Z', '2026-01-05T02:30:00Z', '2026-01-05T20:00:00Z'],
    ],
    ['cron(5,35 14 * * ? *)', 'runs every day, at 2:05pm and 2:35pm', '2026-01-02T14:10:00Z', ['2026-01-02T14:35:00Z', '2026-01-03T14:05:00Z', '2026-01-03T14:35:00Z']],
    ['cron(15 10 ? * 6L 2019-2022)', 'runs at 10:15am on the last Friday of each month during the years 2019 to 2022', '2019-01-01T00:00:00Z', ['2019-01-25T10:15:00Z', '2019-02-22T10:15:00Z', '2019-03-29T10:15:00Z']],
  ])('%s (%s)', (expr, _meaning, from, expected) => {
    expect(next(expr, from, expected.length)).toEqual(expected);
  });
});

describe('cron: wildcards', () => {
  it.each([
    ['the weekday nearest the 15th (W)', 'cron(0 9 15W * ? *)', '2026-01-31T00:00:00Z', ['2026-02-16T09:00:00Z', '2026-03-16T09:00:00Z', '2026-04-15T09:00:00Z']],
    ['the nearest weekday stays in the month (a Saturday 15th moves back to Friday)', 'cron(0 9 15W * ? *)', '2026-08-01T00:00:00Z', ['2026-08-14T09:00:00Z']],
    ['the last day of the month (L)', 'cron(0 9 L * ? *)', '2026-01-01T00:00:00Z', ['2026-01-31T09:00:00Z', '2026-02-28T09:00:00Z', '2026-03-31T09:00:00Z']],
    ['the last weekday of the month (LW)', 'cron(0 9 LW * ? *)', '2026-01-01T00:00:00Z', ['2026-01-30T09:00:00Z', '2026-02-27T09:00:00Z', '2026-03-31T09:00:00Z']],
    ['the last day of the week (L in day-of-week = Saturday)', 'cron(0 9 ? * L *)', '2026-01-01T00:00:00Z', ['2026-01-03T09:00:00Z', '2026-01-10T09:00:00Z', '2026-01-17T09:00:00Z']],
    ['the second Tuesday (3#2)', 'cron(0 12 ? * 3#2 *)', '2026-01-01T00:00:00Z', ['2026-01-13T12:00:00Z', '2026-02-10T12:00:00Z', '2026-03-10T12:00:00Z']],
    ['the second Tuesday by name (TUE#2)', 'cron(0 12 ? * TUE#2 *)', '2026-01-01T00:00:00Z', ['2026-01-13T12:00:00Z']],
    ['day-of-week 1 is Sunday', 'cron(0 12 ? * 1 *)', '2026-01-01T00:00:00Z', ['2026-01-04T12:00:00Z', '2026-01-11T12:00:00Z']],
    ['day-of-week 7 is Saturday, lists mix numbers and names', 'cron(0 12 ? * 7,MON *)', '2026-01-01T00:00:00Z', ['2026-01-03T12:00:00Z', '2026-01-05T12:00:00Z', '2026-01-10T12:00:00Z']],
    ['a wrap-around day-of-week range (FRI-MON)', 'cron(0 12 ? * FRI-MON *)', '2026-01-01T00:00:00Z', ['2026-01-02T12:00:00Z', '2026-01-03T12:00:00Z', '2026-01-04T12:00:00Z', '2026-01-05T12:00:00Z', '2026-01-09T12:00:00Z']],
    ['increments from a start value (1/10 = 1, 11, 21 …)', 'cron(1/10 * * * ? *)', '2026-01-01T00:00:00Z', ['2026-01-01T00:01:00Z', '2026-01-01T00:11:00Z', '2026-01-01T00:21:00Z']],
    ['*/20 increments', 'cron(*/20 9 * * ? *)', '2026-01-01T00:00:00Z', ['2026-01-01T09:00:00Z', '2026-01-01T09:20:00Z', '2026-01-01T09:40:00Z', '2026-01-02T09:00:00Z']],
    ['month names and the year field; the schedule ends with its last year', 'cron(0 0 1 JAN,JUL ? 2027)', '2026-01-01T00:00:00Z', ['2027-01-01T00:00:00Z', '2027-07-01T00:00:00Z']],
    ['day-of-month increments (1/10 = 1, 11, 21, 31)', 'cron(0 0 1/10 * ? *)', '2026-01-01T12:00:00Z', ['2026-01-11T00:00:00Z', '2026-01-21T00:00:00Z', '2026-01-31T00:00:00Z', '2026-02-01T00:00:00Z']],
    ['a date that never occurs gives no times', 'cron(0 0 30 2 ? *)', '2026-01-01T00:00:00Z', []],
  ])('%s', (_name, expr, from, expected) => {
    expect(next(expr, from, Math.max(expected.length, 1))).toEqual(expected);
  });

  it('returns times strictly after `from`', () => {
    expect(next('cron(0 10 * * ? *)', '2026-01-03T10:00:00Z', 1)).toEqual(['2026-01-04T10:00:00Z']);
  });
});

describe('cron in a time zone across daylight saving time', () => {
  // New York 2026: clocks go 02:00 EST -> 03:00 EDT on 8 March, 02:00 EDT -> 01:00 EST on 1 November.
  // Berlin 2026: 02:00 CET -> 03:00 CEST on 29 March, 03:00 CEST -> 02:00 CET on 25 October.
  it.each([
    ['New York, spring: 02:30 does not exist on 8 March, so that day is skipped', 'cron(30 2 * * ? *)', 'America/New_York', '2026-03-06T12:00:00Z',
      ['2026-03-07T07:30:00Z', '2026-03-09T06:30:00Z', '2026-03-10T06:30:00Z']],
    ['New York, spring: hourly runs 01:00 EST then 03:00 EDT', 'cron(0 * * * ? *)', 'America/New_York', '2026-03-08T05:30:00Z',
      ['2026-03-08T06:00:00Z', '2026-03-08T07:00:00Z', '2026-03-08T08:00:00Z']],
    ['New York, autumn: 01:30 happens twice on 1 November and runs once', 'cron(30 1 * * ? *)', 'America/New_York', '2026-10-31T12:00:00Z',
      ['2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z']],
    ['New York, autumn: every 30 minutes does not repeat the repeated hour', 'cron(0/30 * * * ? *)', 'America/New_York', '2026-11-01T04:45:00Z',
      ['2026-11-01T05:00:00Z', '2026-11-01T05:30:00Z', '2026-11-01T07:00:00Z', '2026-11-01T07:30:00Z']],
    ['New York, autumn: from inside the second 01:xx, the next fire is 02:00 EST', 'cron(0/30 * * * ? *)', 'America/New_York', '2026-11-01T06:10:00Z',
      ['2026-11-01T07:00:00Z']],
    ['Berlin, spring: 02:30 is skipped on 29 March', 'cron(30 2 * * ? *)', 'Europe/Berlin', '2026-03-27T12:00:00Z',
      ['2026-03-28T01:30:00Z', '2026-03-30T00:30:00Z']],
    ['Berlin, autumn: 02:30 on 25 October runs once, in summer time', 'cron(30 2 * * ? *)', 'Europe/Berlin', '2026-10-24T12:00:00Z',
      ['2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z']],
    ['Berlin: 09:00 every day keeps its wall-clock time across the spring change', 'cron(0 9 * * ? *)', 'Europe/Berlin', '2026-03-28T00:00:00Z',
      ['2026-03-28T08:00:00Z', '2026-03-29T07:00:00Z', '2026-03-30T07:00:00Z']],
  ])('%s', (_name, expr, timezone, from, expected) => {
    expect(next(expr, from, expected.length, { timezone })).toEqual(expected);
  });
});

describe('rate', () => {
  it('runs every period from its start date', () => {
    expect(next('rate(5 minutes)', '2026-01-01T00:00:00Z', 3, { startDate: '2026-01-01T00:02:00Z' })).toEqual([
      '2026-01-01T00:02:00Z', '2026-01-01T00:07:00Z', '2026-01-01T00:12:00Z',
    ]);
  });

  it('keeps to the start date phase when `from` is later', () => {
    expect(next('rate(5 minutes)', '2026-01-01T00:10:00Z', 2, { startDate: '2026-01-01T00:02:00Z' })).toEqual([
      '2026-01-01T00:12:00Z', '2026-01-01T00:17:00Z',
    ]);
  });

  it('anchors at `from` when there is no start date', () => {
    expect(next('rate(1 hour)', '2026-01-01T00:00:30Z', 2)).toEqual(['2026-01-01T01:00:30Z', '2026-01-01T02:00:30Z']);
  });

  it('counts a day as 24 hours, so the wall-clock time moves across DST (the time zone does not matter)', () => {
    expect(next('rate(1 day)', '2026-03-07T13:00:00Z', 3, { startDate: '2026-03-07T14:00:00Z', timezone: 'America/New_York' })).toEqual([
      '2026-03-07T14:00:00Z', '2026-03-08T14:00:00Z', '2026-03-09T14:00:00Z',
    ]);
  });

  it('stops at the end date, inclusive', () => {
    expect(next('rate(2 days)', '2026-01-01T00:00:00Z', 10, { startDate: '2026-01-01T00:00:00Z', endDate: '2026-01-05T00:00:00Z' })).toEqual([
      '2026-01-03T00:00:00Z', '2026-01-05T00:00:00Z',
    ]);
  });

  it('parses value and unit', () => {
    expect(parseExpression('rate(1 minute)')).toMatchObject({ kind: 'rate', value: 1, unit: 'minute', periodMs: 60_000 });
    expect(parseExpression('rate(12 hours)')).toMatchObject({ kind: 'rate', value: 12, unit: 'hours', periodMs: 43_200_000 });
  });
});

describe('at', () => {
  it('fires once at the given UTC time', () => {
    expect(next('at(2026-11-23T16:00:00)', '2026-01-01T00:00:00Z', 5)).toEqual(['2026-11-23T16:00:00Z']);
  });

  it('is read in the schedule time zone', () => {
    expect(next('at(2026-11-23T16:00:00)', '2026-01-01T00:00:00Z', 1, { timezone: 'America/New_York' })).toEqual(['2026-11-23T21:00:00Z']);
    expect(next('at(2026-07-01T09:00:00)', '2026-01-01T00:00:00Z', 1, { timezone: 'Europe/Berlin' })).toEqual(['2026-07-01T07:00:00Z']);
  });

  it('ignores start and end dates, as AWS does for one-time schedules', () => {
    expect(next('at(2026-11-23T16:00:00)', '2026-01-01T00:00:00Z', 1, { startDate: '2027-01-01T00:00:00Z', endDate: '2026-02-01T00:00:00Z' })).toEqual([
      '2026-11-23T16:00:00Z',
    ]);
  });

  it('gives nothing once its time has passed', () => {
    expect(next('at(2026-11-23T16:00:00)', '2026-11-23T16:00:00Z', 1)).toEqual([]);
  });

  it('moves a time inside the spring-forward gap forward by the gap, and takes the first of a repeated time', () => {
    expect(next('at(2026-03-08T02:30:00)', '2026-01-01T00:00:00Z', 1, { timezone: 'America/New_York' })).toEqual(['2026-03-08T07:30:00Z']);
    expect(next('at(2026-11-01T01:30:00)', '2026-01-01T00:00:00Z', 1, { timezone: 'America/New_York' })).toEqual(['2026-11-01T05:30:00Z']);
  });
});

describe('start and end dates bound cron schedules', () => {
  it('includes fires on the start and end instants and none outside them', () => {
    expect(next('cron(0 10 * * ? *)', '2026-01-01T00:00:00Z', 10, { startDate: '2026-01-05T10:00:00Z', endDate: '2026-01-07T10:00:00Z' })).toEqual([
      '2026-01-05T10:00:00Z', '2026-01-06T10:00:00Z', '2026-01-07T10:00:00Z',
    ]);
  });

  it('gives nothing once the end date has passed', () => {
    expect(next('cron(0 10 * * ? *)', '2026-02-01T00:00:00Z', 3, { endDate: '2026-01-07T10:00:00Z' })).toEqual([]);
  });
});

describe('invalid expressions are refused with what is wrong and what is allowed', () => {
  it.each([
    ['cron(0 10 * * ?)', 'cron(0 10 * * ?) needs 6 fields (minutes hours day-of-month month day-of-week year), got 5'],
    ['cron(0 10 * * ? * *)', 'needs 6 fields (minutes hours day-of-month month day-of-week year), got 7'],
    ['cron(0 10 * * * *)', "day-of-month and day-of-week cannot both be set; use '?' in one of them"],
    ['cron(0 10 ? * ? *)', "only one of day-of-month and day-of-week can be '?'"],
    ['cron(60 10 * * ? *)', "minutes field '60' has 60, out of range (allowed: 0-59, wildcards , - * /)"],
    ['cron(0 24 * * ? *)', "hours field '24' has 24, out of range (allowed: 0-23, wildcards , - * /)"],
    ['cron(0 10 32 * ? *)', "day-of-month field '32' has 32, out of range (allowed: 1-31, wildcards , - * ? / L W)"],
    ['cron(0 10 * 13 ? *)', "month field '13' has 13, out of range (allowed: 1-12 or JAN-DEC, wildcards , - * /)"],
    ['cron(0 10 * FOO ? *)', "month field 'FOO' has 'FOO', which is not a value"],
    ['cron(0 10 ? * 0 *)', "day-of-week field '0' has 0, out of range (allowed: 1-7 or SUN-SAT, wildcards , - * ? L #)"],
    ['cron(0 10 ? * 8 *)', "day-of-week field '8' has 8, out of range"],
    ['cron(0 10 ? * */2 *)', "day-of-week field '*/2' uses '/', which day-of-week does not allow"],
    ['cron(0 10 ? * 3#1,6#3 *)', "combines '#' with a list; with '#' the field holds one expression"],
    ['cron(0 10 ? * 3#6 *)', 'asks for occurrence 6; a month has occurrences 1-5'],
    ['cron(0 10 * * ? 1969)', "year field '1969' has 1969, out of range (allowed: 1970-2199"],
    ['cron(0 10 * * ? 2200)', "year field '2200' has 2200, out of range"],
    ['cron(0 10 * * ? 2030-2025)', "year field '2030-2025' has range 2030-2025, which runs backwards"],
    ['cron(0/0 10 * * ? *)', "has increment '0'; an increment is a whole number of at least 1"],
    ['cron(0 10 1,,2 * ? *)', 'has an empty list item'],
    ['cron(0 10 5L * ? *)', 'uses L or W in a way AWS does not'],
    ['cron(0 ? * * ? *)', "hours field '?' uses '?'"],
    ['rate(1 minutes)', 'a value of 1 takes the singular unit (rate(1 minute))'],
    ['rate(5 minute)', 'a value above 1 takes the plural unit (rate(5 minutes))'],
    ['rate(0 minutes)', "the value '0' must be a positive whole number"],
    ['rate(1.5 hours)', "the value '1.5' must be a positive whole number"],
    ['rate(5 seconds)', "the unit 'seconds' is not one of minute, minutes, hour, hours, day, days"],
    ['rate(5)', 'needs a value and a unit, e.g. rate(5 minutes)'],
    ['at(2026-11-23 16:00:00)', 'must be at(yyyy-mm-ddThh:mm:ss)'],
    ['at(2026-11-23T16:00:00Z)', 'must be at(yyyy-mm-ddThh:mm:ss)'],
    ['at(2026-02-30T16:00:00)', 'is not a real date and time'],
    ['at(2026-01-01T24:00:00)', 'is not a real date and time'],
    ['every 5 minutes', "is not a schedule expression; use cron(minutes hours day-of-month month day-of-week year), rate(value unit) or at(yyyy-mm-ddThh:mm:ss)"],
    ['0 10 * * ? *', 'is not a schedule expression'],
    ['', 'A schedule expression is required'],
  ])('%s', (expr, message) => {
    let thrown: unknown;
    try {
      parseExpression(expr);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ExpressionError);
    expect((thrown as Error).name).toBe('ExpressionError');
    expect((thrown as Error).message).toContain(message);
  });

  it('refuses an unknown time zone when computing fire times', () => {
    expect(() => nextFireTimes('rate(1 hour)', { from: new Date(0), count: 1, timezone: 'Mars/Olympus' })).toThrow(
      "'Mars/Olympus' is not a time zone; use an IANA name",
    );
  });
});

describe('isValidTimezone', () => {
  it.each([
    ['UTC', true],
    ['America/New_York', true],
    ['Europe/Berlin', true],
    ['Etc/GMT+5', true],
    ['Mars/Olympus', false],
    ['+02:00', false],
    ['', false],
  ])('%s -> %s', (tz, valid) => {
    expect(isValidTimezone(tz)).toBe(valid);
  });
});
