/**
 * The EventBridge "Batch Job State Change" event, unwrapped at the edge: the job-events
 * handler parses the envelope here and hands the engine only JobFacts (the shape
 * DescribeJobs gives too), so nothing under shared/engine/ knows an event envelope.
 */
import * as z from '../zod.ts';
import type { JobFacts } from '../engine/ports.ts';

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

