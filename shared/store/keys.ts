/**
 * Key layout of the engine's items (attribute names from shared/config/table.ts):
 *
 * | item            | pk                  | sk      | gsi1pk (by schedule) | gsi1sk                    | activePk (sparse)     |
 * |-----------------|---------------------|---------|----------------------|---------------------------|-----------------------|
 * | run             | `RUN#<runId>`       | `RUN`   | `SCHED#<schedule>`   | `<scheduledTime>#<runId>` | `ACTIVE#<0..15>` until finalized |
 * | run definition  | `RUN#<runId>`       | `DEF`   | –                    | –                         | –  (written once) |
 * | schedule state  | `SCHED#<schedule>`  | `STATE` | –                    | –                         | –                     |
 * | SubmitJob pacer | `PACER`             | `SubmitJob` | –                | –                         | –  (one per deployment) |
 *
 * The active index is sharded: at the top of the hour thousands of runs are created in the
 * same second, and one partition key would be a hot key for the index's writes.
 */
import { createHash } from 'node:crypto';

/** Shards of the active-runs index; the sweeper queries each. */
export const ACTIVE_SHARDS = 16;

export const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' });
export const runDefinitionKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'DEF' as const });
export const scheduleStateKey = (schedule: string) => ({ pk: `SCHED#${schedule}`, sk: 'STATE' });
export const pacerKey = { pk: 'PACER', sk: 'SubmitJob' } as const;
export const runsByScheduleKey = (schedule: string) => `SCHED#${schedule}`;
export const runsByScheduleSort = (scheduledTime: string, runId: string) =>
  `${new Date(scheduledTime).toISOString()}#${runId}`;

/** The active-index shard of a run: stable, so rewrites never move it. */
export function activeShard(runId: string): string {
  const n = createHash('sha256').update(runId).digest().readUInt32BE(0) % ACTIVE_SHARDS;
  return `ACTIVE#${n}`;
}
