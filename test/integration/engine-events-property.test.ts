/**
 * Property: a run's events delivered shuffled, duplicated and out of order end in the same
 * state as the same events delivered in order, once each. Runs against DynamoDB Local (the
 * run's shared instance) through the real store and engine; Batch is simulated in memory
 * (it is not what is under test here, and thousands of interleavings cannot each start
 * processes), emitting real-shaped Job State Change events parsed by the real schema.
 *
 * "In order" keeps the chaos run's order of *decisive* deliveries (the first terminal event
 * of each job, each retry firing): two independent branches racing (one fails while the
 * other's success would release a dependent) legitimately end differently depending on
 * which is first, in any scheduler; what must never matter is duplicates, a RUNNING after a
 * SUCCEEDED, stale attempts, or how the non-decisive events interleave.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { TaskDefinition } from '#shared/config/definition';
import type { EngineDeps } from '#shared/engine/deps';
import { applyJobEvent, BatchJobStateChangeSchema } from '#shared/engine/events';
import type { BatchPort, RetrySchedulerPort } from '#shared/engine/ports';
import { resumeRetry } from '#shared/engine/retry';
import { startRun } from '#shared/engine/start';
import { TAGS } from '#shared/engine/submit';
import { CountingMetrics } from '#shared/logger';
import { getRun } from '#shared/store/runs';
import type { RunItem } from '#shared/store/schema';
import { createEngineTable, definition, fire, MemoryLog, MemoryNotifier, retry, task } from '#test/helpers/engine';

const table = `engine-prop-${process.pid}`;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  await createEngineTable(client, table);
});

afterAll(() => client?.destroy());

/** How each task behaves: it fails `failures` times (exit 3), then succeeds. */
interface Scenario {
  tasks: { deps: boolean[]; attempts: number; failures: number; initialSeconds: number }[];
  onFailure: boolean;
  seed: number;
  duplicateRate: number;
}

type Item =
  | { kind: 'event'; key: string; decisive: boolean; event: unknown }
  | { kind: 'retry'; key: string; decisive: true; input: { runId: string; task: string; attempt: number } };

const scenario = fc.record({
  tasks: fc.array(
    fc.record({
      deps: fc.array(fc.boolean(), { maxLength: 4 }),
      attempts: fc.integer({ min: 1, max: 3 }),
      failures: fc.integer({ min: 0, max: 3 }),
      initialSeconds: fc.constantFrom(0, 10),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  onFailure: fc.boolean(),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  duplicateRate: fc.constantFrom(0, 0.3, 0.6),
});

function definitionOf(name: string, s: Scenario) {
  const tasks: TaskDefinition[] = s.tasks.map((t, i) =>
    task(`t${i}`, 'exit 0', { dependsOn: t.deps.slice(0, i).flatMap((d, j) => (d ? [`t${j}`] : [])), retry: retry(t.attempts, t.initialSeconds) }),
  );
  return definition(name, tasks, { onFailure: s.onFailure ? [task('cleanup')] : [] });
}

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Executes one run. `pick` chooses the next pool item; `duplicate` says whether a delivered
 * item stays in the pool to be delivered again. Returns the decisive order and the run.
 */
async function execute(
  schedule: string,
  s: Scenario,
  pick: (pool: Item[]) => number,
  duplicate: (item: Item) => boolean,
): Promise<{ order: string[]; run: RunItem; jobs: string[]; notifier: MemoryNotifier }> {
  const pool: Item[] = [];
  const jobs: string[] = [];
  const notifier = new MemoryNotifier();
  let clock = Date.parse('2025-06-01T00:00:00Z');
  const batch: BatchPort = {
    async submitJob(input) {
      const jobId = `job-${input.jobName}`;
      jobs.push(jobId);
      const tags = input.tags ?? {};
      const name = tags[TAGS.task]!;
      const attempt = Number(tags[TAGS.attempt]);
      const spec = name === 'cleanup' ? { failures: 0 } : s.tasks[Number(name.slice(1))]!;
      const fails = attempt <= spec.failures;
      const base = { jobId, jobName: input.jobName!, jobQueue: 'q', tags };
      const key = `${name}#${attempt}`;
      const ev = (status: string, extra: object) => ({
        version: '0',
        'detail-type': 'Batch Job State Change',
        source: 'aws.batch',
        detail: { ...base, status, ...extra },
      });
      pool.push({ kind: 'event', key: `${key}:RUNNING`, decisive: false, event: ev('RUNNING', { startedAt: 1_000 * attempt }) });
      pool.push({
        kind: 'event',
        key: `${key}:END`,
        decisive: true,
        event: ev(fails ? 'FAILED' : 'SUCCEEDED', {
          startedAt: 1_000 * attempt,
          stoppedAt: 2_000 * attempt,
          statusReason: 'Essential container in task exited',
          container: { exitCode: fails ? 3 : 0, logStreamName: `s/${key}` },
        }),
      });
      return { jobId };
    },
    async findJobsByName(_queue, jobName) {
      return jobs.filter((id) => id === `job-${jobName}`).map((jobId) => ({ jobId }));
    },
    async describeJobs() {
      return [];
    },
    async terminateJob() {},
  };
  const scheduled = new Set<string>();
  const retries: RetrySchedulerPort = {
    async scheduleRetry(r) {
      if (scheduled.has(r.name)) return 'exists';
      scheduled.add(r.name);
      pool.push({ kind: 'retry', key: `retry:${r.input.task}#${r.input.attempt}`, decisive: true, input: r.input });
      return 'created';
    },
  };
  const deps: EngineDeps = {
    store: { doc, table },
    batch,
    retries,
    notifier,
    env: { deployment: 'prop', defaultQueue: 'q', retentionDays: 1, jobLogGroup: '/aws/batch/job', region: 'us-east-1', stuckMinutes: { queued: 30, submitted: 120, running: 720 } },
    now: () => clock,
    owner: 'sim',
    log: new MemoryLog(),
    metrics: new CountingMetrics(),
  };
  const def = definitionOf(schedule, s);
  const started = await startRun(fire(def, '2025-06-01T00:00:00Z'), deps);
  const order: string[] = [];
  const seen = new Set<string>();
  let steps = 0;
  while (pool.length > 0 && steps++ < 500) {
    const index = pick(pool);
    const item = pool[index]!;
    if (!duplicate(item)) pool.splice(index, 1);
    clock += 1_000;
    if (item.decisive && !seen.has(item.key)) {
      seen.add(item.key);
      order.push(item.key);
    }
    if (item.kind === 'retry') await resumeRetry(item.input, deps);
    else await applyJobEvent(BatchJobStateChangeSchema.parse(item.event), deps);
  }
  const run = (await getRun(deps.store, started.runId))!;
  return { order, run, jobs, notifier };
}

/** The state that must not depend on delivery order. */
function project(run: RunItem) {
  return {
    status: run.status,
    statusReason: run.statusReason,
    settled: run.settled,
    finalized: run.finalized,
    notify: run.notify.failure?.status,
    tasks: Object.fromEntries(
      Object.values(run.tasks).map((t) => [t.name, { status: t.status, reason: t.reason, attempts: t.attempts.map((a) => ({ attempt: a.attempt, status: a.status, exitCode: a.exitCode })) }]),
    ),
  };
}

let counter = 0;

describe('event order independence', () => {
  it('ends a run in the same state whether its events come shuffled and duplicated or in order', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const id = ++counter;
        // Act: chaos first (random picks, duplicates), then the ordered replay of its decisions.
        const random = mulberry(s.seed);
        const dupes = new Map<string, number>();
        const chaos = await execute(
          `chaos${id}`,
          s,
          (pool) => Math.floor(random() * pool.length),
          (item) => {
            const n = dupes.get(item.key) ?? 0;
            if (n >= 2 || random() >= s.duplicateRate) return false;
            dupes.set(item.key, n + 1);
            return true;
          },
        );
        const order = chaos.order;
        const ordered = await execute(
          `ordered${id}`,
          s,
          (pool) => {
            // RUNNING before anything decisive; decisive items in the chaos run's order.
            const running = pool.findIndex((i) => !i.decisive);
            if (running >= 0) return running;
            let best = 0;
            for (let i = 1; i < pool.length; i++) if (order.indexOf(pool[i]!.key) < order.indexOf(pool[best]!.key)) best = i;
            return best;
          },
          () => false,
        );
        // Assess
        expect(project(chaos.run)).toEqual(project(ordered.run));
        expect(chaos.jobs.length).toBe(ordered.jobs.length);
        expect(new Set(chaos.jobs).size).toBe(chaos.jobs.length);
        expect(chaos.notifier.sent.length).toBe(ordered.notifier.sent.length);
        expect(chaos.notifier.sent.filter((m) => m.kind === 'failure').length).toBe(chaos.run.status === 'FAILED' ? 1 : 0);
        expect(chaos.run.finalized).toBe(true);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
