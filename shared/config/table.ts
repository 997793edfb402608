/**
 * The names of the one DynamoDB table's keys, indexes and TTL attribute. serverless.yml
 * declares the table with these literal names (a package test checks they agree), the
 * local deploy creates it from serverless.yml, and the engine's store imports these
 * constants instead of spelling the strings again.
 */

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
