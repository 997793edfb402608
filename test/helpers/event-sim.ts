/**
 * An in-memory world for engine properties: the real engine on the in-memory store, with
 * Batch and Scheduler simulated so thousands of interleavings run in milliseconds. Each
 * submitted job ends at once in the simulated Batch (DescribeJobs answers its final status)
 * and puts its real-shaped Job State Change events (RUNNING, then SUCCEEDED or FAILED) in a
 * pool; each created retry schedule puts its firing there. `execute` then delivers the pool
 * in an order the caller picks, duplicating, dropping or interleaving sweeps as told.
 *
 * Used by engine-events-property.test.ts (shuffled and duplicated events) and
 * chaos-sweeper.test.ts (dropped and delayed events repaired by the sweeper).
 */
import fc from 'fast-check';
import type { ScheduleDefinition, TaskDefinition } from '#shared/config/definition';
import type { EngineDeps } from '#shared/engine/deps';
import { applyJobFacts } from '#shared/engine/events';
import { BatchJobStateChangeSchema, factsFromEvent } from '#shared/events/batch';
import type { BatchPort, JobFacts, RetrySchedulerPort, Store } from '#shared/engine/ports';
import { resumeRetry } from '#shared/engine/retry';
import { startRun } from '#shared/engine/start';
import { TAGS } from '#shared/engine/submit';
import { sweep } from '#shared/engine/sweep';
import { mulberry32 } from '#local/faults';
import { CountingMetrics } from '#test/helpers/metrics';
import { memoryStore } from '#shared/store/memory';
import type { RunItem } from '#shared/store/schema';
import { definition, fire, MemoryLog, MemoryNotifier, retry, task } from '#test/helpers/engine';

/** How each task behaves: it fails `failures` times (exit 3), then succeeds. */
export interface Scenario {
  tasks: { deps: boolean[]; attempts: number; failures: number; initialSeconds: number }[];
  onFailure: boolean;
  seed: number;
  duplicateRate: number;
}

/** One deliverable: a job's event, or a retry schedule's firing. */
export type Item =
  | { kind: 'event'; key: string; decisive: boolean; event: unknown }
  | { kind: 'retry'; key: string; decisive: true; input: { runId: string; task: string; attempt: number } };

/** Random DAGs (up to 4 tasks) with random retry policies and failure counts. */
export const scenario = fc.record({
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

/** The schedule a scenario runs; `extra` overrides definition fields. */
export function definitionOf(name: string, s: Scenario, extra: Partial<ScheduleDefinition> = {}): ScheduleDefinition {
  const tasks: TaskDefinition[] = s.tasks.map((t, i) =>
    task(`t${i}`, 'exit 0', { dependsOn: t.deps.slice(0, i).flatMap((d, j) => (d ? [`t${j}`] : [])), retry: retry(t.attempts, t.initialSeconds) }),
  );
  return definition(name, tasks, { onFailure: s.onFailure ? [task('cleanup')] : [], ...extra });
}

/** Where and how `execute` runs. */
/**
 * The chaos run's choices, from one source seeded by the scenario: the next item is any in
 * the pool, and a delivered item is delivered again (at most twice more) with the
 * scenario's duplicate rate. `random` is the same source, for other choices a test adds.
 */
export function chaosPolicy(s: Scenario): { random: () => number; pick: (pool: Item[]) => number; duplicate: (item: Item) => boolean } {
  const random = mulberry32(s.seed);
  const dupes = new Map<string, number>();
  return {
    random,
    pick: (pool) => Math.floor(random() * pool.length),
    duplicate: (item) => {
      const n = dupes.get(item.key) ?? 0;
      if (n >= 2 || random() >= s.duplicateRate) return false;
      dupes.set(item.key, n + 1);
      return true;
    },
  };
}

export interface ExecuteOptions {
  /**
   * The run's store; a fresh in-memory one by default, so a run's sweeps see no other run.
   * Its semantics are the DynamoDB store's (test/integration/store-contract.test.ts).
   */
  store?: Store;
  /** Decides, when an item is picked, that it is lost (never delivered). */
  drop?: (item: Item) => boolean;
  /** Asked before each delivery: run the sweeper now (an event then arrives after it: a delay). */
  sweepNow?: () => boolean;
  /** Definition overrides (e.g. stuck limits out of reach of the sweeper's clock jumps). */
  definition?: Partial<ScheduleDefinition>;
}

/** What a run left behind. */
export interface Execution {
  /** Decisive deliveries (first terminal fact of each job, each retry start) in the order they happened. */
  order: string[];
  run: RunItem;
  jobs: string[];
  notifier: MemoryNotifier;
  sweeps: number;
}

let simEpoch = Date.parse('2025-06-01T00:00:00Z');

/**
 * Executes one run. `pick` chooses the next pool item; `duplicate` says whether a delivered
 * item stays in the pool to be delivered again. With `drop`, lost items are repaired only
 * by the sweeper, run (clock moved past the retry grace) whenever the pool is empty and
 * the run is not finalized.
 */
export async function execute(
  schedule: string,
  s: Scenario,
  pick: (pool: Item[]) => number,
  duplicate: (item: Item) => boolean,
  opts: ExecuteOptions = {},
): Promise<Execution> {
  const pool: Item[] = [];
  const jobs: string[] = [];
  const ended = new Map<string, JobFacts>();
  const notifier = new MemoryNotifier();
  const order: string[] = [];
  const seen = new Set<string>();
  const decided = (key: string) => {
    if (seen.has(key)) return;
    seen.add(key);
    order.push(key);
  };
  // Every execution starts on a later day: time never runs backwards for the deployment's
  // shared items (the SubmitJob pacer), as it never does on AWS.
  let clock = (simEpoch += 86_400_000);
  const scheduled = new Set<string>();
  const batch: BatchPort = {
    async submitJob(input) {
      const jobId = `job-${input.jobName}`;
      jobs.push(jobId);
      const tags = input.tags ?? {};
      const name = tags[TAGS.task]!;
      const attempt = Number(tags[TAGS.attempt]);
      // A retry the sweeper started itself (its schedule was lost) is decided here.
      if (scheduled.has(`${name}#${attempt}`)) decided(`retry:${name}#${attempt}`);
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
      const end = {
        startedAt: 1_000 * attempt,
        stoppedAt: 2_000 * attempt,
        statusReason: 'Essential container in task exited',
        container: { exitCode: fails ? 3 : 0, logStreamName: `s/${key}` },
      };
      ended.set(jobId, {
        jobId,
        jobName: input.jobName!,
        status: fails ? 'FAILED' : 'SUCCEEDED',
        statusReason: end.statusReason,
        exitCode: end.container.exitCode,
        logStreamName: end.container.logStreamName,
        startedAt: end.startedAt,
        stoppedAt: end.stoppedAt,
        tags,
      });
      pool.push({ kind: 'event', key: `${key}:RUNNING`, decisive: false, event: ev('RUNNING', { startedAt: 1_000 * attempt }) });
      pool.push({ kind: 'event', key: `${key}:END`, decisive: true, event: ev(fails ? 'FAILED' : 'SUCCEEDED', end) });
      return { jobId };
    },
    async findJobsByName(_queue, jobName) {
      return jobs.filter((id) => id === `job-${jobName}`).map((jobId) => ({ jobId }));
    },
    async describeJobs(ids) {
      // The sweeper applies what it gets back in this order: each is that job's decisive fact.
      const facts = ids.flatMap((id) => (ended.has(id) ? [ended.get(id)!] : []));
      for (const f of facts) decided(`${f.tags[TAGS.task]}#${f.tags[TAGS.attempt]}:END`);
      return facts;
    },
    async terminateJob() {},
  };
  const retries: RetrySchedulerPort = {
    async scheduleRetry(r) {
      if (scheduled.has(`${r.input.task}#${r.input.attempt}`)) return 'exists';
      scheduled.add(`${r.input.task}#${r.input.attempt}`);
      pool.push({ kind: 'retry', key: `retry:${r.input.task}#${r.input.attempt}`, decisive: true, input: r.input });
      return 'created';
    },
  };
  const deps: EngineDeps = {
    store: opts.store ?? memoryStore(),
    batch,
    retries,
    notifier,
    // The pacer at 1,000/s: a simulated run's submissions share one frozen instant, and pacing is not what this checks.
    env: { deployment: 'prop', defaultQueue: 'q', retentionDays: 1, jobLogGroup: '/aws/batch/job', region: 'us-east-1', stuckMinutes: { queued: 30, submitted: 120, running: 720 }, submitRate: 1000 },
    now: () => clock,
    // Waits (a paced slot, a conflict backoff) pass on the simulated clock, instantly.
    sleep: async (ms) => {
      clock += ms;
    },
    owner: 'sim',
    log: new MemoryLog(),
    metrics: new CountingMetrics(),
  };
  const def = definitionOf(schedule, s, opts.definition);
  const started = await startRun(fire(def, '2025-06-01T00:00:00Z'), deps);
  let steps = 0;
  let sweeps = 0;
  while (steps++ < 800) {
    if (pool.length === 0) {
      const run = await deps.store.getRun(started.runId);
      if (!opts.drop || run?.finalized || sweeps >= 40) break;
      // Nothing left to deliver: only the sweeper can move the run now. Past the retry grace,
      // so it also starts retries whose schedule was lost.
      clock += 6 * 60_000;
      await sweep(deps);
      sweeps++;
      continue;
    }
    if (opts.sweepNow?.()) {
      await sweep(deps);
      sweeps++;
    }
    const index = pick(pool);
    const item = pool[index]!;
    if (!duplicate(item)) pool.splice(index, 1);
    clock += 1_000;
    if (opts.drop?.(item)) continue;
    if (item.decisive) decided(item.key);
    if (item.kind === 'retry') await resumeRetry(item.input, deps);
    else await applyJobFacts(factsFromEvent(BatchJobStateChangeSchema.parse(item.event)), deps);
  }
  const run = (await deps.store.getRun(started.runId))!;
  return { order, run, jobs, notifier, sweeps };
}

/** The state that must not depend on delivery order. */
export function project(run: RunItem) {
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

/**
 * A picker delivering RUNNING events first, then decisive items in `order` (the lossless
 * replay); items the chaos run never decided (a lost retry of a task its run cancelled) last.
 */
export function orderedPick(order: string[]): (pool: Item[]) => number {
  const rank = (item: Item) => {
    const i = order.indexOf(item.key);
    return i < 0 ? Infinity : i;
  };
  return (pool) => {
    const running = pool.findIndex((i) => !i.decisive);
    if (running >= 0) return running;
    let best = 0;
    for (let i = 1; i < pool.length; i++) if (rank(pool[i]!) < rank(pool[best]!)) best = i;
    return best;
  };
}
