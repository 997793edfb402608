/**
 * The names of the one DynamoDB table's keys, indexes and TTL attribute. serverless.yml
 * declares the table with these literal names (a package test checks they agree), the
 * local deploy creates it from serverless.yml, and the engine's store imports these
 * constants instead of spelling the strings again.
 */

import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/** Attribute and index names of the Batchron table. */
export const TABLE = {
  /** Partition key (string) of every item. */
  partitionKey: 'pk',
  /** Sort key (string) of every item. */
  sortKey: 'sk',
  /** GSI1: runs by schedule, newest first when `gsi1sk` sorts by time. */
  byScheduleIndex: 'gsi1',
  byScheduleIndexPartitionKey: 'gsi1pk',
  byScheduleIndexSortKey: 'gsi1sk',
  /**
   * GSI2, sparse: only items that carry `activePk` (runs not finished yet) are in it, so the
   * sweeper queries what is active without scanning what is done.
   */
  activeIndex: 'active',
  activeIndexPartitionKey: 'activePk',
  activeIndexSortKey: 'activeSk',
  /** Epoch seconds after which DynamoDB's TTL deletes the item. */
  ttlAttribute: 'expiresAt',
} as const;

/** Every key attribute is a string; listed once for CreateTable's AttributeDefinitions. */
export const TABLE_KEY_ATTRIBUTES = [
  TABLE.partitionKey,
  TABLE.sortKey,
  TABLE.byScheduleIndexPartitionKey,
  TABLE.byScheduleIndexSortKey,
  TABLE.activeIndexPartitionKey,
  TABLE.activeIndexSortKey,
] as const;

/**
 * What GSI1 copies of a run (its INCLUDE projection in serverless.yml): only attributes fixed
 * when the run is created. An index is written (and billed) again whenever an attribute it
 * copies changes, so a projected `status` would cost one index write per status change of
 * every run; listings read the status from the run items instead (shared/store/summaries.ts).
 */
export const RUN_INDEX_ATTRIBUTES = ['runId', 'schedule', 'scheduledTime', 'trigger', 'createdAt'] as const;

/** The fields of a run a listing shows beyond the index's: read from the run item. */
export const RUN_STATUS_ATTRIBUTES = ['status', 'statusReason', 'endedAt'] as const;

/**
 * The CreateTable input of the Batchron table, for tests and benchmarks that build the
 * table without deploying serverless.yml. `narrow` is what serverless.yml declares (GSI1
 * INCLUDE of the run's creation-time fields, the active index KEYS_ONLY): the least the engine needs;
 * `all` projects everything, to measure what the narrow projections save.
 */
export function tableInput(name: string, projections: 'narrow' | 'all' = 'narrow'): CreateTableCommandInput {
  const all = { ProjectionType: 'ALL' as const };
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: TABLE_KEY_ATTRIBUTES.map((attribute) => ({ AttributeName: attribute, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: TABLE.byScheduleIndex,
        KeySchema: [
          { AttributeName: TABLE.byScheduleIndexPartitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.byScheduleIndexSortKey, KeyType: 'RANGE' },
        ],
        Projection: projections === 'all' ? all : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...RUN_INDEX_ATTRIBUTES] },
      },
      {
        IndexName: TABLE.activeIndex,
        KeySchema: [
          { AttributeName: TABLE.activeIndexPartitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.activeIndexSortKey, KeyType: 'RANGE' },
        ],
        Projection: projections === 'all' ? all : { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}
