/**
 * Run definitions, stored once per definition version (content-addressed) instead of once
 * per run: the item `DEF#<h>` / `DEF`, where `h` is the first 32 hex digits of the SHA-256
 * of the definition's canonical JSON (RFC 8785: sorted keys, so equal definitions give the
 * same `h`; the definition carries its schedule's name, so two schedules never share one).
 * A run's state item stores `h` (`D`, shared/store/codec.ts); the store attaches the
 * definition when it reads the run.
 *
 * Writing: the definition item exists BEFORE any run item that names it (a run is never
 * visible without its definition). A container remembers the hashes it has seen exist
 * (`DefinitionCache`, bounded), so the second run of a version makes no request for it; a
 * cold container reads (GetItem, a fifth of a write) and writes only when the item is absent
 * (PutItem, `attribute_not_exists`: a concurrent writer wrote the same content).
 *
 * Lifetime (TTL): a definition item must outlive every run that names it. A run expires
 * `retentionDays` after it is finalized; so whenever a run is created, or finalized (its
 * `expiresAt` set), the definition must live at least `MARGIN_DAYS` beyond what that run
 * can need (`neededUntil`). It is written with `EXTEND_DAYS` more than that, and when what
 * the container knows of its `expiresAt` falls under the need, it is extended again
 * (UpdateItem SET expiresAt): about once per EXTEND_DAYS per definition still in use.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../zod.ts';
import { TABLE } from '../config/table.ts';
import { ScheduleDefinitionSchema, type ScheduleDefinition } from '../config/definition.ts';
import { CorruptItemError } from '../errors.ts';
import { unlessConditionFails } from './conditional.ts';
import { definitionHash, definitionKey } from './keys.ts';
import type { StoreDeps } from './runs.ts';

const DAY_SECONDS = 86_400;
/** A definition item lives at least this long past the longest a run naming it can still need it. */
export const MARGIN_DAYS = 30;
/** How much further than that it is written (or extended) each time: the refresh interval. */
export const EXTEND_DAYS = 60;

/** The stored definition of a version. */
export const DefinitionItemSchema = z.object({
  pk: z.string(),
  sk: z.literal('DEF'),
  kind: z.literal('definition'),
  definition: ScheduleDefinitionSchema,
  expiresAt: z.number(),
});

/** Until when (epoch seconds) a run created now needs its definition: retention after it ends, plus the margin. */
export function neededAtCreation(nowMs: number, retentionDays: number): number {
  return Math.floor(nowMs / 1000) + (retentionDays + MARGIN_DAYS) * DAY_SECONDS;
}

/** Until when a run that expires at `runExpiresAt` (epoch seconds) needs its definition. */
export const neededForExpiry = (runExpiresAt: number): number => runExpiresAt + MARGIN_DAYS * DAY_SECONDS;

interface Known {
  definition: ScheduleDefinition;
  /** The item's expiresAt as last seen or written (epoch seconds). */
  expiresAt: number;
}

/**
 * What one container knows of the definition items of the tables it uses: hash -> the
 * definition and its expiresAt. Definitions never change under a hash, so what is here is
 * true until its expiresAt; bounded (least recently used out first).
 */
export class DefinitionCache {
  private readonly known = new Map<string, Known>();
  constructor(private readonly capacity = 1_000) {}

  get(table: string, h: string): Known | undefined {
    const key = `${table}\u0000${h}`;
    const hit = this.known.get(key);
    if (hit) {
      this.known.delete(key);
      this.known.set(key, hit);
    }
    return hit;
  }

  set(table: string, h: string, known: Known): void {
    const key = `${table}\u0000${h}`;
    this.known.delete(key);
    this.known.set(key, { definition: structuredClone(known.definition), expiresAt: known.expiresAt });
    while (this.known.size > this.capacity) this.known.delete(this.known.keys().next().value!);
  }

  get size(): number {
    return this.known.size;
  }
}

/** The container's cache, shared by every store in the process (keyed by table). */
const processCache = new DefinitionCache();
const cacheOf = (deps: StoreDeps) => deps.definitions ?? processCache;

/**
 * Makes sure the definition item of `definition` exists and lives until at least `neededUntil`
 * (epoch seconds); returns its hash. No request when the container knows it does; else one
 * GetItem, then a PutItem (absent) or an UpdateItem (expiring too soon).
 */
export async function ensureDefinition(deps: StoreDeps, definition: ScheduleDefinition, neededUntil: number): Promise<string> {
  const h = definitionHash(definition);
  const cache = cacheOf(deps);
  let known = cache.get(deps.table, h);
  if (known && known.expiresAt >= neededUntil) return h;
  if (!known) {
    const out = await deps.doc.send(
      new GetCommand({
        TableName: deps.table,
        Key: definitionKey(h),
        ProjectionExpression: '#e',
        ExpressionAttributeNames: { '#e': TABLE.ttlAttribute },
        ConsistentRead: true,
      }),
    );
    const expiresAt = out.Item?.[TABLE.ttlAttribute];
    if (typeof expiresAt === 'number') {
      known = { definition, expiresAt };
      cache.set(deps.table, h, known);
      if (expiresAt >= neededUntil) return h;
    }
  }
  const expiresAt = neededUntil + EXTEND_DAYS * DAY_SECONDS;
  if (known && (await extend(deps, h, expiresAt))) {
    cache.set(deps.table, h, { definition, expiresAt });
    return h;
  }
  await put(deps, h, definition, expiresAt);
  cache.set(deps.table, h, { definition, expiresAt });
  return h;
}

/**
 * Writes the definition item unless it exists: then a concurrent writer (absent a moment ago)
 * wrote the same content under the same rule, with a lifetime within moments of this one.
 */
async function put(deps: StoreDeps, h: string, definition: ScheduleDefinition, expiresAt: number): Promise<void> {
  await unlessConditionFails(
    deps.doc.send(
      new PutCommand({
        TableName: deps.table,
        Item: { ...definitionKey(h), kind: 'definition', definition, [TABLE.ttlAttribute]: expiresAt },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey },
      }),
    ),
  );
}

/**
 * Moves an existing definition item's expiresAt out to `expiresAt` (never in); `false` when
 * the item is gone (TTL deleted it since it was seen: put it again).
 */
async function extend(deps: StoreDeps, h: string, expiresAt: number): Promise<boolean> {
  const extended = await unlessConditionFails(
    deps.doc.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: definitionKey(h),
        UpdateExpression: 'SET #e = :e',
        ConditionExpression: 'attribute_exists(#pk) AND #e < :e',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#e': TABLE.ttlAttribute },
        ExpressionAttributeValues: { ':e': expiresAt },
      }),
    ),
  );
  if (extended) return true;
  // Either gone, or already extended as far by another writer: read which.
  const out = await deps.doc.send(new GetCommand({ TableName: deps.table, Key: definitionKey(h), ConsistentRead: true }));
  return out.Item !== undefined;
}

/**
 * The definition a run's state item names by hash: from the cache (no request), else its
 * item (strongly consistent). `undefined` when there is no such item.
 */
export async function readDefinition(deps: StoreDeps, h: string): Promise<ScheduleDefinition | undefined> {
  const cache = cacheOf(deps);
  const hit = cache.get(deps.table, h);
  if (hit) return hit.definition;
  const out = await deps.doc.send(new GetCommand({ TableName: deps.table, Key: definitionKey(h), ConsistentRead: true }));
  if (!out.Item) return undefined;
  const parsed = DefinitionItemSchema.safeParse(out.Item);
  if (!parsed.success) throw new CorruptItemError(`definition item ${definitionKey(h).pk} does not match its schema`, { cause: parsed.error });
  cache.set(deps.table, h, { definition: parsed.data.definition, expiresAt: parsed.data.expiresAt });
  return parsed.data.definition;
}
