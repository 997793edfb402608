/**
 * Backfill: the schedule's series in [from, to) (shared/expressions/series.ts, anchored as
 * Scheduler anchors it, so a backfilled time is a time the schedule really had), one run per
 * time, started through the engine with trigger `backfill` and the id a normal fire at that
 * time would have: a time that already ran is found, not run twice.
 *
 * Overlap between backfilled runs is the backfill's own: the schedule's overlap policy
 * governs live fires (a backfill of an `overlap: skip` schedule must not skip its own times
 * because they overlap each other), and the backfill keeps at most `parallel` of its runs
 * active (1 by default). One request starts what the limit allows and reports the rest as
 * `pending`; the caller repeats the same request (the CLI does, showing progress) until
 * `done`. Every request re-plans from the runs recorded, so a repeat after a timeout or a
 * crash carries on where the last one stopped.
 */
import { fireInput } from '../config/validate.ts';
import { ExpressionError } from '../expressions/index.ts';
import { firesBetween, seriesOfSchedule, type SeriesSpec } from '../expressions/series.ts';
import { runIdFor } from '../engine/naming.ts';
import type { RunStatus, RunSummary } from '../store/schema.ts';
import type { ApiDeps } from './deps.ts';
import { validationError } from './http.ts';
import { getAnyScheduleEntry } from './schedules.ts';

/** The most runs one backfill request may cover; a longer range is refused, not truncated. */
export const BACKFILL_CAP = 500;

/** What a backfill reports per scheduled time. */
export interface BackfilledRun {
  runId: string;
  scheduledTime: string;
  /** Absent while pending without a run; a run pending a re-run shows the status it ended with. */
  status?: RunStatus;
  /** True when this request started the run. */
  created: boolean;
  /**
   * `started` or `rerun` by this request; `existing` (a fire or an earlier request);
   * `pending`: no run yet, waiting for a slot.
   */
  state: 'started' | 'rerun' | 'existing' | 'pending';
}

const TERMINAL: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED']);

/** The scheduled times of a schedule's series in [from, to); throws ValidationError past the cap. */
export function backfillTimes(schedule: { name: string; series: SeriesSpec }, from: Date, to: Date, cap = BACKFILL_CAP): Date[] {
  const times = firesBetween(schedule.series, from, to, { limit: cap + 1, history: 'all' });
  if (times.length > cap) {
    const expr = typeof schedule.series.expression === 'string' ? schedule.series.expression : schedule.series.expression.expression;
    throw validationError([
      {
        path: 'body',
        message: `from ${from.toISOString()} to ${to.toISOString()} holds more than ${cap} fire times of schedule '${schedule.name}' (${expr}); backfill at most ${cap} at a time by splitting the range`,
      },
    ]);
  }
  return times;
}

/** What a backfill request may do for one time. */
export interface BackfillCandidate {
  runId: string;
  scheduledTime: string;
  /** `start`: no run yet; `rerun`: its run ended with a status the request asked to re-run. */
  action: 'start' | 'rerun';
}

/**
 * The plan of one backfill request, given the runs recorded in the range: the times in
 * order, the candidates (times without a run, and runs whose status is in `rerun`) and how
 * many may start now (`parallel` less the runs of the range still active).
 */
export function planBackfill(
  schedule: string,
  times: Date[],
  recorded: Map<string, Pick<RunSummary, 'status' | 'trigger'>>,
  parallel: number,
  rerun: ReadonlySet<RunStatus> = new Set(),
): { runs: { runId: string; scheduledTime: string; status?: RunStatus }[]; candidates: BackfillCandidate[]; slots: number } {
  const runs = times.map((t) => {
    const scheduledTime = t.toISOString();
    const runId = runIdFor({ schedule, scheduledTime });
    const found = recorded.get(runId);
    return { runId, scheduledTime, ...(found ? { status: found.status } : {}) };
  });
  const active = runs.filter((r) => r.status !== undefined && !TERMINAL.has(r.status)).length;
  const candidates = runs.flatMap((r): BackfillCandidate[] =>
    r.status === undefined
      ? [{ runId: r.runId, scheduledTime: r.scheduledTime, action: 'start' }]
      : rerun.has(r.status)
        ? [{ runId: r.runId, scheduledTime: r.scheduledTime, action: 'rerun' }]
        : [],
  );
  return { runs, candidates, slots: Math.max(0, parallel - active) };
}

/** POST /schedules/{name}/backfill. */
export async function backfill(
  deps: ApiDeps,
  input: { schedule: string; from: Date; to: Date; parallel?: number; rerun?: ('skipped' | 'failed')[]; session?: string },
): Promise<{
  schedule: string;
  from: string;
  to: string;
  count: number;
  created: number;
  rerun: number;
  pending: number;
  active: number;
  done: boolean;
  runs: BackfilledRun[];
}> {
  const issues = [];
  if (input.to.getTime() <= input.from.getTime()) issues.push({ path: 'body.to', message: 'must be after body.from' });
  if (input.to.getTime() > deps.now()) {
    issues.push({ path: 'body.to', message: `must not be in the future (now is ${new Date(deps.now()).toISOString()}); backfill covers past times, the schedule covers the rest` });
  }
  if (issues.length > 0) throw validationError(issues);
  const entry = await getAnyScheduleEntry(deps, input.schedule);
  if (!entry.raw) {
    throw validationError([
      { path: 'path.name', message: `schedule '${entry.name}' is started only by events (no time expression): it has no times to backfill; start runs with POST /schedules/${entry.name}/runs` },
    ]);
  }
  const def = entry.definition;
  let times: Date[];
  try {
    times = backfillTimes({ name: def.name, series: seriesOfSchedule(entry.raw) }, input.from, input.to);
  } catch (error) {
    if (error instanceof ExpressionError) throw validationError([{ path: 'schedule', message: error.message }]);
    throw error;
  }
  const recorded = new Map((await deps.store.listRunsScheduledBetween(def.name, input.from, input.to)).map((r) => [r.runId, r]));
  const rerunStatuses = new Set((input.rerun ?? []).map((s) => s.toUpperCase() as RunStatus));
  const plan = planBackfill(def.name, times, recorded, input.parallel ?? 1, rerunStatuses);
  // A run is re-run once per backfill session: the key finds the attempt it started, so a
  // repeated request (and the CLI repeats until done) never re-runs what failed again.
  const key = `backfill:${input.session ?? `${input.from.toISOString()}/${input.to.toISOString()}`}`;
  // Runs this session already re-ran (they may have failed again) are done, not candidates.
  const rerunDone = new Set<string>();
  for (const c of plan.candidates) {
    if (c.action !== 'rerun') continue;
    const run = await deps.store.getRun(c.runId, false);
    if (!run || run.rerunKey === key || run.history?.some((h) => h.rerunKey === key)) rerunDone.add(c.runId);
  }
  const candidates = plan.candidates.filter((c) => !rerunDone.has(c.runId));
  const changed = new Map<string, { status: RunStatus; state: BackfilledRun['state'] }>();
  let used = 0;
  // In time order, one after another: the runs start in the order they would have fired.
  for (const c of candidates) {
    if (used >= plan.slots) break;
    if (c.action === 'start') {
      const out = await deps.engine.startRun(fireInput(def, c.scheduledTime, { trigger: 'backfill' }), { overlap: 'ignore' });
      changed.set(c.runId, { status: out.run.status, state: out.created ? 'started' : 'existing' });
      if (out.created) used++;
      continue;
    }
    const out = await deps.engine.rerunRun(c.runId, { tasks: 'failed', key });
    if (out.outcome === 'rerun' && out.created) {
      changed.set(c.runId, { status: out.run.status, state: 'rerun' });
      used++;
    }
  }
  const runs: BackfilledRun[] = plan.runs.map((r) => {
    const c = changed.get(r.runId);
    if (c) return { runId: r.runId, scheduledTime: r.scheduledTime, status: c.status, created: c.state === 'started', state: c.state };
    const waiting = candidates.some((x) => x.runId === r.runId);
    if (r.status && !waiting) return { runId: r.runId, scheduledTime: r.scheduledTime, status: r.status, created: false, state: 'existing' };
    return { runId: r.runId, scheduledTime: r.scheduledTime, ...(r.status ? { status: r.status } : {}), created: false, state: 'pending' };
  });
  const pending = runs.filter((r) => r.state === 'pending').length;
  const active = runs.filter((r) => r.status !== undefined && !TERMINAL.has(r.status)).length;
  return {
    schedule: def.name,
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    count: runs.length,
    created: runs.filter((r) => r.created).length,
    rerun: runs.filter((r) => r.state === 'rerun').length,
    pending,
    active,
    done: pending === 0 && active === 0,
    runs,
  };
}
