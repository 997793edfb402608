/**
 * The normalized schedule definition: what a schedule means once defaults are applied,
 * `job:` is expanded to one task, job definitions and queues are resolved to the names
 * Batch knows, and the tasks are checked to form a DAG.
 *
 * It travels inside the EventBridge Scheduler target input (`FireInput.definition`), so
 * EventBridge Scheduler is the registry of schedules, declared and dynamic alike, and
 * `fire` needs no lookup. Each run keeps the copy it started with, so editing a schedule
 * never changes a run half-way.
 */
import { z } from 'zod';
import { OverlapPolicySchema, ParameterSchema } from './schema.ts';

export const RetryPolicyDefinitionSchema = z.object({
  attempts: z.number().int().min(1).max(10),
  backoff: z.object({
    initialSeconds: z.number().min(0),
    multiplier: z.number().min(1),
    maxSeconds: z.number().min(0),
    jitter: z.enum(['full', 'equal', 'none']),
  }),
  retryOn: z.object({
    exitCodes: z.union([z.literal('any'), z.array(z.number().int())]),
    statusReasons: z.array(z.string()),
    timeouts: z.boolean(),
  }),
});
export type RetryPolicyDefinition = z.infer<typeof RetryPolicyDefinitionSchema>;

export const TaskDefinitionSchema = z.object({
  name: z.string().min(1),
  /** Batch job definition name (no revision: the latest ACTIVE one is used). */
  jobDefinition: z.string().min(1),
  /** Batch job queue name or ARN. */
  jobQueue: z.string().min(1),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  parameters: z.record(z.string(), z.string()).optional(),
  vcpus: z.number().positive().optional(),
  memory: z.number().int().positive().optional(),
  timeoutSeconds: z.number().int().min(60).optional(),
  dependsOn: z.array(z.string()),
  retry: RetryPolicyDefinitionSchema,
});
export type TaskDefinition = z.infer<typeof TaskDefinitionSchema>;

export const ScheduleDefinitionSchema = z.object({
  name: z.string().min(1),
  expression: z.string().min(1),
  timezone: z.string().min(1),
  overlap: OverlapPolicySchema,
  parameters: z.record(z.string(), ParameterSchema),
  /** In a topological order: every task after the tasks it depends on. */
  tasks: z.array(TaskDefinitionSchema).min(1),
  /** Run only when the run fails; no dependencies among them. */
  onFailure: z.array(TaskDefinitionSchema),
  notify: z.object({
    onFailure: z.boolean(),
    onRecovery: z.boolean(),
    stuckAfterMinutes: z.object({
      queued: z.number().positive(),
      submitted: z.number().positive(),
      running: z.number().positive(),
    }),
  }),
  tags: z.record(z.string(), z.string()),
});
export type ScheduleDefinition = z.infer<typeof ScheduleDefinitionSchema>;

/**
 * What EventBridge Scheduler sends to `fire`. The target input template is
 * `{"schedule": "<name>", "scheduledTime": "<aws.scheduler.scheduled-time>", "definition": {...}}`;
 * an ad hoc or backfill run reaches the same code with `trigger` and `parameters` set.
 */
export const FireInputSchema = z.object({
  schedule: z.string().min(1),
  scheduledTime: z.iso.datetime({ offset: true }),
  definition: ScheduleDefinitionSchema,
  trigger: z.enum(['schedule', 'api', 'backfill']).default('schedule'),
  parameters: z.record(z.string(), z.string()).default({}),
  /** Execution id Scheduler substitutes for `<aws.scheduler.execution-id>`; for logs only. */
  executionId: z.string().optional(),
});
export type FireInput = z.infer<typeof FireInputSchema>;

/** What the one-time retry schedule sends to the `retry` function. */
export const RetryInputSchema = z.object({
  runId: z.string().min(1),
  task: z.string().min(1),
  // 1 as well: a deferred submission (a SubmitJob slot handed to a one-time schedule) can be any attempt's.
  attempt: z.number().int().min(1),
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
} as const;
