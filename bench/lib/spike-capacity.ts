/**
 * DynamoDB capacity accounting for benchmarks: a middleware on a DynamoDBClient that asks
 * every call for `ReturnConsumedCapacity: TOTAL` and adds up what DynamoDB (Local) reports,
 * the way bench/engine-cost.ts counts write units. Attach it to the functions' own client
 * (`#shared/clients/dynamodb`): the handlers run in the benchmark's process, so that client
 * is the one that writes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

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
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);
const READS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand', 'ScanCommand']);

type Capacity = { CapacityUnits?: number; WriteCapacityUnits?: number; ReadCapacityUnits?: number };

/** Adds the counting middleware to `client` (once per name) and returns its counter. */
export function countCapacity(client: DynamoDBClient, name = 'batchronBenchCapacity'): CapacityCounter {
  const counter: CapacityCounter = { wcu: 0, rcu: 0, writes: 0, reads: 0, failedConditionalWrites: 0, byOperation: {} };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      const write = WRITES.has(command);
      if (!write && !READS.has(command)) return next(args);
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
      if (write) counter.writes += 1;
      else counter.reads += 1;
      const operation = command.replace(/Command$/, '');
      counter.byOperation[operation] = (counter.byOperation[operation] ?? 0) + 1;
      try {
        const out = await next(args);
        const consumed = (out.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        for (const c of [consumed ?? []].flat()) {
          if (write) counter.wcu += c.WriteCapacityUnits ?? c.CapacityUnits ?? 0;
          else counter.rcu += c.ReadCapacityUnits ?? c.CapacityUnits ?? 0;
        }
        return out;
      } catch (error) {
        // A failed conditional write is billed (at least 1 WCU) but reports no capacity.
        const errorName = (error as { name?: string }).name ?? '';
        if (write && (errorName.includes('Conditional') || errorName === 'TransactionCanceledException')) {
          counter.failedConditionalWrites += 1;
          counter.wcu += 1;
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
}
