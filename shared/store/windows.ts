/**
 * Batch-window and event-dedupe items of event triggers (see shared/engine/trigger.ts).
 *
 * | item          | pk                                          | sk         | gsi1pk (open windows) | gsi1sk                                   |
 * |---------------|---------------------------------------------|------------|-----------------------|------------------------------------------|
 * | window head   | `WINDOW#<schedule>#<trigger>#<window>`      | `HEAD`     | `WINDOWS` until closed | `<closesAt ISO>#<window>#<trigger>#<schedule>` |
 * | window part   | same                                        | `PART#<p>` | –                     | –                                        |
 * | event seen    | `EVENT#<schedule>#<trigger>#<hash of key>`  | `SEEN`     | –                     | –                                        |
 *
 * The head counts the window's arrivals (`n`, an atomic counter) and keeps the definition and
 * settings the close needs; arrival number n goes to part floor((n-1)/maxEvents), so a part
 * holds at most maxEvents keys. Heads of windows not yet closed sit in GSI1 under `WINDOWS`,
 * sorted by their end, so the sweeper finds overdue ones with one query, never a scan.
 * Every write is a key write; every read a key read or that query.
 */
import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from '../zod.ts';
import { unlessConditionFails } from './conditional.ts';
import { queryAll } from './query.ts';
import { ScheduleDefinitionSchema, type ScheduleDefinition } from '../config/definition.ts';
import { TABLE } from '../config/table.ts';
import { TriggerSettingsSchema, type TriggerSettings } from '../config/trigger.ts';
import { CorruptItemError } from '../errors.ts';
import type { StoreDeps } from './runs.ts';

import type { WindowRef, WindowStore } from '../engine/ports.ts';

export type { WindowRef };

/** The window store over DynamoDB (the engine's `WindowStore` port). */
export function dynamoWindowStore(deps: StoreDeps): WindowStore {
  return {
    countArrival: (w, head) => countArrival(deps, w, head),
    addToPart: (w, part, event) => addToPart(deps, w, part, event),
    closePart: (w, part) => closePart(deps, w, part),
    closeHead: (w) => closeHead(deps, w),
    retireWindow: (w) => retireWindow(deps, w),
    listOverdueWindows: (before) => listOverdueWindows(deps, before),
  };
}

/** GSI1 partition of the heads of windows not yet closed. */
export const OPEN_WINDOWS_KEY = 'WINDOWS';
/** How long an event's key is remembered (EventBridge retries a delivery for up to 24 h). */
export const SEEN_TTL_SECONDS = 2 * 86_400;

const windowPk = (w: WindowRef) => `WINDOW#${w.schedule}#${w.trigger}#${w.window}`;
export const windowHeadKey = (w: WindowRef) => ({ pk: windowPk(w), sk: 'HEAD' });
export const windowPartKey = (w: WindowRef, part: number) => ({ pk: windowPk(w), sk: `PART#${part}` });
export const eventSeenKey = (schedule: string, trigger: number, key: string) => ({
  pk: `EVENT#${schedule}#${trigger}#${createHash('sha256').update(key).digest('hex').slice(0, 32)}`,
  sk: 'SEEN',
});

const HeadSchema = z.looseObject({
  n: z.number(),
  closesAt: z.number(),
  closed: z.optional(z.boolean()),
  definition: ScheduleDefinitionSchema,
  settings: TriggerSettingsSchema,
});
export type WindowHead = z.infer<typeof HeadSchema>;

const PartSchema = z.looseObject({ values: z._default(z.array(z.string()), []) });

function parse<S extends z.core.$ZodType>(schema: S, item: Record<string, unknown>, what: string): z.infer<S> {
  const parsed = z.safeParse(schema, item);
  if (!parsed.success) throw new CorruptItemError(`${what}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/**
 * Counts one arrival in window `w` (creating its head, in the open-windows index), unless
 * the window is closed. Returns the arrival's number (1 = the window opened now), or
 * `closed`.
 */
export async function countArrival(
  deps: StoreDeps,
  w: WindowRef,
  head: { closesAt: number; definition: ScheduleDefinition; settings: TriggerSettings; expiresAt: number },
): Promise<number | 'closed'> {
  const out = await unlessConditionFails(
    deps.doc.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: windowHeadKey(w),
        UpdateExpression:
          'SET #kind = :kind, #closesAt = if_not_exists(#closesAt, :closesAt), #def = if_not_exists(#def, :def), #settings = if_not_exists(#settings, :settings), ' +
          '#gpk = if_not_exists(#gpk, :gpk), #gsk = if_not_exists(#gsk, :gsk), #exp = if_not_exists(#exp, :exp) ADD #n :one',
        ConditionExpression: 'attribute_not_exists(#closed)',
        ExpressionAttributeNames: {
          '#kind': 'kind', '#closesAt': 'closesAt', '#def': 'definition', '#settings': 'settings', '#n': 'n', '#closed': 'closed',
          '#gpk': TABLE.byScheduleIndexPartitionKey, '#gsk': TABLE.byScheduleIndexSortKey, '#exp': TABLE.ttlAttribute,
        },
        ExpressionAttributeValues: {
          ':kind': 'window', ':closesAt': head.closesAt, ':def': head.definition, ':settings': head.settings, ':one': 1,
          ':gpk': OPEN_WINDOWS_KEY, ':gsk': openWindowSort(w, head.closesAt), ':exp': head.expiresAt,
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    ),
  );
  if (!out) return 'closed';
  return Number(out.Attributes?.n);
}

/**
 * Adds an event to a part of window `w`, once per key: the key's seen-marker and the part
 * are written in one transaction, conditional on the key being new and the window and part
 * still open. `duplicate`: the key was seen before; `closed`: the window or part closed
 * meanwhile (count the arrival again in the current window).
 */
export async function addToPart(
  deps: StoreDeps,
  w: WindowRef,
  part: number,
  event: { key: string; value: string; expiresAt: number },
): Promise<'added' | 'duplicate' | 'closed' | 'conflict'> {
  const seen = eventSeenKey(w.schedule, w.trigger, event.key);
  try {
    await deps.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: deps.table,
              Item: { ...seen, kind: 'event-seen', [TABLE.ttlAttribute]: event.expiresAt },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            ConditionCheck: {
              TableName: deps.table,
              Key: windowHeadKey(w),
              ConditionExpression: 'attribute_not_exists(#closed)',
              ExpressionAttributeNames: { '#closed': 'closed' },
            },
          },
          {
            Update: {
              TableName: deps.table,
              Key: windowPartKey(w, part),
              UpdateExpression: 'SET #kind = :kind, #values = list_append(if_not_exists(#values, :empty), :value), #exp = if_not_exists(#exp, :exp)',
              ConditionExpression: 'attribute_not_exists(#closed)',
              ExpressionAttributeNames: { '#kind': 'kind', '#values': 'values', '#closed': 'closed', '#exp': TABLE.ttlAttribute },
              ExpressionAttributeValues: { ':kind': 'window-part', ':empty': [], ':value': [event.value], ':exp': event.expiresAt },
            },
          },
        ],
      }),
    );
    return 'added';
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
      if (codes[0] === 'ConditionalCheckFailed') return 'duplicate';
      if (codes[1] === 'ConditionalCheckFailed' || codes[2] === 'ConditionalCheckFailed') return 'closed';
      return 'conflict';
    }
    throw error;
  }
}

/** Closes one part (idempotent) and returns the values it holds, in arrival order; undefined when it holds none. */
export async function closePart(deps: StoreDeps, w: WindowRef, part: number): Promise<string[] | undefined> {
  const out = await unlessConditionFails(
    deps.doc.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: windowPartKey(w, part),
        UpdateExpression: 'SET #closed = :true',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#closed': 'closed' },
        ExpressionAttributeValues: { ':true': true },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  if (!out) return undefined;
  return parse(PartSchema, out.Attributes ?? {}, `window part ${windowPk(w)} ${part}`).values;
}

/** Marks the window closed (idempotent; it stays in the open-windows index until `retireWindow`) and returns its head. */
export async function closeHead(deps: StoreDeps, w: WindowRef): Promise<WindowHead | undefined> {
  const out = await unlessConditionFails(
    deps.doc.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: windowHeadKey(w),
        UpdateExpression: 'SET #closed = :true',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#closed': 'closed' },
        ExpressionAttributeValues: { ':true': true },
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  if (!out) return undefined;
  return parse(HeadSchema, out.Attributes ?? {}, `window head ${windowPk(w)}`);
}

/** Reads a window's head. */
export async function getHead(deps: StoreDeps, w: WindowRef): Promise<WindowHead | undefined> {
  const out = await deps.doc.send(new GetCommand({ TableName: deps.table, Key: windowHeadKey(w), ConsistentRead: true }));
  return out.Item ? parse(HeadSchema, out.Item, `window head ${windowPk(w)}`) : undefined;
}

/** Takes a window whose runs all exist out of the open-windows index. */
export async function retireWindow(deps: StoreDeps, w: WindowRef): Promise<void> {
  await deps.doc.send(
    new UpdateCommand({
      TableName: deps.table,
      Key: windowHeadKey(w),
      UpdateExpression: 'REMOVE #gpk, #gsk',
      ExpressionAttributeNames: { '#gpk': TABLE.byScheduleIndexPartitionKey, '#gsk': TABLE.byScheduleIndexSortKey },
    }),
  );
}

/** Windows still in the open-windows index whose end is before `before` (epoch ms). */
export async function listOverdueWindows(deps: StoreDeps, before: number): Promise<WindowRef[]> {
  const items = await queryAll(deps, {
    IndexName: TABLE.byScheduleIndex,
    KeyConditionExpression: '#gpk = :open AND #gsk < :before',
    ExpressionAttributeNames: { '#gpk': TABLE.byScheduleIndexPartitionKey, '#gsk': TABLE.byScheduleIndexSortKey },
    ExpressionAttributeValues: { ':open': OPEN_WINDOWS_KEY, ':before': new Date(before).toISOString() },
  });
  return items.flatMap((item) => {
    const m = /^[^#]+#(\d+)#(\d+)#(.+)$/.exec(String(item[TABLE.byScheduleIndexSortKey]));
    return m ? [{ window: Number(m[1]), trigger: Number(m[2]), schedule: m[3]! }] : [];
  });
}

function openWindowSort(w: WindowRef, closesAt: number): string {
  return `${new Date(closesAt).toISOString()}#${w.window}#${w.trigger}#${w.schedule}`;
}
