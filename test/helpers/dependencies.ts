/**
 * A dependency test bench: definitions normalized from a real config (so `dependents` and
 * `downstream` are linked as at package time), the engine over a given store, and a Batch
 * whose jobs end only when the test says, each end delivered through applyJobFacts as
 * Batch's events are. Used on the memory store (unit) and on DynamoDB Local (integration).
 */
import type { FireInput } from '#shared/config/definition';
import { deploymentContext, normalizeConfig, parseConfig } from '#shared/config/validate';
import { applyJobFacts } from '#shared/engine/events';
import type { BatchPort, Store } from '#shared/engine/ports';
import { startRun } from '#shared/engine/start';
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

