/**
 * Run summaries for listings. GSI1 copies only what a run is created with (runId, schedule,
 * scheduledTime, trigger, createdAt: RUN_INDEX_ATTRIBUTES), so a state change of a run never
 * writes the index; a listing reads the rest of the summary (status, statusReason, endedAt)
 * from the run items, 100 keys per BatchGetItem, eventually consistent like the index itself.
 * Reads cost a fifth of writes and listings are rare next to state changes.
 */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { RUN_INDEX_ATTRIBUTES, RUN_STATUS_ATTRIBUTES, TABLE } from '../config/table.ts';
import { CorruptItemError } from '../errors.ts';
import { runKey } from './keys.ts';
import type { StoreDeps } from './runs.ts';
import { RunSummarySchema, type RunSummary } from './schema.ts';

/** BatchGetItem's limit of keys per call. */
const BATCH = 100;
/** Attempts at keys DynamoDB left unprocessed (throttling) before giving up. */
const UNPROCESSED_TRIES = 8;

/**
 * The summaries of `indexed` runs (GSI1 items), each at the same index; undefined for a run
 * whose item is gone (expired by TTL after the index was read).
 */
export async function summarize(deps: StoreDeps, indexed: Record<string, unknown>[]): Promise<(RunSummary | undefined)[]> {
  const ids = [...new Set(indexed.map((i) => String(i.runId)))];
  const status = await readStatuses(deps, ids);
  const out: (RunSummary | undefined)[] = [];
  for (const item of indexed) {
    const live = status.get(String(item.runId));
    if (!live) {
      out.push(undefined);
      continue;
    }
    const summary: Record<string, unknown> = {};
    for (const name of RUN_INDEX_ATTRIBUTES) summary[name] = item[name];
    for (const name of RUN_STATUS_ATTRIBUTES) summary[name] = live[name];
    const parsed = RunSummarySchema.safeParse(summary);
    if (!parsed.success) throw new CorruptItemError(`run summary ${String(item.runId)} does not match its schema`, { cause: parsed.error });
    out.push(parsed.data);
  }
  return out;
}

/** Status fields of each run in `runIds` that exists, by run id. */
async function readStatuses(deps: StoreDeps, runIds: string[]): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const names: Record<string, string> = { '#pk': TABLE.partitionKey };
  RUN_STATUS_ATTRIBUTES.forEach((a, i) => (names[`#a${i}`] = a));
  const projection = Object.keys(names).join(', ');
  for (let i = 0; i < runIds.length; i += BATCH) {
    let keys: Record<string, unknown>[] | undefined = runIds.slice(i, i + BATCH).map((id) => runKey(id));
    for (let tries = 0; keys?.length; tries++) {
      if (tries === UNPROCESSED_TRIES) throw new Error(`BatchGetItem left ${keys.length} run(s) unprocessed ${UNPROCESSED_TRIES} times`);
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** tries));
      const out = await deps.doc.send(
        new BatchGetCommand({ RequestItems: { [deps.table]: { Keys: keys, ProjectionExpression: projection, ExpressionAttributeNames: names } } }),
      );
      for (const item of out.Responses?.[deps.table] ?? []) {
        const pk = String(item[TABLE.partitionKey]);
        found.set(pk.slice('RUN#'.length), item);
      }
      keys = out.UnprocessedKeys?.[deps.table]?.Keys as Record<string, unknown>[] | undefined;
    }
  }
  return found;
}
