/**
 * Warms DynamoDB Local before the spike. DynamoDB on AWS is always warm; a DynamoDB Local
 * just started is a JVM whose JIT has compiled nothing yet, and on this class of machine it
 * spends 2-4 times the CPU per request on its first ~10,000 requests (measured: 1.9 ms of JVM
 * CPU per request cold, 0.55 ms warm). On 2 cores shared with the handlers, the spike's first
 * seconds would measure the JIT, not the engine. So the benchmark first makes the requests the
 * engine makes (conditional run and definition puts, version-checked rewrites, consistent GetItem,
 * the schedule-state and pacer updates), through the store's own functions, against a scratch
 * table with the deployment table's indexes. `--cold` skips it.
 */
import { CreateTableCommand, DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ScheduleDefinition } from '#shared/config/definition';
import { tableInput } from '#shared/config/table';
import { newRun } from '#shared/engine/run-state';
import { reserveSubmitSlot } from '#shared/store/pacer';
import { getRun, putNewRun, saveRun } from '#shared/store/runs';
import { getScheduleState, releaseRun } from '#shared/store/schedules';
import { forEachLimited } from './spike-deploy.ts';

/** Requests one warm-up run makes (see `warmRun`). */
const REQUESTS_PER_RUN = 10;

/**
 * Runs about `requests` engine-shaped requests on a scratch table `<table>-warmup` (deleted
 * after), 32 at a time; `onProgress(done, total)` every run. Returns the requests made.
 */
export async function warmDynamoDB(
  dynamodb: DynamoDBClient,
  doc: DynamoDBDocumentClient,
  table: string,
  definition: (name: string) => ScheduleDefinition,
  requests: number,
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  const scratch = `${table}-warmup`;
  await dynamodb.send(new CreateTableCommand(tableInput(scratch, 'all')));
  const store = { doc, table: scratch };
  const runs = Math.ceil(requests / REQUESTS_PER_RUN);
  const ctx = { now: Date.now(), owner: 'warmup', leaseMs: 60_000, deployment: 'warmup', retentionDays: 1 };
  const def = definition('warmup');
  try {
    await forEachLimited(
      Array.from({ length: runs }, (_, i) => i),
      32,
      async (i) => {
        const schedule = `warmup-${i % 100}`;
        const scheduledTime = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
        const { run } = newRun({ schedule, scheduledTime, definition: { ...def, name: schedule }, trigger: 'schedule', parameters: {} }, { runId: `${schedule}.${i}`, mode: 'start' }, ctx);
        await getScheduleState(store, schedule); // 1 GetItem
        await putNewRun(store, run); // 1 PutItem (the run; a definition's first run also a GetItem and a PutItem of it)
        await reserveSubmitSlot(store, 1_000, Date.now()); // 1-2 UpdateItem
        const saved = await saveRun(store, { ...run, statusReason: 'submitted' }); // 1 PutItem
        await getRun(store, run.runId); // 1 GetItem (the definition is known)
        await saveRun(store, run).catch(() => undefined); // 1 failed conditional PutItem (a lost race)
        await saveRun(store, { ...saved, statusReason: 'succeeded' }); // 1 PutItem
        await releaseRun(store, { schedule, runId: run.runId, scheduledTime, outcome: 'SUCCEEDED' }); // 1 UpdateItem + 1 GetItem
      },
      (done) => onProgress?.(done * REQUESTS_PER_RUN, runs * REQUESTS_PER_RUN),
    );
  } finally {
    await dynamodb.send(new DeleteTableCommand({ TableName: scratch }));
  }
  return runs * REQUESTS_PER_RUN;
}
