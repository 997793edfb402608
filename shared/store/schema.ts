/**
 * The shapes of the engine's items in the one table. Items read back are parsed with these
 * schemas, never cast, so drift between writer and reader fails loudly (CorruptItemError)
 * instead of propagating `undefined`.
 *
 * A run is ONE item: its tasks and their attempts live inside it. A run's transitions
 * (fan-in, run status, on-failure activation) then happen in one conditional write guarded
 * by `version`, with no cross-item transaction. The cost is contention when many tasks of
 * one run finish at once (resolved by re-read and retry) and the 400 KB item limit, which
 * bounds a run to a few hundred task attempts; see docs/engine.md.
 */
import * as z from '../zod.ts';
import { ScheduleDefinitionSchema } from '../config/definition.ts';

/** Run status as users see it. */
export const RunStatusSchema = z.enum(['QUEUED', 'SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

/**
 * Task status. PENDING waits for its dependencies (or for the run to fail, for on-failure
 * tasks); READY must be submitted (its current attempt carries the submission lease);
 * RETRY_WAIT waits for its backoff to elapse.
 */
export const TaskStatusSchema = z.enum([
  'PENDING',
  'READY',
  'SUBMITTED',
  'RUNNING',
  'RETRY_WAIT',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
]);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

/** Status of one Batch job (one attempt); SUBMITTING means the lease is held and no job id is recorded yet. */
export const AttemptStatusSchema = z.enum(['SUBMITTING', 'SUBMITTED', 'RUNNING', 'SUCCEEDED', 'FAILED']);
export type AttemptStatus = z.infer<typeof AttemptStatusSchema>;

export const AttemptSchema = z.object({
  attempt: z.number().check(z.int(), z.minimum(1)),
  jobName: z.string(),
  jobId: z.optional(z.string()),
  status: AttemptStatusSchema,
  exitCode: z.optional(z.number().check(z.int())),
  statusReason: z.optional(z.string()),
  logStreamName: z.optional(z.string()),
  /** ISO times. */
  submittedAt: z.optional(z.string()),
  startedAt: z.optional(z.string()),
  stoppedAt: z.optional(z.string()),
  /** The invocation that may submit this attempt, until `leaseUntil` (epoch ms). */
  leaseOwner: z.optional(z.string()),
  leaseUntil: z.optional(z.number()),
  /**
   * A submission slot (epoch ms) reserved from the deployment's SubmitJob pacer and handed
   * over to a later invocation (a deferral) because it lay beyond this one's time budget.
   */
  slotAt: z.optional(z.number()),
  /** How many times the submission was deferred to a one-time schedule (names each deferral). */
  deferrals: z.optional(z.number().check(z.int())),
});
export type Attempt = z.infer<typeof AttemptSchema>;

export const TaskStateSchema = z.object({
  name: z.string(),
  /** `main` tasks form the DAG; `onFailure` tasks run only when the run fails. */
  phase: z.enum(['main', 'onFailure']),
  status: TaskStatusSchema,
  /** Why the task is CANCELLED or FAILED, in words. */
  reason: z.optional(z.string()),
  /** When the next attempt is due (ISO), while RETRY_WAIT. */
  retryAt: z.optional(z.string()),
  /**
   * The first attempt of this task in the run's current attempt (a re-run continues the
   * numbering, so job names stay unique; retries count from here). Absent: 1.
   */
  firstAttempt: z.optional(z.number().check(z.int(), z.minimum(1))),
  attempts: z.array(AttemptSchema),
});
export type TaskState = z.infer<typeof TaskStateSchema>;

/** A notification the engine owes: PENDING until claimed, SENDING while claimed (until `until`), SENT. */
export const NotificationSchema = z.object({
  status: z.enum(['PENDING', 'SENDING', 'SENT']),
  until: z.optional(z.number()),
  tries: z._default(z.number().check(z.int()), 0),
  lastError: z.optional(z.string()),
});
export type Notification = z.infer<typeof NotificationSchema>;

export const StuckStateSchema = z.enum(['QUEUED', 'SUBMITTED', 'RUNNING']);
export type StuckState = z.infer<typeof StuckStateSchema>;

/** A finished attempt of a run, kept when the run is re-run (`history`). */
export const RunAttemptSummarySchema = z.object({
  attempt: z.number().check(z.int(), z.minimum(1)),
  status: RunStatusSchema,
  statusReason: z.optional(z.string()),
  startedAt: z.string(),
  endedAt: z.optional(z.string()),
  /** Each task's status at the end of that attempt. */
  tasks: z.record(z.string(), TaskStatusSchema),
  /** The Idempotency-Key of the re-run that started that attempt. */
  rerunKey: z.optional(z.string()),
});
export type RunAttemptSummary = z.infer<typeof RunAttemptSummarySchema>;

/**
 * A dependent run's wait for its upstreams' runs of the same logical date
 * (shared/engine/dependencies.ts). The run waits `held` until `needs` is empty.
 */
export const RunDependencySchema = z.object({
  /** The business day (`YYYY-MM-DD`) the run is for. */
  logicalDate: z.string(),
  /** What the run still waits for: upstream schedule names, and `(fire)` for its own scheduled fire. */
  needs: z.array(z.string()),
  /** Upstream schedule -> `<run id>#<attempt>` of the upstream run that met it last. */
  met: z.record(z.string(), z.string()),
  /** Epoch ms at which the wait ends (`wait.within` after it began); absent until the run counts as waiting. */
  until: z.optional(z.number()),
  /** ISO time the wait ended with every upstream met. */
  releasedAt: z.optional(z.string()),
  /** The wait ended at `until` with upstreams missing. */
  expired: z.optional(z.boolean()),
});
export type RunDependency = z.infer<typeof RunDependencySchema>;

export const RunItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  gsi1pk: z.string(),
  gsi1sk: z.string(),
  activePk: z.optional(z.string()),
  activeSk: z.optional(z.string()),
  expiresAt: z.optional(z.number().check(z.int())),
  kind: z.literal('run'),
  runId: z.string(),
  schedule: z.string(),
  scheduledTime: z.string(),
  trigger: z.enum(['schedule', 'api', 'backfill', 'event']),
  /** `sweeper`: the fire's delivery was lost and the sweeper created the run (shared/engine/missed.ts). */
  recoveredBy: z.optional(z.literal('sweeper')),
  parameters: z.record(z.string(), z.string()),
  /** The definition this run started with; editing the schedule never changes a run half-way. */
  definition: ScheduleDefinitionSchema,
  status: RunStatusSchema,
  statusReason: z.optional(z.string()),
  /** Set while a queue-one run waits for the active one to end, or a dependent run for its upstreams. */
  held: z.optional(z.boolean()),
  /** A dependent run's wait for its upstreams (schedules with `after`). */
  dependency: z.optional(RunDependencySchema),
  /**
   * Failed because its jobs were ended by the stop of the stack they ran on (the local
   * stack's Ctrl-C; see BATCHRON_QUIET_FAILURE_REASONS): not notified, and counted as an
   * interruption, not a failure, for the "recovered" message.
   */
  interrupted: z.optional(z.boolean()),
  /** The run's attempt: 1, then one more for each re-run (POST /runs/{id}/rerun). Absent: 1. */
  attempt: z.optional(z.number().check(z.int(), z.minimum(1))),
  /** When the current attempt started (a re-run); absent: createdAt. */
  attemptStartedAt: z.optional(z.string()),
  /** The Idempotency-Key of the re-run that started the current attempt. */
  rerunKey: z.optional(z.string()),
  /** The earlier attempts, oldest first. */
  history: z.optional(z.array(RunAttemptSummarySchema)),
  /** Runs this one cancels (cancel-previous); re-driven until they are terminal. */
  supersedes: z.optional(z.array(z.string())),
  tasks: z.record(z.string(), TaskStateSchema),
  createdAt: z.string(),
  updatedAt: z.string(),
  endedAt: z.optional(z.string()),
  /** When the run entered each non-terminal status, for stuck alerts. */
  since: z._default(z.partialRecord(StuckStateSchema, z.string()), {}),
  notify: z._default(
    z.object({
      failure: z.optional(NotificationSchema),
      recovery: z.optional(NotificationSchema),
      stuck: z.optional(z.partialRecord(StuckStateSchema, NotificationSchema)),
    }),
    {},
  ),
  /** Terminal and no job of it still running: only the finishing steps remain. */
  settled: z.boolean(),
  /** The finishing steps are done: overlap released, notifications sent, out of the active index. */
  finalized: z.boolean(),
  version: z.number().check(z.int(), z.minimum(0)),
});
export type RunItem = z.infer<typeof RunItemSchema>;

/**
 * The run item as stored: everything but the definition, which is written once per
 * definition version in its own item (`DEF#<hash>` / `DEF`, shared/store/definitions.ts) and
 * attached when the run is read. Every state change then rewrites a ~1 KB item instead of one
 * that carries the whole definition (write units are billed per KB written, for the table
 * and again for each index), and a run of a known version writes no definition at all.
 */
export const RunStateItemSchema = z.omit(RunItemSchema, { definition: true });
export type RunStateItem = z.infer<typeof RunStateItemSchema>;

/** A run's own definition item (`RUN#<id>` / `DEF`) as earlier versions wrote one per run: still read, never written. */
export const RunDefinitionItemSchema = z.object({
  pk: z.string(),
  sk: z.literal('DEF'),
  kind: z.literal('run-definition'),
  runId: z.string(),
  definition: ScheduleDefinitionSchema,
  expiresAt: z.optional(z.number().check(z.int())),
});
export type RunDefinitionItem = z.infer<typeof RunDefinitionItemSchema>;

/** The fields of a run a listing returns (what GSI1 projects at least). */
export const RunSummarySchema = z.object({
  runId: z.string(),
  schedule: z.string(),
  scheduledTime: z.string(),
  trigger: z.enum(['schedule', 'api', 'backfill', 'event']),
  status: RunStatusSchema,
  statusReason: z.optional(z.string()),
  createdAt: z.string(),
  endedAt: z.optional(z.string()),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

/**
 * Per-schedule runtime state (not the definition: that travels in the Scheduler target).
 * `active` holds the runs that count for overlap (every policy but `allow`), `queued` the
 * one queue-one waiter; `lastOutcome`/`prevOutcome` drive the "recovered" message.
 */
export const ScheduleStateSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  kind: z.literal('schedule-state'),
  schedule: z.string(),
  paused: z._default(z.boolean(), false),
  active: z.optional(z.set(z.string())),
  queued: z.optional(z.string()),
  lastRunId: z.optional(z.string()),
  lastScheduledTime: z.optional(z.string()),
  lastOutcome: z.optional(z.enum(['SUCCEEDED', 'FAILED', 'CANCELLED'])),
  prevOutcome: z.optional(z.enum(['SUCCEEDED', 'FAILED', 'CANCELLED'])),
  version: z._default(z.number().check(z.int(), z.minimum(0)), 0),
});
export type ScheduleState = z.infer<typeof ScheduleStateSchema>;
