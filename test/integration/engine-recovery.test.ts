/**
 * Crash points and lost events on the local stack: a crash between SubmitJob and the state
 * write, events dropped by the bus, a Slack outage, a run stuck too long. The repairs come
 * from the same paths production uses: redelivery, the lease, the lookup by job name and
 * the sweeper.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeJobsCommand } from '@aws-sdk/client-batch';
import { DeleteScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '#shared/engine/start';
import { sweep } from '#shared/engine/sweep';
import { sdkBatch, type BatchPort } from '#shared/engine/ports';
import { CountingMetrics } from '#test/helpers/metrics';
import { definition, eventually, fire, retry, task, startEngineStack, type EngineStack } from '#test/helpers/engine';

let engine: EngineStack;
let dir: string;

beforeAll(async () => {
  engine = await startEngineStack();
  dir = mkdtempSync(join(tmpdir(), 'engine-recovery-'));
});

afterEach(() => {
  engine.ts.stack.faults.setEventFaults({});
  engine.ts.stack.faults.throttle('batch', 'SubmitJob', undefined);
  engine.slack.failing = false;
});

afterAll(async () => {
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The real Batch port, except that SubmitJob "crashes" right after Batch accepted the job. */
function crashAfterSubmit(): BatchPort {
  const real = sdkBatch(engine.ts.clients.batch);
  return {
    ...real,
    async submitJob(input) {
      await real.submitJob(input);
      throw new Error('injected crash between SubmitJob and the state write');
    },
  };
}

async function batchStatus(jobId: string): Promise<string | undefined> {
  const out = await engine.ts.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId] }));
  return out.jobs?.[0]?.status;
}

describe('engine recovery', () => {
  it('leads to one job, not two, when a fire crashes between SubmitJob and recording the job id', async () => {
    // Prepare: events are lost too, so only the lookup by name can find the job.
    engine.ts.stack.faults.setEventFaults({ dropRate: 1 });
    const input = fire(definition('crash', [task('main', 'exit 0')]), '2025-03-01T00:00:00Z');
    const runId = 'crash.20250301T000000Z';
    await expect(startRun(input, engine.deps('invocation-a', crashAfterSubmit()))).rejects.toThrow('injected crash');
    const afterCrash = await engine.run(runId);
    // Act 1: a duplicate delivery while the crashed invocation's lease is still valid.
    const early = engine.deps('invocation-b');
    await startRun(input, early);
    const whileLeased = await engine.run(runId);
    // Act 2: Lambda's retry arrives after the lease expired.
    engine.ts.stack.clock.advance(61_000);
    const late = engine.deps('invocation-b');
    await startRun(input, late);
    const adopted = await engine.run(runId);
    // Assess
    const jobs = await engine.jobs(`${engine.deployment}_crash-`);
    expect(afterCrash?.tasks.main).toMatchObject({ status: 'READY' });
    expect(afterCrash?.tasks.main!.attempts[0]!.jobId).toBeUndefined();
    expect(whileLeased?.tasks.main!.attempts[0]!.jobId).toBeUndefined();
    expect(jobs).toHaveLength(1);
    expect((late.metrics as CountingMetrics).get('JobsAdopted')).toBe(1);
    expect((late.metrics as CountingMetrics).get('JobsSubmitted')).toBe(0);
    expect(adopted?.tasks.main!.attempts[0]!.jobId).toBe(jobs[0]!.jobId);
    expect(adopted?.tasks.main!.status).toBe('SUBMITTED');
  });

  it('continues a run whose fire crashed, when the same invocation is retried by Lambda', async () => {
    // Prepare
    engine.ts.stack.faults.setEventFaults({ dropRate: 1 });
    const input = fire(definition('crash-retry', [task('main', 'exit 0')]), '2025-03-01T00:00:00Z');
    await expect(startRun(input, engine.deps('invocation-r', crashAfterSubmit()))).rejects.toThrow('injected crash');
    // Act: Lambda's async retry keeps the request id, so it may take over its own lease at once.
    await startRun(input, engine.deps('invocation-r'));
    // Assess
    const run = await engine.run('crash-retry.20250301T000000Z');
    const jobs = await engine.jobs(`${engine.deployment}_crash-retry-`);
    expect(jobs).toHaveLength(1);
    expect(run?.tasks.main!.attempts[0]!.jobId).toBe(jobs[0]!.jobId);
  });

  it('repairs a run whose events were all dropped, through the sweeper', async () => {
    // Prepare
    engine.ts.stack.faults.setEventFaults({ dropRate: 1 });
    const def = definition('dropped', [task('first', 'exit 0'), task('second', 'exit 0', { dependsOn: ['first'] })]);
    const runId = 'dropped.20250301T000000Z';
    await engine.ts.stack.lambda.invoke(engine.arns.fire, fire(def, '2025-03-01T00:00:00Z'));
    const submitted = await engine.run(runId);
    const firstJob = submitted!.tasks.first!.attempts[0]!.jobId!;
    await eventually(async () => (await batchStatus(firstJob)) === 'SUCCEEDED', 'the first job to end');
    const beforeSweep = await engine.run(runId);
    engine.ts.stack.faults.setEventFaults({});
    // Act: one sweep applies what the events would have said and submits the next task...
    await engine.ts.stack.lambda.invoke(engine.arns.sweep, {});
    const afterFirstSweep = await engine.run(runId);
    const secondJob = afterFirstSweep!.tasks.second!.attempts[0]!.jobId!;
    await eventually(async () => (await batchStatus(secondJob)) === 'SUCCEEDED', 'the second job to end');
    // ...whose events flow again, so the run ends by itself.
    const done = await engine.waitRun(runId, (r) => r.finalized, 'the run to end');
    // Assess
    expect(beforeSweep?.status).toBe('SUBMITTED');
    expect(afterFirstSweep?.tasks.first!.status).toBe('SUCCEEDED');
    expect(done.status).toBe('SUCCEEDED');
    expect(await engine.jobs(`${engine.deployment}_dropped-`)).toHaveLength(2);
  });

  it('keeps the run state through a Slack outage and sends the message once Slack is back', async () => {
    // Prepare
    engine.slack.failing = true;
    const runId = 'outage.20250301T000000Z';
    await engine.ts.stack.lambda.invoke(engine.arns.fire, fire(definition('outage', [task('main', 'exit 5')]), '2025-03-01T00:00:00Z'));
    const pending = await engine.waitRun(runId, (r) => r.status === 'FAILED' && r.notify.failure?.status === 'PENDING' && r.notify.failure.tries > 0, 'the failed run with its message pending after a failed send');
    // Act
    engine.slack.failing = false;
    engine.ts.stack.clock.advance(61_000);
    await sweep(engine.deps('sweeper'));
    await sweep(engine.deps('sweeper-2'));
    // Assess
    const run = await engine.run(runId);
    expect(pending.settled).toBe(true);
    expect(pending.finalized).toBe(false);
    expect(pending.notify.failure?.lastError).toBeDefined();
    expect(run?.notify.failure?.status).toBe('SENT');
    expect(run?.finalized).toBe(true);
    expect(engine.slack.messages.filter((m) => m.text.includes(runId))).toHaveLength(1);
  });

  it('alerts once about a run stuck in RUNNING longer than its limit', async () => {
    // Prepare
    const marker = join(dir, 'stuck');
    const def = definition('stuck', [task('main', `while [ ! -f ${marker} ]; do sleep 0.02; done`)], {
      notify: { onFailure: true, onRecovery: true, stuckAfterMinutes: { queued: 30, submitted: 120, running: 5 } },
    });
    const runId = 'stuck.20250301T000000Z';
    await engine.ts.stack.lambda.invoke(engine.arns.fire, fire(def, '2025-03-01T00:00:00Z'));
    await engine.waitRun(runId, (r) => r.status === 'RUNNING', 'the run to run');
    // Act
    await sweep(engine.deps('sweeper'));
    const beforeLimit = engine.slack.messages.filter((m) => m.text.includes(runId)).length;
    engine.ts.stack.clock.advance(6 * 60_000);
    await sweep(engine.deps('sweeper'));
    await sweep(engine.deps('sweeper'));
    writeFileSync(marker, '');
    await engine.waitRun(runId, (r) => r.finalized, 'the run to end');
    // Assess
    const alerts = engine.slack.messages.filter((m) => m.text.includes(runId));
    expect(beforeLimit).toBe(0);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.text).toContain('RUNNING for more than 5 minutes');
  });

  it('absorbs SubmitJob throttling: every fire of a burst gets exactly one job', async () => {
    // Prepare: Batch answers TooManyRequestsException beyond 2 SubmitJob per second.
    engine.ts.stack.faults.throttle('batch', 'SubmitJob', 2);
    const fires = Array.from({ length: 8 }, (_, i) => fire(definition(`burst-${i}`, [task('main', 'exit 0')]), '2025-03-01T00:00:00Z'));
    const deps = fires.map((_, i) => engine.deps(`burst-invocation-${i}`));
    // Act
    await Promise.all(fires.map((input, i) => startRun(input, deps[i]!)));
    // Assess
    const throttled = engine.ts.stack.faults.counters.get('throttled:batch:SubmitJob') ?? 0;
    const absorbed = deps.reduce((sum, d) => sum + (d.metrics as CountingMetrics).get('ThrottlesAbsorbed'), 0);
    expect(throttled).toBeGreaterThan(0);
    expect(absorbed).toBeGreaterThan(0);
    for (let i = 0; i < 8; i++) {
      const run = await engine.run(`burst-${i}.20250301T000000Z`);
      expect(run?.tasks.main!.attempts[0]!.jobId).toBeDefined();
      expect(await engine.jobs(`${engine.deployment}_burst-${i}-`)).toHaveLength(1);
    }
  });

  it('starts an overdue retry itself when the retry schedule was lost', async () => {
    // Prepare: a failure schedules a retry, then the schedule disappears.
    const runId = 'lost-retry.20250301T000000Z';
    const def = definition('lost-retry', [task('main', '[ "$BATCHRON_ATTEMPT" -ge 2 ] || exit 3', { retry: retry(2, 60) })]);
    await engine.ts.stack.lambda.invoke(engine.arns.fire, fire(def, '2025-03-01T00:00:00Z'));
    await engine.waitRun(runId, (r) => r.tasks.main!.status === 'RETRY_WAIT', 'the retry wait');
    const scheduler = engine.ts.clients.scheduler;
    const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: engine.deployment }));
    for (const s of listed.Schedules ?? []) await scheduler.send(new DeleteScheduleCommand({ Name: s.Name!, GroupName: engine.deployment }));
    // Act: well past retryAt plus the sweeper's grace.
    engine.ts.stack.clock.advance(60_000 + 6 * 60_000);
    const report = await sweep(engine.deps('sweeper'));
    const run = await engine.waitRun(runId, (r) => r.finalized, 'the retried run to end');
    // Assess
    expect(listed.Schedules?.length).toBeGreaterThan(0);
    expect(report.retriesStarted).toBe(1);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.main!.attempts.map((a) => a.status)).toEqual(['FAILED', 'SUCCEEDED']);
  });
});
