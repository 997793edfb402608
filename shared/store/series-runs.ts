/**
 * Runs read against a schedule's series: the runs of one schedule whose scheduled time lies
 * in a range, and the latest run by scheduled time. Each is one Query on GSI1 (partition
 * `SCHED#<schedule>`, sort `<scheduledTime ISO>#<runId>`), no scans; where the status is
 * wanted it is read from the run items (shared/store/summaries.ts).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../config/table.ts';
import { CorruptItemError } from '../errors.ts';
import type { RunRef } from '../engine/ports.ts';
import { runsByScheduleKey } from './keys.ts';
import { queryAll } from './query.ts';
import type { StoreDeps } from './runs.ts';
import type { RunSummary } from './schema.ts';
import { summarize } from './summaries.ts';

const present = <T>(x: T | undefined): x is T => x !== undefined;

/**
 * Every run of `schedule` scheduled in [from, to), earliest first (all pages), with its
 * status. Eventually consistent (an index): a run created a moment ago may be missing, which
 * callers that create runs tolerate because creation is conditional on the run id.
 */
export async function listRunsScheduledBetween(deps: StoreDeps, schedule: string, from: Date, to: Date): Promise<RunSummary[]> {
  return (await summarize(deps, await indexBetween(deps, schedule, from, to))).filter(present);
}

/** The same runs as listRunsScheduledBetween, from the index alone (no status: no item reads). */
export async function listRunTimesBetween(deps: StoreDeps, schedule: string, from: Date, to: Date): Promise<RunRef[]> {
  return (await indexBetween(deps, schedule, from, to)).map((item) => {
    if (typeof item.runId !== 'string' || typeof item.scheduledTime !== 'string') {
      throw new CorruptItemError(`run index item ${String(item[TABLE.partitionKey])} has no runId or scheduledTime`);
    }
    return { runId: item.runId, scheduledTime: item.scheduledTime };
  });
}

async function indexBetween(deps: StoreDeps, schedule: string, from: Date, to: Date): Promise<Record<string, unknown>[]> {
  const items = await queryAll(deps, {
    IndexName: TABLE.byScheduleIndex,
    // The sort key starts with the ISO time; `#` sorts before every digit, so `<to>#` excludes `to` itself.
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
    ExpressionAttributeNames: { '#pk': TABLE.byScheduleIndexPartitionKey, '#sk': TABLE.byScheduleIndexSortKey },
    ExpressionAttributeValues: { ':pk': runsByScheduleKey(schedule), ':from': from.toISOString(), ':to': `${to.toISOString()}#` },
  });
  return items.filter((r) => Date.parse(String(r.scheduledTime)) < to.getTime());
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
  return (await summarize(deps, (page.Items ?? []).slice(0, 1)))[0];
}
