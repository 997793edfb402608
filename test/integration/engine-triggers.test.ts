/**
 * Event triggers on the engine against DynamoDB Local: duplicate deliveries make one run;
 * a batch window turns a burst into the expected runs, each key in exactly one of them;
 * a window whose close never came is closed by the sweeper's repair.
 * Batch is a recording port (submission is not what this checks; engine-flow covers it).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { TABLE } from '#shared/config/table';
import type { TriggerInput, TriggerSettings } from '#shared/config/trigger';
import type { BatchPort } from '#shared/engine/ports';
import { closeWindow, handleTriggerEvent, repairWindows, type TriggerDeps } from '#shared/engine/trigger';
import { CountingMetrics } from '#shared/logger';
import type { StoreDeps } from '#shared/store/runs';
import { runsByScheduleKey } from '#shared/store/keys';
import { createEngineTable, definition, MemoryLog, MemoryNotifier, task } from '#test/helpers/engine';
import { loadEvent } from '#test/helpers/events';

let client: DynamoDBClient;
let store: StoreDeps;
const T0 = Date.parse('2026-11-30T00:00:00Z'); // a multiple of 10 s: window boundaries fall on it

/** Batch that records submissions and finds them again by name (as ListJobs would). */
function recordingBatch(): BatchPort & { submitted: { jobName: string; parameters?: Record<string, string> }[] } {
  const submitted: { jobName: string; jobId: string; parameters?: Record<string, string> }[] = [];
  return {
    submitted,
    async submitJob(input) {
      const jobId = `job-${submitted.length + 1}`;
      submitted.push({ jobName: input.jobName!, jobId, parameters: input.parameters });
      return { jobId };
    },
    async findJobsByName(_queue, jobName) {
      return submitted.filter((s) => s.jobName === jobName).map((s) => ({ jobId: s.jobId, status: 'SUBMITTED' }));
    },
    async describeJobs() {
      return [];
    },
    async terminateJob() {},
  };
}

function depsAt(clock: { now: number }, batch: BatchPort, windows?: TriggerDeps['windows']): TriggerDeps {
  return {
    store,
    batch,
    retries: { scheduleRetry: async () => 'created' },
    notifier: new MemoryNotifier(),
    env: { deployment: 'trig', defaultQueue: 'q', retentionDays: 1, jobLogGroup: '/aws/batch/job', region: 'us-east-1', stuckMinutes: { queued: 30, submitted: 120, running: 720 }, submitRate: 1000 },
    now: () => clock.now,
    sleep: async (ms) => {
      clock.now += ms;
    },
    owner: 'test',
    log: new MemoryLog(),
    metrics: new CountingMetrics(),
    ...(windows ? { windows } : {}),
  };
}

function s3Event(key: string, id: string, time = '2026-11-30T00:00:00Z') {
  const event = loadEvent('s3', 'object-created');
  event.id = id;
  event.time = time;
  event.detail.object.key = key;
  return event;
}

function input(schedule: string, event: Record<string, any>, settings: Partial<TriggerSettings> = {}): TriggerInput {
  const def = definition(schedule, [task('main')], { expression: undefined, parameters: { key: { required: false } } });
  return {
    schedule,
    trigger: 0,
    settings: { parameters: { key: '$.detail.object.key' }, idempotencyKey: '$.id', ...settings },
    definition: def,
    event: event as TriggerInput['event'],
  };
}

async function runsOf(schedule: string) {
  const out = await store.doc.send(
    new QueryCommand({
      TableName: store.table,
      IndexName: TABLE.byScheduleIndex,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE.byScheduleIndexPartitionKey },
      ExpressionAttributeValues: { ':pk': runsByScheduleKey(schedule) },
    }),
  );
  return out.Items ?? [];
}

beforeAll(async () => {
  client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  store = { doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), table: `engine-triggers-${process.pid}` };
  await createEngineTable(client, store.table, 'all');
});

afterAll(() => client?.destroy());

describe('event triggers', () => {
  it('starts one run when the same event is delivered five times, concurrently and later', async () => {
    // Prepare
    const clock = { now: T0 };
    const batch = recordingBatch();
    const deps = depsAt(clock, batch);
    const one = input('dup', s3Event('incoming/a.csv', 'evt-1'));
    // Act
    const first = await Promise.all([1, 2, 3].map(() => handleTriggerEvent(structuredClone(one), deps)));
    clock.now += 3_600_000;
    const later = await Promise.all([1, 2].map(() => handleTriggerEvent(structuredClone(one), deps)));
    const other = await handleTriggerEvent(input('dup', s3Event('incoming/b.csv', 'evt-2')), deps);
    // Assess
    const results = [...first, ...later];
    expect(results.filter((r) => r.outcome === 'started')).toHaveLength(1);
    expect(new Set(results.map((r) => (r.outcome === 'started' || r.outcome === 'duplicate' ? r.run?.runId : undefined))).size).toBe(1);
    expect(other.outcome).toBe('started');
    const runs = await runsOf('dup');
    expect(runs).toHaveLength(2);
    expect(runs.map((r) => r.parameters.key).sort()).toEqual(['incoming/a.csv', 'incoming/b.csv']);
    expect(runs.every((r) => r.trigger === 'event')).toBe(true);
    expect(batch.submitted).toHaveLength(2);
  });

  it('turns 1,000 events in 10 s, each delivered twice, into one run per 250 with every key exactly once', async () => {
    // Prepare: a 10 s window of at most 250 events; the close schedule is recorded, then "fires".
    const clock = { now: T0 };
    const batch = recordingBatch();
    const closes: { name: string; at: number; input: { closeWindow: { schedule: string; trigger: number; window: number } } }[] = [];
    const deps = depsAt(clock, batch, {
      scheduleClose: async (s) => {
        closes.push(s);
        return 'created';
      },
    });
    const keys = Array.from({ length: 1000 }, (_, i) => `incoming/file-${String(i).padStart(4, '0')}.csv`);
    const settings = { batchWindow: { seconds: 10, maxEvents: 250 } };
    // Act: 100 events every second for 10 s, 20 at a time, each sent twice (a redelivery).
    for (let i = 0; i < keys.length; i += 20) {
      clock.now = T0 + Math.floor(i / 100) * 1000;
      const batchOf = keys.slice(i, i + 20).flatMap((k, j) => [input('burst', s3Event(k, `e-${i + j}`), settings), input('burst', s3Event(k, `e-${i + j}`), settings)]);
      await Promise.all(batchOf.map((x) => handleTriggerEvent(x, deps)));
    }
    clock.now = T0 + 10_000;
    for (const c of closes) await closeWindow(c.input.closeWindow, deps);
    // Assess
    expect(closes).toHaveLength(1);
    expect(closes[0]!.at).toBe(T0 + 10_000);
    expect(closes[0]!.name.startsWith('_')).toBe(true);
    const runs = await runsOf('burst');
    // Duplicates take arrival slots too, so parts hold at most 250: at least 4 runs, and every key exactly once.
    const held = runs.flatMap((r) => JSON.parse(r.parameters.key) as string[]);
    expect(held.sort()).toEqual(keys);
    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(runs.length).toBeLessThanOrEqual(8);
    expect(runs.every((r) => (JSON.parse(r.parameters.key) as string[]).length <= 250)).toBe(true);
    expect(batch.submitted).toHaveLength(runs.length);
  });

  it('makes exactly 4 runs of 250 from 1,000 distinct events delivered once each', async () => {
    // Prepare
    const clock = { now: T0 };
    const deps = depsAt(clock, recordingBatch(), { scheduleClose: async () => 'created' });
    const keys = Array.from({ length: 1000 }, (_, i) => `incoming/x-${String(i).padStart(4, '0')}.csv`);
    // Act
    for (let i = 0; i < keys.length; i += 25) {
      clock.now = T0 + Math.floor(i / 100) * 1000;
      await Promise.all(keys.slice(i, i + 25).map((k, j) => handleTriggerEvent(input('exact', s3Event(k, `x-${i + j}`), { batchWindow: { seconds: 10, maxEvents: 250 } }), deps)));
    }
    // Assess: every part filled up and closed itself, no close schedule needed.
    const runs = await runsOf('exact');
    expect(runs).toHaveLength(4);
    expect(runs.flatMap((r) => JSON.parse(r.parameters.key) as string[]).sort()).toEqual(keys);
  });

  it('closes a window whose close schedule never came, from the sweeper, once', async () => {
    // Prepare: a window of 10 s that never fills, and no close schedule.
    const clock = { now: T0 + 3_000 };
    const deps = depsAt(clock, recordingBatch());
    const settings = { batchWindow: { seconds: 10, maxEvents: 100 } };
    for (const k of ['incoming/1.csv', 'incoming/2.csv', 'incoming/3.csv']) await handleTriggerEvent(input('lost-close', s3Event(k, k), settings), deps);
    // Act
    clock.now = T0 + 30_000; // within the grace: not repaired yet
    const early = await repairWindows(deps);
    clock.now = T0 + 10_000 + 61_000;
    const repaired = await repairWindows(deps);
    const again = await repairWindows(deps);
    // Assess
    const mine = (ws: { schedule: string }[]) => ws.filter((w) => w.schedule === 'lost-close');
    expect(mine(early)).toHaveLength(0);
    expect(mine(repaired)).toHaveLength(1);
    expect(mine(again)).toHaveLength(0);
    const runs = await runsOf('lost-close');
    expect(runs).toHaveLength(1);
    expect(JSON.parse(runs[0]!.parameters.key)).toEqual(['incoming/1.csv', 'incoming/2.csv', 'incoming/3.csv']);
  });
});
