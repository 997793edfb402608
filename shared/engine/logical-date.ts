/**
 * The logical date of a run: the business day it is for, as `YYYY-MM-DD`.
 *
 * A run's logical date is the calendar date of its scheduled time on the schedule's own
 * clock (its timezone), so the 01:30 run of a `Europe/Berlin` schedule on 15 January is for
 * 2025-01-15 even though 00:30 UTC is the same day and 23:30 UTC the day before would not
 * be. Cross-schedule dependencies (`after`) match upstream and downstream runs on it, and
 * deadlines name the date whose run must have succeeded by then. A schedule may declare an
 * offset in days (a nightly 02:00 run that processes yesterday: `-1`).
 */
import { wallClockOf } from '#shared/expressions/zone';

const DAY_MS = 86_400_000;

/** The `YYYY-MM-DD` calendar date of instant `t` on the clock of `timezone`, shifted by `offsetDays`. */
export function logicalDateOf(t: number | string, timezone: string, offsetDays = 0): string {
  const instant = typeof t === 'string' ? Date.parse(t) : t;
  if (!Number.isFinite(instant)) throw new RangeError(`not a time: ${String(t)}`);
  const wall = wallClockOf(instant, timezone);
  return new Date(Math.floor(wall / DAY_MS) * DAY_MS + offsetDays * DAY_MS).toISOString().slice(0, 10);
}

/** `date` (`YYYY-MM-DD`) moved by `days` calendar days. */
export function shiftDate(date: string, days: number): string {
  const t = Date.parse(`${date}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !Number.isFinite(t)) throw new RangeError(`not a date: ${date}`);
  return new Date(t + days * DAY_MS).toISOString().slice(0, 10);
}
