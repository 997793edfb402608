/**
 * DynamoDB capacity accounting for benchmarks: a middleware on a DynamoDBClient that asks
 * every call for `ReturnConsumedCapacity: INDEXES` and adds up what DynamoDB (Local) reports,
 * the way bench/engine-cost.ts counts write units. Attach it to the functions' own client
 * (`#shared/clients/dynamodb`): the handlers run in the benchmark's process, so that client
 * is the one that writes.
 */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { itemSize } from '#shared/store/size';

/** One write as DynamoDB billed it. */
export interface WriteRecord {
  /** performance.now() when it was sent. */
  at: number;
  /** `PutItem`, `UpdateItem`, `TransactWriteItems`… */
  operation: string;
  /** Who made it, as `countCapacity`'s `who` says (the benchmark's Lambda function). */
  who?: string;
  /** `pk / sk` of each item written. */
  keys: string[];
  /** Size in bytes of the item(s) a put writes, as DynamoDB counts it (names + values); undefined for updates. */
  bytes?: number;
  wcu: number;
  /** The write's condition failed (billed 1 WCU). */
  failed: boolean;
  /** Of `wcu`, what each index took (DynamoDB reports it with ReturnConsumedCapacity INDEXES). */
  indexes: Record<string, number>;
}

/** Running totals; reset by assigning zeros. */
export interface CapacityCounter {
  /** Write capacity units (= on-demand write request units), failed conditional writes counted as 1. */
  wcu: number;
  /** Read capacity units (= on-demand read request units). */
  rcu: number;
  writes: number;
  reads: number;
  failedConditionalWrites: number;
  /** Requests by operation (`PutItem`, `Query`, …), failed ones included. */
  byOperation: Record<string, number>;
  /** Every write since the last reset, in order. */
  log: WriteRecord[];
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);
const READS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand', 'ScanCommand']);

type Capacity = { CapacityUnits?: number; WriteCapacityUnits?: number; ReadCapacityUnits?: number; GlobalSecondaryIndexes?: Record<string, Capacity> };

/**
 * Adds the counting middleware to `client` (once per name) and returns its counter. `who`
 * names the caller of each write in the log (e.g. from an AsyncLocalStorage).
 */
export function countCapacity(client: DynamoDBClient, name = 'batchronBenchCapacity', who?: () => string | undefined): CapacityCounter {
  const counter: CapacityCounter = { wcu: 0, rcu: 0, writes: 0, reads: 0, failedConditionalWrites: 0, byOperation: {}, log: [] };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      const write = WRITES.has(command);
      if (!write && !READS.has(command)) return next(args);
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'INDEXES';
      if (write) counter.writes += 1;
      else counter.reads += 1;
      const operation = command.replace(/Command$/, '');
      counter.byOperation[operation] = (counter.byOperation[operation] ?? 0) + 1;
      const record: WriteRecord | undefined = write ? { at: performance.now(), who: who?.(), operation, ...describeWrite(args.input as Record<string, unknown>), wcu: 0, failed: false, indexes: {} } : undefined;
      if (record) counter.log.push(record);
      try {
        const out = await next(args);
        const consumed = (out.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        for (const c of [consumed ?? []].flat()) {
          if (write) counter.wcu += c.WriteCapacityUnits ?? c.CapacityUnits ?? 0;
          else counter.rcu += c.ReadCapacityUnits ?? c.CapacityUnits ?? 0;
          if (record) {
            record.wcu += c.WriteCapacityUnits ?? c.CapacityUnits ?? 0;
            for (const [index, ic] of Object.entries(c.GlobalSecondaryIndexes ?? {})) {
              record.indexes[index] = (record.indexes[index] ?? 0) + (ic.WriteCapacityUnits ?? ic.CapacityUnits ?? 0);
            }
          }
        }
        return out;
      } catch (error) {
        // A failed conditional write is billed (at least 1 WCU) but reports no capacity.
        const errorName = (error as { name?: string }).name ?? '';
        if (write && (errorName.includes('Conditional') || errorName === 'TransactionCanceledException')) {
          counter.failedConditionalWrites += 1;
          counter.wcu += 1;
          if (record) {
            record.wcu += 1;
            record.failed = true;
          }
        }
        throw error;
      }
    },
    { step: 'initialize', name },
  );
  return counter;
}

/** Zeroes a counter in place. */
export function resetCapacity(counter: CapacityCounter): void {
  counter.wcu = 0;
  counter.rcu = 0;
  counter.writes = 0;
  counter.reads = 0;
  counter.failedConditionalWrites = 0;
  counter.byOperation = {};
  counter.log = [];
}

type Item = Record<string, AttributeValue>;

/** The items a write touches and, for puts, their size. The input may still be unmarshalled (document client). */
function describeWrite(input: Record<string, unknown>): { keys: string[]; bytes?: number } {
  const keys: string[] = [];
  let bytes: number | undefined;
  const one = (w: { Item?: unknown; Key?: unknown }) => {
    const item = w.Item ? toAttributes(w.Item as Record<string, unknown>) : undefined;
    const key = item ?? toAttributes((w.Key ?? {}) as Record<string, unknown>);
    keys.push(`${key.pk?.S ?? '?'} / ${key.sk?.S ?? '?'}`);
    if (item) bytes = (bytes ?? 0) + itemSize(item);
  };
  const transact = input.TransactItems as { Put?: object; Update?: object; Delete?: object; ConditionCheck?: object }[] | undefined;
  if (transact) for (const t of transact) one((t.Put ?? t.Update ?? t.Delete ?? t.ConditionCheck ?? {}) as { Item?: unknown; Key?: unknown });
  else one(input as { Item?: unknown; Key?: unknown });
  return { keys, bytes };
}

function toAttributes(item: Record<string, unknown>): Item {
  const pk = item.pk;
  // Marshalled already when the key is an AttributeValue.
  if (pk && typeof pk === 'object') return item as Item;
  return marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true });
}
