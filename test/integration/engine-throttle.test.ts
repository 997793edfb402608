/**
 * SubmitJob refused anyway (throttled although paced: another system using the account's
 * quota): one invocation takes a new slot, never sooner than a full-jitter backoff (2 s cap),
 * until its lease or its own run time nears its end, not for a fixed 20 s, so a burst longer
 * than that is ridden out in one invocation; when the deadline comes it hands its next slot
 * to a one-time schedule without submitting, and the job is submitted exactly once.
 * Time is a fake clock advanced by the backoff sleeps, so a minute of throttling takes none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, type EngineDeps } from '#shared/engine/deps';
import { sdkBatch, type BatchPort, type RetrySchedule } from '#shared/engine/ports';
import { startRun } from '#shared/engine/start';
import { sweep } from '#shared/engine/sweep';
import { CountingMetrics } from '#test/helpers/metrics';
import { definition, fire, task, startEngineStack, type EngineStack } from '#test/helpers/engine';

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
});

afterAll(async () => {
  await engine?.stop();
});

/** Where the last world's clock got to: a new world starts after it, as time never runs back for the shared pacer. */
let latest = 0;

/** A fake clock that moves only when the engine sleeps, and Batch throttling SubmitJob until `until()`. */
function throttledWorld(throttledForMs: number) {
  const start = Math.max(engine.ts.stack.clock.now(), latest + 1_000);
  let now = start;
  const sleeps: number[] = [];
  const real = sdkBatch(engine.ts.clients.batch);
  const batch: BatchPort = {
    ...real,
    async submitJob(input) {
      if (now - start < throttledForMs) {
        throw Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
      }
      return real.submitJob(input);
    },
  };
  const deps = (owner: string, timeoutMs = 60_000): EngineDeps => ({
    ...engine.deps(owner, batch),
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      latest = now;
    },
    remainingMs: () => timeoutMs - (now - start),
    random: () => 0.999,
  });
  return { deps, sleeps, start, elapsed: () => now - start, advance: (ms: number) => (latest = now += ms) };
}

describe('SubmitJob throttling', () => {
  it('keeps backing off past 20 s within its lease and submits the job once', async () => {
    // Prepare: Batch throttles every SubmitJob for 35 s.
    const world = throttledWorld(35_000);
    const def = definition('throttle-long', [task('main', 'exit 0')]);
    const deps = world.deps('fire-invocation');
    // Act
    const started = await startRun(fire(def, '2025-05-01T00:00:00Z'), deps);
    // Assess
    const run = await engine.run(started.runId);
    expect(run?.tasks.main!.attempts[0]!.jobId).toBeDefined();
    expect(await engine.jobs(`${engine.deployment}_throttle-long-`)).toHaveLength(1);
    expect(world.elapsed()).toBeGreaterThanOrEqual(35_000);
    expect(Math.max(...world.sleeps)).toBeLessThanOrEqual(DEFAULTS.throttleCapMs);
    expect((deps.metrics as CountingMetrics).get('ThrottlesAbsorbed')).toBeGreaterThan(10);
  });

  it('hands its next slot to a one-time schedule before its invocation times out, and the job is submitted exactly once', async () => {
    // Prepare: throttled for longer than any invocation lives; the fire has 30 s to run.
    const world = throttledWorld(10 * 60_000);
    const def = definition('throttle-handover', [task('main', 'exit 0')]);
    const scheduled: RetrySchedule[] = [];
    const deps = { ...world.deps('fire-invocation', 30_000), retries: { scheduleRetry: async (s: RetrySchedule) => (scheduled.push(s), 'created' as const) } };
    // Act: the fire gives up without submitting, handing its next slot over...
    const started = await startRun(fire(def, '2025-05-01T00:00:00Z'), deps);
    const handedOverAt = world.elapsed();
    const waiting = await engine.run('throttle-handover.20250501T000000Z');
    // ...the throttling ends; whoever drives the run next (here the sweeper, as if that schedule were lost) submits.
    world.advance(10 * 60_000);
    await sweep(world.deps('sweeper', 300_000));
    // Assess
    expect(started.status).toBe('QUEUED');
    expect(handedOverAt).toBeLessThanOrEqual(30_000 - DEFAULTS.throttleReserveMs);
    expect(handedOverAt).toBeGreaterThan(30_000 - DEFAULTS.throttleReserveMs - DEFAULTS.throttleCapMs);
    expect(waiting?.tasks.main!.status).toBe('READY');
    expect(waiting?.tasks.main!.attempts[0]!.jobId).toBeUndefined();
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]!.input).toEqual({ runId: 'throttle-handover.20250501T000000Z', task: 'main', attempt: 1 });
    expect(scheduled[0]!.at).toBe(waiting?.tasks.main!.attempts[0]!.slotAt);
    expect(scheduled[0]!.at).toBeGreaterThan(world.start + 30_000 - DEFAULTS.throttleReserveMs);
    const run = await engine.run('throttle-handover.20250501T000000Z');
    expect(run?.tasks.main!.attempts).toHaveLength(1);
    expect(run?.tasks.main!.attempts[0]!.jobId).toBeDefined();
    expect(await engine.jobs(`${engine.deployment}_throttle-handover-`)).toHaveLength(1);
  });

  it('leaves a refused SubmitJob to the engine: the functions\' client sends it once, where the SDK would have retried it blind', async () => {
    // Prepare: the functions' clients, built after deployEngine pointed the environment at this stack; Batch takes 1 SubmitJob a second.
    const { batch, batchSubmit } = await import('#shared/clients/batch');
    const port = sdkBatch(batch, batchSubmit);
    const input = { jobName: `${engine.deployment}_sdk-retry`, jobQueue: 'engine-queue', jobDefinition: 'engine-sh' };
    const refusedCalls = () => engine.ts.stack.faults.counters.get('throttled:batch:SubmitJob') ?? 0;
    engine.ts.stack.faults.throttle('batch', 'SubmitJob', 1);
    try {
      // Act: submit until Batch refuses one (the first call of a second is accepted).
      let refusal: { error: { name?: string }; calls: number } | undefined;
      for (let i = 0; i < 5 && !refusal; i++) {
        const before = refusedCalls();
        await port.submitJob(input).catch((error: { name?: string }) => (refusal = { error, calls: refusedCalls() - before }));
      }
      // Assess: the refusal reached the engine after exactly one call to Batch.
      expect(refusal?.error.name).toBe('TooManyRequestsException');
      expect(refusal?.calls).toBe(1);
    } finally {
      engine.ts.stack.faults.throttle('batch', 'SubmitJob', undefined);
    }
  });
});
