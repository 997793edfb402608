/**
 * Key layout of the engine's items (attribute names from shared/config/table.ts):
 *
 * | item            | pk                  | sk      | gsi1pk (by schedule) | gsi1sk                    | activePk (sparse)     |
 * |-----------------|---------------------|---------|----------------------|---------------------------|-----------------------|
 * | run             | `RUN#<runId>`       | `RUN`   | `SCHED#<schedule>`   | `<scheduledTime>#<runId>` | `ACTIVE#<0..15>` until finalized |
 * | definition      | `DEF#<hash>`        | `DEF`   | –                    | –                         | –  (one per definition version: definitions.ts) |
 * | run definition  | `RUN#<runId>`       | `DEF`   | –                    | –                         | –  (earlier versions: one per run, still read) |
 * | schedule state  | `SCHED#<schedule>`  | `STATE` | –                    | –                         | –                     |
 * | SubmitJob pacer | `PACER`             | `SubmitJob` | –                | –                         | –  (one per deployment) |
 *
 * The active index is sharded: at the top of the hour thousands of runs are created in the
 * same second, and one partition key would be a hot key for the index's writes.
 */
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import type { ScheduleDefinition } from '../config/definition.ts';

/** Shards of the active-runs index; the sweeper queries each. */
export const ACTIVE_SHARDS = 16;

export const runKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'RUN' });
/** A run's own definition item, as earlier versions wrote one per run: read, never written. */
export const runDefinitionKey = (runId: string) => ({ pk: `RUN#${runId}`, sk: 'DEF' as const });
/** The definition item of one definition version (`hash`: shared/store/definitions.ts). */
export const definitionKey = (hash: string) => ({ pk: `DEF#${hash}`, sk: 'DEF' as const });
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

/** A run's definition object is the same one across its saves: hash it once. */
const hashes = new WeakMap<object, string>();

/**
 * The version hash of a definition: the first 32 hex digits of the SHA-256 of its canonical
 * JSON (RFC 8785: keys sorted, so equal definitions hash alike whatever their key order).
 */
export function definitionHash(definition: ScheduleDefinition): string {
  let h = hashes.get(definition);
  if (h === undefined) {
    h = createHash('sha256')
      .update(canonicalize(definition) ?? '')
      .digest('hex')
      .slice(0, 32);
    hashes.set(definition, h);
  }
  return h;
}

/**
 * Records that `definition` (as read back and parsed) is stored under `h`, so a save of the
 * run names the item it was read from even if parsing changed the object's shape.
 */
export function rememberHash(definition: ScheduleDefinition, h: string): void {
  hashes.set(definition, h);
}
