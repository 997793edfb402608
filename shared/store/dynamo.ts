/**
 * The engine's stores on one DynamoDB table: every key, expression and condition lives in
 * this folder (runs.ts, series-runs.ts, schedules.ts, pacer.ts); this binds them to a document client and a
 * table as the port the engine and the API call (shared/engine/ports.ts).
 */
import type { Store } from '../engine/ports.ts';
import { reserveSubmitSlot } from './pacer.ts';
import { createRunWithState, getRun, listActiveRunIds, listRunsBySchedule, putNewRun, saveRun, type StoreDeps } from './runs.ts';
import { getScheduleState, promoteQueued, releaseRun, setPaused } from './schedules.ts';
import { latestRunByScheduledTime, listRunsScheduledBetween, listRunTimesBetween } from './series-runs.ts';

/** The store on `deps.table` through `deps.doc`. */
export function dynamoStore(deps: StoreDeps): Store {
  return {
    getRun: (runId, consistent) => getRun(deps, runId, consistent),
    putNewRun: (run, retentionDays) => putNewRun(deps, run, retentionDays),
    createRunWithState: (run, change, retentionDays) => createRunWithState(deps, run, change, retentionDays),
    saveRun: (run) => saveRun(deps, run),
    listRunsBySchedule: (schedule, options) => listRunsBySchedule(deps, schedule, options),
    listActiveRunIds: () => listActiveRunIds(deps),
    listRunsScheduledBetween: (schedule, from, to) => listRunsScheduledBetween(deps, schedule, from, to),
    listRunTimesBetween: (schedule, from, to) => listRunTimesBetween(deps, schedule, from, to),
    latestRunByScheduledTime: (schedule) => latestRunByScheduledTime(deps, schedule),
    getScheduleState: (schedule) => getScheduleState(deps, schedule),
    setPaused: (schedule, paused) => setPaused(deps, schedule, paused),
    releaseRun: (input) => releaseRun(deps, input),
    promoteQueued: (schedule, runId) => promoteQueued(deps, schedule, runId),
    reserveSubmitSlot: (rate, now) => reserveSubmitSlot(deps, rate, now),
  };
}
