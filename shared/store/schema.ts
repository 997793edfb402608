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
import { z } from 'zod';
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
  attempt: z.number().int().min(1),
  jobName: z.string(),
  jobId: z.string().optional(),
  status: AttemptStatusSchema,
  exitCode: z.number().int().optional(),
  statusReason: z.string().optional(),
  logStreamName: z.string().optional(),
  /** ISO times. */
  submittedAt: z.string().optional(),
  startedAt: z.string().optional(),
  stoppedAt: z.string().optional(),
  /** The invocation that may submit this attempt, until `leaseUntil` (epoch ms). */
  leaseOwner: z.string().optional(),
  leaseUntil: z.number().optional(),
  /**
   * A submission slot (epoch ms) reserved from the deployment's SubmitJob pacer and handed
   * over to a later invocation (a deferral) because it lay beyond this one's time budget.
   */
  slotAt: z.number().optional(),
  /** How many times the submission was deferred to a one-time schedule (names each deferral). */
  deferrals: z.number().int().optional(),
});
export type Attempt = z.infer<typeof AttemptSchema>;

export const TaskStateSchema = z.object({
  name: z.string(),
  /** `main` tasks form the DAG; `onFailure` tasks run only when the run fails. */
  phase: z.enum(['main', 'onFailure']),
  status: TaskStatusSchema,
  /** Why the task is CANCELLED or FAILED, in words. */
  reason: z.string().optional(),
  /** When the next attempt is due (ISO), while RETRY_WAIT. */
  retryAt: z.string().optional(),
  attempts: z.array(AttemptSchema),
});
export type TaskState = z.infer<typeof TaskStateSchema>;

/** A notification the engine owes: PENDING until claimed, SENDING while claimed (until `until`), SENT. */
export const NotificationSchema = z.object({
  status: z.enum(['PENDING', 'SENDING', 'SENT']),
  until: z.number().optional(),
  tries: z.number().int().default(0),
  lastError: z.string().optional(),
});
export type Notification = z.infer<typeof NotificationSchema>;

export const StuckStateSchema = z.enum(['QUEUED', 'SUBMITTED', 'RUNNING']);
export type StuckState = z.infer<typeof StuckStateSchema>;

export const RunItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  gsi1pk: z.string(),
  gsi1sk: z.string(),
  activePk: z.string().optional(),
  activeSk: z.string().optional(),
  expiresAt: z.number().int().optional(),
  kind: z.literal('run'),
  runId: z.string(),
  schedule: z.string(),
  scheduledTime: z.string(),
  trigger: z.enum(['schedule', 'api', 'backfill']),
  parameters: z.record(z.string(), z.string()),
  /** The definition this run started with; editing the schedule never changes a run half-way. */
  definition: ScheduleDefinitionSchema,
  status: RunStatusSchema,
  statusReason: z.string().optional(),
  /** Set while a queue-one run waits for the active one to end. */
  held: z.boolean().optional(),
  /** Runs this one cancels (cancel-previous); re-driven until they are terminal. */
  supersedes: z.array(z.string()).optional(),
  tasks: z.record(z.string(), TaskStateSchema),
  createdAt: z.string(),
  updatedAt: z.string(),
  endedAt: z.string().optional(),
  /** When the run entered each non-terminal status, for stuck alerts. */
  since: z.partialRecord(StuckStateSchema, z.string()).default({}),
  notify: z
    .object({
      failure: NotificationSchema.optional(),
      recovery: NotificationSchema.optional(),
      stuck: z.partialRecord(StuckStateSchema, NotificationSchema).optional(),
    })
    .default({}),
  /** Terminal and no job of it still running: only the finishing steps remain. */
  settled: z.boolean(),
  /** The finishing steps are done: overlap released, notifications sent, out of the active index. */
  finalized: z.boolean(),
  version: z.number().int().min(0),
});
export type RunItem = z.infer<typeof RunItemSchema>;

/**
 * The run item as stored: everything but the definition, which is written once, in its own
 * item (`RUN#<id>` / `DEF`), and read back with the run by one Query. Every state change
 * then rewrites a ~1 KB item instead of one that carries the whole definition (write units
 * are billed per KB written, for the table and again for each index).
 */
export const RunStateItemSchema = RunItemSchema.omit({ definition: true });
export type RunStateItem = z.infer<typeof RunStateItemSchema>;

/** The immutable definition snapshot of a run. */
export const RunDefinitionItemSchema = z.object({
  pk: z.string(),
  sk: z.literal('DEF'),
  kind: z.literal('run-definition'),
  runId: z.string(),
  definition: ScheduleDefinitionSchema,
  expiresAt: z.number().int().optional(),
});
export type RunDefinitionItem = z.infer<typeof RunDefinitionItemSchema>;

/** The fields of a run a listing returns (what GSI1 projects at least). */
export const RunSummarySchema = z.object({
  runId: z.string(),
  schedule: z.string(),
  scheduledTime: z.string(),
  trigger: z.enum(['schedule', 'api', 'backfill']),
  status: RunStatusSchema,
  statusReason: z.string().optional(),
  createdAt: z.string(),
  endedAt: z.string().optional(),
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
  paused: z.boolean().default(false),
  active: z.set(z.string()).optional(),
  queued: z.string().optional(),
  lastRunId: z.string().optional(),
  lastScheduledTime: z.string().optional(),
  lastOutcome: z.enum(['SUCCEEDED', 'FAILED', 'CANCELLED']).optional(),
  prevOutcome: z.enum(['SUCCEEDED', 'FAILED', 'CANCELLED']).optional(),
  version: z.number().int().min(0).default(0),
});
export type ScheduleState = z.infer<typeof ScheduleStateSchema>;
