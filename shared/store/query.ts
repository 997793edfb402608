/**
 * Every item of a DynamoDB query, page after page (LastEvaluatedKey), for the store's
 * listings that need them all; callers that stop early (a page of a listing) page themselves.
 */
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { StoreDeps } from './runs.ts';

/** The items `input` selects on the store's table, across all pages. */
export async function queryAll(deps: StoreDeps, input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await deps.doc.send(new QueryCommand({ ...input, TableName: deps.table, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
