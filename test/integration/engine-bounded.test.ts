/**
 * Nothing hangs: a submission Batch refuses for good ends the run FAILED with Batch's message
 * and one Slack message, and the sweeper does not send it again; and every non-final status
 * (QUEUED, QUEUED behind a queue-one run, SUBMITTED, RUNNING, a task in RETRY_WAIT) has an
 * owner that moves the run on within its bound, or alerts once.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRun } from '#shared/engine/start';
import { sweep } from '#shared/engine/sweep';
import { sdkBatch, type BatchPort } from '#shared/engine/ports';
import type { RunItem } from '#shared/store/schema';
import { definition, fire, retry, task, startEngineStack, type EngineStack } from '#test/helpers/engine';

let engine: EngineStack;
let dir: string;

beforeAll(async () => {
  engine = await startEngineStack();
  dir = mkdtempSync(join(tmpdir(), 'engine-bounded-'));
});

afterAll(async () => {
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const messagesAbout = (runId: string) => engine.slack.messages.filter((m) => m.text.includes(runId));
const SHORT_STUCK = { onFailure: true, onRecovery: true, stuckAfterMinutes: { queued: 1, submitted: 1, running: 1 } };

describe('a submission Batch refuses for good', () => {
  it.each([
    { name: 'refused-def', what: 'a job definition that does not exist', extra: { jobDefinition: 'no-such-definition' }, message: "Job definition 'no-such-definition' does not exist" },
    { name: 'refused-queue', what: 'a job queue that does not exist', extra: { jobQueue: 'no-such-queue' }, message: "Job queue 'no-such-queue' does not exist" },
  ])('fails the run with Batch message, notifies once and is never sent again ($what)', async ({ name, extra, message }) => {
    // Prepare
    const runId = `${name}.20250301T000000Z`;
    const def = definition(name, [task('main', 'exit 0', extra)]);
    // Act: the fire through Lambda (with its retries), then two sweeps well after any lease.
    await engine.ts.stack.lambda.invoke(engine.arns.fire, fire(def, '2025-03-01T00:00:00Z'));
    const failed = await engine.waitRun(runId, (r) => r.finalized, 'the refused run to end');
    engine.ts.stack.clock.advance(10 * 60_000);
    const first = await sweep(engine.deps('sweeper'));
    const second = await sweep(engine.deps('sweeper-2'));
    // Assess
    expect(failed.status).toBe('FAILED');
    expect(failed.tasks.main).toMatchObject({ status: 'FAILED' });
    expect(failed.tasks.main!.attempts).toHaveLength(1);
    expect(failed.tasks.main!.attempts[0]).toMatchObject({ status: 'FAILED' });
    expect(failed.tasks.main!.attempts[0]!.statusReason).toContain(message);
    expect(failed.statusReason).toContain(message);
    expect(messagesAbout(runId)).toHaveLength(1);
    expect(first.errors + second.errors).toBe(0);
    expect(await engine.jobs(`${engine.deployment}-${name}-`)).toHaveLength(0);
  });
});

/** One non-final status: how to put a run in it, and what its owner must do within the bound. */
interface StatusCase {
  status: string;
  /** Puts a run in the status; returns its id and a clean-up for after the assessment. */
  prepare(name: string): Promise<{ runId: string; done?: () => void }>;
  /** `leaves`: the sweeper moves the run out of the status; `alerts`: one Slack alert, no more. */
  bound: 'leaves' | 'alerts';
  /** How far past the bound the clock moves before the sweeps. */
  advanceMs: number;
  /** Where the run stands before the sweeps. */
  before: (run: RunItem) => boolean;
}

/** A file-gated script: runs until `release()` creates the file. */
function gate(name: string): { script: string; release: () => void } {
  const marker = join(dir, name);
  return { script: `while [ ! -f ${marker} ]; do sleep 0.02; done`, release: () => writeFileSync(marker, '') };
}

const CASES: StatusCase[] = [
  {
    status: 'QUEUED (the submitter died before SubmitJob)',
    bound: 'leaves',
    advanceMs: 2 * 60_000,
    before: (r) => r.status === 'QUEUED' && r.tasks.main!.status === 'READY',
    async prepare(name) {
      const real = sdkBatch(engine.ts.clients.batch);
      const dies: BatchPort = { ...real, submitJob: async () => Promise.reject(new Error('injected crash before SubmitJob')) };
      const input = fire(definition(name, [task('main', 'exit 0')], { notify: SHORT_STUCK }), '2025-03-01T00:00:00Z');
      await startRun(input, engine.deps(`${name}-crashed`, dies)).catch(() => undefined);
      return { runId: `${name}.20250301T000000Z` };
    },
  },
  {
    status: 'QUEUED (a queue-one waiter behind a run that does not end)',
    bound: 'alerts',
    advanceMs: 2 * 60_000,
    before: (r) => r.status === 'QUEUED' && r.held === true,
    async prepare(name) {
      const g = gate(name);
      const def = definition(name, [task('main', g.script)], { overlap: 'queue-one', notify: SHORT_STUCK });
      await engine.ts.stack.lambda.invoke(engine.arns.fire, fire(def, '2025-03-01T00:00:00Z'));
      await engine.waitRun(`${name}.20250301T000000Z`, (r) => r.status === 'RUNNING', 'the first run to run');
      await engine.ts.stack.lambda.invoke(engine.arns.fire, fire(def, '2025-03-01T01:00:00Z'));
      return { runId: `${name}.20250301T010000Z`, done: g.release };
    },
  },
  {
    status: 'SUBMITTED (a job Batch no longer knows)',
    bound: 'alerts',
    advanceMs: 2 * 60_000,
    before: (r) => r.status === 'SUBMITTED',
    async prepare(name) {
      const real = sdkBatch(engine.ts.clients.batch);
      const ghost: BatchPort = { ...real, submitJob: async () => ({ jobId: `ghost-${name}` }) };
      const input = fire(definition(name, [task('main', 'exit 0')], { notify: SHORT_STUCK }), '2025-03-01T00:00:00Z');
      await startRun(input, engine.deps(`${name}-ghost`, ghost));
      return { runId: `${name}.20250301T000000Z` };
    },
  },
  {
    status: 'RUNNING (a job that does not end)',
    bound: 'alerts',
    advanceMs: 2 * 60_000,
    before: (r) => r.status === 'RUNNING',
    async prepare(name) {
      const g = gate(name);
      await engine.ts.stack.lambda.invoke(engine.arns.fire, fire(definition(name, [task('main', g.script)], { notify: SHORT_STUCK }), '2025-03-01T00:00:00Z'));
      const runId = `${name}.20250301T000000Z`;
      await engine.waitRun(runId, (r) => r.status === 'RUNNING', 'the run to run');
      return { runId, done: g.release };
    },
  },
  {
    status: 'RUNNING with a task in RETRY_WAIT (its retry schedule lost)',
    bound: 'leaves',
    advanceMs: 60_000 + 6 * 60_000,
    before: (r) => r.tasks.main!.status === 'RETRY_WAIT',
    async prepare(name) {
      const runId = `${name}.20250301T000000Z`;
      const def = definition(name, [task('main', '[ "$BATCHRON_ATTEMPT" -ge 2 ] || exit 3', { retry: retry(2, 60) })], { notify: SHORT_STUCK });
      await engine.ts.stack.lambda.invoke(engine.arns.fire, fire(def, '2025-03-01T00:00:00Z'));
      await engine.waitRun(runId, (r) => r.tasks.main!.status === 'RETRY_WAIT', 'the retry wait');
      const scheduler = engine.ts.clients.scheduler;
      const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: engine.deployment }));
      for (const s of listed.Schedules ?? []) {
        if (s.Name?.includes(name)) await scheduler.send(new DeleteScheduleCommand({ Name: s.Name, GroupName: engine.deployment }));
      }
      return { runId };
    },
  },
];

describe('every non-final status has an owner', () => {
  it.each(CASES.map((c, i) => ({ ...c, name: `bounded-${i}` })))('$status: the sweeper $bound within its bound', async (c) => {
    // Prepare
    const { runId, done } = await c.prepare(c.name);
    const before = (await engine.run(runId))!;
    // Act: the clock past the bound, then three sweeps (the owner must act once, not on every sweep).
    engine.ts.stack.clock.advance(c.advanceMs);
    const reports = [];
    for (const owner of ['sweeper-a', 'sweeper-b', 'sweeper-c']) reports.push(await sweep(engine.deps(owner)));
    const after = (await engine.run(runId))!;
    done?.();
    // Assess
    expect(c.before(before)).toBe(true);
    expect(reports.reduce((n, r) => n + r.errors, 0)).toBe(0);
    if (c.bound === 'leaves') {
      expect(c.before(after)).toBe(false);
      expect(messagesAbout(runId).filter((m) => m.text.includes('has been'))).toHaveLength(0);
    } else {
      expect(reports.reduce((n, r) => n + r.stuckAlerts, 0)).toBe(1);
      const alerts = messagesAbout(runId).filter((m) => m.text.includes('has been'));
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.text).toContain(`${after.status} for more than 1 minutes`);
    }
  });
});
