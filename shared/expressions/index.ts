/**
 * EventBridge Scheduler schedule expressions for the whole product: the local Scheduler,
 * config validation, the CLI's `next` command and the API's "next fire times".
 *
 * Semantics, from the Scheduler user guide:
 * - cron is evaluated on the wall clock of the schedule's time zone (UTC by default).
 *   Daylight saving: "When time shifts forward in the Spring, if a cron expression falls
 *   on a non-existent date and time, your schedule invocation is skipped. When time shifts
 *   backwards in the Fall, your schedule runs only once and does not repeat its
 *   invocation." So a wall time in the gap yields nothing, and a repeated wall time fires
 *   at its first occurrence only (the second pass through the hour is silent).
 * - rate is a fixed duration ("days represents a 24-hour duration"), independent of the
 *   zone. AWS starts a rate schedule at its StartDate, or immediately when it has none, and
 *   then every period. We anchor at `startDate` when given, else at `from`: fires are
 *   `anchor + k * period` (k >= 0), so with no start date the first fire after `from` is one
 *   period later. The local Scheduler passes the creation time as `startDate` for a
 *   schedule without one, which gives AWS's "starts immediately".
 * - at() names a wall-clock time in the schedule's zone and fires once; AWS ignores
 *   StartDate and EndDate for one-time schedules, and so do we. AWS documents nothing for
 *   an at() inside a DST gap; we move it forward by the gap (02:30 -> 03:30) so it still
 *   fires, and a repeated time fires at its first occurrence.
 * StartDate and EndDate bound recurring schedules inclusively ("invocations might occur on,
 * or after, the StartDate"; "might stop on, or before, the EndDate").
 */
import { Cron } from 'croner';
import { ExpressionError, parseExpression, type ParsedExpression } from './parse.ts';
import { instantOfCompatible, instantsOf, isValidTimezone, offsetAt, wallClockOf } from './zone.ts';

export { ExpressionError, parseExpression, isValidTimezone };
export { localIso } from './zone.ts';
export type { ParsedExpression, CronFields, LocalDateTime, RateUnit } from './parse.ts';

export interface NextFireTimesOptions {
  /** IANA zone the expression is evaluated in; UTC when absent. */
  timezone?: string;
  /** Times returned are strictly after this instant. */
  from: Date;
  /** How many times to return at most. */
  count: number;
  /** Inclusive lower bound (and the anchor of a rate schedule); ignored for at(). */
  startDate?: Date;
  /** Inclusive upper bound; ignored for at(). */
  endDate?: Date;
}

/** The next `count` fire times of `expr` strictly after `from`, earliest first; fewer when the schedule ends. */
export function nextFireTimes(expr: string | ParsedExpression, opts: NextFireTimesOptions): Date[] {
  const parsed = typeof expr === 'string' ? parseExpression(expr) : expr;
  const tz = opts.timezone ?? 'UTC';
  if (!isValidTimezone(tz)) {
    throw new ExpressionError(`'${tz}' is not a time zone; use an IANA name such as UTC, Europe/Berlin or America/New_York`);
  }
  const from = opts.from.getTime();
  if (Number.isNaN(from)) throw new ExpressionError('`from` is not a valid date');
  const count = Math.max(0, Math.floor(opts.count));
  if (count === 0) return [];
  const start = opts.startDate?.getTime();
  const end = opts.endDate?.getTime();

  if (parsed.kind === 'at') {
    const { year, month, day, hour, minute, second } = parsed.local;
    const t = instantOfCompatible(Date.UTC(year, month - 1, day, hour, minute, second), tz);
    return t > from ? [new Date(t)] : [];
  }

  if (parsed.kind === 'rate') {
    // Whole seconds: the Scheduler works to the second at best (AWS itself to the minute).
    const anchor = Math.floor((start ?? from) / 1000) * 1000;
    const p = parsed.periodMs;
    let k = anchor > from ? 0 : Math.floor((from - anchor) / p) + 1;
    const out: Date[] = [];
    while (out.length < count) {
      const t = anchor + k * p;
      if (end !== undefined && t > end) break;
      out.push(new Date(t));
      k += 1;
    }
    return out;
  }

  return cronTimes(parsed.pattern, tz, from, count, start, end);
}

/** Lookups beyond this many wall-clock matches without a usable one mean the schedule is over. */
const MAX_SCAN = 100_000;

function cronTimes(pattern: string, tz: string, from: number, count: number, start?: number, end?: number): Date[] {
  // croner matches the pattern on wall-clock readings in "fake UTC"; the zone is applied
  // afterwards, so DST follows AWS's rules rather than croner's own.
  const cron = new Cron(pattern, { timezone: 'UTC', mode: '7-part', domAndDow: true, paused: true });
  const lower = Math.max(from + 1, start ?? -Infinity);
  // Start three hours of wall clock early when the offset changed in the three hours before
  // `lower`: it may then sit in the second pass of a repeated hour, whose wall readings come
  // before the first pass's instants end. Otherwise the wall clock ran straight up to `lower`
  // (a dense cron asked day by day, as the calendar does, skips 180 readings a call).
  const rewind = offsetAt(lower - 3 * 3_600_000, tz) === offsetAt(lower, tz) ? 0 : 3 * 3_600_000;
  let cursor: Date | null = new Date(wallClockOf(lower, tz) - rewind - 1000);
  const out: Date[] = [];
  for (let scanned = 0; out.length < count && scanned < MAX_SCAN; scanned++) {
    cursor = cron.nextRun(cursor);
    if (!cursor) break;
    const instants = instantsOf(cursor.getTime(), tz);
    if (instants.length === 0) continue; // inside a spring-forward gap: AWS skips it
    const t = instants[0]!; // a repeated time fires once, at its first occurrence
    if (end !== undefined && t > end) break;
    if (t < lower) continue;
    out.push(new Date(t));
  }
  return out;
}
