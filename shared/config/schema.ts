/**
 * The `custom.batchron` block of serverless.yml: schedules as code. Parsed with zod at
 * package time (the osls plugin), at local start and by `batchron validate`, so a bad
 * schedule is refused before anything is deployed, with the schedule, the field and what
 * is allowed in the message. Types are inferred from the schemas; nothing is cast.
 *
 * This file holds the shapes; cross-field rules (valid expression, time zone, DAG with no
 * cycle, known task names, known job definitions) live in ./validate.ts. The overlap
 * policy and the parameter shape are written once, in ./definition.ts, and embedded here.
 * zod/mini (../zod.ts) as everywhere under shared/: the api function bundles this file.
 */
import * as z from '../zod.ts';
import { OverlapPolicySchema, ParameterSchema } from './definition.ts';
import { DeadlineSpecSchema } from './deadline.ts';
import { SlackRoutesSchema } from '../notify/routing.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const nameMessage = 'use 1-64 letters, digits, "-", "_" or "." (starting with a letter or digit)';

export const NameSchema = z.string().check(z.regex(NAME, nameMessage));

/** A whole number in [min, max]; the message names both bounds whichever one is crossed. */
const intBetween = (min: number, max: number) =>
  z
    .number()
    .check(
      z.int(`must be a whole number between ${min} and ${max}`),
      z.minimum(min, `must be between ${min} and ${max}`),
      z.maximum(max, `must be between ${min} and ${max}`),
    );

/** A number in [min, max]. */
const numberBetween = (min: number, max: number) =>
  z.number().check(z.minimum(min, `must be between ${min} and ${max}`), z.maximum(max, `must be between ${min} and ${max}`));

const nonEmpty = () => z.string().check(z.minLength(1));
const positiveInt = () => z.number().check(z.int(), z.positive());
const wholeSeconds = () => z.number().check(z.int('must be whole seconds'), z.minimum(60, "must be at least 60 seconds (Batch's minimum)"));

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

// The fields of a retry policy, each written once: defaulted in RetryPolicySchema, optional
// in RetryOverrideSchema.
const Attempts = intBetween(1, 10);
const InitialSeconds = intBetween(0, 86_400);
const Multiplier = numberBetween(1, 10);
const MaxSeconds = intBetween(1, 86_400);
const Jitter = z.enum(['full', 'equal', 'none']);
const ExitCodes = z.union([z.literal('any'), z.array(intBetween(1, 255)).check(z.minLength(1))], {
  error: 'must be "any" or a non-empty list of exit codes between 1 and 255',
});
const StatusReasons = z.array(nonEmpty());

export const BackoffSchema = z.strictObject({
  /** Delay before the first retry. */
  initialSeconds: z._default(InitialSeconds, 30),
  /** Each further retry waits this much longer than the one before. */
  multiplier: z._default(Multiplier, 2),
  /** No delay is longer than this. */
  maxSeconds: z._default(MaxSeconds, 900),
  /** `full`: uniform in [0, delay]; `equal`: delay/2 + uniform in [0, delay/2]; `none`. */
  jitter: z._default(Jitter, 'full'),
});

export const RetryPolicySchema = z.strictObject({
  /** Total attempts, the first included (1 = no retry). */
  attempts: z._default(Attempts, 1),
  backoff: z._default(BackoffSchema, BackoffSchema.parse({})),
  retryOn: z._default(
    z.strictObject({
      /** Exit codes that are worth another attempt; `any` retries every non-zero exit. */
      exitCodes: z._default(ExitCodes, 'any'),
      /**
       * Batch status reasons (glob, `*` at the end) that mean the host, not the code,
       * failed; these are retried whatever the exit code.
       */
      statusReasons: z._default(StatusReasons, [...HOST_FAILURE_REASONS]),
      /** Whether an attempt that hit its timeout is retried. */
      timeouts: z._default(z.boolean(), false),
    }),
    { exitCodes: 'any', statusReasons: [], timeouts: false },
  ),
});
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

/**
 * A retry policy as written at `defaults.retry`, a schedule's `retry` or a task's `retry`:
 * every field optional and none defaulted here, so a field left out inherits from the level
 * above (task <- schedule <- defaults <- built-ins) instead of being reset to the built-in
 * value by the parser. ./validate.ts merges the levels.
 */
export const RetryOverrideSchema = z.strictObject({
  attempts: z.optional(Attempts),
  backoff: z.optional(
    z.strictObject({
      initialSeconds: z.optional(InitialSeconds),
      multiplier: z.optional(Multiplier),
      maxSeconds: z.optional(MaxSeconds),
      jitter: z.optional(Jitter),
    }),
  ),
  retryOn: z.optional(
    z.strictObject({
      exitCodes: z.optional(ExitCodes),
      statusReasons: z.optional(StatusReasons),
      timeouts: z.optional(z.boolean()),
    }),
  ),
});
export type RetryOverride = z.infer<typeof RetryOverrideSchema>;

export const TaskSchema = z.strictObject({
  /**
   * The job definition: a key of `jobDefinitions` (declared here) or the name of one
   * that already exists. Always by name, never `name:revision`, so a new revision after
   * a deploy is picked up.
   */
  definition: nonEmpty(),
  /** Job queue name or ARN; defaults to the deployment's queue. */
  queue: z.optional(nonEmpty()),
  command: z.optional(z.array(z.string()).check(z.minLength(1))),
  environment: z.optional(z.record(z.string(), z.string())),
  /** Batch `Ref::` parameters; values may use `${param.NAME}` for run parameters. */
  parameters: z.optional(z.record(z.string(), z.string())),
  vcpus: z.optional(z.number().check(z.positive('must be more than 0'), z.maximum(192, 'must be at most 192'))),
  memory: z.optional(intBetween(128, 1_048_576)),
  timeoutSeconds: z.optional(wholeSeconds()),
  dependsOn: z.optional(z.array(z.string())),
  retry: z.optional(RetryOverrideSchema),
});
export type Task = z.infer<typeof TaskSchema>;

export const NotifySchema = z.strictObject({
  /** Send a Slack message when a run fails for good. */
  onFailure: z._default(z.boolean(), true),
  /** Send one "recovered" message when a run succeeds after a failed one. */
  onRecovery: z._default(z.boolean(), true),
  /** Alert when a run stays too long in one state (minutes). */
  stuckAfterMinutes: z.optional(
    z.strictObject({
      queued: z.optional(positiveInt()),
      submitted: z.optional(positiveInt()),
      running: z.optional(positiveInt()),
    }),
  ),
  /** Slack webhooks of this schedule, for all its messages and per kind (shared/notify/routing.ts). */
  slack: z.optional(SlackRoutesSchema),
});

/**
 * A path into an EventBridge event, JSONPath's simple form as EventBridge's InputPath takes
 * it: `$.detail.object.key`, `$.id`, `$.resources[0]`.
 */
export const EVENT_PATH = /^\$(?:\.[A-Za-z0-9_-]+|\[\d+\])+$/;
const EventPath = z.string().check(z.regex(EVENT_PATH, 'must be a path into the event such as $.detail.object.key or $.resources[0]'));

/** Largest batch window: the window's keys live in one DynamoDB item (400 KB). */
export const BATCH_WINDOW_MAX_EVENTS = 1000;

/**
 * An event trigger (`on:`): an EventBridge rule with this pattern starts a run of the
 * schedule for each distinct idempotency key, or one run per batch window.
 */
export const EventTriggerSchema = z.strictObject({
  /** An EventBridge event pattern, checked by the matcher the local bus uses. */
  event: z.record(z.string(), z.unknown()),
  /** Run parameter name -> path into the event whose value it takes. */
  parameters: z.optional(z.record(z.string(), EventPath)),
  /** Path to the value that makes two deliveries the same event (default `$.id`). */
  idempotencyKey: z._default(EventPath, '$.id'),
  /** Collect the events of `seconds` (or until `maxEvents`) into one run. */
  batchWindow: z.optional(
    z.strictObject({
      seconds: intBetween(1, 86_400),
      maxEvents: z._default(intBetween(1, BATCH_WINDOW_MAX_EVENTS), BATCH_WINDOW_MAX_EVENTS),
    }),
  ),
});
export type EventTriggerSpec = z.infer<typeof EventTriggerSchema>;

/** An upstream of `after`: the schedule and the outcome of its run for the same logical date that releases this one. */
export const AfterSchema = z.strictObject({
  schedule: nonEmpty(),
  status: z._default(z.enum(['SUCCEEDED', 'FAILED', 'COMPLETED']), 'SUCCEEDED'),
});
export type AfterSpec = z.infer<typeof AfterSchema>;

export const ScheduleSchema = z.strictObject({
  description: z.optional(z.string().check(z.maxLength(512))),
  /**
   * `cron(...)`, `rate(...)` or `at(...)`, as EventBridge Scheduler takes them. Optional
   * when the schedule has event triggers (`on`); a schedule may have both.
   */
  expression: z.optional(nonEmpty()),
  /** Event triggers: EventBridge rules that start runs of this schedule. */
  on: z.optional(z.array(EventTriggerSchema).check(z.minLength(1), z.maxLength(5))),
  /**
   * IANA time zone the expression is evaluated in; absent = `defaults.timezone`, then UTC.
   * Not defaulted here so that `defaults.timezone` can apply.
   */
  timezone: z.optional(nonEmpty()),
  startDate: z.optional(z.iso.datetime({ offset: true })),
  endDate: z.optional(z.iso.datetime({ offset: true })),
  enabled: z._default(z.boolean(), true),
  /** Let Scheduler fire up to this many minutes late to spread load (1-1440); absent = exact. */
  flexibleWindowMinutes: z.optional(intBetween(1, 1440)),
  /** Absent = `defaults.overlap`, then `allow`. */
  overlap: z.optional(OverlapPolicySchema),
  parameters: z.optional(z.record(z.string(), ParameterSchema)),
  /** A single task; shorthand for `tasks: { main: ... }`. */
  job: z.optional(TaskSchema),
  tasks: z.optional(z.record(z.string(), TaskSchema)),
  /** Tasks that run only when the run fails. */
  onFailure: z.optional(z.record(z.string(), TaskSchema)),
  retry: z.optional(RetryOverrideSchema),
  notify: z.optional(NotifySchema),
  tags: z.optional(z.record(z.string(), z.string())),
  /**
   * A fire lost on its way (every delivery failed) is repaired by the sweeper when it was due
   * less than `window` minutes ago; an older one is run (`run`), alerted once (`alert`,
   * the default) or left (`skip`); both of the latter are recorded SKIPPED.
   */
  catchUp: z.optional(
    z.strictObject({
      mode: z._default(z.enum(['run', 'alert', 'skip']), 'alert'),
      window: z._default(intBetween(1, 1440), 60),
    }),
  ),
  /**
   * Cross-schedule dependencies: the run for logical date D waits until the run of each
   * upstream for D has ended with the status named (shared/engine/dependencies.ts).
   */
  after: z.optional(z.array(AfterSchema).check(z.minLength(1), z.maxLength(10))),
  /** How a run's logical date derives from its scheduled (or event) time: that date on `timezone`, moved by `offsetDays`. */
  logicalDate: z.optional(z.strictObject({ offsetDays: z._default(intBetween(-31, 31), 0) })),
  /** With `after`: how long a run waits (`within`, default 24h), what it becomes then, and what an upstream re-run does. */
  wait: z.optional(
    z.strictObject({
      // Checked (hours and minutes, as a deadline's `after`) in ./dependencies.ts.
      within: z._default(z.string(), '24h'),
      onExpiry: z._default(z.enum(['fail', 'skip']), 'fail'),
      onUpstreamRerun: z._default(z.enum(['ignore', 'rerun']), 'ignore'),
    }),
  ),
  /** By when the run must have succeeded: one alert if not, one "met late" message after (./deadline.ts). */
  deadline: z.optional(DeadlineSpecSchema),
});
export type ScheduleInput = z.input<typeof ScheduleSchema>;
export type ScheduleSpec = z.infer<typeof ScheduleSchema>;

/** One IAM policy statement, as a job role's policy takes it (IAM JSON policy reference). */
const stringOrList = () => z.union([nonEmpty(), z.array(nonEmpty()).check(z.minLength(1))], { error: 'must be a string or a non-empty list of strings' });
export const IamStatementSchema = z.strictObject({
  Sid: z.optional(z.string().check(z.regex(/^[A-Za-z0-9]+$/, 'must use letters and digits only (IAM Sid)'))),
  Effect: z.enum(['Allow', 'Deny']),
  Action: z.optional(stringOrList()),
  NotAction: z.optional(stringOrList()),
  /** ARNs; `${AWS::Region}`, `${AWS::AccountId}`, `${AWS::Partition}` are substituted (Fn::Sub). */
  Resource: z.optional(stringOrList()),
  NotResource: z.optional(stringOrList()),
  Condition: z.optional(z.record(z.string(), z.record(z.string(), z.unknown()))),
});
export type IamStatement = z.infer<typeof IamStatementSchema>;

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** The job's own role: the IAM statements of a role the deployment creates, or an existing role's ARN. */
export const JobRoleSchema = z.union(
  [
    z.string().check(z.regex(ROLE_ARN, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)')),
    z.strictObject({ statements: z.array(IamStatementSchema).check(z.minLength(1)) }),
  ],
  { error: 'must be an existing role ARN (arn:aws:iam::<account>:role/<name>) or { statements: [<IAM statements>] }' },
);
export type JobRole = z.infer<typeof JobRoleSchema>;

/** SSM parameter name (`/a/b` or `a`), as Parameter Store takes it. */
const SSM_NAME = /^\/?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
/** Secrets Manager secret name (letters, digits and /_+=.@-). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

/** Where a secret environment variable's value comes from. */
export const SecretSourceSchema = z.union(
  [
    z.strictObject({ ssm: z.string().check(z.regex(SSM_NAME, 'must be an SSM parameter name, e.g. "/batchron/dev/db-password"')) }),
    z.strictObject({
      secretsManager: z.string().check(z.regex(SECRET_NAME, 'must be a Secrets Manager secret name (letters, digits and /_+=.@-)')),
      /** A key of the secret's JSON value; absent = the whole value. */
      key: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,256}$/, 'must be a JSON key of letters, digits, "_", "." or "-"'))),
    }),
  ],
  { error: 'must be { ssm: <parameter name> } or { secretsManager: <secret name>, key: <optional JSON key> }' },
);
export type SecretSource = z.infer<typeof SecretSourceSchema>;

export const PLATFORMS = ['fargate', 'fargate-spot', 'ec2', 'ec2-spot'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const JobDefinitionSchema = z.strictObject({
  /** Container image; locally the command runs as a process in the project folder. */
  image: nonEmpty(),
  command: z.array(z.string()).check(z.minLength(1)),
  environment: z.optional(z.record(z.string(), z.string())),
  parameters: z.optional(z.record(z.string(), z.string())),
  /** Fargate takes 0.25-16 in its fixed pairs with memory (validate.ts); EC2 whole vCPUs. */
  vcpus: z._default(z.number().check(z.positive('must be more than 0'), z.maximum(192, 'must be at most 192')), 0.25),
  memory: z._default(intBetween(512, 1_048_576), 512),
  timeoutSeconds: z.optional(wholeSeconds()),
  /** The job's own AWS credentials (Batch JobRoleArn). */
  role: z.optional(JobRoleSchema),
  /** Environment variables whose values are read from SSM or Secrets Manager when the job starts. */
  secrets: z.optional(z.record(z.string(), SecretSourceSchema)),
  /** Where the job runs; each platform has its compute environment and queue (see `compute`). */
  platform: z._default(z.enum(PLATFORMS), 'fargate'),
  /** GPUs per job (EC2 platforms only). */
  gpus: z.optional(intBetween(1, 16)),
  /** CPU architecture of a Fargate job (Fargate RuntimePlatform); on EC2 the instance types decide. */
  architecture: z.optional(z.enum(['x86_64', 'arm64'])),
  /** Fargate task ephemeral storage, GiB (21-200; Fargate gives 20 when absent). */
  ephemeralStorageGiB: z.optional(intBetween(21, 200)),
});
export type JobDefinitionSpec = z.infer<typeof JobDefinitionSchema>;

const InstanceTypes = z.array(z.string().check(z.regex(/^[a-z0-9-]+(\.[a-z0-9]+)?$/, 'must be an EC2 instance type or family, e.g. "c6i.large", "g5" or "optimal"'))).check(z.minLength(1));
const SpotStrategy = z.enum(['SPOT_CAPACITY_OPTIMIZED', 'SPOT_PRICE_CAPACITY_OPTIMIZED']);

const Ec2ComputeSchema = z.strictObject({
  instanceTypes: z._default(InstanceTypes, ['optimal']),
  minvCpus: z._default(intBetween(0, 10_000), 0),
  maxvCpus: z._default(intBetween(1, 10_000), 64),
});

export const ComputeSchema = z.strictObject({
  fargateSpot: z._default(z.strictObject({ maxvCpus: z._default(intBetween(1, 10_000), 16) }), { maxvCpus: 16 }),
  ec2: z._default(Ec2ComputeSchema, { instanceTypes: ['optimal'], minvCpus: 0, maxvCpus: 64 }),
  ec2Spot: z._default(
    z.strictObject({
      instanceTypes: z._default(InstanceTypes, ['optimal']),
      minvCpus: z._default(intBetween(0, 10_000), 0),
      maxvCpus: z._default(intBetween(1, 10_000), 64),
      allocationStrategy: z._default(SpotStrategy, 'SPOT_PRICE_CAPACITY_OPTIMIZED'),
    }),
    { instanceTypes: ['optimal'], minvCpus: 0, maxvCpus: 64, allocationStrategy: 'SPOT_PRICE_CAPACITY_OPTIMIZED' },
  ),
});
export type ComputeConfig = z.infer<typeof ComputeSchema>;

export const BatchronConfigSchema = z.strictObject({
  /** Days a finished run is kept before DynamoDB's TTL removes it. */
  retentionDays: z._default(intBetween(1, 3650), 30),
  /**
   * SubmitJob calls per second the deployment paces itself to. AWS Batch's SubmitJob quota
   * is 50 per second per account and Region, shared by everything in the account: lower
   * this when something else submits jobs too.
   */
  submitRate: z._default(z.number().check(z.positive('must be more than 0'), z.maximum(1000, 'must be at most 1000')), 50),
  /** Name of the SSM SecureString parameter holding the Slack webhook URL. */
  slackWebhookParameter: z.optional(z.string()),
  sweep: z._default(
    z.strictObject({
      expression: z._default(z.string(), 'rate(5 minutes)'),
      stuckAfterMinutes: z._default(
        z.strictObject({
          queued: z._default(positiveInt(), 30),
          submitted: z._default(positiveInt(), 120),
          running: z._default(positiveInt(), 720),
        }),
        { queued: 30, submitted: 120, running: 720 },
      ),
    }),
    { expression: 'rate(5 minutes)', stuckAfterMinutes: { queued: 30, submitted: 120, running: 720 } },
  ),
  defaults: z.optional(
    z.strictObject({
      queue: z.optional(nonEmpty()),
      timezone: z.optional(z.string()),
      retry: z.optional(RetryOverrideSchema),
      overlap: z.optional(OverlapPolicySchema),
    }),
  ),
  /**
   * Compute environments of the platforms other than Fargate, created only when a job
   * definition uses that platform. Spot queues fall back to on-demand by queue order.
   */
  compute: z._default(ComputeSchema, ComputeSchema.parse({})),
  jobDefinitions: z._default(z.record(NameSchema, JobDefinitionSchema), {}),
  schedules: z.record(NameSchema, ScheduleSchema),
  /** What the HTTP API lets its callers do (set on the `api` function's environment). */
  api: z._default(
    z.strictObject({
      /**
       * Whether a dynamic schedule may replace a job definition's `command` (or set an
       * environment variable that changes what runs, e.g. LD_PRELOAD). Off: API callers
       * only choose among job definitions and pass parameters and environment.
       */
      allowCommandOverride: z._default(z.boolean(), false),
    }),
    { allowCommandOverride: false },
  ),
});
export type BatchronConfigInput = z.input<typeof BatchronConfigSchema>;
export type BatchronConfig = z.infer<typeof BatchronConfigSchema>;
