/**
 * Event triggers on the in-memory stores (the same conditional semantics as DynamoDB's; the
 * DynamoDB window store is exercised by test/integration/engine-triggers.test.ts): a burst of
 * 1,000 S3-shaped events, some delivered twice, becomes exactly the expected runs holding
 * every key once; duplicate deliveries of one event without a window are one run.
 */
import { describe, expect, it } from 'vitest';
import type { TriggerInput, TriggerSettings } from '#shared/config/trigger';
import type { BatchPort } from '#shared/engine/ports';
import { closeWindow, handleTriggerEvent, repairWindows } from '#shared/engine/trigger';
import { memoryStore } from '#shared/store/memory';
import { memoryWindowStore } from '#shared/store/memory-windows';
import { triggerDeps } from '#test/helpers/triggers';
import { definition, task } from '#test/helpers/engine';
import { loadEvent } from '#test/helpers/events';

const T0 = Date.parse('2026-11-30T00:00:00Z'); // a multiple of 10 s

function recordingBatch(): BatchPort & { submitted: string[] } {
  const submitted: string[] = [];
  return {
    submitted,
    async submitJob(input) {
      submitted.push(input.jobName!);
      return { jobId: `job-${submitted.length}` };
    },
    async findJobsByName(_q, name) {
      return submitted.includes(name) ? [{ jobId: `job-${submitted.indexOf(name) + 1}`, status: 'SUBMITTED' }] : [];
    },
    async describeJobs() {
      return [];
    },
    async terminateJob() {},
  };
}

function engine(clock: { now: number }) {
  const store = memoryStore();
  const batch = recordingBatch();
  const closes: { at: number; input: { closeWindow: { schedule: string; trigger: number; window: number } } }[] = [];
  const deps = triggerDeps(clock, {
    store,
    windowStore: memoryWindowStore(),
    batch,
    windows: {
      scheduleClose: async (s) => {
        closes.push(s);
        return 'created';
      },
    },
  });
  return { deps, store, batch, closes };
}

function input(schedule: string, key: string, id: string, settings: Partial<TriggerSettings> = {}): TriggerInput {
  const event = loadEvent('s3', 'object-created');
  event.id = id;
  event.detail.object.key = key;
  return {
    schedule,
    trigger: 0,
    settings: { parameters: { key: '$.detail.object.key' }, idempotencyKey: '$.id', ...settings },
    definition: definition(schedule, [task('main')], { expression: undefined, parameters: { key: { required: false } } }),
    event: event as TriggerInput['event'],
  };
}

async function keysOfRuns(store: ReturnType<typeof memoryStore>, schedule: string): Promise<string[][]> {
  const page = await store.listRunsBySchedule(schedule, { limit: 100 });
  const out: string[][] = [];
  for (const r of page.items) out.push(JSON.parse((await store.getRun(r.summary.runId))!.parameters.key!) as string[]);
  return out;
}

describe('event triggers (memory stores)', () => {
  it('turns 1,000 S3 events in 10 s, one in ten delivered twice, into exactly 4 runs holding every key once', async () => {
    // Prepare: 10 s windows of at most 300; the burst starts half-way through a window, so each
    // of two windows gets 500 distinct keys. A redelivery takes an arrival slot too, so each
    // key is sent twice only after its window's parts are settled: at the end of the burst.
    const clock = { now: T0 };
    const { deps, store, batch, closes } = engine(clock);
    const keys = Array.from({ length: 1000 }, (_, i) => `incoming/file-${String(i).padStart(4, '0')}.csv`);
    const settings = { batchWindow: { seconds: 10, maxEvents: 300 } };
    // Act: 100 a second for 10 s, 50 at a time, concurrently.
    for (let i = 0; i < keys.length; i += 50) {
      clock.now = T0 + 5_000 + Math.floor(i / 100) * 1000;
      await Promise.all(keys.slice(i, i + 50).map((k, j) => handleTriggerEvent(input('burst', k, `e-${i + j}`, settings), deps)));
    }
    const redelivered = await Promise.all(keys.filter((_, i) => i % 10 === 0).map((k) => handleTriggerEvent(input('burst', k, `e-${keys.indexOf(k)}`, settings), deps)));
    clock.now = T0 + 20_000;
    for (const c of closes) await closeWindow(c.input.closeWindow, deps);
    // Assess
    expect(redelivered.every((r) => r.outcome === 'duplicate')).toBe(true);
    expect(closes.map((c) => c.at)).toEqual([T0 + 10_000, T0 + 20_000]);
    const held = await keysOfRuns(store, 'burst');
    expect(held.map((k) => k.length).sort()).toEqual([200, 200, 300, 300]);
    expect(held.flat().sort()).toEqual(keys);
    expect(batch.submitted).toHaveLength(4);
    expect(await repairWindows(deps)).toEqual([]);
  });

  it('keeps every key exactly once when each of 1,000 events arrives twice at once', async () => {
    // Prepare
    const clock = { now: T0 };
    const { deps, store, closes } = engine(clock);
    const keys = Array.from({ length: 1000 }, (_, i) => `incoming/twice-${String(i).padStart(4, '0')}.csv`);
    const settings = { batchWindow: { seconds: 10, maxEvents: 250 } };
    // Act
    for (let i = 0; i < keys.length; i += 100) {
      clock.now = T0 + Math.floor(i / 100) * 900;
      await Promise.all(keys.slice(i, i + 100).flatMap((k) => [k, k]).map((k) => handleTriggerEvent(input('twice', k, `id-${k}`, settings), deps)));
    }
    clock.now = T0 + 10_000;
    for (const c of closes) await closeWindow(c.input.closeWindow, deps);
    // Assess: 2,000 arrivals in slots of 250 make 8 parts; every key in exactly one of them.
    const held = await keysOfRuns(store, 'twice');
    expect(held.flat().sort()).toEqual(keys);
    expect(held.length).toBeGreaterThanOrEqual(4);
    expect(held.every((k) => k.length <= 250)).toBe(true);
  });

  it('asks for the close one second ahead, never in the past, when an arrival is counted after its window ended', async () => {
    // Prepare: the window store answers the count 12 s late (a slow or throttled write), so
    // the first arrival of window [T0, T0+10s) schedules the close when that window is over.
    const clock = { now: T0 + 9_000 };
    const { deps, store, closes } = engine(clock);
    const windows = deps.windowStore!;
    const slow = {
      ...windows,
      countArrival: async (...args: Parameters<typeof windows.countArrival>) => {
        const n = await windows.countArrival(...args);
        clock.now = T0 + 21_000;
        return n;
      },
    };
    // Act
    await handleTriggerEvent(input('late', 'incoming/late.csv', 'late-1', { batchWindow: { seconds: 10, maxEvents: 100 } }), { ...deps, windowStore: slow });
    // Assess: a one-time schedule in the past would never fire; this one is due in a second.
    expect(closes.map((c) => c.at)).toEqual([T0 + 22_000]);
    clock.now = T0 + 22_000;
    await closeWindow(closes[0]!.input.closeWindow, deps);
    expect(await keysOfRuns(store, 'late')).toEqual([['incoming/late.csv']]);
  });

  it('starts one run for an event delivered five times without a window', async () => {
    const clock = { now: T0 };
    const { deps, store, batch } = engine(clock);
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => handleTriggerEvent(input('single', 'incoming/a.csv', 'evt-1'), deps)));
    expect(results.filter((r) => r.outcome === 'started')).toHaveLength(1);
    expect((await store.listRunsBySchedule('single', { limit: 10 })).items).toHaveLength(1);
    expect(batch.submitted).toHaveLength(1);
  });
});
