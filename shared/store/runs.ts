/**
 * Run items: read (parsed, never cast; the definition attached from its own item, definitions.ts), created once (conditional put or a transaction with
 * the schedule's overlap state), rewritten under optimistic concurrency, listed by schedule
 * (GSI1, newest first, keyset paging; statuses read from the run items) and by activity (sparse, sharded GSI2). No scans.
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { TABLE } from '../config/table.ts';
import { unlessConditionFails } from './conditional.ts';
import { CorruptItemError, RunVersionConflictError } from '../errors.ts';
import type { CreateOutcome, ListedRun, OverlapChange } from '../engine/ports.ts';
import { ACTIVE_SHARDS, definitionHash, rememberHash, runDefinitionKey, runKey, runsByScheduleKey, scheduleStateKey } from './keys.ts';
import { RunDefinitionItemSchema, RunItemSchema, type RunItem, type RunStatus } from './schema.ts';
import { summarize } from './summaries.ts';
import { decodeRun, encodeRun, storedRunName } from './codec.ts';
import { ensureDefinition, neededAtCreation, neededForExpiry, readDefinition, type DefinitionCache } from './definitions.ts';

export { RunVersionConflictError };

/** What the store needs: the document client and the table name. */
export interface StoreDeps {
  doc: DynamoDBDocumentClient;
  table: string;
  /** What this container knows of the definition items; absent: the process's own (definitions.ts). */
  definitions?: DefinitionCache;
}

/** Parses a stored item (shared/store/codec.ts) as a run; a mismatch is a CorruptItemError naming the run and the fields. */
export function parseRun(item: Record<string, unknown>): RunItem {
  const parsed = RunItemSchema.safeParse(decodeRun(item));
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new CorruptItemError(`run item ${String(item.pk)} does not match its schema (${where})`, { cause: parsed.error });
  }
  return parsed.data;
}

/**
 * Reads one run by id, with its definition: the state item (GetItem, strongly consistent:
 * the engine decides on what it reads), then the definition it names by hash (no request
 * when this container knows it; definitions.ts). A run stored by an earlier version names no
 * hash, or one with no item: its definition is its own item, `RUN#<id>` / `DEF`.
 */
export async function getRun(deps: StoreDeps, runId: string, consistent = true): Promise<RunItem | undefined> {
  const out = await deps.doc.send(new GetCommand({ TableName: deps.table, Key: runKey(runId), ConsistentRead: consistent }));
  const state = out.Item;
  if (!state) return undefined;
  const h = state[HASH];
  const byHash = typeof h === 'string' ? await readDefinition(deps, h) : undefined;
  const definition = byHash ?? (await readRunDefinition(deps, runId));
  const run = parseRun({ ...state, [DEFINITION]: definition });
  if (byHash) rememberHash(run.definition, h as string);
  return run;
}

/** The definition item of a run stored by an earlier version (one per run); CorruptItemError when it has none. */
async function readRunDefinition(deps: StoreDeps, runId: string): Promise<unknown> {
  const out = await deps.doc.send(new GetCommand({ TableName: deps.table, Key: runDefinitionKey(runId), ConsistentRead: true }));
  const parsed = out.Item ? RunDefinitionItemSchema.safeParse(out.Item) : undefined;
  if (!parsed?.success) throw new CorruptItemError(`run ${runId} has no readable definition item`, { cause: parsed?.error });
  return parsed.data.definition;
}

/** The stored name of the definition when it is put back beside a state item to parse the run. */
const DEFINITION = storedRunName('definition');
/** The stored name of the definition's hash in a state item. */
const HASH = storedRunName('definitionHash');

/** A run's state item as stored (short names, shared/store/codec.ts): everything but the definition, which it names by hash. */
function stateItem(run: RunItem): Record<string, unknown> {
  const { definition, ...state } = run;
  return encodeRun({ ...state, definitionHash: definitionHash(definition) });
}

/**
 * Creates a run if no run with its id exists; `false` when it already did (a duplicate
 * delivery). Its definition item is made sure of first (definitions.ts: usually no request),
 * so a run item is never visible without it; `retentionDays` dates that item's TTL.
 */
export async function putNewRun(deps: StoreDeps, run: RunItem, retentionDays = 30): Promise<boolean> {
  await ensureDefinition(deps, run.definition, neededAtCreation(Date.parse(run.createdAt), retentionDays));
  const written = await unlessConditionFails(
    deps.doc.send(
      new PutCommand({
        TableName: deps.table,
        Item: stateItem(run),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
      }),
    ),
  );
  return written !== undefined;
}

/** An update of the schedule-state item that must hold together with a run's creation. */
interface StateUpdate {
  UpdateExpression: string;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

const NOT_PAUSED = '(attribute_not_exists(#paused) OR #paused = :false)';

/** The schedule-state update that makes `change` for `run` (see OverlapChange). */
function overlapUpdate(run: RunItem, change: OverlapChange): StateUpdate {
  const names = { '#paused': 'paused', '#kind': 'kind', '#schedule': 'schedule', '#version': 'version' };
  const values = { ':false': false, ':kind': 'schedule-state', ':s': run.schedule, ':one': 1 };
  switch (change.kind) {
    case 'become-active':
      return {
        UpdateExpression: 'SET #kind = :kind, #schedule = :s ADD #active :ids, #version :one',
        ConditionExpression: `attribute_not_exists(#active) AND ${NOT_PAUSED}`,
        ExpressionAttributeNames: { ...names, '#active': 'active' },
        ExpressionAttributeValues: { ...values, ':ids': new Set([run.runId]) },
      };
    case 'queue':
      return {
        UpdateExpression: 'SET #kind = :kind, #schedule = :s, #queued = :id ADD #version :one',
        ConditionExpression: `attribute_exists(#active) AND attribute_not_exists(#queued) AND ${NOT_PAUSED}`,
        ExpressionAttributeNames: { ...names, '#active': 'active', '#queued': 'queued' },
        ExpressionAttributeValues: { ...values, ':id': run.runId },
      };
    case 'replace-active':
      return {
        UpdateExpression: 'SET #kind = :kind, #schedule = :s, #active = :ids ADD #version :one',
        ConditionExpression: `(attribute_not_exists(#version) OR #version = :v) AND ${NOT_PAUSED}`,
        ExpressionAttributeNames: { ...names, '#active': 'active' },
        ExpressionAttributeValues: { ...values, ':ids': new Set([run.runId]), ':v': change.expectedVersion },
      };
  }
}

/**
 * Creates `run` and applies `change` to its schedule's state in one transaction.
 * `run-exists`: the run was already there (duplicate); `state-changed`: the state's
 * condition failed (re-read it and decide again).
 */
export async function createRunWithState(
  deps: StoreDeps,
  run: RunItem,
  change: OverlapChange,
  retentionDays = 30,
): Promise<CreateOutcome> {
  await ensureDefinition(deps, run.definition, neededAtCreation(Date.parse(run.createdAt), retentionDays));
  const update = overlapUpdate(run, change);
  try {
    await deps.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: deps.table,
              Item: stateItem(run),
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
            },
          },
          { Update: { TableName: deps.table, Key: scheduleStateKey(run.schedule), ...update } },
        ],
      }),
    );
    return 'created';
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const reasons = error.CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'run-exists';
      if (reasons[1]?.Code === 'ConditionalCheckFailed') return 'state-changed';
      // TransactionConflict: another transaction touched the same items; deciding again is safe.
      if (reasons.some((r) => r.Code === 'TransactionConflict')) return 'state-changed';
    }
    throw error;
  }
}

/**
 * Writes `run` over the version it was read at (`run.version`), storing `version + 1`.
 * Throws RunVersionConflictError (with the stored run) when someone else wrote in between;
 * returns the stored item.
 */
export async function saveRun(deps: StoreDeps, run: RunItem): Promise<RunItem> {
  const next: RunItem = { ...run, version: run.version + 1 };
  // A run given its TTL (finalized) must not outlive its definition: extend that first when
  // it would (definitions.ts; usually known to this container, no request).
  if (next.expiresAt !== undefined) await ensureDefinition(deps, next.definition, neededForExpiry(next.expiresAt));
  try {
    await deps.doc.send(
      new PutCommand({
        TableName: deps.table,
        Item: stateItem(next),
        ConditionExpression: '#v = :v',
        ExpressionAttributeNames: { '#v': storedRunName('version') },
        ExpressionAttributeValues: { ':v': run.version },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return next;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) {
      // The definition item never changes, so the one already in hand completes the run.
      const current = error.Item ? parseRun({ ...unmarshall(error.Item), [DEFINITION]: run.definition }) : undefined;
      if (current) rememberHash(current.definition, definitionHash(run.definition));
      throw new RunVersionConflictError(`run ${run.runId} changed since version ${run.version}`, current, { cause: error });
    }
    throw error;
  }
}

/**
 * Up to `limit` runs of one schedule below the GSI1 sort key `before`, newest first, with
 * the status filter. The index holds no status (shared/store/summaries.ts): each page's
 * summaries are read from the run items and filtered here, reading on until the page is full.
 */
export async function listRunsBySchedule(
  deps: StoreDeps,
  schedule: string,
  options: { limit: number; before?: string; after?: string; status?: RunStatus },
): Promise<{ items: ListedRun[]; more: boolean }> {
  const { limit, before, after, status } = options;
  const items: ListedRun[] = [];
  // A range is BETWEEN (inclusive at both ends) on the sort key; `before` is exclusive, so its own item is dropped below.
  const keyCondition =
    before !== undefined && after !== undefined
      ? '#pk = :pk AND #sk BETWEEN :after AND :before'
      : before !== undefined
        ? '#pk = :pk AND #sk < :before'
        : after !== undefined
          ? '#pk = :pk AND #sk >= :after'
          : '#pk = :pk';
  const sorted = before !== undefined || after !== undefined;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await deps.doc.send(
      new QueryCommand({
        TableName: deps.table,
        IndexName: TABLE.byScheduleIndex,
        KeyConditionExpression: keyCondition,
        ExpressionAttributeNames: {
          '#pk': TABLE.byScheduleIndexPartitionKey,
          ...(sorted ? { '#sk': TABLE.byScheduleIndexSortKey } : {}),
        },
        ExpressionAttributeValues: {
          ':pk': runsByScheduleKey(schedule),
          ...(before === undefined ? {} : { ':before': before }),
          ...(after === undefined ? {} : { ':after': after }),
        },
        ScanIndexForward: false,
        Limit: limit + 1,
        ExclusiveStartKey: start,
      }),
    );
    const page = (out.Items ?? []).filter((item) => String(item[TABLE.byScheduleIndexSortKey]) !== before);
    const summaries = await summarize(deps, page);
    page.forEach((item, i) => {
      const summary = summaries[i];
      if (!summary || (status && summary.status !== status)) return;
      items.push({ sortKey: String(item[TABLE.byScheduleIndexSortKey]), summary });
    });
    start = out.LastEvaluatedKey;
  } while (start && items.length <= limit);
  return { items: items.slice(0, limit), more: items.length > limit || start !== undefined };
}

/** Ids of every run still in the active index (not finalized), across all shards. */
export async function listActiveRunIds(deps: StoreDeps): Promise<string[]> {
  const ids: string[] = [];
  for (let shard = 0; shard < ACTIVE_SHARDS; shard++) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await deps.doc.send(
        new QueryCommand({
          TableName: deps.table,
          IndexName: TABLE.activeIndex,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TABLE.activeIndexPartitionKey },
          ExpressionAttributeValues: { ':pk': `ACTIVE#${shard}` },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        const pk = item[TABLE.partitionKey];
        if (typeof pk === 'string' && pk.startsWith('RUN#')) ids.push(pk.slice(4));
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }
  return ids;
}
