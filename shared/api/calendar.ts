/**
 * A schedule's month as the dashboard's calendar shows it: each day of the month on the
 * schedule's own clock (its zone, with DST), the runs scheduled that day by outcome and the
 * fires still to come that day. The fires are the schedule's series (shared/expressions/
 * series.ts), the same one the API's next fires and the Scheduler use, so the calendar
 * cannot promise a time the schedule will not fire at.
 *
 * Bounded on purpose: one month per request, at most CALENDAR_LIMITS.runs runs read (newest
 * first; `runsTruncated` says the rest were not) and at most CALENDAR_LIMITS.shown runs and
 * fires listed per day (the counts are whole).
 */
import * as z from '../zod.ts';
import { instantOfCompatible, localIso, wallClockOf } from '../expressions/zone.ts';
import { firesBetween, seriesOfSchedule } from '../expressions/series.ts';
import type { RunStatus, RunSummary } from '../store/schema.ts';
import type { ApiDeps } from './deps.ts';
import { getAnyScheduleEntry } from './schedules.ts';

/** How much one calendar answer holds. */
export const CALENDAR_LIMITS = {
  /** Runs read for one month (every-minute has 44,640 fires in a 31-day month). */
  runs: 5000,
  /** Fires computed for one month: one a minute for 31 days, the most Scheduler can fire. */
  fires: 31 * 24 * 60,
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
  /** Fires still to come that day (after `now`): how many, and the first few (UTC ISO), earliest first. */
  fires: { total: number; shown: string[] };
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

/** Puts runs and fires into the days of the month (`days` from monthRange), on the schedule's clock. */
export function calendarDays(
  days: { date: string; start: number }[],
  timezone: string,
  runs: CalendarRun[],
  fires: Date[],
  shown: number = CALENDAR_LIMITS.shown,
): CalendarDay[] {
  const out = new Map<string, CalendarDay>(
    days.map((d) => [d.date, { date: d.date, runs: { total: 0, byStatus: {}, shown: [] }, fires: { total: 0, shown: [] } }]),
  );
  const dayOf = (t: number) => localIso(new Date(t), timezone).slice(0, 10);
  for (const run of [...runs].sort((a, b) => a.scheduledTime.localeCompare(b.scheduledTime))) {
    const day = out.get(dayOf(Date.parse(run.scheduledTime)));
    if (!day) continue;
    day.runs.total++;
    day.runs.byStatus[run.status] = (day.runs.byStatus[run.status] ?? 0) + 1;
    if (day.runs.shown.length < shown) day.runs.shown.push(run);
  }
  for (const fire of fires) {
    const day = out.get(dayOf(fire.getTime()));
    if (!day) continue;
    day.fires.total++;
    if (day.fires.shown.length < shown) day.fires.shown.push(fire.toISOString());
  }
  return [...out.values()];
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
    const from = new Date(Math.max(range.from.getTime(), now + 1));
    try {
      fires = firesBetween(seriesOfSchedule(entry.raw!), from, range.to, { limit: CALENDAR_LIMITS.fires });
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
    days: calendarDays(range.days, timezone, runs, fires),
  };
}
