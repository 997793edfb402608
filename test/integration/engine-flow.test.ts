/**
 * The engine on the whole local stack through real SDK clients: Scheduler-shaped fires into
 * the real fire handler, jobs run by the local Batch as processes, their state-change events
 * routed by the local bus to the real job-events handler, retries through one-time
 * Scheduler schedules on the stack Clock, Slack captured by a local HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineStack, definition, fire, task, retry, type EngineStack } from '#test/helpers/engine';

let engine: EngineStack;

beforeAll(async () => {
  engine = await startEngineStack();
});

afterAll(async () => {
  await engine?.stop();
});

const invokeFire = (input: unknown) => engine.ts.stack.lambda.invokeAsync(engine.arns.fire, input);

describe('engine on the local stack', () => {
  it('turns one fire into one run with one Batch job that ends SUCCEEDED', async () => {
    // Prepare
    const def = definition('single', [task('main', 'echo hello ${param.who}')], { parameters: { who: { default: 'world', required: false } } });
    // Act
    await invokeFire(fire(def, '2025-01-15T02:00:00Z'));
    const run = await engine.waitRun('single.20250115T020000Z', (r) => r.finalized, 'the run to finish');
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.main!.attempts).toHaveLength(1);
    expect(run.tasks.main!.attempts[0]).toMatchObject({ status: 'SUCCEEDED', exitCode: 0 });
    const jobs = await engine.jobs(`${engine.deployment}_single-`);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.jobId).toBe(run.tasks.main!.attempts[0]!.jobId);
    expect(run.activePk).toBeUndefined();
    expect(run.expiresAt).toBeGreaterThan(Math.floor(engine.ts.stack.clock.now() / 1000));
  });

  it('submits exactly one Batch job when the same fire is delivered 50 times at once', async () => {
    // Prepare
    const def = definition('dup50', [task('main', 'sleep 0.2')]);
    const input = fire(def, '2025-01-15T03:00:00Z');
    // Act
    await Promise.all(Array.from({ length: 50 }, () => invokeFire(input)));
    const run = await engine.waitRun('dup50.20250115T030000Z', (r) => r.finalized, 'the run to finish');
    await engine.ts.stack.idle();
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(await engine.jobs(`${engine.deployment}_dup50-`)).toHaveLength(1);
  });

  it('runs a three-task DAG with a fan-out and a fan-in in dependency order', async () => {
    // Prepare
    const def = definition('dag', [
      task('extract', 'sleep 0.1'),
      task('left', 'sleep 0.1', { dependsOn: ['extract'] }),
      task('right', 'sleep 0.1', { dependsOn: ['extract'] }),
      task('join', 'exit 0', { dependsOn: ['left', 'right'] }),
    ]);
    // Act
    await invokeFire(fire(def, '2025-01-15T04:00:00Z'));
    const run = await engine.waitRun('dag.20250115T040000Z', (r) => r.finalized, 'the DAG to finish');
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    const at = (name: string, field: 'startedAt' | 'stoppedAt') => Date.parse(run.tasks[name]!.attempts[0]![field]!);
    expect(at('left', 'startedAt')).toBeGreaterThanOrEqual(at('extract', 'stoppedAt'));
    expect(at('right', 'startedAt')).toBeGreaterThanOrEqual(at('extract', 'stoppedAt'));
    expect(at('join', 'startedAt')).toBeGreaterThanOrEqual(Math.max(at('left', 'stoppedAt'), at('right', 'stoppedAt')));
    expect(await engine.jobs(`${engine.deployment}_dag-`)).toHaveLength(4);
  });

  it('retries a failing task with growing delays, then fails the run, runs its on-failure task and sends one Slack message', async () => {
    // Prepare
    const def = definition('flaky', [task('main', 'echo boom >&2; exit 3', { retry: retry(3, 60, 2) })], { onFailure: [task('cleanup', 'exit 0')] });
    const before = engine.slack.messages.length;
    const runId = 'flaky.20250115T050000Z';
    // Act
    await invokeFire(fire(def, '2025-01-15T05:00:00Z'));
    const waiting1 = await engine.waitRun(runId, (r) => r.tasks.main!.status === 'RETRY_WAIT', 'the first retry wait');
    const stop1 = Date.parse(waiting1.tasks.main!.attempts[0]!.stoppedAt!);
    engine.ts.stack.clock.advance(61_000);
    const waiting2 = await engine.waitRun(runId, (r) => r.tasks.main!.status === 'RETRY_WAIT' && r.tasks.main!.attempts.length === 2, 'the second retry wait');
    const stop2 = Date.parse(waiting2.tasks.main!.attempts[1]!.stoppedAt!);
    engine.ts.stack.clock.advance(121_000);
    const run = await engine.waitRun(runId, (r) => r.finalized, 'the run to fail for good');
    // Assess
    expect(Date.parse(waiting1.tasks.main!.retryAt!) - stop1).toBe(60_000);
    expect(Date.parse(waiting2.tasks.main!.retryAt!) - stop2).toBe(120_000);
    expect(run.status).toBe('FAILED');
    expect(run.tasks.main!.attempts.map((a) => a.exitCode)).toEqual([3, 3, 3]);
    expect(run.tasks.cleanup!.status).toBe('SUCCEEDED');
    const sent = engine.slack.messages.slice(before).filter((m) => m.text.includes(runId));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toContain('Task: main');
    expect(sent[0]!.text).toContain('Exit code: 3');
    expect(sent[0]!.text).toContain('Attempts: 3');
    expect(run.notify.failure?.status).toBe('SENT');
  });

  it('alerts nobody when a retry fixes the failure', async () => {
    // Prepare: fails on the first attempt only.
    const def = definition('heals', [task('main', '[ "$BATCHRON_ATTEMPT" -ge 2 ] || exit 4', { retry: retry(2, 30) })]);
    const runId = 'heals.20250115T060000Z';
    // Act
    await invokeFire(fire(def, '2025-01-15T06:00:00Z'));
    await engine.waitRun(runId, (r) => r.tasks.main!.status === 'RETRY_WAIT', 'the retry wait');
    engine.ts.stack.clock.advance(31_000);
    const run = await engine.waitRun(runId, (r) => r.finalized, 'the run to succeed');
    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.main!.attempts.map((a) => a.status)).toEqual(['FAILED', 'SUCCEEDED']);
    expect(engine.slack.messages.filter((m) => m.text.includes(runId))).toHaveLength(0);
  });

  it('sends one recovery message when a run succeeds after a failed one', async () => {
    // Prepare
    const failing = definition('recover', [task('main', 'exit 1')]);
    const passing = definition('recover', [task('main', 'exit 0')]);
    await invokeFire(fire(failing, '2025-01-15T07:00:00Z'));
    await engine.waitRun('recover.20250115T070000Z', (r) => r.finalized, 'the failed run');
    // Act
    await invokeFire(fire(passing, '2025-01-15T08:00:00Z'));
    await engine.waitRun('recover.20250115T080000Z', (r) => r.finalized, 'the recovering run');
    await invokeFire(fire(passing, '2025-01-15T09:00:00Z'));
    await engine.waitRun('recover.20250115T090000Z', (r) => r.finalized, 'the next good run');
    // Assess
    const about = (runId: string) => engine.slack.messages.filter((m) => m.text.includes(runId));
    expect(about('recover.20250115T070000Z')).toHaveLength(1);
    expect(about('recover.20250115T080000Z')).toHaveLength(1);
    expect(about('recover.20250115T080000Z')[0]!.text).toContain('recovered');
    expect(about('recover.20250115T090000Z')).toHaveLength(0);
  });

  it('records a fire on a paused schedule as SKIPPED and submits nothing', async () => {
    // Prepare
    const { setPaused } = await import('#shared/store/schedules');
    await setPaused({ doc: engine.ts.clients.doc, table: engine.table }, 'paused', true);
    const def = definition('paused', [task('main')]);
    // Act
    await engine.ts.stack.lambda.invoke(engine.arns.fire, fire(def, '2025-01-15T10:00:00Z'));
    // Assess
    const run = await engine.run('paused.20250115T100000Z');
    expect(run).toMatchObject({ status: 'SKIPPED', statusReason: 'schedule is paused', finalized: true });
    expect(await engine.jobs(`${engine.deployment}_paused-`)).toHaveLength(0);
  });

  it('answers an invalid fire with a rejection and no retry', async () => {
    // Act
    const result = await engine.ts.stack.lambda.invoke(engine.arns.fire, { schedule: 'x', scheduledTime: 'yesterday' });
    // Assess
    expect(result).toMatchObject({ ok: false, error: 'ValidationError' });
    expect((result as { message: string }).message).toContain('scheduledTime');
  });

  it('starts one ad hoc run per idempotency key, however often the API call is retried', async () => {
    // Prepare
    const { startRun } = await import('#shared/engine/start');
    const def = definition('adhoc', [task('main', 'echo ${param.day}')], { parameters: { day: { required: true } } });
    const request = (time: string) => fire(def, time, { trigger: 'api', parameters: { day: '2025-01-01' } });
    // Act
    const first = await startRun(request('2025-01-15T11:00:00Z'), engine.deps('api-1'), { idempotencyKey: 'req-42' });
    const retried = await startRun(request('2025-01-15T11:00:03Z'), engine.deps('api-2'), { idempotencyKey: 'req-42' });
    const other = await startRun(request('2025-01-15T11:00:03Z'), engine.deps('api-3'), { idempotencyKey: 'req-43' });
    const run = await engine.waitRun(first.runId, (r) => r.finalized, 'the ad hoc run to end');
    // Assess
    expect(first.created).toBe(true);
    expect(retried).toMatchObject({ runId: first.runId, created: false });
    expect(other.runId).not.toBe(first.runId);
    expect(run).toMatchObject({ status: 'SUCCEEDED', trigger: 'api', parameters: { day: '2025-01-01' } });
    await engine.waitRun(other.runId, (r) => r.finalized, 'the other ad hoc run to end');
    expect(await engine.jobs(`${engine.deployment}_adhoc-`)).toHaveLength(2);
  });
});
