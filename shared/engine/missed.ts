/**
 * The sweeper's missed-fire repair: a fire whose delivery was lost for good (Scheduler
 * invoked `fire`, and Lambda dropped the event after its two retries; or the invoke itself
 * failed until the retry policy gave up) never becomes a run, and nothing else would notice.
 *
 * Each sweep compares every enabled schedule's series (shared/expressions/series.ts, the
 * definition in force since its last modification) over a look-back window with the runs
 * recorded for those times (one GSI1 Query per schedule: no scans), and creates the run of a
 * fire that has none, through the same startRun a fire uses, marked `recoveredBy: sweeper`.
 * The run id is the fire's own (schedule + scheduled time), created with a conditional put,
 * so however many sweepers race, and however late the lost event turns up after all, there is
 * one run: the others find it.
 *
 * A fire is looked at once its delivery is overdue: its scheduled time, plus its flexible
 * window, plus `missedGraceMs` (Scheduler invokes within the minute; the first Lambda
 * attempt runs at once). A fire older than the schedule's `catchUp.windowMinutes` follows
 * `catchUp.mode`: `run`, or recorded SKIPPED with one alert (`alert`) or without (`skip`).
 *
 * A recorded run counts for a series instant when its scheduled time is within a minute of
 * it: Scheduler works to the minute on AWS, and no two instants of a series are closer.
 */
import pLimit from 'p-limit';
import { DEFAULT_CATCH_UP, type ScheduleDefinition } from '../config/definition.ts';
import { fireInput } from '../config/validate.ts';
import { deliveredBy, firesBetween } from '../expressions/series.ts';
import { dependentFiresWithoutRun } from './dependencies.ts';
import { contextOf, type EngineDeps } from './deps.ts';
import { runIdFor } from './naming.ts';
import type { RegisteredSchedule, ScheduleRegistryPort } from './registry.ts';
import { newRun } from './run-state.ts';
import { startRun } from './start.ts';
import { routed } from '../notify/messages.ts';

/** How far back each sweep looks for fires without a run (24 h: a day's outage of the sweeper itself is still repaired). */
export const MISSED_LOOKBACK_MS = 24 * 3_600_000;
/** How long past its (window's) time a fire's delivery is overdue. */
export const MISSED_GRACE_MS = 120_000;
/** A run within this distance of a series instant is that instant's run. */
const MATCH_MS = 60_000;
/** Fires repaired per schedule and sweep at most; the next sweep carries on. */
const MAX_PER_SCHEDULE = 500;

/** What one missed-fire pass did. */
export interface MissedReport {
  schedulesChecked: number;
  /** Fires without a run this sweep found. */
  missedFires: number;
  /** Runs this sweeper created for them (`run`). */
  runsRecovered: number;
  /** Fires recorded SKIPPED because they were older than their catch-up window (`alert`/`skip`). */
  firesSkipped: number;
  alerts: number;
  errors: number;
}

/** Creates the run of every overdue fire without one, across every enabled schedule. */
export async function repairMissedFires(
  deps: EngineDeps,
  registry: ScheduleRegistryPort,
  options: { lookbackMs?: number; graceMs?: number; concurrency?: number } = {},
): Promise<MissedReport> {
  const report: MissedReport = { schedulesChecked: 0, missedFires: 0, runsRecovered: 0, firesSkipped: 0, alerts: 0, errors: 0 };
  const schedules = await registry.listEnabled();
  const limit = pLimit(options.concurrency ?? 4);
  await Promise.all(
    schedules.map((s) =>
      limit(async () => {
        try {
          await repairSchedule(s, deps, report, options);
        } catch (error) {
          report.errors++;
          deps.log.error('sweep: missed fires of a schedule not checked this time', { schedule: s.name, error: String(error) });
        }
      }),
    ),
  );
  return report;
}

/** The overdue instants of a schedule's series that no recorded run stands for. */
export function unrecordedFires(due: Date[], recorded: { scheduledTime: string }[]): Date[] {
  const times = recorded.map((r) => Date.parse(r.scheduledTime)).sort((a, b) => a - b);
  return due.filter((t) => {
    const at = t.getTime();
    return !times.some((r) => Math.abs(r - at) < MATCH_MS);
  });
}

async function repairSchedule(
  s: RegisteredSchedule,
  deps: EngineDeps,
  report: MissedReport,
  options: { lookbackMs?: number; graceMs?: number },
): Promise<void> {
  report.schedulesChecked++;
  const now = deps.now();
  const windowMs = deliveredBy(s.series, new Date(0)).getTime();
  const overdueBefore = now - (options.graceMs ?? MISSED_GRACE_MS) - windowMs;
  const lookback = new Date(now - (options.lookbackMs ?? MISSED_LOOKBACK_MS));
  // Only the definition in force: fires before its last modification (an edit, a pause) are not its own.
  const due = firesBetween(s.series, lookback, new Date(overdueBefore + 1), { history: 'since-modified', limit: MAX_PER_SCHEDULE });
  if (due.length === 0) return;
  const recorded = await deps.store.listRunTimesBetween(
    s.name,
    new Date(due[0]!.getTime() - MATCH_MS),
    new Date(due[due.length - 1]!.getTime() + MATCH_MS),
  );
  // A dependent schedule (`after`) has one run per logical date, not per fire.
  const missing = await dependentFiresWithoutRun(s.name, s.definition, unrecordedFires(due, recorded), deps);
  const catchUp = s.definition.catchUp ?? DEFAULT_CATCH_UP;
  for (const t of missing) {
    report.missedFires++;
    const scheduledTime = t.toISOString();
    const old = now - t.getTime() > catchUp.windowMinutes * 60_000;
    const mode = old ? catchUp.mode : 'run';
    const log = { schedule: s.name, scheduledTime, catchUp: mode };
    if (mode === 'run') {
      const started = await startRun({ ...fireInput(s.definition, scheduledTime, { trigger: 'schedule' }), recoveredBy: 'sweeper' }, deps);
      if (started.created) {
        report.runsRecovered++;
        deps.metrics.count('MissedFiresRecovered');
        deps.log.warn('sweep: a fire never became a run; created it', { ...log, runId: started.runId, status: started.status });
      }
      continue;
    }
    const reason = `missed fire older than its catch-up window (${catchUp.windowMinutes} min): not run; backfill it to run it`;
    const t2 = newRun(
      { ...fireInput(s.definition, scheduledTime, { trigger: 'schedule' }), recoveredBy: 'sweeper' },
      { runId: runIdFor({ schedule: s.name, scheduledTime }), mode: 'skip', reason },
      contextOf(deps),
    );
    if (!(await deps.store.putNewRun(t2.run, deps.env.retentionDays))) continue; // another sweeper recorded it
    report.firesSkipped++;
    deps.log.warn('sweep: a fire never became a run and is past its catch-up window; recorded SKIPPED', { ...log, runId: t2.run.runId });
    if (mode === 'alert') {
      // Only the sweeper that recorded it sends: the conditional put makes that one sweeper.
      await deps.notifier.send(missedMessage(s.definition, t2.run.runId, scheduledTime, catchUp.windowMinutes));
      report.alerts++;
    }
  }
}

function missedMessage(def: ScheduleDefinition, runId: string, scheduledTime: string, windowMinutes: number) {
  return {
    kind: 'missed' as const,
    ...routed(def, 'missed'),
    schedule: def.name,
    runId,
    text: `:warning: *${def.name}* fire at ${scheduledTime} never ran (its delivery was lost) and is older than its catch-up window of ${windowMinutes} minutes; recorded as skipped (run \`${runId}\`). Run it with: batchron backfill ${def.name} --from ${scheduledTime} --to ${new Date(Date.parse(scheduledTime) + 1000).toISOString()}`,
  };
}
