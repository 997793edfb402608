/**
 * Backfill: one run per scheduled time of a schedule in [from, to), started through the
 * engine with trigger `backfill` and no idempotency key, so each run gets the id a normal
 * fire at that time would have: a time that already ran is found, not run twice, and a
 * backfill repeated after a timeout starts nothing new.
 */
import pLimit from 'p-limit';
import { fireInput } from '../config/validate.ts';
import { nextFireTimes } from '../expressions/index.ts';
import type { ApiDeps } from './deps.ts';
import { validationError } from './http.ts';
import type { RunStatus } from '../store/schema.ts';
import { getScheduleEntry } from './schedules.ts';

/** The most runs one backfill request may start; a longer range is refused, not truncated. */
export const BACKFILL_CAP = 500;

/** What a backfill reports per scheduled time. */
export interface BackfilledRun {
  runId: string;
  scheduledTime: string;
  status: RunStatus;
  /** False when the run already existed (a normal fire or an earlier backfill). */
  created: boolean;
}

/** The scheduled times of `def` in [from, to); throws ValidationError past the cap. */
export function backfillTimes(
  schedule: { name: string; expression: string; timezone: string; startDate?: Date; endDate?: Date },
  from: Date,
  to: Date,
  cap = BACKFILL_CAP,
): Date[] {
  // nextFireTimes lists times strictly after `from`; one millisecond earlier makes `from` itself count.
  const times = nextFireTimes(schedule.expression, {
    timezone: schedule.timezone,
    from: new Date(from.getTime() - 1),
    count: cap + 1,
    ...(schedule.startDate ? { startDate: schedule.startDate } : {}),
    ...(schedule.endDate ? { endDate: schedule.endDate } : {}),
  }).filter((t) => t.getTime() < to.getTime());
  if (times.length > cap) {
    throw validationError([
      {
        path: 'body',
        message: `from ${from.toISOString()} to ${to.toISOString()} holds more than ${cap} fire times of schedule '${schedule.name}' (${schedule.expression}); backfill at most ${cap} at a time by splitting the range`,
      },
    ]);
  }
  return times;
}

/** POST /schedules/{name}/backfill. */
export async function backfill(
  deps: ApiDeps,
  input: { schedule: string; from: Date; to: Date },
): Promise<{ schedule: string; from: string; to: string; count: number; created: number; runs: BackfilledRun[] }> {
  const issues = [];
  if (input.to.getTime() <= input.from.getTime()) issues.push({ path: 'body.to', message: 'must be after body.from' });
  if (input.to.getTime() > deps.now()) {
    issues.push({ path: 'body.to', message: `must not be in the future (now is ${new Date(deps.now()).toISOString()}); backfill covers past times, the schedule covers the rest` });
  }
  if (issues.length > 0) throw validationError(issues);
  const entry = await getScheduleEntry(deps, input.schedule);
  const def = entry.definition;
  const times = backfillTimes(
    {
      name: def.name,
      expression: def.expression ?? '',
      timezone: def.timezone,
      ...(entry.startDate ? { startDate: entry.startDate } : {}),
      ...(entry.endDate ? { endDate: entry.endDate } : {}),
    },
    input.from,
    input.to,
  );
  // Runs start in time order, a few at a time: overlap policies see them in the order they would have fired.
  const gate = pLimit(1);
  const runs = await Promise.all(
    times.map((t) =>
      gate(async () => {
        const started = await deps.engine.startRun(fireInput(def, t.toISOString(), { trigger: 'backfill' }), {});
        return { runId: started.run.runId, scheduledTime: started.run.scheduledTime, status: started.run.status, created: started.created };
      }),
    ),
  );
  return {
    schedule: def.name,
    from: input.from.toISOString(),
    to: input.to.toISOString(),
    count: runs.length,
    created: runs.filter((r) => r.created).length,
    runs,
  };
}
