/**
 * Backfill and re-run that repair, on the engine deployed on the local stack (real local
 * Scheduler registry, local Batch running the tasks as processes, DynamoDB Local):
 * - a backfill of an `overlap: skip` schedule runs every time, one after another (its own
 *   runs do not skip each other), or `parallel` at a time;
 * - `rerun: ['failed']` re-runs the times that failed, once per backfill session;
 * - a finished run is re-run as its next attempt, whole or only its failed tasks, the history
 *   keeping the earlier attempt, and the same idempotency key gives the same attempt back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill } from '#shared/api/backfill';
import type { ApiDeps } from '#shared/api/deps';
import { ConflictError } from '#shared/errors';
import { rerunRun as rerunRunApi } from '#shared/api/runs';
import type { ScheduleDefinition } from '#shared/config/definition';
import { fireInputTemplate } from '#shared/config/validate';
import { rerunRunById } from '#shared/engine/rerun';
import { startRun } from '#shared/engine/start';
import { definition, fire, startEngineStack, task, type EngineStack } from '#test/helpers/engine';
import { dynamoStore } from '#shared/store/dynamo';

let e: EngineStack;
let api: ApiDeps;
const scratch = mkdtempSync(join(tmpdir(), 'batchron-rerun-'));

beforeAll(async () => {
  e = await startEngineStack();
  const engineDeps = () => e.deps();
  const store = dynamoStore({ doc: e.ts.clients.doc, table: e.table });
  api = {
    env: {
      table: e.table,
      deployment: e.deployment,
      scheduleGroup: e.deployment,
      fireTargetArn: e.arns.fire,
      schedulerRoleArn: 'arn:aws:iam::000000000000:role/batchron-scheduler',
      defaultQueue: 'engine-queue',
      jobLogGroup: '/aws/batch/job',
      allowCommandOverride: false,
    },
    store,
    scheduler: e.ts.clients.scheduler,
    batch: e.ts.clients.batch,
    logs: undefined as never,
    events: undefined as never,
    engine: {
      async startRun(input, options) {
        const started = await startRun(input, engineDeps(), options);
        return { run: (await store.getRun(started.runId))!, created: started.created };
      },
      rerunRun: (runId, options) => rerunRunById(runId, options, engineDeps()),
      cancelRun: () => Promise.reject(new Error('not used')),
    },
    now: () => e.stack.clock.now(),
  };
}, 60_000);

afterAll(async () => {
  await e?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Registers `def` as a schedule of the deployment (as serverless.yml or the API would). */
async function register(def: ScheduleDefinition): Promise<void> {
  await e.ts.clients.scheduler.send(
    new CreateScheduleCommand({
      Name: def.name,
      GroupName: e.deployment,
      ScheduleExpression: def.expression,
      State: 'DISABLED', // only backfills and re-runs here
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: e.arns.fire, RoleArn: api.env.schedulerRoleArn, Input: JSON.stringify(fireInputTemplate(def)) },
    }),
  );
}

/** A task that fails the first time it runs for a scheduled time, and succeeds after. */
const failsOnce = (name: string) => task(name, `f="${scratch}/$BATCHRON_RUN_ID-${name}"; [ -f "$f" ] && exit 0; touch "$f"; exit 3`);

/** Repeats the backfill request as the CLI does until it is done; returns every answer. */
async function backfillUntilDone(input: Parameters<typeof backfill>[1]) {
  const answers = [];
  for (let i = 0; i < 200; i++) {
    const out = await backfill(api, input);
    answers.push(out);
    if (out.done) return answers;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('backfill never finished');
}

const FROM = new Date('2026-06-01T00:00:00Z');
const TO = new Date('2026-06-01T03:00:00Z');

describe('backfill repairs', () => {
  // Defect: backfill of an `overlap: skip` schedule recorded most times SKIPPED (they overlapped each other).
  it.each([
    { parallel: 1, maxActive: 1 },
    { parallel: 3, maxActive: 3 },
  ])('runs every time of an overlap: skip schedule, $parallel at a time', async ({ parallel, maxActive }) => {
    // Prepare
    const def = definition(`bf-skip-${parallel}`, [task('main', 'sleep 0.3')], { expression: 'cron(0 * * * ? *)', overlap: 'skip' });
    await register(def);
    // Act
    const answers = await backfillUntilDone({ schedule: def.name, from: FROM, to: TO, parallel });
    // Assess
    const last = answers.at(-1)!;
    expect(last.runs.map((r) => [r.scheduledTime.slice(11, 16), r.status])).toEqual([
      ['00:00', 'SUCCEEDED'],
      ['01:00', 'SUCCEEDED'],
      ['02:00', 'SUCCEEDED'],
    ]);
    expect(Math.max(...answers.map((a) => a.active))).toBeLessThanOrEqual(maxActive);
    if (parallel === 1) expect(answers[0]!.created).toBe(1);
    // Repeated, it finds everything done and starts nothing.
    const again = await backfill(api, { schedule: def.name, from: FROM, to: TO, parallel });
    expect(again).toMatchObject({ created: 0, rerun: 0, done: true });
  }, 60_000);

  // Defect: "repeating it says already existed: those times can never be filled".
  it('re-runs the times that failed once per session, and not again when they fail again', async () => {
    const def = definition('bf-rerun', [failsOnce('main')], { expression: 'cron(0 * * * ? *)' });
    const never = definition('bf-rerun-never', [task('main', 'exit 3')], { expression: 'cron(0 * * * ? *)' });
    await register(def);
    await register(never);
    const first = (await backfillUntilDone({ schedule: def.name, from: FROM, to: TO, parallel: 3 })).at(-1)!;
    expect(first.runs.map((r) => r.status)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    // Act
    const repaired = await backfillUntilDone({ schedule: def.name, from: FROM, to: TO, parallel: 2, rerun: ['failed'], session: 's1' });
    // Assess
    expect(repaired.at(-1)!.runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect(repaired.reduce((n, a) => n + a.rerun, 0)).toBe(3);
    const run = await e.run(first.runs[0]!.runId);
    expect(run).toMatchObject({ attempt: 2, history: [{ attempt: 1, status: 'FAILED' }] });
    // A run that fails again is re-run once per session, so the repeated requests end.
    await backfillUntilDone({ schedule: never.name, from: FROM, to: new Date('2026-06-01T01:00:00Z') });
    const once = await backfillUntilDone({ schedule: never.name, from: FROM, to: new Date('2026-06-01T01:00:00Z'), rerun: ['failed'], session: 's2' });
    expect(once.at(-1)!.runs[0]).toMatchObject({ status: 'FAILED' });
    expect((await e.run(once.at(-1)!.runs[0]!.runId))?.attempt).toBe(2);
  }, 90_000);
});

describe('re-run of a finished run', () => {
  // Defect: "there is no way to re-run a failed run, or only its failed tasks".
  it.each([
    { tasks: 'failed' as const, extractAttempts: 1, loadAttempts: 2 },
    { tasks: 'all' as const, extractAttempts: 2, loadAttempts: 2 },
  ])('re-runs $tasks tasks as the next attempt of the same run, keeping the first in its history', async ({ tasks, extractAttempts, loadAttempts }) => {
    // Prepare: extract succeeds, load fails the first time.
    const def = definition(`rr-${tasks}`, [task('extract', 'exit 0'), { ...failsOnce('load'), dependsOn: ['extract'] }]);
    const started = await startRun(fire(def, '2026-06-02T00:00:00Z'), e.deps());
    const failed = await e.waitRun(started.runId, (r) => r.status === 'FAILED' && r.finalized, 'the first attempt to fail');
    // Act
    const out = await rerunRunApi(api, started.runId, { tasks, key: `k-${tasks}` });
    const done = await e.waitRun(started.runId, (r) => r.status === 'SUCCEEDED' && r.finalized, 'the re-run to succeed');
    // Assess
    expect(out).toMatchObject({ created: true, run: { runId: started.runId, attempt: 2 } });
    expect(done.attempt).toBe(2);
    expect(done.history).toEqual([
      { attempt: 1, status: 'FAILED', statusReason: failed.statusReason, startedAt: failed.createdAt, endedAt: failed.endedAt, tasks: { extract: 'SUCCEEDED', load: 'FAILED' } },
    ]);
    expect(done.tasks.extract!.attempts).toHaveLength(extractAttempts);
    expect(done.tasks.load!.attempts).toHaveLength(loadAttempts);
    // Job names stay unique across attempts.
    const names = Object.values(done.tasks).flatMap((t) => t.attempts.map((a) => a.jobName));
    expect(new Set(names).size).toBe(names.length);
    // The same key gives back the attempt it started; no third attempt.
    const again = await rerunRunApi(api, started.runId, { tasks, key: `k-${tasks}` });
    expect(again).toMatchObject({ created: false, run: { attempt: 2 } });
    expect((await e.run(started.runId))?.attempt).toBe(2);
  }, 60_000);

  it.each([
    { what: 'a run still running', script: 'sleep 5', wait: 'RUNNING', tasks: 'all' as const, message: 'only a finished run can be re-run' },
    { what: 'a succeeded run asked for its failed tasks', script: 'exit 0', wait: 'SUCCEEDED', tasks: 'failed' as const, message: 'no failed or cancelled task' },
  ])('refuses $what with 409', async ({ script, wait, tasks, message }) => {
    const def = definition(`rr-refuse-${wait}`, [task('main', script)]);
    const started = await startRun(fire(def, '2026-06-03T00:00:00Z'), e.deps());
    await e.waitRun(started.runId, (r) => r.status === wait && (wait === 'RUNNING' || r.finalized), wait);
    const error = await rerunRunApi(api, started.runId, { tasks }).catch((x: unknown) => x);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain(message);
  }, 30_000);
});
