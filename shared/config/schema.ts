/**
 * The `custom.batchron` block of serverless.yml: schedules as code. Parsed with zod at
 * package time (the osls plugin), at local start and by `batchron validate`, so a bad
 * schedule is refused before anything is deployed, with the schedule, the field and what
 * is allowed in the message. Types are inferred from the schemas; nothing is cast.
 *
 * This file holds the shapes; cross-field rules (valid expression, time zone, DAG with no
 * cycle, known task names, known job definitions) live in ./validate.ts. The overlap
 * policy and the parameter shape are written once, in ./definition.ts (zod/mini, for the
 * Lambda bundles), and embedded here as they are: the two APIs share zod's core.
 */
import * as z from 'zod';
import { OverlapPolicySchema, ParameterSchema } from './definition.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const nameMessage = 'use 1-64 letters, digits, "-", "_" or "." (starting with a letter or digit)';

export const NameSchema = z.string().regex(NAME, nameMessage);

/** A whole number in [min, max]; the message names both bounds whichever one is crossed. */
const intBetween = (min: number, max: number) =>
  z
    .number()
    .int(`must be a whole number between ${min} and ${max}`)
    .min(min, `must be between ${min} and ${max}`)
    .max(max, `must be between ${min} and ${max}`);

/** A number in [min, max]. */
const numberBetween = (min: number, max: number) =>
  z.number().min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`);

/**
 * Batch status reasons (globs, `*` at the end) that mean the host, not the code, failed:
 * retried by default whatever the exit code.
 */
export const HOST_FAILURE_REASONS = [
  'Host EC2*',
  'Task failed to start*',
  'CannotPullContainerError*',
  'ResourceInitializationError*',
  'Timeout waiting for network interface*',
  'DockerTimeoutError*',
] as const;

export const BackoffSchema = z
  .object({
    /** Delay before the first retry. */
    initialSeconds: intBetween(0, 86_400).default(30),
    /** Each further retry waits this much longer than the one before. */
    multiplier: numberBetween(1, 10).default(2),
    /** No delay is longer than this. */
    maxSeconds: intBetween(1, 86_400).default(900),
    /** `full`: uniform in [0, delay]; `equal`: delay/2 + uniform in [0, delay/2]; `none`. */
    jitter: z.enum(['full', 'equal', 'none']).default('full'),
  })
  .strict();

export const RetryPolicySchema = z
  .object({
    /** Total attempts, the first included (1 = no retry). */
    attempts: intBetween(1, 10).default(1),
    backoff: BackoffSchema.default(BackoffSchema.parse({})),
    retryOn: z
      .object({
        /** Exit codes that are worth another attempt; `any` retries every non-zero exit. */
        exitCodes: z
          .union([z.literal('any'), z.array(intBetween(1, 255)).min(1)], {
            error: 'must be "any" or a non-empty list of exit codes between 1 and 255',
          })
          .default('any'),
        /**
         * Batch status reasons (glob, `*` at the end) that mean the host, not the code,
         * failed; these are retried whatever the exit code.
         */
        statusReasons: z.array(z.string().min(1)).default([...HOST_FAILURE_REASONS]),
        /** Whether an attempt that hit its timeout is retried. */
        timeouts: z.boolean().default(false),
      })
      .strict()
      .default({ exitCodes: 'any', statusReasons: [], timeouts: false }),
  })
  .strict();
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

/**
 * A retry policy as written at `defaults.retry`, a schedule's `retry` or a task's `retry`:
 * every field optional and none defaulted here, so a field left out inherits from the level
 * above (task <- schedule <- defaults <- built-ins) instead of being reset to the built-in
 * value by the parser. ./validate.ts merges the levels.
 */
export const RetryOverrideSchema = z
  .object({
    attempts: RetryPolicySchema.shape.attempts.unwrap().optional(),
    backoff: z
      .object({
        initialSeconds: BackoffSchema.shape.initialSeconds.unwrap().optional(),
        multiplier: BackoffSchema.shape.multiplier.unwrap().optional(),
        maxSeconds: BackoffSchema.shape.maxSeconds.unwrap().optional(),
        jitter: BackoffSchema.shape.jitter.unwrap().optional(),
      })
      .strict()
      .optional(),
    retryOn: z
      .object({
        exitCodes: RetryPolicySchema.shape.retryOn.unwrap().shape.exitCodes.unwrap().optional(),
        statusReasons: z.array(z.string().min(1)).optional(),
        timeouts: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type RetryOverride = z.infer<typeof RetryOverrideSchema>;

export const TaskSchema = z
  .object({
    /**
     * The job definition: a key of `jobDefinitions` (declared here) or the name of one
     * that already exists. Always by name, never `name:revision`, so a new revision after
     * a deploy is picked up.
     */
    definition: z.string().min(1),
    /** Job queue name or ARN; defaults to the deployment's queue. */
    queue: z.string().min(1).optional(),
    command: z.array(z.string()).min(1).optional(),
    environment: z.record(z.string(), z.string()).optional(),
    /** Batch `Ref::` parameters; values may use `${param.NAME}` for run parameters. */
    parameters: z.record(z.string(), z.string()).optional(),
    vcpus: z.number().positive('must be more than 0').max(192, 'must be at most 192').optional(),
    memory: intBetween(128, 1_048_576).optional(),
    timeoutSeconds: z.number().int('must be whole seconds').min(60, 'must be at least 60 seconds (Batch\'s minimum)').optional(),
    dependsOn: z.array(z.string()).optional(),
    retry: RetryOverrideSchema.optional(),
  })
  .strict();
export type Task = z.infer<typeof TaskSchema>;

export const NotifySchema = z
  .object({
    /** Send a Slack message when a run fails for good. */
    onFailure: z.boolean().default(true),
    /** Send one "recovered" message when a run succeeds after a failed one. */
    onRecovery: z.boolean().default(true),
    /** Alert when a run stays too long in one state (minutes). */
    stuckAfterMinutes: z
      .object({
        queued: z.number().int().positive().optional(),
        submitted: z.number().int().positive().optional(),
        running: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const ScheduleSchema = z
  .object({
    description: z.string().max(512).optional(),
    /** `cron(...)`, `rate(...)` or `at(...)`, as EventBridge Scheduler takes them. */
    expression: z.string().min(1),
    /**
     * IANA time zone the expression is evaluated in; absent = `defaults.timezone`, then UTC.
     * Not defaulted here so that `defaults.timezone` can apply.
     */
    timezone: z.string().min(1).optional(),
    startDate: z.iso.datetime({ offset: true }).optional(),
    endDate: z.iso.datetime({ offset: true }).optional(),
    enabled: z.boolean().default(true),
    /** Let Scheduler fire up to this many minutes late to spread load (1-1440); absent = exact. */
    flexibleWindowMinutes: intBetween(1, 1440).optional(),
    /** Absent = `defaults.overlap`, then `allow`. */
    overlap: z.optional(OverlapPolicySchema),
    parameters: z.record(z.string(), ParameterSchema).optional(),
    /** A single task; shorthand for `tasks: { main: ... }`. */
    job: TaskSchema.optional(),
    tasks: z.record(z.string(), TaskSchema).optional(),
    /** Tasks that run only when the run fails. */
    onFailure: z.record(z.string(), TaskSchema).optional(),
    retry: RetryOverrideSchema.optional(),
    notify: NotifySchema.optional(),
    tags: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type ScheduleInput = z.input<typeof ScheduleSchema>;
export type ScheduleSpec = z.infer<typeof ScheduleSchema>;

export const JobDefinitionSchema = z
  .object({
    /** Container image; locally the command runs as a process in the project folder. */
    image: z.string().min(1),
    command: z.array(z.string()).min(1),
    environment: z.record(z.string(), z.string()).optional(),
    parameters: z.record(z.string(), z.string()).optional(),
    vcpus: z.number().positive('must be more than 0').max(16, 'must be at most 16 (Fargate\'s largest task)').default(0.25),
    memory: intBetween(512, 122_880).default(512),
    timeoutSeconds: z.number().int('must be whole seconds').min(60, 'must be at least 60 seconds (Batch\'s minimum)').optional(),
  })
  .strict();
export type JobDefinitionSpec = z.infer<typeof JobDefinitionSchema>;

export const BatchronConfigSchema = z
  .object({
    /** Days a finished run is kept before DynamoDB's TTL removes it. */
    retentionDays: intBetween(1, 3650).default(30),
    /**
     * SubmitJob calls per second the deployment paces itself to. AWS Batch's SubmitJob quota
     * is 50 per second per account and Region, shared by everything in the account: lower
     * this when something else submits jobs too.
     */
    submitRate: z.number().positive('must be more than 0').max(1000, 'must be at most 1000').default(50),
    /** Name of the SSM SecureString parameter holding the Slack webhook URL. */
    slackWebhookParameter: z.string().optional(),
    sweep: z
      .object({
        expression: z.string().default('rate(5 minutes)'),
        stuckAfterMinutes: z
          .object({
            queued: z.number().int().positive().default(30),
            submitted: z.number().int().positive().default(120),
            running: z.number().int().positive().default(720),
          })
          .strict()
          .default({ queued: 30, submitted: 120, running: 720 }),
      })
      .strict()
      .default({ expression: 'rate(5 minutes)', stuckAfterMinutes: { queued: 30, submitted: 120, running: 720 } }),
    defaults: z
      .object({
        queue: z.string().min(1).optional(),
        timezone: z.string().optional(),
        retry: RetryOverrideSchema.optional(),
        overlap: z.optional(OverlapPolicySchema),
      })
      .strict()
      .optional(),
    jobDefinitions: z.record(NameSchema, JobDefinitionSchema).default({}),
    schedules: z.record(NameSchema, ScheduleSchema),
  })
  .strict();
export type BatchronConfigInput = z.input<typeof BatchronConfigSchema>;
export type BatchronConfig = z.infer<typeof BatchronConfigSchema>;
