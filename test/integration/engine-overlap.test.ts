/**
 * Overlap policies on the local stack: each test holds a first run's job open (it waits for
 * a marker file), fires again, and checks what the declared policy promised.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OverlapPolicy } from '#shared/config/definition';
import { definition, fire, startEngineStack, task, type EngineStack } from '#test/helpers/engine';

let engine: EngineStack;
let dir: string;

beforeAll(async () => {
  engine = await startEngineStack();
  dir = mkdtempSync(join(tmpdir(), 'engine-overlap-'));
});

afterAll(async () => {
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A schedule whose job waits until `release(name)` is called. */
function held(name: string, overlap: OverlapPolicy) {
  const marker = join(dir, name);
  const def = definition(name, [task('main', `while [ ! -f ${marker} ]; do sleep 0.02; done`)], { overlap });
  return { def, release: () => writeFileSync(marker, '') };
}

const invoke = (input: unknown) => engine.ts.stack.lambda.invoke(engine.arns.fire, input);

describe('overlap policies', () => {
  it('allow: starts a second run while the first is still running', async () => {
    // Prepare
    const { def, release } = held('allow', 'allow');
    await invoke(fire(def, '2025-02-01T00:00:00Z'));
    await engine.waitRun('allow.20250201T000000Z', (r) => r.status === 'RUNNING', 'the first run to run');
    // Act
    await invoke(fire(def, '2025-02-01T01:00:00Z'));
    const second = await engine.waitRun('allow.20250201T010000Z', (r) => r.status === 'RUNNING', 'the second run to run');
    release();
    // Assess
    expect(second.status).toBe('RUNNING');
    await engine.waitRun('allow.20250201T000000Z', (r) => r.finalized, 'the first run to end');
    await engine.waitRun('allow.20250201T010000Z', (r) => r.finalized, 'the second run to end');
  });

  it('skip: records the overlapping fire as SKIPPED and runs the next one after the first ended', async () => {
    // Prepare
    const { def, release } = held('skip', 'skip');
    await invoke(fire(def, '2025-02-01T00:00:00Z'));
    await engine.waitRun('skip.20250201T000000Z', (r) => r.status === 'RUNNING', 'the first run to run');
    // Act
    const skipped = await invoke(fire(def, '2025-02-01T01:00:00Z'));
    release();
    await engine.waitRun('skip.20250201T000000Z', (r) => r.finalized, 'the first run to end');
    await invoke(fire(def, '2025-02-01T02:00:00Z'));
    const third = await engine.waitRun('skip.20250201T020000Z', (r) => r.finalized, 'the third run to end');
    // Assess
    expect(skipped).toMatchObject({ status: 'SKIPPED', created: true });
    expect((await engine.run('skip.20250201T010000Z'))?.statusReason).toContain('skip.20250201T000000Z');
    expect(third.status).toBe('SUCCEEDED');
    expect(await engine.jobs(`${engine.deployment}_skip-`)).toHaveLength(2);
  });

  it('queue-one: queues one waiter, skips a second, and starts the waiter when the active run ends', async () => {
    // Prepare
    const { def, release } = held('queue', 'queue-one');
    await invoke(fire(def, '2025-02-01T00:00:00Z'));
    await engine.waitRun('queue.20250201T000000Z', (r) => r.status === 'RUNNING', 'the first run to run');
    // Act
    const queued = await invoke(fire(def, '2025-02-01T01:00:00Z'));
    const second = await invoke(fire(def, '2025-02-01T02:00:00Z'));
    const jobsWhileHeld = (await engine.jobs(`${engine.deployment}_queue-`)).length;
    release();
    const waiter = await engine.waitRun('queue.20250201T010000Z', (r) => r.finalized, 'the queued run to run and end');
    // Assess
    expect(queued).toMatchObject({ status: 'QUEUED', created: true });
    expect(second).toMatchObject({ status: 'SKIPPED', created: true });
    expect(jobsWhileHeld).toBe(1);
    expect(waiter.status).toBe('SUCCEEDED');
    expect(waiter.held).toBeUndefined();
    expect(await engine.jobs(`${engine.deployment}_queue-`)).toHaveLength(2);
  });

  it('cancel-previous: cancels the running run, terminates its job, and runs the new one', async () => {
    // Prepare
    const marker = join(dir, 'cancel-first');
    const first = definition('cancel', [task('main', `while [ ! -f ${marker} ]; do sleep 0.02; done`)], { overlap: 'cancel-previous' });
    const next = definition('cancel', [task('main', 'exit 0')], { overlap: 'cancel-previous' });
    await invoke(fire(first, '2025-02-01T00:00:00Z'));
    await engine.waitRun('cancel.20250201T000000Z', (r) => r.status === 'RUNNING', 'the first run to run');
    // Act
    await invoke(fire(next, '2025-02-01T01:00:00Z'));
    const cancelled = await engine.waitRun('cancel.20250201T000000Z', (r) => r.finalized, 'the first run to be cancelled');
    const newer = await engine.waitRun('cancel.20250201T010000Z', (r) => r.finalized, 'the new run to end');
    // Assess
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.statusReason).toContain('cancel.20250201T010000Z');
    expect(newer.status).toBe('SUCCEEDED');
    const firstJob = cancelled.tasks.main!.attempts[0]!.jobId!;
    const jobs = await engine.jobs(`${engine.deployment}_cancel-`);
    expect(jobs.find((j) => j.jobId === firstJob)?.status).toBe('FAILED');
  });
});
