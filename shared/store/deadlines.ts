/**
 * Deadline records on the engine's table (the `DeadlineStore` port, shared/engine/ports.ts;
 * layout in ./deadline-item.ts). Creation is a conditional put (`attribute_not_exists`), every
 * change a put conditioned on the version read: two sweepers deciding the same deadline make
 * one record and one claim of each message.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../config/table.ts';
import { unlessConditionFails } from './conditional.ts';
import type { DeadlineStore } from '../engine/ports.ts';
import { CorruptItemError } from '../errors.ts';
import { DeadlineRecordSchema, deadlineKey, deadlinePk, type DeadlineRecord } from './deadline-item.ts';
import { queryAll } from './query.ts';
import type { StoreDeps } from './runs.ts';

function parse(item: Record<string, unknown>): DeadlineRecord {
  const parsed = DeadlineRecordSchema.safeParse(item);
  if (!parsed.success) throw new CorruptItemError(`deadline ${String(item.pk)}/${String(item.sk)} does not match its schema`, { cause: parsed.error });
  return parsed.data;
}

async function put(deps: StoreDeps, record: DeadlineRecord, expiresAt: number, condition: { version?: number }): Promise<boolean> {
  const written = await unlessConditionFails(
    deps.doc.send(
      new PutCommand({
        TableName: deps.table,
        Item: { ...deadlineKey(record.schedule, record.deadlineAt), kind: 'deadline', ...record, [TABLE.ttlAttribute]: expiresAt },
        ...(condition.version === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': condition.version } }),
      }),
    ),
  );
  return written !== undefined;
}

/** The deadline store over DynamoDB. */
export function dynamoDeadlineStore(deps: StoreDeps): DeadlineStore {
  return {
    async listDeadlines(schedule, from, to) {
      const items = await queryAll(deps, {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': deadlinePk(schedule), ':from': from, ':to': to },
        ConsistentRead: true,
      });
      return items.map(parse);
    },
    async latestDeadline(schedule, atOrBefore) {
      const out = await deps.doc.send(
        new QueryCommand({
          TableName: deps.table,
          KeyConditionExpression: 'pk = :pk AND sk <= :to',
          ExpressionAttributeValues: { ':pk': deadlinePk(schedule), ':to': atOrBefore },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      const item = out.Items?.[0];
      return item ? parse(item) : undefined;
    },
    createDeadline: (record, expiresAt) => put(deps, record, expiresAt, {}),
    async saveDeadline(record, expiresAt) {
      const next = { ...record, version: record.version + 1 };
      return (await put(deps, next, expiresAt, { version: record.version })) ? next : undefined;
    },
  };
}
