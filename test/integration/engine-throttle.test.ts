/**
 * SubmitJob throttling at the top of the hour: one invocation backs off (full jitter, 2 s cap)
 * until its lease or its own run time nears its end, not for a fixed 20 s, so a burst longer
 * than that is ridden out in one invocation; when the deadline comes it hands over without
 * submitting, and the sweeper (after Lambda's own retries) submits the job exactly once.
 * Time is a fake clock advanced by the backoff sleeps, so a minute of throttling takes none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, type EngineDeps } from '#shared/engine/deps';
import { sdkBatch, type BatchPort } from '#shared/engine/ports';
import { startRun } from '#shared/engine/start';
import { sweep } from '#shared/engine/sweep';
import { ThrottledError } from '#shared/errors';
import { CountingMetrics } from '#shared/logger';
import { definition, fire, task, startEngineStack, type EngineStack } from '#test/helpers/engine';

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
});

afterAll(async () => {
  await engine?.stop();
});

/** A fake clock that moves only when the engine sleeps, and Batch throttling SubmitJob until `until()`. */
function throttledWorld(throttledForMs: number) {
  const start = engine.ts.stack.clock.now();
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
    },
    remainingMs: () => timeoutMs - (now - start),
    random: () => 0.999,
  });
  return { deps, sleeps, elapsed: () => now - start, advance: (ms: number) => (now += ms) };
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
    expect(await engine.jobs(`${engine.deployment}-throttle-long-`)).toHaveLength(1);
    expect(world.elapsed()).toBeGreaterThanOrEqual(35_000);
    expect(Math.max(...world.sleeps)).toBeLessThanOrEqual(DEFAULTS.throttleCapMs);
    expect((deps.metrics as CountingMetrics).get('ThrottlesAbsorbed')).toBeGreaterThan(10);
  });

  it('hands over before its invocation times out, and the sweeper submits the job exactly once', async () => {
    // Prepare: throttled for longer than any invocation lives; the fire has 30 s to run.
    const world = throttledWorld(10 * 60_000);
    const def = definition('throttle-handover', [task('main', 'exit 0')]);
    // Act: the fire gives up without submitting...
    const failed = await startRun(fire(def, '2025-05-01T00:00:00Z'), world.deps('fire-invocation', 30_000)).catch((e: unknown) => e);
    const handedOverAt = world.elapsed();
    const waiting = await engine.run('throttle-handover.20250501T000000Z');
    // ...Lambda's retries run out, the throttling ends, the sweeper comes.
    world.advance(10 * 60_000);
    await sweep(world.deps('sweeper', 300_000));
    // Assess
    expect(failed).toBeInstanceOf(ThrottledError);
    expect(handedOverAt).toBeLessThanOrEqual(30_000 - DEFAULTS.throttleReserveMs);
    expect(handedOverAt).toBeGreaterThan(30_000 - DEFAULTS.throttleReserveMs - DEFAULTS.throttleCapMs);
    expect(waiting?.tasks.main!.status).toBe('READY');
    expect(waiting?.tasks.main!.attempts[0]!.jobId).toBeUndefined();
    const run = await engine.run('throttle-handover.20250501T000000Z');
    expect(run?.tasks.main!.attempts).toHaveLength(1);
    expect(run?.tasks.main!.attempts[0]!.jobId).toBeDefined();
    expect(await engine.jobs(`${engine.deployment}-throttle-handover-`)).toHaveLength(1);
  });
});
