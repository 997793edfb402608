/**
 * Batch job facts → run state. What Batch says about one job (a state-change event unwrapped
 * by the job-events handler, shared/events/batch.ts, or DescribeJobs from the sweeper) is
 * trusted only for that job; the job's tags say which run, task and attempt it is. Statuses only move forward,
 * so duplicates and out-of-order deliveries change nothing; the write is a compare-and-set
 * on the run's version, re-applied on conflict.
 */
import { RetryableError } from '../errors.ts';
import { oneTimeAt } from '../time.ts';
import type { RunItem, ScheduleState } from '../store/schema.ts';
import { contextOf, type EngineDeps } from './deps.ts';
import { drive, finalizeInline, mutateRun } from './drive.ts';
import { retryScheduleName } from './naming.ts';
import type { JobFacts } from './ports.ts';
import { applyAttemptUpdate } from './run-state.ts';
import { attemptStatusOf } from './status.ts';
import { jobRef } from './submit.ts';

/** What applying a job's facts did. */
export interface ApplyResult {
  outcome: 'applied' | 'unchanged' | 'ignored';
  reason?: string;
  run?: RunItem;
}

/**
 * Applies what Batch says about one job (an event, or DescribeJobs from the sweeper), then
 * drives the run. Retry schedules a failure implies are created before the state that
 * implies them is written (idempotent names), so no crash can leave a RETRY_WAIT task with
 * nothing to wake it but the sweeper.
 */
export async function applyJobFacts(facts: JobFacts, deps: EngineDeps): Promise<ApplyResult> {
  const ref = jobRef(facts.tags);
  const log = { jobId: facts.jobId, jobName: facts.jobName, batchStatus: facts.status };
  if (!ref) return ignored(deps, 'the job carries no Batchron tags', log);
  if (ref.deployment !== deps.env.deployment) return ignored(deps, `the job belongs to deployment ${ref.deployment}`, log);
  const status = attemptStatusOf(facts.status);
  if (!status) return ignored(deps, `status ${facts.status} is not one the engine tracks`, log);
  const where = { ...log, runId: ref.runId, task: ref.task, attempt: ref.attempt };
  // One read of the schedule's state however often a version conflict re-applies the event.
  let state: Promise<ScheduleState> | undefined;
  const readState = (schedule: string) => (state ??= deps.store.getScheduleState(schedule));
  const m = await mutateRun(
    deps,
    ref.runId,
    (run, ctx) =>
      applyAttemptUpdate(
        run,
        {
          task: ref.task,
          attempt: ref.attempt,
          jobId: facts.jobId,
          status,
          exitCode: facts.exitCode,
          statusReason: facts.statusReason,
          logStreamName: facts.logStreamName,
          startedAt: facts.startedAt,
          stoppedAt: facts.stoppedAt,
        },
        ctx,
      ),
    async (t) => {
      // Writes the common end (a success that owes nothing) as finalized at once.
      t.run = await finalizeInline(t.run, deps, contextOf(deps), readState);
      for (const retry of t.retries) {
        const name = retryScheduleName(deps.env.deployment, ref.runId, retry.task, retry.attempt);
        try {
          const created = await deps.retries.scheduleRetry({ name, at: oneTimeAt(retry.at, deps.now()), input: { runId: ref.runId, task: retry.task, attempt: retry.attempt } });
          deps.log.info('retry scheduled', { ...where, task: retry.task, nextAttempt: retry.attempt, at: new Date(retry.at).toISOString(), schedule: t.run.schedule, created });
        } catch (error) {
          throw new RetryableError(`could not schedule the retry of ${retry.task}`, { cause: error });
        }
      }
    },
  );
  if (!m.run) return ignored(deps, 'no such run (expired or never created)', where);
  if (!m.changed) {
    // A duplicate or stale event: nothing new, but whatever the state implies may still be
    // owed if the invocation that wrote it died (this delivery may be Lambda's retry).
    await drive(m.run, deps);
    return { outcome: 'unchanged', run: m.run };
  }
  if (m.transition?.retries.length) deps.metrics.count('Retries', m.transition.retries.length);
  // A run finalized inline never reaches finalize(), which counts the others.
  if (m.run.finalized && m.run.status === 'SUCCEEDED') deps.metrics.count('RunsSucceeded');
  const task = m.run.tasks[ref.task];
  deps.log.info('job status applied', { ...where, schedule: m.run.schedule, taskStatus: task?.status, runStatus: m.run.status });
  const run = await drive(m.run, deps, m.transition?.claims ?? []);
  return { outcome: 'applied', run };
}

function ignored(deps: EngineDeps, reason: string, log: Record<string, unknown>): ApplyResult {
  deps.log.info('job event ignored', { ...log, reason });
  return { outcome: 'ignored', reason };
}
