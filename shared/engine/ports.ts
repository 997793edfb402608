/**
 * The engine's collaborators, as narrow ports with AWS SDK adapters. The engine calls
 * Batch and Scheduler only through these, so a test can wrap the real adapter (to crash
 * right after a real SubmitJob) and the property test can drive thousands of interleavings
 * without starting containers.
 */
import {
  DescribeJobsCommand,
  ListJobsCommand,
  SubmitJobCommand,
  TerminateJobCommand,
  type BatchClient,
  type SubmitJobCommandInput,
} from '@aws-sdk/client-batch';
import { ConflictException, CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { RetryInput } from '../config/definition.ts';
import type { WindowCloseInput } from '../config/trigger.ts';
import { schedulerAt } from '../time.ts';

/** What the engine reads of a Batch job (DescribeJobs' JobDetail, or an event's detail). */
export interface JobFacts {
  jobId: string;
  jobName: string;
  status: string;
  statusReason?: string;
  exitCode?: number;
  logStreamName?: string;
  startedAt?: number;
  stoppedAt?: number;
  tags: Record<string, string>;
}

/** The Batch operations the engine uses. */
export interface BatchPort {
  submitJob(input: SubmitJobCommandInput): Promise<{ jobId: string }>;
  /** Jobs on `jobQueue` named `jobName`, any status, newest first. */
  findJobsByName(jobQueue: string, jobName: string): Promise<{ jobId: string; status?: string }[]>;
  /** Up to 100 job ids per call. */
  describeJobs(jobIds: string[]): Promise<JobFacts[]>;
  terminateJob(jobId: string, reason: string): Promise<void>;
}

/**
 * Batch through the AWS SDK. `submitClient` sends SubmitJob: in the functions, one without the
 * SDK's retries (see shared/clients/batch.ts); the other calls are safe to retry.
 */
export function sdkBatch(client: BatchClient, submitClient: BatchClient = client): BatchPort {
  return {
    async submitJob(input) {
      const out = await submitClient.send(new SubmitJobCommand(input));
      if (!out.jobId) throw new Error('SubmitJob returned no jobId');
      return { jobId: out.jobId };
    },
    async findJobsByName(jobQueue, jobName) {
      const found: { jobId: string; status?: string; createdAt?: number }[] = [];
      let nextToken: string | undefined;
      do {
        // With a filter, ListJobs ignores jobStatus and returns jobs in every status.
        const out = await client.send(
          new ListJobsCommand({ jobQueue, filters: [{ name: 'JOB_NAME', values: [jobName] }], nextToken }),
        );
        for (const job of out.jobSummaryList ?? []) {
          if (job.jobId && job.jobName === jobName) found.push({ jobId: job.jobId, status: job.status, createdAt: job.createdAt });
        }
        nextToken = out.nextToken;
      } while (nextToken);
      return found.sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0)).map(({ jobId, status }) => ({ jobId, status }));
    },
    async describeJobs(jobIds) {
      if (jobIds.length === 0) return [];
      const out = await client.send(new DescribeJobsCommand({ jobs: jobIds }));
      return (out.jobs ?? []).map((job) => {
        const last = job.attempts?.at(-1);
        return {
          jobId: job.jobId ?? '',
          jobName: job.jobName ?? '',
          status: job.status ?? '',
          statusReason: job.statusReason,
          exitCode: job.container?.exitCode ?? last?.container?.exitCode,
          logStreamName: job.container?.logStreamName ?? last?.container?.logStreamName,
          startedAt: job.startedAt,
          stoppedAt: job.stoppedAt,
          tags: job.tags ?? {},
        };
      });
    },
    async terminateJob(jobId, reason) {
      await client.send(new TerminateJobCommand({ jobId, reason }));
    },
  };
}

/** A one-time schedule that invokes the retry function. */
export interface RetrySchedule {
  name: string;
  /** Epoch ms. */
  at: number;
  input: RetryInput;
  /** What the schedule is for (its Description); a retry's by default. */
  description?: string;
}

/** Creates one-time retry schedules; `exists` when one of that name is already there. */
export interface RetrySchedulerPort {
  scheduleRetry(schedule: RetrySchedule): Promise<'created' | 'exists'>;
}

/** Where retry schedules go and what they invoke. */
export interface RetryTarget {
  groupName: string;
  targetArn: string;
  roleArn: string;
}

/** Creates the one-time schedule that closes a batch window (shared/engine/trigger.ts). */
export interface WindowSchedulerPort {
  scheduleClose(schedule: { name: string; at: number; input: WindowCloseInput; description: string }): Promise<'created' | 'exists'>;
}

/** Window closes through EventBridge Scheduler, invoking the `trigger` function. */
export function sdkWindowScheduler(client: SchedulerClient, target: RetryTarget): WindowSchedulerPort {
  return {
    async scheduleClose(schedule) {
      try {
        await client.send(
          new CreateScheduleCommand({
            Name: schedule.name,
            GroupName: target.groupName,
            ScheduleExpression: schedulerAt(schedule.at),
            ScheduleExpressionTimezone: 'UTC',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            Target: { Arn: target.targetArn, RoleArn: target.roleArn, Input: JSON.stringify(schedule.input) },
            Description: schedule.description,
          }),
        );
        return 'created';
      } catch (error) {
        if (error instanceof ConflictException) return 'exists';
        throw error;
      }
    },
  };
}

/** EventBridge Scheduler through the AWS SDK. */
export function sdkRetryScheduler(client: SchedulerClient, target: RetryTarget): RetrySchedulerPort {
  return {
    async scheduleRetry(schedule) {
      try {
        await client.send(
          new CreateScheduleCommand({
            Name: schedule.name,
            GroupName: target.groupName,
            ScheduleExpression: schedulerAt(schedule.at),
            ScheduleExpressionTimezone: 'UTC',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            Target: { Arn: target.targetArn, RoleArn: target.roleArn, Input: JSON.stringify(schedule.input) },
            Description: schedule.description ?? `Batchron retry: ${schedule.input.runId} ${schedule.input.task} attempt ${schedule.input.attempt}`,
          }),
        );
        return 'created';
      } catch (error) {
        // Same name = the same retry (names are deterministic): a duplicate event already scheduled it.
        if (error instanceof ConflictException) return 'exists';
        throw error;
      }
    },
  };
}
