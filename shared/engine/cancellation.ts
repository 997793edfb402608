/** Cancellation: a run cancelled by id, runs superseded by `cancel-previous`, jobs of cancelled tasks terminated. */
import type { RunItem } from '../store/schema.ts';
import type { EngineDeps } from './deps.ts';
import { drive } from './drive.ts';
import { mutateRun } from './mutate.ts';
import { cancelRun, jobsToTerminate } from './run-state.ts';

/** Cancels a run by id and terminates its jobs; returns the run as stored. */
export async function cancelRunById(runId: string, reason: string, deps: EngineDeps): Promise<RunItem | undefined> {
  const m = await mutateRun(deps, runId, (r, ctx) => cancelRun(r, reason, ctx));
  if (!m.run) return undefined;
  if (m.changed) {
    deps.metrics.count('RunsCancelled');
    deps.log.info('run cancelled', { schedule: m.run.schedule, runId, reason });
  }
  return drive(m.run, deps);
}

/** Cancels the runs `run` supersedes (overlap: cancel-previous). */
export async function cancelSuperseded(run: RunItem, deps: EngineDeps): Promise<void> {
  for (const previous of run.supersedes ?? []) {
    if (previous === run.runId) continue;
    await cancelRunById(previous, `cancelled by ${run.runId} (overlap: cancel-previous)`, deps);
  }
}

/** Terminates the Batch jobs of `run`'s cancelled tasks. */
export async function terminateCancelled(run: RunItem, deps: EngineDeps): Promise<void> {
  for (const job of jobsToTerminate(run)) {
    // Harmless on a job that already ended; its FAILED event then records the attempt as over.
    await deps.batch.terminateJob(job.jobId, `Batchron: ${run.tasks[job.task]?.reason ?? 'cancelled'}`);
    deps.log.info('job terminated', { schedule: run.schedule, runId: run.runId, task: job.task, attempt: job.attempt, jobId: job.jobId });
  }
}
