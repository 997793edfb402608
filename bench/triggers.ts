/**
 * Event triggers on the local stack, end to end: events per second from PutEvents to
 * recorded runs, and DynamoDB write units per triggered run beside a scheduled one.
 *
 *   npm run bench:triggers [-- --events 200]
 *
 * The project's serverless.yml is deployed on a fresh stack; a bench rule (source
 * `bench.app`, no batch window, the on-upload schedule's definition) targets `trigger`.
 * `--events` distinct events go through PutEvents (10 per call, 4 calls in flight); the
 * clock stops when every one has its run recorded. Write units are counted on the functions'
 * own DynamoDB client (ReturnConsumedCapacity, as DynamoDB Local reports it), from the
 * trigger or fire invocation until the run has ended. Then the same count of S3 uploads is
 * published as S3 would into on-upload's 10 s batch window. The last line is JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import pLimit from 'p-limit';
import { deployLocal } from '#local/deploy';
import { startLocalStack } from '#local/stack';
import { dynamodb } from '#shared/clients/dynamodb';
import { fireInput, triggerInputTemplate } from '#shared/config/validate';
import { getRun, listRunsBySchedule } from '#shared/store/runs';
import { awsClients } from '#test/helpers/aws';
import { loadEvent } from '#test/helpers/events';
import { countCapacity, resetCapacity } from './lib/spike-capacity.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200' } } });
const N = Math.max(10, Number(values.events));
const ROOT = resolve(import.meta.dirname, '..');
const counter = countCapacity(dynamodb, 'batchronTriggersCapacity');

const dataDir = mkdtempSync(join(tmpdir(), 'batchron-bench-triggers-'));
const stack = await startLocalStack({ port: 0, dataDir, projectDir: ROOT, log: () => undefined });
const clients = awsClients(stack.url);
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const d = await deployLocal(stack, { projectDir: ROOT });
const store = { doc: clients.doc, table: d.table };
const def = d.definitions['on-upload']!;
const triggerArn = stack.lambda.arnOf(`${d.deployment}-trigger`);
stack.bus.putRule({
  name: 'bench-app',
  pattern: { source: ['bench.app'] },
  targets: [{ id: 'trigger', arn: triggerArn, inputTransformer: { inputTemplate: triggerInputTemplate(def, 1, { event: {}, parameters: { keys: '$.detail.key' }, idempotencyKey: '$.id' }) } }],
});

/** All runs of on-upload (paging the schedule index). */
async function runIds(): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await listRunsBySchedule(store, 'on-upload', { limit: 100, ...(before ? { before } : {}) });
    ids.push(...page.items.map((r) => r.summary.runId));
    if (!page.more || page.items.length === 0) return ids;
    before = page.items.at(-1)!.sortKey;
  }
}

async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function allEnded(ids: string[]): Promise<void> {
  await waitFor(async () => {
    for (const id of ids) if (!(await getRun(store, id, false))?.finalized) return undefined;
    return true;
  }, 'the runs to end');
  await stack.idle();
}

const eb = new EventBridgeClient({ endpoint: stack.url, region: stack.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
try {
  // 1. PutEvents -> recorded runs.
  resetCapacity(counter);
  const limit = pLimit(4);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: N / 10 }, (_, b) =>
      limit(() =>
        eb.send(
          new PutEventsCommand({
            Entries: Array.from({ length: 10 }, (_, j) => ({ Source: 'bench.app', DetailType: 'File Ready', Detail: JSON.stringify({ key: `bench/${b * 10 + j}.csv` }) })),
          }),
        ),
      ),
    ),
  );
  const putMs = performance.now() - t0;
  const triggered = await waitFor(async () => {
    const ids = await runIds();
    return ids.length >= N ? ids : undefined;
  }, `${N} runs`);
  const recordedMs = performance.now() - t0;
  await allEnded(triggered);
  const triggeredWcu = counter.wcu / N;

  // 2. The same number of scheduled fires of the same definition, for the write units beside.
  resetCapacity(counter);
  const fireArn = stack.lambda.arnOf(`${d.deployment}-fire`);
  const base = Date.UTC(2026, 0, 1);
  for (let i = 0; i < N; i++) await stack.lambda.invokeAsync(fireArn, fireInput(def, new Date(base + i * 60_000).toISOString()));
  const fired = await waitFor(async () => {
    const ids = (await runIds()).filter((id) => !id.includes('.event-'));
    return ids.length >= N ? ids : undefined;
  }, `${N} scheduled runs`);
  await allEnded(fired);
  const scheduledWcu = counter.wcu / N;

  // 3. S3 uploads into on-upload's 10 s batch window, published as S3 would.
  resetCapacity(counter);
  const before = new Set(await runIds());
  const s3 = loadEvent('s3', 'object-created');
  const t1 = performance.now();
  for (let i = 0; i < N; i++) {
    stack.bus.publish({ ...s3, id: randomUUID(), time: new Date(stack.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), detail: { ...s3.detail, object: { ...s3.detail.object, key: `incoming/bench-${i}.csv` } } } as never);
  }
  await stack.idle();
  const collectedMs = performance.now() - t1;
  const windowRuns = await waitFor(async () => {
    const ids = (await runIds()).filter((id) => !before.has(id));
    let keys = 0;
    for (const id of ids) keys += (JSON.parse((await getRun(store, id, false))?.parameters.keys ?? '[]') as string[]).length;
    return keys >= N ? ids : undefined;
  }, 'the batch-window runs to hold every key', 120_000);
  await allEnded(windowRuns);
  const windowWcuPerEvent = counter.wcu / N;

  const figures = {
    bench: 'triggers',
    events: N,
    putEventsPerSecond: Math.round((N / putMs) * 1000),
    eventsToRecordedRunsPerSecond: Math.round((N / recordedMs) * 1000),
    wcuPerTriggeredRun: Math.round(triggeredWcu * 10) / 10,
    wcuPerScheduledRun: Math.round(scheduledWcu * 10) / 10,
    batchWindow: { runs: windowRuns.length, collectedPerSecond: Math.round((N / collectedMs) * 1000), wcuPerEvent: Math.round(windowWcuPerEvent * 10) / 10 },
  };
  console.log(`event triggers on the local stack, ${N} events (${process.version}, ${new Date().toISOString().slice(0, 10)})`);
  console.log(`  PutEvents accepted          ${figures.putEventsPerSecond} events/s`);
  console.log(`  PutEvents -> recorded runs  ${figures.eventsToRecordedRunsPerSecond} events/s (one run per event, no window)`);
  console.log(`  write units per run         triggered ${figures.wcuPerTriggeredRun} WCU, scheduled ${figures.wcuPerScheduledRun} WCU (creation to end, one task)`);
  console.log(`  batch window (10 s)         ${windowRuns.length} run(s) for ${N} uploads; ${figures.batchWindow.collectedPerSecond} events/s collected; ${figures.batchWindow.wcuPerEvent} WCU per event`);
  console.log(JSON.stringify(figures));
} finally {
  eb.destroy();
  await stack.stop({ graceMs: 500 });
  rmSync(dataDir, { recursive: true, force: true });
}
