/**
 * A dependency test bench: definitions normalized from a real config (so `dependents` and
 * `downstream` are linked as at package time), the engine over a given store, and a Batch
 * whose jobs end only when the test says, each end delivered through applyJobFacts as
 * Batch's events are. Used on the memory store (unit) and on DynamoDB Local (integration).
 */
import { expect } from 'vitest';
import type { FireInput } from '#shared/config/definition';
import { deploymentContext, normalizeConfig, parseConfig } from '#shared/config/validate';
import { dependencyRunId } from '#shared/engine/dependencies';
import { applyJobFacts } from '#shared/engine/events';
import type { BatchPort, Store } from '#shared/engine/ports';
import { resumeRetry } from '#shared/engine/retry';
import { startRun } from '#shared/engine/start';
import { sweep } from '#shared/engine/sweep';
import { TAGS } from '#shared/engine/submit';
import { memoryWindowStore } from '#shared/store/memory-windows';
import type { RunItem } from '#shared/store/schema';
import { MemoryNotifier } from '#test/helpers/engine';
import { triggerDeps } from '#test/helpers/triggers';

const ctx = deploymentContext('trig');

/** A Batch that records submissions and ends jobs only when told. */
function heldBatch() {
  const jobs: { jobId: string; jobName: string; tags: Record<string, string>; status: string }[] = [];
  const port: BatchPort = {
    async submitJob(input) {
      const jobId = `job-${jobs.length + 1}`;
      jobs.push({ jobId, jobName: input.jobName!, tags: input.tags ?? {}, status: 'SUBMITTED' });
      return { jobId };
    },
    async findJobsByName(_q, name) {
      return jobs.filter((j) => j.jobName === name).map((j) => ({ jobId: j.jobId, status: j.status }));
    },
    async describeJobs(ids) {
      return jobs.filter((j) => ids.includes(j.jobId)).map((j) => ({ ...j }));
    },
    async terminateJob() {},
  };
  return { port, jobs };
}

/** The bench over `store`, its clock at `t0`; `schedules` as under custom.batchron (job definition `sh` declared). */
export function dependencyBench(schedules: Record<string, unknown>, store: Store, t0: number) {
  const clock = { now: t0 };
  const batch = heldBatch();
  const retries: { runId: string; task: string; attempt: number }[] = [];
  const deps = triggerDeps(clock, { store, windowStore: memoryWindowStore(), batch: batch.port });
  deps.retries = {
    scheduleRetry: async (s) => {
      retries.push(s.input);
      return 'created';
    },
  };
  const config = parseConfig({ jobDefinitions: { sh: { image: 'alpine', command: ['sh'] } }, schedules }, ctx);
  const defs = normalizeConfig(config, ctx);
  /** A fire of `schedule` at `at` (`backfill`: as a backfill starts it, outside the overlap policy). */
  const fire = (schedule: string, at: number, trigger: FireInput['trigger'] = 'schedule'): Promise<unknown> => {
    const input: FireInput = { schedule, scheduledTime: new Date(at).toISOString(), definition: defs[schedule]!, trigger, parameters: {} };
    return startRun(input, deps, trigger === 'backfill' ? { overlap: 'ignore' } : {});
  };
  /** Ends every open job of `schedule` (each event delivered `times` times). */
  const finish = async (schedule: string, status: 'SUCCEEDED' | 'FAILED', times = 1): Promise<number> => {
    const open = batch.jobs.filter((j) => j.tags[TAGS.schedule] === schedule && j.status === 'SUBMITTED');
    for (const job of open) {
      job.status = status;
      for (let i = 0; i < times; i++) {
        await applyJobFacts({ jobId: job.jobId, jobName: job.jobName, status, exitCode: status === 'SUCCEEDED' ? 0 : 1, tags: job.tags }, deps);
      }
    }
    return open.length;
  };
  const runsOf = async (schedule: string): Promise<RunItem[]> => {
    const page = await store.listRunsBySchedule(schedule, { limit: 100 });
    return Promise.all(page.items.map(async (r) => (await store.getRun(r.summary.runId))!));
  };
  const submittedFor = (schedule: string) => batch.jobs.filter((j) => j.tags[TAGS.schedule] === schedule).length;
  return { clock, store, deps, defs, fire, finish, runsOf, submittedFor, retries, notifier: deps.notifier as MemoryNotifier };
}


type Bench = ReturnType<typeof dependencyBench>;

/**
 * A chain `a` → `b` → `c` with `a` at 02:00 and one retry, `b` after `a`, `c` after `b` (no
 * time of their own): the schedules, as under custom.batchron.
 */
export function retryChain([a, b, c]: [string, string, string]): Record<string, unknown> {
  const job = { definition: 'sh' };
  return {
    [a]: { expression: 'cron(0 2 * * ? *)', job, retry: { attempts: 2, backoff: { initialSeconds: 10, jitter: 'none' } } },
    [b]: { after: [{ schedule: a }], job },
    [c]: { after: [{ schedule: b }], job },
  };
}

/**
 * Plays `retryChain` out: `a` fires at `t0`, its first attempt fails (the event delivered
 * twice; nothing downstream yet, one retry waiting), its retry succeeds, `b` and `c` end; a
 * sweep, then a duplicate delivery of `a`'s fire.
 */
export async function playRetryChain(e: Bench, [a, b, c]: [string, string, string], t0: number): Promise<void> {
  await e.fire(a, t0);
  await e.finish(a, 'FAILED', 2);
  expect(await e.runsOf(b)).toEqual([]);
  expect(e.retries).toHaveLength(1);
  e.clock.now += 10_000;
  await resumeRetry(e.retries[0]!, e.deps);
  await e.finish(a, 'SUCCEEDED', 2);
  await e.finish(b, 'SUCCEEDED', 2);
  await e.finish(c, 'SUCCEEDED', 2);
  await sweep(e.deps);
  await e.fire(a, t0);
}

/** `b` and `c` ran exactly once for `day`, each released by its upstream's succeeded attempt. */
export async function assertRetryChain(e: Bench, [a, b, c]: [string, string, string], day: string): Promise<void> {
  const [runA] = await e.runsOf(a);
  expect(runA).toMatchObject({ status: 'SUCCEEDED', finalized: true });
  for (const schedule of [b, c]) {
    const runs = await e.runsOf(schedule);
    expect(runs.map((r) => [r.runId, r.status, r.dependency?.logicalDate])).toEqual([[dependencyRunId(schedule, day), 'SUCCEEDED', day]]);
    expect(e.submittedFor(schedule)).toBe(1);
  }
  expect((await e.runsOf(b))[0]!.dependency!.met).toEqual({ [a]: `${runA!.runId}#1` });
}
