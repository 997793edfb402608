/**
 * The engine's collaborators, as narrow ports with AWS SDK adapters. The engine calls
 * Batch, Scheduler and its table only through these, so a test can wrap the real adapter (to
 * crash right after a real SubmitJob) and the property test can drive thousands of
 * interleavings without starting containers. The stores' DynamoDB implementation (every
 * expression) is shared/store/dynamo.ts; shared/store/memory.ts keeps the same conditional
 * semantics in memory, and test/integration/store-contract.test.ts holds both to one contract.
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
import { RequestRefusedError } from '../errors.ts';
import type { RunItem, RunStatus, RunSummary, ScheduleState } from '../store/schema.ts';
import type { DeadlineRecord } from '../store/deadline-item.ts';
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
 * True when Batch refused a request for good: `ClientException` (HTTP 4xx) is Batch's answer
 * to bad input and unknown resources. A throttle (429, or a ClientException saying "Too Many
 * Requests", as Batch's does under its account quota) is not: it passes if retried.
 */
export function isPermanentBatchError(error: unknown): boolean {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (e?.name !== 'ClientException') return false;
  const status = e.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return false;
  return !/too many requests|rate exceeded|throttl/i.test(e.message ?? '');
}

/** Rethrows a permanent Batch refusal as a RequestRefusedError (never retried), anything else as it came. */
async function refusable<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isPermanentBatchError(error)) throw new RequestRefusedError(operation, (error as Error).message, { cause: error });
    throw error;
  }
}

/**
 * Batch through the AWS SDK. `submitClient` sends SubmitJob: in the functions, one without the
 * SDK's retries (see shared/clients/batch.ts); the other calls are safe to retry.
 */
export function sdkBatch(client: BatchClient, submitClient: BatchClient = client): BatchPort {
  return {
    async submitJob(input) {
      const out = await refusable('SubmitJob', () => submitClient.send(new SubmitJobCommand(input)));
      if (!out.jobId) throw new Error('SubmitJob returned no jobId');
      return { jobId: out.jobId };
    },
    async findJobsByName(jobQueue, jobName) {
      const found: { jobId: string; status?: string; createdAt?: number }[] = [];
      let nextToken: string | undefined;
      do {
        // With a filter, ListJobs ignores jobStatus and returns jobs in every status.
        const out = await refusable('ListJobs', () =>
          client.send(new ListJobsCommand({ jobQueue, filters: [{ name: 'JOB_NAME', values: [jobName] }], nextToken })),
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

/** Which batch window: a schedule's trigger and the window's number (epoch / window length). */
export interface WindowRef {
  schedule: string;
  trigger: number;
  window: number;
}

/** A window's head as the close reads it. */
export interface WindowHeadState {
  n: number;
  closesAt: number;
  closed?: boolean;
  definition: import('../config/definition.ts').ScheduleDefinition;
  settings: import('../config/trigger.ts').TriggerSettings;
}

/**
 * Batch-window state of event triggers (shared/engine/trigger.ts), every operation a
 * conditional key write; the DynamoDB implementation and its item layout are in
 * shared/store/windows.ts.
 */
export interface WindowStore {
  /** Counts an arrival on the window's head (creating it, in the open-windows index); its number, or `closed`. */
  countArrival(w: WindowRef, head: { closesAt: number; definition: WindowHeadState['definition']; settings: WindowHeadState['settings']; expiresAt: number }): Promise<number | 'closed'>;
  /** Adds an event to a part, once per key, while window and part are open. */
  addToPart(w: WindowRef, part: number, event: { key: string; value: string; expiresAt: number }): Promise<'added' | 'duplicate' | 'closed' | 'conflict'>;
  /** Closes a part (idempotent); the values it holds, or undefined when it holds none. */
  closePart(w: WindowRef, part: number): Promise<string[] | undefined>;
  /** Marks the window closed (idempotent); its head, or undefined when there is none. */
  closeHead(w: WindowRef): Promise<WindowHeadState | undefined>;
  /** Takes a window whose runs all exist out of the open-windows index. */
  retireWindow(w: WindowRef): Promise<void>;
  /** Windows in the open-windows index whose end is before `before` (epoch ms). */
  listOverdueWindows(before: number): Promise<WindowRef[]>;
}

/** Deadline records (shared/engine/deadline.ts), in shared/store/deadlines.ts and shared/store/memory-deadlines.ts. */
export interface DeadlineStore {
  /** A schedule's records with `deadlineAt` (ISO) in [from, to], earliest first (strongly consistent). */
  listDeadlines(schedule: string, from: string, to: string): Promise<DeadlineRecord[]>;
  /** A schedule's latest record with `deadlineAt` at or before `atOrBefore`. */
  latestDeadline(schedule: string, atOrBefore: string): Promise<DeadlineRecord | undefined>;
  /** Creates a record unless one exists for that deadline; false when one did. `expiresAt`: epoch seconds. */
  createDeadline(record: DeadlineRecord, expiresAt: number): Promise<boolean>;
  /** Writes `record` over the version it carries; the record as saved, or undefined when that version is gone. */
  saveDeadline(record: DeadlineRecord, expiresAt: number): Promise<DeadlineRecord | undefined>;
}

/** Creates the one-time schedule that closes a batch window (shared/engine/trigger.ts). */
export interface WindowSchedulerPort {
  scheduleClose(schedule: { name: string; at: number; input: WindowCloseInput; description: string }): Promise<'created' | 'exists'>;
}

/**
 * Creates a one-time, self-deleting schedule at `at` that invokes `target` with `input`;
 * `exists` when one of that name is already there (names are deterministic, so that is the
 * same schedule a duplicate delivery already made).
 */
async function createOneTimeSchedule(
  client: SchedulerClient,
  target: RetryTarget,
  schedule: { name: string; at: number; input: unknown; description: string },
): Promise<'created' | 'exists'> {
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
}

/** Window closes through EventBridge Scheduler, invoking the `trigger` function. */
export function sdkWindowScheduler(client: SchedulerClient, target: RetryTarget): WindowSchedulerPort {
  return { scheduleClose: (schedule) => createOneTimeSchedule(client, target, schedule) };
}

/** EventBridge Scheduler through the AWS SDK. */
export function sdkRetryScheduler(client: SchedulerClient, target: RetryTarget): RetrySchedulerPort {
  return {
    scheduleRetry: (schedule) =>
      createOneTimeSchedule(client, target, {
        ...schedule,
        description: schedule.description ?? `Batchron retry: ${schedule.input.runId} ${schedule.input.task} attempt ${schedule.input.attempt}`,
      }),
  };
}

/* ------------------------------------------------------------------ the stores */

/**
 * How a run's creation changes its schedule's overlap state, in the same atomic write. Each
 * applies only while the schedule is not paused; otherwise the creation reports `state-changed`.
 * - `become-active`: the run becomes the schedule's only active run; requires none active.
 * - `queue`: the run becomes the queue-one waiter; requires a run active and none queued.
 * - `replace-active`: the run replaces the active set (cancel-previous); requires the state
 *   to be still at `expectedVersion`, so "the previous runs" are exactly those read.
 */
export type OverlapChange =
  | { kind: 'become-active' }
  | { kind: 'queue' }
  | { kind: 'replace-active'; expectedVersion: number };

/** What a creation did: created, found the run already there, or lost the state's condition. */
export type CreateOutcome = 'created' | 'run-exists' | 'state-changed';

/** A run as its schedule's series knows it: which run, at which scheduled time. */
export interface RunRef {
  runId: string;
  scheduledTime: string;
}

/** One run of a listing and the key that orders it (newest scheduled time first). */
export interface ListedRun {
  /** The scheduled time and run id, as the index sorts them; a keyset cursor resumes below it. */
  sortKey: string;
  summary: RunSummary;
}

/**
 * Run items. Writes are conditional: a run is created once, and a save is over the version
 * read (`run.version`), storing `version + 1`. Reads are strongly consistent unless asked not to be.
 */
export interface RunStore {
  /** One run with its definition; undefined when there is none. */
  getRun(runId: string, consistent?: boolean): Promise<RunItem | undefined>;
  /** Creates `run` unless a run with its id exists (then false). */
  putNewRun(run: RunItem, retentionDays: number): Promise<boolean>;
  /** Creates `run` and applies `change` to its schedule's state, both or neither. */
  createRunWithState(run: RunItem, change: OverlapChange, retentionDays: number): Promise<CreateOutcome>;
  /**
   * Writes `run` over `run.version`; returns it as stored (`version + 1`). Throws
   * RunVersionConflictError carrying the run as it stands when someone wrote in between.
   */
  saveRun(run: RunItem): Promise<RunItem>;
  /**
   * Up to `limit` runs of one schedule, newest scheduled time first, with sort keys below
   * `before` (absent: from the newest) and, with `status`, only runs in that status.
   * `more`: there may be runs after the last one returned.
   */
  listRunsBySchedule(
    schedule: string,
    /** `before` (exclusive) and `after` (inclusive) bound the by-schedule sort key (`<scheduled time>#<run id>`). */
    options: { limit: number; before?: string; after?: string; status?: RunStatus },
  ): Promise<{ items: ListedRun[]; more: boolean }>;
  /** Ids of every run not yet finalized (the sweeper's work list). */
  listActiveRunIds(): Promise<string[]>;
  /** Every run of `schedule` scheduled in [from, to), earliest first (an index read: a run created a moment ago may be missing). */
  listRunsScheduledBetween(schedule: string, from: Date, to: Date): Promise<RunSummary[]>;
  /** The same runs without their status: what the index alone holds, so no run item is read. */
  listRunTimesBetween(schedule: string, from: Date, to: Date): Promise<RunRef[]>;
  /** The run of `schedule` with the latest scheduled time. */
  latestRunByScheduledTime(schedule: string): Promise<RunSummary | undefined>;
}

/** The outcome a finished run leaves for its schedule. */
export type Outcome = 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** Per-schedule runtime state: pause flag, runs active for overlap, the queue-one waiter, the last outcome. */
export interface ScheduleStateStore {
  /** A schedule never touched has an empty state (version 0). */
  getScheduleState(schedule: string): Promise<ScheduleState>;
  setPaused(schedule: string, paused: boolean): Promise<void>;
  /**
   * Releases a finished run: drops it from `active` (and from `queued` if it was the waiter)
   * and records its outcome unless a later-scheduled run already did. Idempotent. Returns the
   * state after and the outcome before this run (for "recovered").
   */
  releaseRun(input: { schedule: string; runId: string; scheduledTime: string; outcome: Outcome }): Promise<{
    state: ScheduleState;
    previousOutcome: Outcome | undefined;
  }>;
  /** Promotes the queue-one waiter `runId` to active if nothing is active; true when this call did. */
  promoteQueued(schedule: string, runId: string): Promise<boolean>;
}

/** The deployment's SubmitJob pacer (generic cell rate algorithm over one shared `tat`). */
export interface Pacer {
  /** Reserves the next SubmitJob slot at `rate` calls per second; its time (epoch ms, `now` or later). */
  reserveSubmitSlot(rate: number, now: number): Promise<number>;
}

/** Everything the engine and the API keep in the table. */
export interface Store extends RunStore, ScheduleStateStore, Pacer {}
