/**
 * The normalized schedule definition: what a schedule means once defaults are applied,
 * `job:` is expanded to one task, job definitions and queues are resolved to the names
 * Batch knows, and the tasks are checked to form a DAG.
 *
 * It travels inside the EventBridge Scheduler target input (`FireInput.definition`), so
 * EventBridge Scheduler is the registry of schedules, declared and dynamic alike, and
 * `fire` needs no lookup. Each run keeps the copy it started with, so editing a schedule
 * never changes a run half-way.
 *
 * Written with zod/mini (../zod.ts): these schemas are in every engine function's bundle.
 * The config side (./schema.ts, classic zod) embeds the two shapes a user writes as is,
 * the overlap policy and a parameter, from here.
 */
import * as z from '../zod.ts';
import { SlackRoutesSchema } from '../notify/routing.ts';
import { DeadlineDefinitionSchema } from './deadline.ts';

export const OverlapPolicySchema = z.enum(['allow', 'skip', 'queue-one', 'cancel-previous']);
export type OverlapPolicy = z.infer<typeof OverlapPolicySchema>;

/** A run parameter as declared in serverless.yml (./schema.ts) and as kept in the definition. */
export const ParameterSchema = z.strictObject({
  description: z.optional(z.string()),
  default: z.optional(z.string()),
  required: z._default(z.boolean(), false),
  /** A regular expression the value must match in full. */
  pattern: z.optional(z.string()),
});

const int = () => z.number().check(z.int());

export const RetryPolicyDefinitionSchema = z.object({
  attempts: int().check(z.minimum(1), z.maximum(10)),
  backoff: z.object({
    initialSeconds: z.number().check(z.minimum(0)),
    multiplier: z.number().check(z.minimum(1)),
    maxSeconds: z.number().check(z.minimum(0)),
    jitter: z.enum(['full', 'equal', 'none']),
  }),
  retryOn: z.object({
    exitCodes: z.union([z.literal('any'), z.array(int())]),
    statusReasons: z.array(z.string()),
    timeouts: z.boolean(),
  }),
});
export type RetryPolicyDefinition = z.infer<typeof RetryPolicyDefinitionSchema>;

const nonEmpty = () => z.string().check(z.minLength(1));

export const TaskDefinitionSchema = z.object({
  name: nonEmpty(),
  /** Batch job definition name (no revision: the latest ACTIVE one is used). */
  jobDefinition: nonEmpty(),
  /** Batch job queue name or ARN. */
  jobQueue: nonEmpty(),
  command: z.optional(z.array(z.string())),
  environment: z.optional(z.record(z.string(), z.string())),
  parameters: z.optional(z.record(z.string(), z.string())),
  vcpus: z.optional(z.number().check(z.positive())),
  memory: z.optional(int().check(z.positive())),
  timeoutSeconds: z.optional(int().check(z.minimum(60))),
  dependsOn: z.array(z.string()),
  retry: RetryPolicyDefinitionSchema,
});
export type TaskDefinition = z.infer<typeof TaskDefinitionSchema>;

/**
 * What the sweeper does with a fire that never became a run (the event was lost after every
 * retry): a fire missed less than `windowMinutes` ago is always run; an older one is run
 * (`run`), recorded SKIPPED with one alert (`alert`), or recorded SKIPPED silently (`skip`).
 */
export const CatchUpSchema = z.object({
  mode: z.enum(['run', 'alert', 'skip']),
  windowMinutes: z.number().check(z.int(), z.minimum(1), z.maximum(1440)),
});
export type CatchUp = z.infer<typeof CatchUpSchema>;
export const DEFAULT_CATCH_UP: CatchUp = { mode: 'alert', windowMinutes: 60 };

/**
 * An upstream a dependent schedule waits for (`after`), or a dependent an upstream releases
 * (`dependents`), with the outcome that counts: `COMPLETED` is SUCCEEDED or FAILED.
 */
export const DependencyLinkSchema = z.object({
  schedule: nonEmpty(),
  status: z.enum(['SUCCEEDED', 'FAILED', 'COMPLETED']),
});
export type DependencyLink = z.infer<typeof DependencyLinkSchema>;

/** How a dependent run waits (shared/engine/dependencies.ts). */
export const DependencyWaitSchema = z.object({
  /** How long the run for a logical date waits for its upstreams before it ends. */
  withinMinutes: z.number().check(z.positive()),
  /** What the run becomes when `within` passes: FAILED (`fail`) or SKIPPED (`skip`); alerted once either way. */
  onExpiry: z.enum(['fail', 'skip']),
  /** `rerun`: an upstream run for the same date that meets the status again re-runs the finished dependent run. */
  onUpstreamRerun: z.enum(['ignore', 'rerun']),
});
export type DependencyWait = z.infer<typeof DependencyWaitSchema>;

const BaseScheduleDefinitionSchema = z.object({
  name: nonEmpty(),
  /** Absent for a schedule started only by event triggers. */
  expression: z.optional(nonEmpty()),
  timezone: nonEmpty(),
  overlap: OverlapPolicySchema,
  parameters: z.record(z.string(), ParameterSchema),
  /** In a topological order: every task after the tasks it depends on. */
  tasks: z.array(TaskDefinitionSchema).check(z.minLength(1)),
  /** Run only when the run fails; no dependencies among them. */
  onFailure: z.array(TaskDefinitionSchema),
  notify: z.object({
    onFailure: z.boolean(),
    onRecovery: z.boolean(),
    stuckAfterMinutes: z.object({
      queued: z.number().check(z.positive()),
      submitted: z.number().check(z.positive()),
      running: z.number().check(z.positive()),
    }),
    /** Where its Slack messages go (shared/notify/routing.ts); absent = the deployment's webhook. */
    slack: z.optional(SlackRoutesSchema),
  }),
  tags: z.record(z.string(), z.string()),
  /** Absent in definitions written before it existed: the default then. */
  catchUp: z.optional(CatchUpSchema),
  /** The logical date of a run is its scheduled time's date on `timezone`, moved by this many days (default 0). */
  logicalDateOffsetDays: z.optional(int()),
  /** Upstream schedules whose runs for the same logical date this schedule's runs wait for. */
  after: z.optional(z.array(DependencyLinkSchema)),
  /** With `after`: the wait's limit and rules. */
  wait: z.optional(DependencyWaitSchema),
  /** Schedules that wait for this one (their `after` names it), with the status each needs. */
  dependents: z.optional(z.array(DependencyLinkSchema)),
  /** By when the run for a logical date (or each fire's run) must have succeeded (./deadline.ts). */
  deadline: z.optional(DeadlineDefinitionSchema),
});

/** A schedule's definition without the definitions of its dependents. */
export type BaseScheduleDefinition = z.infer<typeof BaseScheduleDefinitionSchema>;

export const ScheduleDefinitionSchema = z.extend(BaseScheduleDefinitionSchema, {
  /**
   * The definitions of every schedule downstream of this one (its dependents, theirs, …),
   * flat by name: a dependent without a time expression has no Scheduler target of its
   * own, so its runs are created from here when an upstream run for its date ends.
   */
  downstream: z.optional(z.record(z.string(), BaseScheduleDefinitionSchema)),
});
export type ScheduleDefinition = z.infer<typeof ScheduleDefinitionSchema>;

/**
 * What EventBridge Scheduler sends to `fire`. The target input template is
 * `{"schedule": "<name>", "scheduledTime": "<aws.scheduler.scheduled-time>", "definition": {...}}`;
 * an ad hoc or backfill run reaches the same code with `trigger` and `parameters` set.
 */
export const FireInputSchema = z.object({
  schedule: nonEmpty(),
  scheduledTime: z.iso.datetime({ offset: true }),
  definition: ScheduleDefinitionSchema,
  trigger: z._default(z.enum(['schedule', 'api', 'backfill', 'event']), 'schedule'),
  parameters: z._default(z.record(z.string(), z.string()), {}),
  /** Execution id Scheduler substitutes for `<aws.scheduler.execution-id>`; for logs only. */
  executionId: z.optional(z.string()),
  /** Set when the sweeper created the run of a fire whose delivery was lost. */
  recoveredBy: z.optional(z.literal('sweeper')),
});
export type FireInput = z.infer<typeof FireInputSchema>;

/** What the one-time retry schedule sends to the `retry` function. */
export const RetryInputSchema = z.object({
  runId: nonEmpty(),
  task: nonEmpty(),
  // 1 as well: a deferred submission (a SubmitJob slot handed to a one-time schedule) can be any attempt's.
  attempt: int().check(z.minimum(1)),
});
export type RetryInput = z.infer<typeof RetryInputSchema>;

/**
 * Environment variables every function reads (once, at cold start, in shared/env.ts).
 * serverless.yml sets them on AWS; the local deploy sets the same names.
 */
export const ENV = {
  table: 'BATCHRON_TABLE',
  deployment: 'BATCHRON_DEPLOYMENT',
  scheduleGroup: 'BATCHRON_SCHEDULE_GROUP',
  fireTargetArn: 'BATCHRON_FIRE_TARGET_ARN',
  retryTargetArn: 'BATCHRON_RETRY_TARGET_ARN',
  triggerTargetArn: 'BATCHRON_TRIGGER_TARGET_ARN',
  schedulerRoleArn: 'BATCHRON_SCHEDULER_ROLE_ARN',
  defaultQueue: 'BATCHRON_DEFAULT_QUEUE',
  retentionDays: 'BATCHRON_RETENTION_DAYS',
  submitRate: 'BATCHRON_SUBMIT_RATE',
  slackWebhookParameter: 'BATCHRON_SLACK_WEBHOOK_PARAMETER',
  slackWebhookUrl: 'SLACK_WEBHOOK_URL',
  jobLogGroup: 'BATCHRON_JOB_LOG_GROUP',
  stuckQueuedMinutes: 'BATCHRON_STUCK_QUEUED_MINUTES',
  stuckSubmittedMinutes: 'BATCHRON_STUCK_SUBMITTED_MINUTES',
  stuckRunningMinutes: 'BATCHRON_STUCK_RUNNING_MINUTES',
  /**
   * A JSON array of status-reason globs: a run that fails for good on an attempt whose Batch
   * status reason matches one is recorded FAILED and `interrupted`, without a failure message.
   * Set by the local stack for the jobs its own stop ended; unset on AWS.
   */
  quietFailureReasons: 'BATCHRON_QUIET_FAILURE_REASONS',
  /** `true` when dynamic schedules may replace a job definition's command (custom.batchron.api.allowCommandOverride). */
  allowCommandOverride: 'BATCHRON_ALLOW_COMMAND_OVERRIDE',
} as const;
