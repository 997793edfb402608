/**
 * Runs read against a schedule's series: the runs of one schedule whose scheduled time lies
 * in a range, and the latest run by scheduled time. Both are one Query on GSI1 (partition
 * `SCHED#<schedule>`, sort `<scheduledTime ISO>#<runId>`): no scans. Kept apart from
 * runs.ts so they can move behind the store port unchanged.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../config/table.ts';
import { CorruptItemError } from '../errors.ts';
import { runsByScheduleKey } from './keys.ts';
import { queryAll } from './query.ts';
import type { StoreDeps } from './runs.ts';
import { RunSummarySchema, type RunSummary } from './schema.ts';

function summaries(items: Record<string, unknown>[] | undefined): RunSummary[] {
  return (items ?? []).map((item) => {
    const parsed = RunSummarySchema.safeParse(item);
    if (!parsed.success) throw new CorruptItemError(`run summary ${String(item.pk)} does not match its schema`, { cause: parsed.error });
    return parsed.data;
  });
}

/**
 * Every run of `schedule` scheduled in [from, to), earliest first (all pages). Eventually
 * consistent (an index): a run created a moment ago may be missing, which callers that
 * create runs tolerate because creation is conditional on the run id.
 */
export async function listRunsScheduledBetween(deps: StoreDeps, schedule: string, from: Date, to: Date): Promise<RunSummary[]> {
  const items = await queryAll(deps, {
    IndexName: TABLE.byScheduleIndex,
    // The sort key starts with the ISO time; `#` sorts before every digit, so `<to>#` excludes `to` itself.
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
    ExpressionAttributeNames: { '#pk': TABLE.byScheduleIndexPartitionKey, '#sk': TABLE.byScheduleIndexSortKey },
    ExpressionAttributeValues: { ':pk': runsByScheduleKey(schedule), ':from': from.toISOString(), ':to': `${to.toISOString()}#` },
  });
  return summaries(items).filter((r) => Date.parse(r.scheduledTime) < to.getTime());
}

/** The run of `schedule` with the latest scheduled time (ad hoc runs count at the time they were asked for). */
export async function latestRunByScheduledTime(deps: StoreDeps, schedule: string): Promise<RunSummary | undefined> {
  const page = await deps.doc.send(
    new QueryCommand({
      TableName: deps.table,
      IndexName: TABLE.byScheduleIndex,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE.byScheduleIndexPartitionKey },
      ExpressionAttributeValues: { ':pk': runsByScheduleKey(schedule) },
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  return summaries(page.Items)[0];
}
