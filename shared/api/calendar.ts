/**
 * A schedule's month as the dashboard's calendar shows it: each day of the month on the
 * schedule's own clock (its zone, with DST), the runs scheduled that day by outcome and the
 * fires still to come that day. The fires are the schedule's series (shared/expressions/
 * series.ts), the same one the API's next fires and the Scheduler use, so the calendar
 * cannot promise a time the schedule will not fire at.
 *
 * Bounded on purpose: one month per request, at most CALENDAR_LIMITS.runs runs read (newest
 * first; `runsTruncated` says the rest were not), at most CALENDAR_LIMITS.firesPerDay fires
 * counted per day (`more` says there are others) and CALENDAR_LIMITS.shown runs and fires
 * listed per day.
 */
import * as z from '../zod.ts';
import { instantOfCompatible, wallClockOf } from '../expressions/zone.ts';
import { firesBetween, seriesOfSchedule, type SeriesSpec } from '../expressions/series.ts';
import type { RunStatus, RunSummary } from '../store/schema.ts';
import type { ApiDeps } from './deps.ts';
import { getAnyScheduleEntry } from './schedules.ts';

/** How much one calendar answer holds. */
export const CALENDAR_LIMITS = {
  /** Runs read for one month (every-minute has 44,640 fires in a 31-day month). */
  runs: 5000,
  /**
   * Fires counted per day; a day with more says so (`more`). Working out a cron series costs
   * a fraction of a millisecond per fire, and a month of minutes is 44,640 of them.
   */
  firesPerDay: 24,
  /** Runs and fires listed per day; the rest are counted. */
  shown: 6,
  /** The months a calendar may show. */
  firstYear: 2000,
  lastYear: 2099,
} as const;

/** `?month=2026-12`: a calendar month, bounded to CALENDAR_LIMITS' years. */
export const MonthSchema = z.string().check(
  z.regex(/^\d{4}-(0[1-9]|1[0-2])$/, { error: 'must be a month as YYYY-MM (e.g. 2026-12)' }),
  z.refine((m) => {
    const year = Number(m.slice(0, 4));
    return year >= CALENDAR_LIMITS.firstYear && year <= CALENDAR_LIMITS.lastYear;
  }, { error: `must be a month of the years ${CALENDAR_LIMITS.firstYear} to ${CALENDAR_LIMITS.lastYear}` }),
);

/** One run in a calendar day. */
export interface CalendarRun {
  runId: string;
  status: RunStatus;
  scheduledTime: string;
}

/** One day of the month on the schedule's clock. */
export interface CalendarDay {
  /** `YYYY-MM-DD` on the schedule's clock. */
  date: string;
  /** Runs scheduled that day: how many of each status, and the first few, earliest first. */
  runs: { total: number; byStatus: Partial<Record<RunStatus, number>>; shown: CalendarRun[] };
  /**
   * Fires still to come that day (after `now`): how many (at most CALENDAR_LIMITS.firesPerDay,
   * `more` when the day has others), and the first few (UTC ISO), earliest first.
   */
  fires: { total: number; more: boolean; shown: string[] };
}

/** What GET /schedules/{name}/calendar answers. */
export interface ScheduleCalendar {
  schedule: string;
  timezone: string;
  /** `YYYY-MM`. */
  month: string;
  previous: string;
  next: string;
  /** The month as instants: [from, to), UTC ISO. */
  from: string;
  to: string;
  /** The instant the answer was computed at: fires after it are next fires. */
  now: string;
  /** False for a schedule with no time expression (only event triggers): it has no fires to show. */
  timed: boolean;
  /** True when the month held more runs than were read (the oldest days then show fewer). */
  runsTruncated: boolean;
  days: CalendarDay[];
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `2026-12` from a year and a 1-based month, rolling over the year. */
export function monthKey(year: number, month: number): string {
  const d = new Date(Date.UTC(year, month - 1, 1));
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}`;
}

/** The month `t` falls in on the clock of `timezone`. */
export function monthOf(t: number, timezone: string): string {
  const wall = new Date(wallClockOf(t, timezone));
  return monthKey(wall.getUTCFullYear(), wall.getUTCMonth() + 1);
}

/**
 * A month on a zone's clock as instants: from its first midnight to the next month's
 * (a midnight skipped by DST starts the day at the first instant after the gap), and its
 * days as `YYYY-MM-DD` with the instant each one starts.
 */
export function monthRange(month: string, timezone: string): { from: Date; to: Date; days: { date: string; start: number }[]; previous: string; next: string } {
  const year = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  const daysIn = new Date(Date.UTC(year, m, 0)).getUTCDate();
  const days = Array.from({ length: daysIn }, (_, i) => ({
    date: `${month}-${pad(i + 1)}`,
    start: instantOfCompatible(Date.UTC(year, m - 1, i + 1), timezone),
  }));
  return {
    from: new Date(days[0]!.start),
    to: new Date(instantOfCompatible(Date.UTC(year, m, 1), timezone)),
    days,
    previous: monthKey(year, m - 1),
    next: monthKey(year, m + 1),
  };
}

/**
 * Puts runs and fires into the days of the month (`days` and `to` from monthRange): day i
 * holds the instants in [its start, the next day's start), so a day is a day of the
 * schedule's clock however long DST makes it.
 */
export function calendarDays(
  range: { days: { date: string; start: number }[]; to: Date },
  runs: CalendarRun[],
  fires: Date[],
  limits: { shown: number; firesPerDay: number } = CALENDAR_LIMITS,
): CalendarDay[] {
  const { shown, firesPerDay } = limits;
  const out: CalendarDay[] = range.days.map((d) => ({ date: d.date, runs: { total: 0, byStatus: {}, shown: [] }, fires: { total: 0, more: false, shown: [] } }));
  const starts = range.days.map((d) => d.start);
  const end = range.to.getTime();
  // The last day starting at or before t (binary search: a month of minutes is 44,640 fires).
  const dayOf = (t: number): CalendarDay | undefined => {
    if (t < starts[0]! || t >= end) return undefined;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return out[lo];
  };
  for (const run of [...runs].sort((a, b) => a.scheduledTime.localeCompare(b.scheduledTime))) {
    const day = dayOf(Date.parse(run.scheduledTime));
    if (!day) continue;
    day.runs.total++;
    day.runs.byStatus[run.status] = (day.runs.byStatus[run.status] ?? 0) + 1;
    if (day.runs.shown.length < shown) day.runs.shown.push(run);
  }
  for (const fire of fires) {
    const day = dayOf(fire.getTime());
    if (!day) continue;
    if (day.fires.total === firesPerDay) {
      day.fires.more = true;
      continue;
    }
    day.fires.total++;
    if (day.fires.shown.length < shown) day.fires.shown.push(fire.toISOString());
  }
  return out;
}

/**
 * The fires of `spec` in the month after `after`, at most `perDay + 1` a day (so a day with
 * more than `perDay` shows it): one bounded series query per day instead of the whole month.
 */
export function monthFires(spec: SeriesSpec, range: { days: { start: number }[]; to: Date }, after: number, perDay: number): Date[] {
  const out: Date[] = [];
  range.days.forEach((day, i) => {
    const end = i + 1 < range.days.length ? range.days[i + 1]!.start : range.to.getTime();
    if (end <= after) return;
    out.push(...firesBetween(spec, new Date(Math.max(day.start, after + 1)), new Date(end), { limit: perDay + 1 }));
  });
  return out;
}

/** GET /schedules/{name}/calendar: `month` (default: this month on the schedule's clock). */
export async function scheduleCalendar(deps: ApiDeps, name: string, month?: string): Promise<ScheduleCalendar> {
  const entry = await getAnyScheduleEntry(deps, name);
  const timezone = entry.definition.timezone;
  const now = deps.now();
  const wanted = month ?? monthOf(now, timezone);
  const range = monthRange(wanted, timezone);
  const timed = entry.raw !== undefined && entry.definition.expression !== undefined;

  // Runs: newest first within the month, up to the limit (one paged index query).
  const page = await deps.store.listRunsBySchedule(name, {
    limit: CALENDAR_LIMITS.runs,
    after: range.from.toISOString(),
    before: range.to.toISOString(),
  });
  const runs = page.items.map(({ summary }: { summary: RunSummary }) => ({
    runId: summary.runId,
    status: summary.status,
    scheduledTime: summary.scheduledTime,
  }));

  // Next fires: the series after now (or after the month's start, for a month still to come).
  let fires: Date[] = [];
  if (timed && range.to.getTime() > now && entry.state === 'ENABLED') {
    try {
      fires = monthFires(seriesOfSchedule(entry.raw!), range, now, CALENDAR_LIMITS.firesPerDay);
    } catch {
      // A definition this version cannot evaluate: show its runs without fires rather than fail.
    }
  }
  return {
    schedule: name,
    timezone,
    month: wanted,
    previous: range.previous,
    next: range.next,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    now: new Date(now).toISOString(),
    timed,
    runsTruncated: page.more,
    days: calendarDays(range, runs, fires),
  };
}
