/**
 * Batch job state changes → run state. The event is trusted only for what it says about
 * one job; the job's tags say which run, task and attempt it is. Statuses only move forward,
 * so duplicates and out-of-order deliveries change nothing; the write is a compare-and-set
 * on the run's version, re-applied on conflict.
 */
import * as z from '../zod.ts';
import { RetryableError } from '../errors.ts';
import type { RunItem, ScheduleState } from '../store/schema.ts';
import { contextOf, type EngineDeps } from './deps.ts';
import { drive, finalizeInline, mutateRun } from './drive.ts';
import { retryScheduleName } from './naming.ts';
import type { JobFacts } from './ports.ts';
import { applyAttemptUpdate } from './run-state.ts';
import { attemptStatusOf } from './status.ts';
import { jobRef } from './submit.ts';

const ContainerSchema = z.object({
  exitCode: z.optional(z.number().check(z.int())),
  reason: z.optional(z.string()),
  logStreamName: z.optional(z.string()),
});

/** The EventBridge "Batch Job State Change" event, as much of it as the engine reads. */
export const BatchJobStateChangeSchema = z.object({
  version: z.optional(z.string()),
  id: z.optional(z.string()),
  'detail-type': z.literal('Batch Job State Change'),
  source: z.literal('aws.batch'),
  time: z.optional(z.string()),
  detail: z.object({
    jobId: z.string().check(z.minLength(1)),
    jobName: z.string().check(z.minLength(1)),
    jobQueue: z.optional(z.string()),
    status: z.enum(['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING', 'SUCCEEDED', 'FAILED']),
    statusReason: z.optional(z.string()),
    createdAt: z.optional(z.number()),
    startedAt: z.optional(z.number()),
    stoppedAt: z.optional(z.number()),
    container: z.optional(ContainerSchema),
    attempts: z.optional(
      z.array(
        z.object({
          container: z.optional(ContainerSchema),
          startedAt: z.optional(z.number()),
          stoppedAt: z.optional(z.number()),
          statusReason: z.optional(z.string()),
        }),
      ),
    ),
    tags: z.optional(z.record(z.string(), z.string())),
  }),
});
export type BatchJobStateChange = z.infer<typeof BatchJobStateChangeSchema>;

/** The facts of a job state-change event in the shape DescribeJobs gives too. */
export function factsFromEvent(event: BatchJobStateChange): JobFacts {
  const d = event.detail;
  const last = d.attempts?.at(-1);
  return {
    jobId: d.jobId,
    jobName: d.jobName,
    status: d.status,
    statusReason: d.statusReason,
    exitCode: d.container?.exitCode ?? last?.container?.exitCode,
    logStreamName: d.container?.logStreamName ?? last?.container?.logStreamName,
    startedAt: d.startedAt ?? last?.startedAt,
    stoppedAt: d.stoppedAt ?? last?.stoppedAt,
    tags: d.tags ?? {},
  };
}

/** What applying a job's facts did. */
export interface ApplyResult {
  outcome: 'applied' | 'unchanged' | 'ignored';
  reason?: string;
  run?: RunItem;
}

/** Applies one Batch job state-change event to its run and performs what follows. */
export async function applyJobEvent(event: BatchJobStateChange, deps: EngineDeps): Promise<ApplyResult> {
  return applyJobFacts(factsFromEvent(event), deps);
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
          const created = await deps.retries.scheduleRetry({ name, at: retry.at, input: { runId: ref.runId, task: retry.task, attempt: retry.attempt } });
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
