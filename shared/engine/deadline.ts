/**
 * Deadlines (SLA): one alert when the run a deadline names has not succeeded by then, and one
 * "met late" message when it succeeds after. Checked by the sweeper (shared/engine/sweep.ts)
 * for every enabled schedule of the registry that declares `deadline` (config:
 * shared/config/deadline.ts).
 *
 * Which deadlines a schedule has:
 * - `at`: one per logical date D that the schedule's series (the definition in force) has a
 *   fire on, at `at` on D (`same`) or on D + 1 day (`previous`), on the clock of the
 *   deadline's zone. The run(s) for D are those scheduled within D on the schedule's clock
 *   (shared/engine/logical-date.ts); the first to succeed meets it. A wall time that does
 *   not exist that night (a spring-forward gap: 02:30 in Berlin on 30 March) is moved on by
 *   the gap's length (03:30 CEST); one that occurs twice (26 October) is the first of the two
 *   (02:30 CEST), as one-time schedules are placed (shared/expressions/zone.ts).
 * - `after`: one per fire, at its scheduled time plus `after`; its run is that fire's.
 *
 * Each deadline gets a record (shared/store/deadline-item.ts) the first time a sweep finds it
 * due: `MET` when its run succeeded by then, else `MISSED` with an alert owed. A later sweep
 * that finds the run succeeded moves `MISSED` to `MET_LATE` with a "met late" message owed.
 * Both writes are conditional (create once; save over the version read), and a message is
 * sent only under a claim (PENDING -> SENDING until now + claim time -> SENT), as run
 * notifications are (docs/engine.md, Notifications): concurrent or repeated sweeps send each
 * message once; a crash between sending and recording SENT resends once after the claim
 * expires; a Slack error leaves it PENDING for the next sweep.
 */
import pLimit from 'p-limit';
import * as z from '../zod.ts';
import type { ScheduleDefinition } from '../config/definition.ts';
import type { DeadlineDefinition } from '../config/deadline.ts';
import { firesBetween, nextFires, type SeriesSpec } from '../expressions/series.ts';
import { instantOfCompatible, localIso } from '../expressions/zone.ts';
import { routed, type NotificationMessage } from '../notify/messages.ts';
import { slackText as t } from '../notify/escape.ts';
import type { DeadlineRecord, DeadlineSlot } from '../store/deadline-item.ts';
import type { RunSummary } from '../store/schema.ts';
import { DEFAULTS, type EngineDeps } from './deps.ts';
import { logicalDateOf, shiftDate } from './logical-date.ts';
import type { DeadlineStore } from './ports.ts';
import type { RegisteredSchedule } from './registry.ts';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** How far back a sweep looks for deadlines that fell without a record (as the missed-fire repair). */
export const DEADLINE_LOOKBACK_MS = 24 * 3_600_000;
/** How long after its deadline a missed run is still watched for a "met late" message. */
export const DEADLINE_WATCH_MS = 48 * 3_600_000;
/** A run within this distance of a fire is that fire's run (as in shared/engine/missed.ts). */
const MATCH_MS = MINUTE_MS;

/** One deadline of a schedule: when, and which runs it is about. */
export interface Deadline {
  /** The deadline instant, epoch ms. */
  at: number;
  /** `at` deadlines: the logical date. */
  logicalDate?: string;
  /** `after` deadlines: the fire, UTC ISO. */
  scheduledTime?: string;
  /** The runs it is about are those scheduled in [runsFrom, runsTo). */
  runsFrom: number;
  runsTo: number;
}

/** The instant `HH:MM` reads on `date` (YYYY-MM-DD) in `timezone`: a gap's time moved on by the gap, a repeated time's first. */
export function wallTimeOn(date: string, hhmm: string, timezone: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return instantOfCompatible(Date.parse(`${date}T00:00:00Z`) + h * 3_600_000 + m * MINUTE_MS, timezone);
}

/** [start, end) of logical date `date` on the clock of `timezone`. */
export function dayBounds(date: string, timezone: string): [number, number] {
  return [wallTimeOn(date, '00:00', timezone), wallTimeOn(shiftDate(date, 1), '00:00', timezone)];
}

/**
 * The deadline of logical date `date` under an `at` deadline of a schedule on `scheduleTimezone`
 * whose logical dates are its fires' dates moved by `offsetDays` (`logicalDate.offsetDays`): the
 * runs for `date` are those scheduled on `date - offsetDays`.
 */
export function deadlineOfDate(deadline: Extract<DeadlineDefinition, { at: string }>, date: string, scheduleTimezone: string, offsetDays = 0): Deadline {
  const [runsFrom, runsTo] = dayBounds(shiftDate(date, -offsetDays), scheduleTimezone);
  const day = deadline.forLogicalDate === 'previous' ? shiftDate(date, 1) : date;
  return { at: wallTimeOn(day, deadline.at, deadline.timezone), logicalDate: date, runsFrom, runsTo };
}

/**
 * The deadlines of a schedule that fall in (from, to], earliest first: for `at`, the logical
 * dates the series (the definition in force) fires on; for `after`, each fire.
 */
export function deadlinesBetween(def: Pick<ScheduleDefinition, 'timezone' | 'logicalDateOffsetDays'> & { deadline: DeadlineDefinition }, series: SeriesSpec, from: number, to: number): Deadline[] {
  const d = def.deadline;
  if ('afterMinutes' in d) {
    const after = d.afterMinutes * MINUTE_MS;
    return firesBetween(series, new Date(from - after + 1), new Date(to - after + 1), { history: 'since-modified' }).map((f) => ({
      at: f.getTime() + after,
      scheduledTime: f.toISOString(),
      runsFrom: f.getTime() - MATCH_MS + 1,
      runsTo: f.getTime() + MATCH_MS,
    }));
  }
  const out: Deadline[] = [];
  // A deadline falls at most a day and a bit after its date starts (`previous`, 23:59, a zone
  // far from the schedule's): dates from two days before `from` cover every one in range.
  const offset = def.logicalDateOffsetDays ?? 0;
  for (let date = logicalDateOf(from - 2 * DAY_MS, def.timezone, offset); date <= logicalDateOf(to + DAY_MS, def.timezone, offset); date = shiftDate(date, 1)) {
    const one = deadlineOfDate(d, date, def.timezone, offset);
    if (one.at <= from || one.at > to) continue;
    if (firesBetween(series, new Date(one.runsFrom), new Date(one.runsTo), { history: 'since-modified', limit: 1 }).length === 0) continue;
    out.push(one);
  }
  return out.sort((a, b) => a.at - b.at);
}

/** The next deadline after `now` (for listings), or undefined when the series has no more. */
export function nextDeadline(def: Pick<ScheduleDefinition, 'timezone' | 'logicalDateOffsetDays'> & { deadline: DeadlineDefinition }, series: SeriesSpec, now: number): Deadline | undefined {
  const d = def.deadline;
  if ('afterMinutes' in d) {
    const after = d.afterMinutes * MINUTE_MS;
    const [f] = nextFires(series, new Date(now - after), 1);
    return f ? { at: f.getTime() + after, scheduledTime: f.toISOString(), runsFrom: f.getTime() - MATCH_MS + 1, runsTo: f.getTime() + MATCH_MS } : undefined;
  }
  // A daily series has one within two days; a sparse one (monthly) within about a month.
  for (let span = 3 * DAY_MS; span <= 400 * DAY_MS; span *= 4) {
    const found = deadlinesBetween(def, series, now, now + span)[0];
    if (found) return found;
  }
  return undefined;
}

/** What the runs of a deadline say: the first success, and the latest run (for the alert's words). */
export interface DeadlineFacts {
  now: number;
  succeeded?: { runId: string; at: number };
  latest?: RunSummary;
}

/** The facts of a deadline from the runs scheduled in its span. */
export function factsOf(runs: RunSummary[], now: number): DeadlineFacts {
  let succeeded: DeadlineFacts['succeeded'];
  for (const r of runs) {
    if (r.status !== 'SUCCEEDED') continue;
    const at = Date.parse(r.endedAt ?? r.createdAt ?? new Date(now).toISOString());
    if (!succeeded || at < succeeded.at) succeeded = { runId: r.runId, at };
  }
  const latest = [...runs].sort((a, b) => (a.scheduledTime < b.scheduledTime ? -1 : 1)).at(-1);
  return { now, ...(succeeded ? { succeeded } : {}), ...(latest ? { latest } : {}) };
}

/**
 * The next record of a deadline given what its runs say, or undefined when nothing changes.
 * Pure: no I/O, no clock.
 */
export function decideDeadline(schedule: string, deadline: Deadline, record: DeadlineRecord | undefined, facts: DeadlineFacts): DeadlineRecord | undefined {
  const met = facts.succeeded;
  if (!record) {
    if (facts.now < deadline.at) return undefined;
    const base: DeadlineRecord = {
      schedule,
      deadlineAt: new Date(deadline.at).toISOString(),
      ...(deadline.logicalDate ? { logicalDate: deadline.logicalDate } : {}),
      ...(deadline.scheduledTime ? { scheduledTime: deadline.scheduledTime } : {}),
      status: 'MET',
      version: 0,
    };
    if (met && met.at <= deadline.at) return { ...base, runId: met.runId, succeededAt: new Date(met.at).toISOString() };
    const missed: DeadlineRecord = { ...base, status: 'MISSED', missedAt: new Date(facts.now).toISOString(), alert: { status: 'PENDING' } };
    // Succeeded already, but after the deadline (the sweep came late): both messages, in order.
    return met ? { ...missed, status: 'MET_LATE', runId: met.runId, succeededAt: new Date(met.at).toISOString(), metLate: { status: 'PENDING' } } : missed;
  }
  if (record.status === 'MISSED' && met) {
    return { ...record, status: 'MET_LATE', runId: met.runId, succeededAt: new Date(met.at).toISOString(), metLate: { status: 'PENDING' } };
  }
  return undefined;
}

/** True when a slot's message is owed and nobody holds a live claim on it. */
export function slotDue(slot: DeadlineSlot | undefined, now: number): boolean {
  if (!slot || slot.status === 'SENT') return false;
  return slot.status === 'PENDING' || (slot.until ?? 0) <= now;
}

function when(at: number, timezone: string): string {
  return `${localIso(new Date(at), timezone)} (${new Date(at).toISOString()})`;
}

function subject(record: DeadlineRecord): string {
  return record.logicalDate ? `the run for ${t(record.logicalDate)}` : `the run of ${t(record.scheduledTime)}`;
}

/** The alert: the run a deadline names had not succeeded by then. */
export function deadlineMissedMessage(def: ScheduleDefinition, record: DeadlineRecord, latest: RunSummary | undefined): NotificationMessage {
  const tz = def.deadline && 'at' in def.deadline ? def.deadline.timezone : def.timezone;
  const state = latest ? `latest run \`${t(latest.runId)}\` is ${t(latest.status)}` : 'no run has started';
  return {
    kind: 'deadline',
    ...routed(def, 'deadline'),
    schedule: def.name,
    runId: latest?.runId ?? '',
    text: `:alarm_clock: *${t(def.name)}* missed its deadline: ${subject(record)} had not succeeded by ${when(Date.parse(record.deadlineAt), tz)}; ${state}.`,
  };
}

/** The one message when a missed deadline's run then succeeds. */
export function deadlineMetLateMessage(def: ScheduleDefinition, record: DeadlineRecord): NotificationMessage {
  const late = Math.max(0, Math.round((Date.parse(record.succeededAt ?? record.deadlineAt) - Date.parse(record.deadlineAt)) / MINUTE_MS));
  return {
    kind: 'deadline',
    ...routed(def, 'deadline'),
    schedule: def.name,
    runId: record.runId ?? '',
    text: `:large_green_circle: *${t(def.name)}* met its deadline late: ${subject(record)} succeeded (run \`${t(record.runId)}\`) at ${t(record.succeededAt)}, ${late} min after the deadline of ${t(record.deadlineAt)}.`,
  };
}

/** What one deadline pass did. */
export interface DeadlineReport {
  schedulesChecked: number;
  met: number;
  missed: number;
  metLate: number;
  alertsSent: number;
  metLateSent: number;
  errors: number;
}

/** Checks the deadlines of every registered schedule that has one. */
export async function checkDeadlines(deps: EngineDeps, store: DeadlineStore, schedules: RegisteredSchedule[], options: { concurrency?: number } = {}): Promise<DeadlineReport> {
  const report: DeadlineReport = { schedulesChecked: 0, met: 0, missed: 0, metLate: 0, alertsSent: 0, metLateSent: 0, errors: 0 };
  const limit = pLimit(options.concurrency ?? 4);
  await Promise.all(
    schedules
      .filter((s) => s.definition.deadline)
      .map((s) =>
        limit(async () => {
          try {
            await checkSchedule(s, deps, store, report);
          } catch (error) {
            report.errors++;
            deps.log.error('sweep: deadlines of a schedule not checked this time', { schedule: s.name, error: String(error) });
          }
        }),
      ),
  );
  return report;
}

async function checkSchedule(s: RegisteredSchedule, deps: EngineDeps, store: DeadlineStore, report: DeadlineReport): Promise<void> {
  report.schedulesChecked++;
  const def = s.definition as ScheduleDefinition & { deadline: DeadlineDefinition };
  const now = deps.now();
  const due = deadlinesBetween(def, s.series, now - DEADLINE_LOOKBACK_MS, now);
  const records = await store.listDeadlines(s.name, new Date(now - DEADLINE_WATCH_MS).toISOString(), new Date(now).toISOString());
  const byAt = new Map(records.map((r) => [r.deadlineAt, r]));
  const work: { deadline?: Deadline; record?: DeadlineRecord }[] = [];
  for (const d of due) if (!byAt.has(new Date(d.at).toISOString())) work.push({ deadline: d });
  for (const r of records) if (r.status === 'MISSED' || slotDue(r.alert, now) || slotDue(r.metLate, now)) work.push({ record: r });
  const expiresAt = (at: number) => Math.floor(at / 1000) + deps.env.retentionDays * 86_400;

  for (const item of work) {
    let record = item.record;
    const deadline = item.deadline ?? spanOf(def, record!);
    let latest: RunSummary | undefined;
    // The runs are read to decide, and for the alert's words when it is still owed.
    if (!record || record.status === 'MISSED' || slotDue(record.alert, now)) {
      const runs = await deps.store.listRunsScheduledBetween(s.name, new Date(deadline.runsFrom), new Date(deadline.runsTo));
      const facts = factsOf(runs, now);
      latest = facts.latest;
      const next = decideDeadline(s.name, deadline, record, facts);
      if (next) {
        const written = record ? await store.saveDeadline(next, expiresAt(deadline.at)) : (await store.createDeadline(next, expiresAt(deadline.at))) ? next : undefined;
        if (!written) continue; // another sweeper decided it; it sends what it wrote
        record = written;
        if (record.status === 'MET') report.met++;
        if (!item.record && record.status !== 'MET') report.missed++;
        if (record.status === 'MET_LATE') report.metLate++;
        const log = { schedule: s.name, deadlineAt: record.deadlineAt, logicalDate: record.logicalDate, scheduledTime: record.scheduledTime, runId: record.runId };
        if (record.status === 'MET') deps.log.info('sweep: deadline met', log);
        else if (record.status === 'MISSED') deps.log.warn('sweep: deadline missed', log);
        else deps.log.warn('sweep: deadline met late', log);
        deps.metrics.count(record.status === 'MET' ? 'DeadlinesMet' : record.status === 'MISSED' ? 'DeadlinesMissed' : 'DeadlinesMetLate');
      }
    }
    if (!record) continue;
    record = await deliverSlot(record, 'alert', () => deadlineMissedMessage(def, record!, latest), deps, store, expiresAt(deadline.at), report);
    if (!record) continue;
    await deliverSlot(record, 'metLate', () => deadlineMetLateMessage(def, record!), deps, store, expiresAt(deadline.at), report);
  }
}

/** The span of runs a stored record is about. */
function spanOf(def: ScheduleDefinition & { deadline: DeadlineDefinition }, record: DeadlineRecord): Deadline {
  const at = Date.parse(record.deadlineAt);
  if (record.logicalDate && 'at' in def.deadline) return { ...deadlineOfDate(def.deadline, record.logicalDate, def.timezone, def.logicalDateOffsetDays ?? 0), at };
  const f = Date.parse(record.scheduledTime ?? record.deadlineAt);
  return { at, ...(record.scheduledTime ? { scheduledTime: record.scheduledTime } : {}), runsFrom: f - MATCH_MS + 1, runsTo: f + MATCH_MS };
}

/**
 * Sends a slot's message under a claim: PENDING (or a claim that expired) -> SENDING until
 * now + claim time, conditional on the version; send; SENT. A failed send goes back to
 * PENDING with the error. Returns the record as it now stands, or undefined when another
 * invocation changed it first (it carries on).
 */
async function deliverSlot(
  record: DeadlineRecord,
  slot: 'alert' | 'metLate',
  message: () => NotificationMessage,
  deps: EngineDeps,
  store: DeadlineStore,
  expiresAt: number,
  report: DeadlineReport,
): Promise<DeadlineRecord | undefined> {
  const now = deps.now();
  if (!slotDue(record[slot], now)) return record;
  const claimed = await store.saveDeadline({ ...record, [slot]: { status: 'SENDING', until: now + (deps.notifyClaimMs ?? DEFAULTS.notifyClaimMs) } }, expiresAt);
  if (!claimed) return undefined;
  try {
    await deps.notifier.send(message());
  } catch (error) {
    deps.log.warn('sweep: deadline message not delivered; the next sweep retries', { schedule: record.schedule, deadlineAt: record.deadlineAt, slot, error: String(error) });
    return store.saveDeadline({ ...claimed, [slot]: { status: 'PENDING', lastError: String(error).slice(0, 500) } }, expiresAt);
  }
  if (slot === 'alert') report.alertsSent++;
  else report.metLateSent++;
  return store.saveDeadline({ ...claimed, [slot]: { status: 'SENT' } }, expiresAt);
}

/** The deadline part of a schedule in `GET /schedules` and `GET /schedules/{name}` (and the CLI's `schedules`). */
export const DeadlineViewSchema = z.object({
  /** `06:00 Europe/Berlin, for the same logical date` / `90 min after each scheduled time`. */
  rule: z.string(),
  /** The next deadline: UTC ISO, on the deadline's clock, and what it is for. */
  next: z.optional(z.object({ at: z.string(), atLocal: z.string(), logicalDate: z.optional(z.string()), scheduledTime: z.optional(z.string()) })),
  /** The latest deadline that fell, and how it went. */
  last: z.optional(
    z.object({
      at: z.string(),
      logicalDate: z.optional(z.string()),
      scheduledTime: z.optional(z.string()),
      state: z.enum(['met', 'missed', 'met late']),
      runId: z.optional(z.string()),
      succeededAt: z.optional(z.string()),
    }),
  ),
});
export type DeadlineView = z.infer<typeof DeadlineViewSchema>;

/** What a listing shows of a schedule's deadline: its rule, the next one, and how the last one went. */
export function deadlineView(def: ScheduleDefinition & { deadline: DeadlineDefinition }, series: SeriesSpec | undefined, now: number, last: DeadlineRecord | undefined): DeadlineView {
  const d = def.deadline;
  const rule = 'afterMinutes' in d ? `${d.afterMinutes} min after each scheduled time` : `${d.at} ${d.timezone}, for the ${d.forLogicalDate} logical date`;
  let next: Deadline | undefined;
  try {
    next = series ? nextDeadline(def, series, now) : undefined;
  } catch {
    next = undefined; // a series this version cannot evaluate: no next deadline rather than a failed listing
  }
  const tz = 'at' in d ? d.timezone : def.timezone;
  return {
    rule,
    ...(next
      ? {
          next: {
            at: new Date(next.at).toISOString(),
            atLocal: localIso(new Date(next.at), tz),
            ...(next.logicalDate ? { logicalDate: next.logicalDate } : {}),
            ...(next.scheduledTime ? { scheduledTime: next.scheduledTime } : {}),
          },
        }
      : {}),
    ...(last
      ? {
          last: {
            at: last.deadlineAt,
            ...(last.logicalDate ? { logicalDate: last.logicalDate } : {}),
            ...(last.scheduledTime ? { scheduledTime: last.scheduledTime } : {}),
            state: last.status === 'MET' ? 'met' : last.status === 'MISSED' ? 'missed' : 'met late',
            ...(last.runId ? { runId: last.runId } : {}),
            ...(last.succeededAt ? { succeededAt: last.succeededAt } : {}),
          },
        }
      : {}),
  };
}
