/**
 * Cross-schedule dependencies (`after`) on the in-memory store, with definitions normalized
 * from a real config (so `dependents`/`downstream` are linked as at package time) and a Batch
 * whose jobs end when the test says, through the same applyJobFacts path as Batch's events.
 */
import { describe, expect, it } from 'vitest';
import { dependencyRunId } from '#shared/engine/dependencies';
import { repairMissedFires } from '#shared/engine/missed';
import { rerunRunById } from '#shared/engine/rerun';
import { resumeRetry } from '#shared/engine/retry';
import { sweep } from '#shared/engine/sweep';
import { handleTriggerEvent } from '#shared/engine/trigger';
import type { Store } from '#shared/engine/ports';
import { memoryStore } from '#shared/store/memory';
import { dependencyBench } from '#test/helpers/dependencies';

const T0 = Date.parse('2026-11-30T02:00:00Z');
const DAY = '2026-11-30';

const job = { definition: 'sh' };
const bench = (schedules: Record<string, unknown>) => dependencyBench(schedules, memoryStore(), T0);

describe('cross-schedule dependencies (memory store)', () => {
  it('runs B and C exactly once for the date when A fails once, is retried and succeeds', async () => {
    // Prepare: A at 02:00 with one retry; B after A, C after B, neither with a time of its own.
    const e = bench({
      a: { expression: 'cron(0 2 * * ? *)', job, retry: { attempts: 2, backoff: { initialSeconds: 10, jitter: 'none' } } },
      b: { after: [{ schedule: 'a' }], job },
      c: { after: [{ schedule: 'b' }], job },
    });
    await e.fire('a', T0);
    // Act: A's first attempt fails (the event delivered twice), then its retry succeeds.
    await e.finish('a', 'FAILED', 2);
    expect(await e.runsOf('b')).toEqual([]);
    expect(e.retries).toHaveLength(1);
    e.clock.now += 10_000;
    await resumeRetry(e.retries[0]!, e.deps);
    await e.finish('a', 'SUCCEEDED', 2);
    // B's run for the date exists and runs; a sweep (re-finalizing nothing new) changes nothing.
    await e.finish('b', 'SUCCEEDED', 2);
    await e.finish('c', 'SUCCEEDED', 2);
    await sweep(e.deps);
    await e.fire('a', T0); // a duplicate delivery of A's fire
    // Assess
    const [a] = await e.runsOf('a');
    expect(a).toMatchObject({ status: 'SUCCEEDED', finalized: true });
    for (const schedule of ['b', 'c']) {
      const runs = await e.runsOf(schedule);
      expect(runs.map((r) => [r.runId, r.status, r.dependency?.logicalDate])).toEqual([[dependencyRunId(schedule, DAY), 'SUCCEEDED', DAY]]);
      expect(e.submittedFor(schedule)).toBe(1);
    }
    expect((await e.runsOf('b'))[0]!.dependency!.met).toEqual({ a: `${a!.runId}#1` });
  });

  it('releases B once when A fails for good and a re-run of A succeeds', async () => {
    // Prepare
    const e = bench({ a: { expression: 'cron(0 2 * * ? *)', job }, b: { after: [{ schedule: 'a' }], job } });
    await e.fire('a', T0);
    await e.finish('a', 'FAILED');
    expect(await e.runsOf('b')).toEqual([]);
    // Act
    const [a] = await e.runsOf('a');
    await rerunRunById(a!.runId, { tasks: 'all' }, e.deps);
    await e.finish('a', 'SUCCEEDED');
    await e.finish('b', 'SUCCEEDED');
    // Assess
    const runs = await e.runsOf('b');
    expect(runs.map((r) => [r.runId, r.status])).toEqual([[dependencyRunId('b', DAY), 'SUCCEEDED']]);
    expect(runs[0]!.dependency!.met).toEqual({ a: `${a!.runId}#2` });
    expect(e.submittedFor('b')).toBe(1);
  });

  it('holds a fan-in until both upstreams for the date have succeeded, then submits it once', async () => {
    // Prepare: the report fires at 05:00 and waits for the orders and customers ETLs of the day.
    const e = bench({
      orders: { expression: 'cron(0 1 * * ? *)', job },
      customers: { expression: 'cron(0 3 * * ? *)', job },
      report: { expression: 'cron(0 5 * * ? *)', after: [{ schedule: 'orders' }, { schedule: 'customers' }], job },
    });
    const at = (h: number) => Date.parse(`${DAY}T0${h}:00:00Z`);
    // Act + Assess: orders ends before the report fires, customers after it.
    e.clock.now = at(1);
    await e.fire('orders', at(1));
    await e.finish('orders', 'SUCCEEDED');
    let [report] = await e.runsOf('report');
    expect(report).toMatchObject({ status: 'QUEUED', held: true, dependency: { needs: ['customers', '(fire)'] } });
    e.clock.now = at(3);
    await e.fire('customers', at(3));
    e.clock.now = at(5);
    await e.fire('report', at(5));
    await e.fire('report', at(5));
    [report] = await e.runsOf('report');
    expect(report).toMatchObject({ status: 'QUEUED', held: true, scheduledTime: `${DAY}T05:00:00.000Z`, statusReason: `waiting for customers (logical date ${DAY})` });
    expect(e.submittedFor('report')).toBe(0);
    await e.finish('customers', 'SUCCEEDED');
    await e.finish('customers', 'SUCCEEDED');
    expect(e.submittedFor('report')).toBe(1);
    await e.finish('report', 'SUCCEEDED');
    const runs = await e.runsOf('report');
    expect(runs.map((r) => [r.runId, r.status])).toEqual([[dependencyRunId('report', DAY), 'SUCCEEDED']]);
  });

  it('does not release a run needing SUCCEEDED on a failure, and releases one needing COMPLETED', async () => {
    // Prepare
    const e = bench({
      a: { expression: 'cron(0 2 * * ? *)', job },
      ok: { after: [{ schedule: 'a' }], job },
      any: { after: [{ schedule: 'a', status: 'COMPLETED' }], job },
      cleanup: { after: [{ schedule: 'a', status: 'FAILED' }], job },
    });
    // Act
    await e.fire('a', T0);
    await e.finish('a', 'FAILED');
    // Assess
    expect(await e.runsOf('ok')).toEqual([]);
    expect(e.submittedFor('any')).toBe(1);
    expect(e.submittedFor('cleanup')).toBe(1);
  });

  it('ends a wait past within with one alert, and a late upstream then starts nothing', async () => {
    // Prepare
    const e = bench({
      a: { expression: 'cron(0 4 * * ? *)', job },
      r: { expression: 'cron(0 2 * * ? *)', after: [{ schedule: 'a' }], wait: { within: '30m' }, job },
      s: { expression: 'cron(0 2 * * ? *)', after: [{ schedule: 'a' }], wait: { within: '1h', onExpiry: 'skip' }, job },
    });
    await e.fire('r', T0);
    await e.fire('s', T0);
    // Act: sweeps before, at and after the limits.
    e.clock.now = T0 + 29 * 60_000;
    await sweep(e.deps);
    expect(e.notifier.sent).toEqual([]);
    e.clock.now = T0 + 61 * 60_000;
    await sweep(e.deps);
    await sweep(e.deps);
    e.clock.now = T0 + 2 * 3600_000;
    await e.fire('a', e.clock.now);
    await e.finish('a', 'SUCCEEDED');
    await sweep(e.deps);
    // Assess
    const [r] = await e.runsOf('r');
    const [s] = await e.runsOf('s');
    expect(r).toMatchObject({ status: 'FAILED', finalized: true, statusReason: `still waiting for a (logical date ${DAY}) when wait.within (30m) passed` });
    expect(s).toMatchObject({ status: 'SKIPPED', finalized: true });
    expect(e.notifier.sent.map((m) => [m.schedule, m.text.split('\n')[0]])).toEqual([
      ['r', `:red_circle: *r* failed: its upstreams did not finish in time (run \`${r!.runId}\`)`],
      ['s', `:red_circle: *s* skipped: its upstreams did not finish in time (run \`${s!.runId}\`)`],
    ]);
    expect(e.submittedFor('r') + e.submittedFor('s')).toBe(0);
    expect(await e.store.listActiveRunIds()).toEqual([]);
  });

  it('re-runs a finished dependent once per upstream re-run only when onUpstreamRerun is rerun', async () => {
    // Prepare
    const e = bench({
      a: { expression: 'cron(0 2 * * ? *)', job },
      keep: { after: [{ schedule: 'a' }], job },
      redo: { after: [{ schedule: 'a' }], wait: { onUpstreamRerun: 'rerun' }, job },
    });
    await e.fire('a', T0);
    await e.finish('a', 'SUCCEEDED');
    await e.finish('keep', 'SUCCEEDED');
    await e.finish('redo', 'SUCCEEDED');
    // Act: A re-run for the same date succeeds; then a sweep.
    const [a] = await e.runsOf('a');
    await rerunRunById(a!.runId, { tasks: 'all' }, e.deps);
    await e.finish('a', 'SUCCEEDED', 2);
    await e.finish('redo', 'SUCCEEDED');
    await sweep(e.deps);
    // Assess
    expect(e.submittedFor('keep')).toBe(1);
    expect(e.submittedFor('redo')).toBe(2);
    const [redo] = await e.runsOf('redo');
    expect(redo).toMatchObject({ status: 'SUCCEEDED', attempt: 2, dependency: { met: { a: `${a!.runId}#2` } } });
  });

  it('counts the later fires of a day as fired for the missed-fire repair: one run for the date, no alert', async () => {
    // Prepare: an hourly dependent created at 23:59; its 00:00 fire made the day's run, the next ones found it.
    const e = bench({ a: { expression: 'cron(0 2 * * ? *)', job }, r: { expression: 'cron(0 * * * ? *)', after: [{ schedule: 'a' }], job } });
    const hour = (h: number) => Date.parse(`${DAY}T0${h}:00:00Z`);
    e.clock.now = hour(0);
    await e.fire('r', hour(0));
    const registry = {
      listEnabled: async () => [{ name: 'r', definition: e.defs.r!, series: { expression: 'cron(0 * * * ? *)', timezone: 'UTC', createdAt: new Date(hour(0) - 60_000) } }],
    };
    // Act: the sweeper's repair at 05:00, when 01:00-04:00 have no run at their own times.
    e.clock.now = hour(5);
    const report = await repairMissedFires(e.deps, registry);
    // Assess
    expect(report).toMatchObject({ missedFires: 0, runsRecovered: 0, firesSkipped: 0, alerts: 0 });
    expect((await e.runsOf('r')).map((r) => r.runId)).toEqual([dependencyRunId('r', DAY)]);
    expect(e.notifier.sent).toEqual([]);
  });

  it("dates an event-triggered upstream run by its event's time on the upstream's clock", async () => {
    // Prepare: an upload at 23:30 UTC is 08:30 the next day in Tokyo.
    const e = bench({
      upload: { timezone: 'Asia/Tokyo', on: [{ event: { source: ['my.app'] } }], job },
      digest: { after: [{ schedule: 'upload' }], job },
    });
    const event = { id: 'evt-1', source: 'my.app', 'detail-type': 'Uploaded', time: '2026-11-30T23:30:00Z', detail: {} };
    // Act
    await handleTriggerEvent({ schedule: 'upload', trigger: 0, settings: { parameters: {}, idempotencyKey: '$.id' }, definition: e.defs.upload!, event }, e.deps);
    await e.finish('upload', 'SUCCEEDED');
    // Assess
    expect((await e.runsOf('digest')).map((r) => r.runId)).toEqual([dependencyRunId('digest', '2026-12-01')]);
  });

  it('fills the dates an upstream backfill covers for a dependent without a time, not for one with its own', async () => {
    // Prepare
    const e = bench({
      a: { expression: 'cron(0 2 * * ? *)', job },
      plain: { after: [{ schedule: 'a' }], job },
      timed: { expression: 'cron(0 6 * * ? *)', after: [{ schedule: 'a' }], job },
    });
    // Act: a backfill of the two days before.
    for (const day of ['2026-11-28', '2026-11-29']) await e.fire('a', Date.parse(`${day}T02:00:00Z`), 'backfill');
    await e.finish('a', 'SUCCEEDED');
    // Assess
    expect((await e.runsOf('plain')).map((r) => r.runId).sort()).toEqual([dependencyRunId('plain', '2026-11-28'), dependencyRunId('plain', '2026-11-29')]);
    expect(await e.runsOf('timed')).toEqual([]);
  });

  it('derives the date on the schedule clock with its offset: a 01:30 Berlin run for the day before', async () => {
    // Prepare: the upstream runs at 01:30 Berlin (00:30 UTC) and processes yesterday.
    const e = bench({
      a: { expression: 'cron(30 1 * * ? *)', timezone: 'Europe/Berlin', logicalDate: { offsetDays: -1 }, job },
      b: { after: [{ schedule: 'a' }], parameters: { logicalDate: {} }, job },
    });
    // Act
    await e.fire('a', Date.parse('2026-11-30T00:30:00Z'));
    await e.finish('a', 'SUCCEEDED');
    // Assess
    const [b] = await e.runsOf('b');
    expect(b).toMatchObject({ runId: 'b.for-2026-11-29', parameters: { logicalDate: '2026-11-29' } });
  });
});

/** Store writes: a fault is injected right after one of them has landed. */
const WRITES = new Set(['putNewRun', 'createRunWithState', 'saveRun', 'releaseRun', 'promoteQueued']);

/** `store`, dying (throwing after the write landed) on write number `plan.at` once armed. */
function crashingStore(store: Store, plan: { at: number; armed: boolean; writes: number; crashed: boolean }): Store {
  return new Proxy(store, {
    get(target, prop: string) {
      const value = (target as unknown as Record<string, unknown>)[prop];
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => Promise<unknown>;
      if (!WRITES.has(prop)) return fn.bind(target);
      return async (...args: unknown[]) => {
        const out = await fn.apply(target, args);
        if (plan.armed && ++plan.writes === plan.at) {
          plan.crashed = true;
          throw new Error(`injected crash after ${prop}`);
        }
        return out;
      };
    },
  });
}

describe('cross-schedule dependencies: a crash after each store write of the release path', () => {
  it('loses and doubles nothing: B and C run once each for the date, whatever write the crash follows', async () => {
    let crashes = 0;
    for (let at = 1; ; at++) {
      // Prepare: A → B → C; A's job has run; the crash is armed for its SUCCEEDED event.
      const plan = { at, armed: false, writes: 0, crashed: false };
      const e = dependencyBench(
        { a: { expression: 'cron(0 2 * * ? *)', job }, b: { after: [{ schedule: 'a' }], job }, c: { after: [{ schedule: 'b' }], job } },
        crashingStore(memoryStore(), plan),
        T0,
      );
      await e.fire('a', T0);
      plan.armed = true;
      // Act: the event's invocation dies after write `at`; only the sweeper repairs (no redelivery).
      // Then B's and C's jobs end as they come, with the crash already spent.
      await e.finish('a', 'SUCCEEDED').catch(() => undefined);
      for (let round = 0; round < 4; round++) {
        e.clock.now += 5 * 60_000;
        await sweep(e.deps);
        await e.finish('b', 'SUCCEEDED').catch(() => undefined);
        await e.finish('c', 'SUCCEEDED').catch(() => undefined);
      }
      // Assess
      for (const schedule of ['b', 'c']) {
        const runs = await e.runsOf(schedule);
        expect(runs.map((r) => [r.runId, r.status, r.finalized]), `crash after write ${at}`).toEqual([[dependencyRunId(schedule, DAY), 'SUCCEEDED', true]]);
        expect(e.submittedFor(schedule), `crash after write ${at}`).toBe(1);
      }
      if (!plan.crashed) break;
      crashes++;
    }
    // The release path has several writes (A settled, B created, B's submission recorded, A finalized, …): each was hit.
    expect(crashes).toBeGreaterThanOrEqual(8);
  });

  it('loses and doubles nothing in a fan-in whose own fire and last upstream come after the crash is armed', async () => {
    let crashes = 0;
    const at3 = Date.parse(`${DAY}T03:00:00Z`);
    for (let at = 1; ; at++) {
      // Prepare: x has ended at 01:00, creating r's run for the day (waiting for y and r's own 03:00 fire).
      const plan = { at, armed: false, writes: 0, crashed: false };
      const e = dependencyBench(
        {
          x: { expression: 'cron(0 1 * * ? *)', job },
          y: { expression: 'cron(0 2 * * ? *)', job },
          r: { expression: 'cron(0 3 * * ? *)', after: [{ schedule: 'x' }, { schedule: 'y' }], job },
        },
        crashingStore(memoryStore(), plan),
        Date.parse(`${DAY}T01:00:00Z`),
      );
      await e.fire('x', e.clock.now);
      await e.finish('x', 'SUCCEEDED');
      e.clock.now = T0;
      await e.fire('y', T0);
      plan.armed = true;
      // Act: r's fire and y's end, either dying after write `at`; Lambda's retry of the fire and
      // the sweeper repair; r's job ends as it comes.
      e.clock.now = at3;
      await e.fire('r', at3).catch(() => undefined);
      await e.finish('y', 'SUCCEEDED').catch(() => undefined);
      for (let round = 0; round < 4; round++) {
        e.clock.now += 2 * 60_000;
        await e.fire('r', at3).catch(() => undefined);
        await sweep(e.deps);
        await e.finish('r', 'SUCCEEDED').catch(() => undefined);
      }
      // Assess
      const runs = await e.runsOf('r');
      expect(runs.map((r) => [r.runId, r.status, r.finalized, r.scheduledTime]), `crash after write ${at}`).toEqual([
        [dependencyRunId('r', DAY), 'SUCCEEDED', true, new Date(at3).toISOString()],
      ]);
      expect(e.submittedFor('r'), `crash after write ${at}`).toBe(1);
      if (!plan.crashed) break;
      crashes++;
    }
    expect(crashes).toBeGreaterThanOrEqual(10);
  });
});
