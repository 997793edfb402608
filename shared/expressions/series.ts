/**
 * A schedule's series: every instant at which EventBridge Scheduler fires it, past and
 * future, from one function. Next fires (`batchron schedules`, `GET /schedules`,
 * `batchron next`), the fires that fell due while the local stack was stopped, backfill, the
 * sweeper's missed-fire repair and the local Scheduler itself all ask this module, so they
 * cannot disagree.
 *
 * Scheduler's rules (user guide, "Schedule types"; API reference, CreateSchedule):
 * - cron in the schedule's zone with DST (see ./index.ts: a wall time in a spring-forward gap
 *   is skipped, a repeated one fires once);
 * - `rate(...)` "starts" at the StartDate or, without one, when the schedule is created, and
 *   then every period: the anchor is StartDate ?? CreationDate (GetSchedule returns both),
 *   to the second. AWS documents nothing about an update re-anchoring a rate; the local
 *   Scheduler keeps the creation anchor, and so does the series;
 * - StartDate and EndDate bound recurring schedules inclusively; at() ignores both;
 * - a flexible window lets Scheduler invoke anywhere in [T, T + window); T (the window's
 *   start) is the scheduled time the target receives, so the series lists T and
 *   `deliveredBy` says how late a delivery may come.
 *
 * Nothing fires before the schedule existed: with `createdAt` (and `modifiedAt`, the
 * definition in force since) the series starts there (`history: 'since-modified'`); backfill
 * asks for the unbounded series, which extends a rate's anchor backwards.
 */
import { ExpressionError, nextFireTimes, parseExpression, type ParsedExpression } from './index.ts';

/** What the series of one schedule depends on. */
export interface SeriesSpec {
  expression: string | ParsedExpression;
  /** IANA zone; UTC when absent. */
  timezone?: string;
  startDate?: Date;
  endDate?: Date;
  /** Scheduler's CreationDate: the anchor of a rate schedule without a StartDate. */
  createdAt?: Date;
  /** Scheduler's LastModificationDate: when the definition in force (and its State) was written. */
  modifiedAt?: Date;
  /** A FLEXIBLE window's MaximumWindowInMinutes; absent or 0 for OFF. */
  flexibleWindowMinutes?: number;
}

/**
 * Which part of the series to list:
 * - `all`: the expression within StartDate/EndDate, ignoring when the schedule was created
 *   (backfill: a rate's anchor is extended backwards);
 * - `since-created`: only fires at or after the creation (the local Scheduler's rule);
 * - `since-modified`: only fires of the definition in force, at or after its last modification.
 */
export type SeriesHistory = 'all' | 'since-created' | 'since-modified';

const SECOND = 1000;
/** Scans past this many candidates without reaching the range mean the range is empty. */
const MAX_BATCH = 10_000;

function parsed(spec: SeriesSpec): ParsedExpression {
  return typeof spec.expression === 'string' ? parseExpression(spec.expression) : spec.expression;
}

/**
 * The instant a rate schedule is anchored at (StartDate, else CreationDate), to the second;
 * undefined for cron and at(), or for a rate with neither date (an ExpressionError in `fires`).
 */
export function rateAnchor(spec: SeriesSpec): Date | undefined {
  if (parsed(spec).kind !== 'rate') return undefined;
  const anchor = spec.startDate ?? spec.createdAt;
  return anchor ? new Date(Math.floor(anchor.getTime() / SECOND) * SECOND) : undefined;
}

/** The earliest instant the series may hold under `history`. */
function lowerBound(spec: SeriesSpec, history: SeriesHistory): number {
  const p = parsed(spec);
  let lower = -Infinity;
  if (history !== 'all' && spec.createdAt) {
    // A rate created without a StartDate fires at its creation, to the second.
    lower = p.kind === 'rate' && !spec.startDate ? Math.floor(spec.createdAt.getTime() / SECOND) * SECOND : spec.createdAt.getTime();
  }
  if (history === 'since-modified' && spec.modifiedAt && spec.modifiedAt.getTime() > (spec.createdAt?.getTime() ?? -Infinity)) {
    lower = Math.max(lower, spec.modifiedAt.getTime());
  }
  if (p.kind !== 'at' && spec.startDate) lower = Math.max(lower, spec.startDate.getTime());
  return lower;
}

/**
 * The series' instants in [from, to), earliest first, at most `limit` (the rest are left off:
 * ask for `limit + 1` to know whether there were more).
 */
export function firesBetween(spec: SeriesSpec, from: Date, to: Date, options: { limit?: number; history?: SeriesHistory } = {}): Date[] {
  const limit = options.limit ?? 1000;
  const lo = Math.max(from.getTime(), lowerBound(spec, options.history ?? 'since-created'));
  const hi = to.getTime();
  if (!(lo < hi) || limit <= 0) return [];
  const p = parsed(spec);
  const end = p.kind === 'at' ? Infinity : (spec.endDate?.getTime() ?? Infinity);
  if (p.kind === 'rate') {
    const anchor = rateAnchor(spec);
    if (!anchor) throw new ExpressionError(`${p.expression} has no anchor: a rate schedule needs its StartDate or its creation time`);
    const a = anchor.getTime();
    let k = Math.ceil((lo - a) / p.periodMs);
    const out: Date[] = [];
    for (let t = a + k * p.periodMs; t < hi && t <= end && out.length < limit; k++, t = a + k * p.periodMs) out.push(new Date(t));
    return out;
  }
  const out: Date[] = [];
  let cursor = lo - 1;
  while (out.length < limit) {
    const batch = nextFireTimes(p, {
      timezone: spec.timezone ?? 'UTC',
      from: new Date(cursor),
      count: Math.min(MAX_BATCH, limit - out.length),
      // Bounded by `to` as well as by the series' end: without it, a daily cron asked for one
      // day computed `limit` days of fires (the sweeper asks every schedule every sweep).
      ...(p.kind !== 'at' ? { endDate: new Date(Math.min(hi, end)) } : {}),
    });
    for (const t of batch) {
      if (t.getTime() >= hi) return out;
      out.push(t);
    }
    if (batch.length === 0 || p.kind === 'at') return out;
    cursor = batch[batch.length - 1]!.getTime();
  }
  return out;
}

/** The next `count` instants of the series strictly after `after`, earliest first; fewer when it ends. */
export function nextFires(spec: SeriesSpec, after: Date, count: number, history: SeriesHistory = 'since-created'): Date[] {
  const p = parsed(spec);
  const lo = Math.max(after.getTime() + 1, lowerBound(spec, history));
  if (p.kind === 'rate') return firesBetween(spec, new Date(lo), new Date(8.64e15), { limit: count, history });
  return nextFireTimes(p, {
    timezone: spec.timezone ?? 'UTC',
    from: new Date(lo - 1),
    count,
    ...(spec.endDate && p.kind !== 'at' ? { endDate: spec.endDate } : {}),
  });
}

/** The latest instant Scheduler may deliver the fire scheduled at `t` (the end of its flexible window). */
export function deliveredBy(spec: SeriesSpec, t: Date): Date {
  return new Date(t.getTime() + (spec.flexibleWindowMinutes ?? 0) * 60_000);
}

/** The series of a schedule as GetSchedule returns it (AWS or the local Scheduler). */
export function seriesOfSchedule(out: {
  ScheduleExpression?: string;
  ScheduleExpressionTimezone?: string;
  StartDate?: Date;
  EndDate?: Date;
  CreationDate?: Date;
  LastModificationDate?: Date;
  FlexibleTimeWindow?: { Mode?: string; MaximumWindowInMinutes?: number };
}): SeriesSpec {
  if (!out.ScheduleExpression) throw new ExpressionError('The schedule has no ScheduleExpression');
  return {
    expression: out.ScheduleExpression,
    ...(out.ScheduleExpressionTimezone ? { timezone: out.ScheduleExpressionTimezone } : {}),
    ...(out.StartDate ? { startDate: out.StartDate } : {}),
    ...(out.EndDate ? { endDate: out.EndDate } : {}),
    ...(out.CreationDate ? { createdAt: out.CreationDate } : {}),
    ...(out.LastModificationDate ? { modifiedAt: out.LastModificationDate } : {}),
    ...(out.FlexibleTimeWindow?.Mode === 'FLEXIBLE' && out.FlexibleTimeWindow.MaximumWindowInMinutes
      ? { flexibleWindowMinutes: out.FlexibleTimeWindow.MaximumWindowInMinutes }
      : {}),
  };
}
