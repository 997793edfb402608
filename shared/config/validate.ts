/**
 * Validation and normalization of `custom.batchron`.
 *
 * `parseConfig` runs the zod schema (./schema.ts) and then the rules a schema cannot say:
 * the expression parses, the time zone exists, `dependsOn` names real tasks and forms no
 * cycle, job definitions are known, parameter patterns compile, Batch and Scheduler limits
 * hold. Every problem becomes one line `<field path>: <what is wrong and what is allowed>`,
 * and all of them are reported at once in a ConfigError, so a user fixes a file in one pass.
 *
 * `normalizeSchedule` turns a valid schedule into the ScheduleDefinition contract
 * (./definition.ts) that travels in the Scheduler target input to `fire`.
 *
 * Job definition references (decided here, documented in the README):
 * - a key of `jobDefinitions` means the definition this deployment declares, named
 *   `${deployment}-${key}`;
 * - a Batch job definition ARN without a revision means an existing one, used as is;
 * - any other plain name means an existing job definition of that name, unless it is a
 *   near miss of a declared key (edit distance <= 2), which is reported as a typo: a typo
 *   would otherwise only surface at the first fire, as a failed SubmitJob at night;
 * - `name:revision` or an ARN ending in `:revision` is refused, since a deploy deregisters
 *   old revisions and the pinned one would stop working.
 */
import * as z from '../zod.ts';
import { ConfigError } from '../errors.ts';
import { dayOfWeekWarning } from './warnings.ts';
import { ExpressionError, isValidTimezone, parseExpression } from '../expressions/index.ts';
import {
  BatchronConfigSchema,
  HOST_FAILURE_REASONS,
  JobDefinitionSchema,
  ScheduleSchema,
  type BatchronConfig,
  type EventTriggerSpec,
  type JobDefinitionSpec,
  type Platform,
  type RetryOverride,
  type ScheduleSpec,
  type Task,
} from './schema.ts';
import {
  ScheduleDefinitionSchema,
  type FireInput,
  type RetryPolicyDefinition,
  type ScheduleDefinition,
  type TaskDefinition,
} from './definition.ts';
import { compilePattern, PARAMETER_VALUE_MAX_LENGTH } from './pattern.ts';
import { compilePattern as compileEventPattern, EventPatternError } from './event-pattern.ts';
import { dropUndefined } from '../objects.ts';
import { dependencyFields, dependencyProblems } from './dependencies.ts';
import { deadlineProblems, normalizeDeadline } from './deadline.ts';

export { ConfigError };

/** What normalization needs to know about the deployment it runs in. */
export interface NormalizeContext {
  /** `${service}-${stage}`; prefixes job definition and Batch job names. */
  deployment: string;
  /** Job queue for tasks that name none (and `defaults.queue` is absent). */
  defaultQueue: string;
  /** Batch name of the declared job definition `key` (normally `${deployment}-${key}`). */
  jobDefinitionName: (key: string) => string;
}

/** The deployment name parseConfig assumes when it is given none (used for length limits). */
export const DEFAULT_DEPLOYMENT = 'batchron-dev';

/**
 * The deployment's name and default job queue as serverless.yml declares them:
 * `custom.deployment`, else `<service>-<stage>`; `custom.jobQueue`, else the deployment's name.
 * The one rule for `osls package` (serverless/batchron-plugin.mjs), the local deploy and the CLI.
 */
export function deploymentOf(service: string, stage: string, custom: { deployment?: string; jobQueue?: string } = {}): { deployment: string; defaultQueue: string } {
  const deployment = custom.deployment ?? `${service}-${stage}`;
  return { deployment, defaultQueue: custom.jobQueue ?? deployment };
}

/** The usual NormalizeContext for a deployment: queue and job definitions prefixed by its name. */
export function deploymentContext(deployment: string, defaultQueue: string = deployment): NormalizeContext {
  return { deployment, defaultQueue, jobDefinitionName: (key) => `${deployment}-${key}` };
}

/** EventBridge Scheduler's limit on a target's `Input` (Scheduler API reference, `Target.Input`). */
export const SCHEDULER_INPUT_LIMIT = 8192;

/** AWS Batch's limit on job and job definition names ([A-Za-z0-9_-], up to 128). */
export const BATCH_NAME_LIMIT = 128;

/**
 * Characters of a Batch job name the engine appends after `${deployment}-${schedule}-${task}`
 * (run key and attempt). Kept as a budget so a schedule that would produce too long a job
 * name is refused at package time rather than failing SubmitJob at its first fire.
 */
export const JOB_NAME_SUFFIX_RESERVE = 40;

/** Built-in retry policy: one attempt; when retries are enabled, host failures are always retryable. */
export const BUILT_IN_RETRY: RetryPolicyDefinition = {
  attempts: 1,
  backoff: { initialSeconds: 30, multiplier: 2, maxSeconds: 900, jitter: 'full' },
  retryOn: {
    exitCodes: 'any',
    statusReasons: [...HOST_FAILURE_REASONS],
    timeouts: false,
  },
};

/** The Scheduler placeholders `fire` receives substituted (Scheduler's context attributes). */
export const SCHEDULED_TIME_PLACEHOLDER = '<aws.scheduler.scheduled-time>';
export const EXECUTION_ID_PLACEHOLDER = '<aws.scheduler.execution-id>';

/**
 * Parses and validates `custom.batchron`. Throws ConfigError listing every problem, one per
 * line, each `<path>: <problem> (<what is allowed>)`.
 */
export function parseConfig(raw: unknown, context: Partial<NormalizeContext> = {}): BatchronConfig {
  const ctx = completeContext(context);
  if (raw === undefined || raw === null) {
    throw new ConfigError(['custom.batchron: is missing; declare at least `schedules:` under custom.batchron in serverless.yml']);
  }
  const problems: string[] = [];
  // YAML and JSON.parse make `__proto__` an own key, which an object record then drops
  // without a word; a schedule must never vanish silently, so such keys are refused by name.
  const reserved = reservedKeyPaths(raw, '');
  if (reserved.length > 0) {
    throw new ConfigError(reserved.map((path) => `${path}: "__proto__" cannot be used as a name; rename it`));
  }
  const parsed = BatchronConfigSchema.safeParse(raw, { reportInput: true, error: plainWords });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...describeIssue(issue, raw));
    // The whole config did not parse; still check each schedule that parses on its own so
    // the user sees its semantic problems in the same pass.
    const rawSchedules = isRecord(raw) && isRecord(raw.schedules) ? raw.schedules : {};
    const rawConfig = isRecord(raw) ? raw : {};
    const rawDefinitions = isRecord(rawConfig.jobDefinitions) ? rawConfig.jobDefinitions : {};
    // Job definitions that parse on their own are checked (Fargate sizes) and used as they
    // are; the others stand in as placeholders, whose sizes are not checked.
    const placeholder = JobDefinitionSchema.parse({ image: 'placeholder', command: ['placeholder'] });
    const trusted = new Set<string>();
    const jobDefinitions: BatchronConfig['jobDefinitions'] = {};
    for (const [key, rawDef] of Object.entries(rawDefinitions)) {
      const one = JobDefinitionSchema.safeParse(rawDef);
      jobDefinitions[key] = one.success ? one.data : placeholder;
      if (!one.success) continue;
      trusted.add(key);
      const combo = fargateProblem(one.data.vcpus, one.data.memory);
      if (combo) problems.push(`jobDefinitions.${key}.${combo.field}: ${combo.message}`);
    }
    const base: BatchronConfig = { ...BatchronConfigSchema.parse({ schedules: {} }), jobDefinitions };
    for (const [name, rawSchedule] of Object.entries(rawSchedules)) {
      // A schedule with a bad field is checked without that field (its default, if any),
      // so its other problems (an unknown job definition, a Fargate size) show in the same pass.
      const one = ScheduleSchema.safeParse(rawSchedule);
      let spec = one.success ? one.data : undefined;
      if (!one.success && isRecord(rawSchedule)) {
        const bad = new Set(one.error.issues.map((i) => String(i.path[0] ?? '')));
        const rest = Object.fromEntries(Object.entries(rawSchedule).filter(([k]) => !bad.has(k)));
        const again = ScheduleSchema.safeParse(rest);
        if (again.success) spec = again.data;
      }
      if (spec) problems.push(...scheduleProblems(name, spec, base, ctx, { trustedDefinitions: trusted }));
    }
    throw new ConfigError(unique(problems));
  }
  const config = parsed.data;
  problems.push(...configProblems(config, ctx));
  for (const [name, spec] of Object.entries(config.schedules)) {
    problems.push(...scheduleProblems(name, spec, config, ctx));
  }
  problems.push(...dependencyProblems(config.schedules));
  if (problems.length > 0) throw new ConfigError(unique(problems));
  return config;
}

/**
 * The normalized definition of one schedule: `job` expanded to a `main` task, tasks in a
 * topological order (declaration order among independent ones), job definitions and queues
 * resolved to Batch names, retry policies merged (task <- schedule <- defaults <- built-ins).
 * Throws ConfigError when the schedule is invalid (parseConfig reports the same problems).
 */
export function normalizeSchedule(name: string, spec: ScheduleSpec, config: BatchronConfig, ctx: NormalizeContext): ScheduleDefinition {
  const problems = scheduleProblems(name, spec, config, ctx, { skipInputSize: true });
  if (problems.length > 0) throw new ConfigError(problems);
  return buildDefinition(name, spec, config, ctx);
}

/** Every schedule of a validated config, normalized, by name. */
export function normalizeConfig(config: BatchronConfig, ctx: NormalizeContext): Record<string, ScheduleDefinition> {
  return Object.fromEntries(Object.entries(config.schedules).map(([name, spec]) => [name, normalizeSchedule(name, spec, config, ctx)]));
}

/** The Scheduler target input of a schedule as an object, with Scheduler's placeholders in it. */
export function fireInputTemplate(def: ScheduleDefinition): {
  schedule: string;
  scheduledTime: string;
  executionId: string;
  definition: ScheduleDefinition;
} {
  return { schedule: def.name, scheduledTime: SCHEDULED_TIME_PLACEHOLDER, executionId: EXECUTION_ID_PLACEHOLDER, definition: def };
}

/**
 * The Scheduler target `Input` of a schedule: compact JSON of
 * `{"schedule", "scheduledTime": "<aws.scheduler.scheduled-time>", "executionId", "definition"}`.
 * parseConfig refuses schedules whose input would exceed SCHEDULER_INPUT_LIMIT.
 */
export function schedulerTargetInput(def: ScheduleDefinition): string {
  return JSON.stringify(fireInputTemplate(def));
}

/** A FireInput for a run not started by Scheduler (API, backfill), at `scheduledTime`. */
export function fireInput(
  def: ScheduleDefinition,
  scheduledTime: string,
  options: { trigger?: FireInput['trigger']; parameters?: Record<string, string> } = {},
): FireInput {
  return {
    schedule: def.name,
    scheduledTime,
    definition: def,
    trigger: options.trigger ?? 'schedule',
    parameters: options.parameters ?? {},
  };
}

/** How a task's `definition` resolves; see the module comment for the rules. */
export type JobDefinitionRef =
  | { kind: 'declared'; key: string; name: string }
  | { kind: 'arn'; arn: string; name: string }
  | { kind: 'external'; name: string };

/** Resolves a task's `definition` reference, or returns the problem with it. */
export function resolveJobDefinition(ref: string, config: Pick<BatchronConfig, 'jobDefinitions'>, ctx: NormalizeContext): JobDefinitionRef | { problem: string } {
  const keys = Object.keys(config.jobDefinitions);
  if (keys.includes(ref)) return { kind: 'declared', key: ref, name: ctx.jobDefinitionName(ref) };
  const arn = /^arn:aws[a-z-]*:batch:[a-z0-9-]+:\d{12}:job-definition\/([A-Za-z0-9_-]{1,128})(:\d+)?$/.exec(ref);
  if (arn) {
    if (arn[2]) {
      return { problem: `"${ref}" pins revision ${arn[2].slice(1)}; reference the job definition without ":${arn[2].slice(1)}" so the revision a deploy registers is used` };
    }
    return { kind: 'arn', arn: ref, name: arn[1]! };
  }
  const pinned = /^([A-Za-z0-9_-]{1,128}):(\d+)$/.exec(ref);
  if (pinned) {
    return { problem: `"${ref}" pins revision ${pinned[2]}; use "${pinned[1]}" so the revision a deploy registers is used` };
  }
  const declared = keys.length > 0 ? `declared: ${keys.join(', ')}` : 'no jobDefinitions are declared';
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(ref)) {
    return { problem: `"${ref}" is neither a key of jobDefinitions (${declared}) nor a Batch job definition name or ARN` };
  }
  const near = closest(ref, keys, 2);
  if (near !== undefined) {
    return { problem: `unknown job definition "${ref}" (${declared}); did you mean "${near}"?` };
  }
  return { kind: 'external', name: ref };
}

// ---------------------------------------------------------------------------------------
// Cross-field rules

interface CheckOptions {
  skipInputSize?: boolean;
  /**
   * When the config did not parse as a whole: only these job definitions are known as
   * declared (the others are placeholders, whose Fargate sizes are not checked).
   */
  trustedDefinitions?: ReadonlySet<string>;
}

function completeContext(context: Partial<NormalizeContext>): NormalizeContext {
  const deployment = context.deployment ?? DEFAULT_DEPLOYMENT;
  return {
    deployment,
    defaultQueue: context.defaultQueue ?? deployment,
    jobDefinitionName: context.jobDefinitionName ?? ((key) => `${deployment}-${key}`),
  };
}

function configProblems(config: BatchronConfig, ctx: NormalizeContext): string[] {
  const problems: string[] = [];
  const tz = config.defaults?.timezone;
  if (tz !== undefined && !isValidTimezone(tz)) problems.push(`defaults.timezone: ${timezoneProblem(tz)}`);
  try {
    const sweep = parseExpression(config.sweep.expression);
    if (sweep.kind !== 'rate' && sweep.kind !== 'cron') problems.push(`sweep.expression: must be rate(...) or cron(...) (got "${config.sweep.expression}")`);
  } catch (error) {
    problems.push(`sweep.expression: ${expressionMessage(error)}`);
  }
  if (config.defaults?.retry?.backoff) problems.push(...retryProblems('defaults.retry', mergeRetry(BUILT_IN_RETRY, config.defaults.retry)));
  const param = config.slackWebhookParameter;
  if (param !== undefined && !/^\/[A-Za-z0-9_.\-/]{1,1010}$/.test(param)) {
    problems.push(`slackWebhookParameter: must be an SSM parameter path starting with "/", e.g. "/batchron/dev/slack-webhook" (got "${param}")`);
  }
  for (const [key, def] of Object.entries(config.jobDefinitions)) {
    const path = `jobDefinitions.${key}`;
    if (!/^[A-Za-z0-9_-]+$/.test(key)) {
      problems.push(`${path}: job definition keys may use letters, digits, "-" and "_" only, as Batch names do (got "${key}")`);
    }
    const batchName = ctx.jobDefinitionName(key);
    if (batchName.length > BATCH_NAME_LIMIT) {
      problems.push(`${path}: the Batch name "${batchName}" is ${batchName.length} characters, over Batch's ${BATCH_NAME_LIMIT}; use a shorter key`);
    }
    problems.push(...jobDefinitionProblems(path, def, config));
  }
  if (!/^[A-Za-z0-9-]+$/.test(ctx.deployment)) {
    // Generated names put "_" after the deployment so that `dev` never matches `dev-2`'s jobs.
    problems.push(`custom.deployment: must use letters, digits and "-" only, as osls service and stage names do (got "${ctx.deployment}")`);
  }
  return problems;
}

/** Whether a platform runs on Fargate (where vCPU/memory come in fixed pairs). */
export function isFargate(platform: Platform): boolean {
  return platform === 'fargate' || platform === 'fargate-spot';
}

/**
 * The queue of a platform: the deployment's queue for Fargate, `${deployment}_<platform>`
 * for the others ("_" cannot occur in a deployment name, so `dev`'s queues never read as `dev-2`'s).
 */
export function platformQueueName(ctx: Pick<NormalizeContext, 'deployment' | 'defaultQueue'>, platform: Platform): string {
  return platform === 'fargate' ? ctx.defaultQueue : `${ctx.deployment}_${platform}`;
}

/** GPU instance families (accelerated computing, NVIDIA) that Batch's GPU scheduling supports. */
const GPU_INSTANCE = /^(g[0-9]|p[0-9])/;

function jobDefinitionProblems(path: string, def: JobDefinitionSpec, config: BatchronConfig): string[] {
  const problems: string[] = [];
  const fargate = isFargate(def.platform);
  if (fargate) {
    const combo = fargateProblem(def.vcpus, def.memory);
    if (combo) problems.push(`${path}.${combo.field}: ${combo.message}`);
  } else if (!Number.isInteger(def.vcpus)) {
    problems.push(`${path}.vcpus: EC2 jobs take whole vCPUs (got ${def.vcpus})`);
  }
  if (def.gpus !== undefined) {
    if (fargate) {
      problems.push(`${path}.gpus: Fargate has no GPUs; use platform ec2 or ec2-spot (got platform ${def.platform})`);
    } else {
      const where = def.platform === 'ec2' ? 'compute.ec2.instanceTypes' : 'compute.ec2Spot.instanceTypes';
      const types = def.platform === 'ec2' ? config.compute.ec2.instanceTypes : config.compute.ec2Spot.instanceTypes;
      if (!types.some((t) => GPU_INSTANCE.test(t))) {
        problems.push(`${where}: ${path} needs GPUs, but ${types.join(', ')} has no GPU instances; list GPU types such as "g5.xlarge" or "g4dn"`);
      }
    }
  }
  if (def.architecture !== undefined && !fargate) {
    const where = def.platform === 'ec2' ? 'compute.ec2.instanceTypes' : 'compute.ec2Spot.instanceTypes';
    problems.push(`${path}.architecture: applies to Fargate only; on EC2 the instance types (${where}) decide`);
  }
  if (def.architecture === 'arm64' && def.platform === 'fargate-spot') {
    problems.push(`${path}.architecture: Fargate Spot runs x86_64 only; use platform fargate for arm64`);
  }
  if (def.ephemeralStorageGiB !== undefined && !fargate) {
    problems.push(`${path}.ephemeralStorageGiB: applies to Fargate only; EC2 jobs use the instance's storage`);
  }
  for (const name of Object.keys(def.secrets ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push(`${path}.secrets.${name}: environment variable names use letters, digits and "_", starting with a letter or "_"`);
    }
    if (def.environment && name in def.environment) {
      problems.push(`${path}.secrets.${name}: is also in environment; a variable comes from one or the other`);
    }
  }
  if (def.role !== undefined && typeof def.role !== 'string') {
    def.role.statements.forEach((st, i) => {
      const at = `${path}.role.statements[${i}]`;
      if ((st.Action === undefined) === (st.NotAction === undefined)) problems.push(`${at}: needs exactly one of Action or NotAction`);
      if ((st.Resource === undefined) === (st.NotResource === undefined)) problems.push(`${at}: needs exactly one of Resource or NotResource (name the resources the job uses)`);
    });
  }
  return problems;
}

function scheduleProblems(name: string, spec: ScheduleSpec, config: BatchronConfig, ctx: NormalizeContext, options: CheckOptions = {}): string[] {
  const at = `schedules.${name}`;
  const problems: string[] = [];

  // When: expression, zone, window.
  let kind: 'cron' | 'rate' | 'at' | undefined;
  if (spec.expression !== undefined) {
    try {
      kind = parseExpression(spec.expression).kind;
    } catch (error) {
      const message = expressionMessage(error);
      // A Unix-style day 0 (Sunday): say how AWS counts, and what to write instead.
      const hint = /day-of-week/.test(message) ? dayOfWeekWarning(spec.expression) : undefined;
      problems.push(`${at}.expression: ${message}${hint ? `; ${hint}` : ''}`);
    }
  } else if (!spec.on && !spec.after) {
    problems.push(`${at}: needs expression (cron, rate or at), event triggers (on), upstream schedules (after), or a combination`);
  }
  problems.push(...triggerProblems(at, spec));
  if (spec.deadline) problems.push(...deadlineProblems(`${at}.deadline`, spec.deadline, spec.expression !== undefined));
  if (spec.timezone !== undefined && !isValidTimezone(spec.timezone)) problems.push(`${at}.timezone: ${timezoneProblem(spec.timezone)}`);
  if (spec.startDate && spec.endDate && Date.parse(spec.startDate) >= Date.parse(spec.endDate)) {
    problems.push(`${at}.endDate: must be after startDate (startDate ${spec.startDate}, got ${spec.endDate})`);
  }
  if (kind === 'at' && (spec.startDate || spec.endDate)) {
    problems.push(`${at}: startDate and endDate do not apply to a one-time at(...) schedule (Scheduler ignores them); remove them`);
  }

  // What: exactly one of job / tasks.
  if (spec.job && spec.tasks) {
    problems.push(`${at}: declare either job (a single task) or tasks (several), not both`);
  } else if (!spec.job && !spec.tasks) {
    problems.push(`${at}: needs job (a single task) or tasks (several with dependsOn)`);
  } else if (spec.tasks && Object.keys(spec.tasks).length === 0) {
    problems.push(`${at}.tasks: must declare at least one task`);
  }
  if (spec.job?.dependsOn && spec.job.dependsOn.length > 0) {
    problems.push(`${at}.job.dependsOn: a single job has nothing to depend on; declare tasks to have several`);
  }

  const tasks: [string, Task, string][] = spec.job
    ? [['main', spec.job, `${at}.job`]]
    : Object.entries(spec.tasks ?? {}).map(([n, t]) => [n, t, `${at}.tasks.${n}`]);
  const taskNames = tasks.map(([n]) => n);
  const onFailure = Object.entries(spec.onFailure ?? {});
  const parameterNames = Object.keys(spec.parameters ?? {});

  for (const [taskName, task, path] of spec.job && spec.tasks ? [] : tasks) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(taskName)) {
      problems.push(`${path}: task names use 1-64 letters, digits, "-" or "_", starting with a letter or digit, as Batch job names do (got "${taskName}")`);
    }
    for (const dep of task.dependsOn ?? []) {
      if (dep === taskName) continue; // reported as a cycle below
      if (!taskNames.includes(dep)) {
        const near = closest(dep, taskNames, 2);
        problems.push(`${path}.dependsOn: unknown task "${dep}" (tasks: ${taskNames.join(', ')})${near ? `; did you mean "${near}"?` : ''}`);
      }
    }
  }
  if (spec.tasks && !spec.job) {
    const cycle = findCycle(Object.fromEntries(tasks.map(([n, t]) => [n, (t.dependsOn ?? []).filter((d) => taskNames.includes(d))])));
    if (cycle) problems.push(`${at}.tasks: dependsOn forms a cycle: ${cycle.join(' -> ')}`);
  }
  for (const [taskName, task] of onFailure) {
    const path = `${at}.onFailure.${taskName}`;
    if (task.dependsOn && task.dependsOn.length > 0) {
      problems.push(`${path}.dependsOn: on-failure tasks all start when the run fails and cannot depend on other tasks; remove dependsOn`);
    }
    if (taskNames.includes(taskName)) problems.push(`${path}: the name "${taskName}" is already a task of this schedule; on-failure tasks need names of their own`);
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(taskName)) {
      problems.push(`${path}: task names use 1-64 letters, digits, "-" or "_", starting with a letter or digit, as Batch job names do (got "${taskName}")`);
    }
  }

  // Each task: job definition, resources, parameters, retry, job name length.
  const scheduleRetry = mergeRetry(mergeRetry(BUILT_IN_RETRY, config.defaults?.retry), spec.retry);
  // A backoff problem is reported where the user wrote a backoff, not again at every level below it.
  if (spec.retry?.backoff) problems.push(...retryProblems(`${at}.retry`, scheduleRetry));
  const allTasks: [string, Task, string][] = [...(spec.job && spec.tasks ? [] : tasks), ...onFailure.map(([n, t]): [string, Task, string] => [n, t, `${at}.onFailure.${n}`])];
  for (const [taskName, task, path] of allTasks) {
    const ref = resolveJobDefinition(task.definition, config, ctx);
    if ('problem' in ref) {
      problems.push(`${path}.definition: ${ref.problem}`);
    } else if (task.vcpus !== undefined || task.memory !== undefined) {
      // Only for a job definition declared here (Fargate); one named outside serverless.yml
      // may be on EC2, and is checked against Batch by the API (shared/api/batch-refs.ts).
      const candidate = ref.kind === 'declared' && (options.trustedDefinitions?.has(ref.key) ?? true) ? config.jobDefinitions[ref.key] : undefined;
      // EC2 definitions take any whole vCPUs and memory: only Fargate's pairs are checked here.
      const declared = candidate && isFargate(candidate.platform) ? candidate : undefined;
      const combo = declared ? fargateProblem(task.vcpus ?? declared.vcpus, task.memory ?? declared.memory) : undefined;
      // The field named is the one the task sets that is wrong: vcpus when Fargate has no such
      // vCPU value, else the memory the task sets (or its vcpus, when it sets no memory).
      if (combo) problems.push(`${path}.${combo.field === 'memory' && task.memory === undefined ? 'vcpus' : combo.field}: ${combo.message}`);
    }
    if (task.retry?.backoff) problems.push(...retryProblems(`${path}.retry`, mergeRetry(scheduleRetry, task.retry)));
    problems.push(...paramRefProblems(`${path}.command`, task.command, parameterNames));
    for (const [k, v] of Object.entries(task.environment ?? {})) problems.push(...paramRefProblems(`${path}.environment.${k}`, [v], parameterNames));
    for (const [k, v] of Object.entries(task.parameters ?? {})) problems.push(...paramRefProblems(`${path}.parameters.${k}`, [v], parameterNames));
    const jobName = `${ctx.deployment}-${name}-${taskName}`;
    const budget = BATCH_NAME_LIMIT - JOB_NAME_SUFFIX_RESERVE;
    if (jobName.length > budget) {
      problems.push(
        `${path}: Batch job names "${jobName}-<run>-<attempt>" would exceed Batch's ${BATCH_NAME_LIMIT} characters; ` +
          `deployment, schedule and task names together must stay within ${budget} (got ${jobName.length}); shorten the schedule or task name`,
      );
    }
  }

  // Run parameters.
  for (const [pname, param] of Object.entries(spec.parameters ?? {})) {
    const path = `${at}.parameters.${pname}`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(pname)) {
      problems.push(`${path}: parameter names use letters, digits and "_", starting with a letter or "_" (got "${pname}")`);
    }
    // Patterns compile with RE2 (./pattern.ts): linear-time matching, whoever wrote them.
    if (param.default !== undefined && param.default.length > PARAMETER_VALUE_MAX_LENGTH) {
      problems.push(`${path}.default: must be at most ${PARAMETER_VALUE_MAX_LENGTH} characters (got ${param.default.length})`);
    } else if (param.pattern !== undefined) {
      const re = compilePattern(param.pattern);
      if ('problem' in re) {
        problems.push(`${path}.pattern: ${re.problem} (got ${show(param.pattern)})`);
      } else if (param.default !== undefined && !re.test(param.default)) {
        problems.push(`${path}.default: ${show(param.default)} does not match its pattern /${param.pattern}/`);
      }
    }
  }

  for (const key of Object.keys(spec.tags ?? {})) {
    if (key.toLowerCase().startsWith('aws:')) problems.push(`${at}.tags.${key}: tag keys starting with "aws:" are reserved by AWS`);
    if (key.length > 128) problems.push(`${at}.tags.${key}: tag keys are at most 128 characters (got ${key.length})`);
  }
  for (const [key, value] of Object.entries(spec.tags ?? {})) {
    if (value.length > 256) problems.push(`${at}.tags.${key}: tag values are at most 256 characters (got ${value.length})`);
  }

  if (problems.length === 0 && !options.skipInputSize && spec.on) {
    const def = buildDefinition(name, spec, config, ctx);
    for (const [i, trigger] of spec.on.entries()) {
      const template = triggerInputTemplate(def, i, trigger);
      if (template.length > TRIGGER_INPUT_LIMIT) {
        problems.push(
          `${at}.on[${i}]: its EventBridge target input template would be ${template.length} characters, over EventBridge's ${TRIGGER_INPUT_LIMIT}; ` +
            'move long commands, environment and parameters into a job definition and reference it',
        );
      }
    }
  }
  if (problems.length === 0 && !options.skipInputSize) {
    const def = buildDefinition(name, spec, config, ctx);
    const input = schedulerTargetInput(def);
    if (input.length > SCHEDULER_INPUT_LIMIT) {
      const carried = Object.keys(def.downstream ?? {});
      problems.push(
        `${at}: its Scheduler target input would be ${input.length} characters, over EventBridge Scheduler's ${SCHEDULER_INPUT_LIMIT}; ` +
          'move long commands, environment and parameters into a job definition and reference it' +
          (carried.length ? ` (it carries the definitions of the schedules downstream of it: ${carried.join(', ')})` : ''),
      );
    }
  }
  return problems;
}

/** EventBridge's limit on a target's InputTransformer `InputTemplate`. */
export const TRIGGER_INPUT_LIMIT = 8192;

/** The problems of a schedule's event triggers: patterns EventBridge would refuse, parameters the schedule does not declare. */
function triggerProblems(at: string, spec: ScheduleSpec): string[] {
  const problems: string[] = [];
  const declared = Object.keys(spec.parameters ?? {});
  for (const [i, trigger] of (spec.on ?? []).entries()) {
    const path = `${at}.on[${i}]`;
    try {
      compileEventPattern(trigger.event);
    } catch (error) {
      const reason = error instanceof EventPatternError ? error.message : String(error);
      problems.push(`${path}.event: not a valid EventBridge event pattern: ${reason}`);
    }
    for (const name of Object.keys(trigger.parameters ?? {})) {
      if (!declared.includes(name)) {
        const near = closest(name, declared, 2);
        problems.push(
          `${path}.parameters.${name}: not a parameter of this schedule (declare it under parameters; declared: ${declared.join(', ') || 'none'})${near ? `; did you mean "${near}"?` : ''}`,
        );
      }
    }
    for (const [name, p] of Object.entries(spec.parameters ?? {})) {
      if (p.required && p.default === undefined && !(name in (trigger.parameters ?? {}))) {
        problems.push(`${path}.parameters: the required parameter "${name}" takes no value from the event; map it to a path (e.g. ${name}: $.detail.${name})`);
      }
    }
  }
  return problems;
}

/**
 * The EventBridge target input of event trigger `index`: an InputTransformer template that
 * wraps the whole event (`<aws.events.event.json>`) with the schedule's normalized definition
 * and the trigger's settings, so the `trigger` function, like `fire`, needs no lookup.
 */
export function triggerInputTemplate(def: ScheduleDefinition, index: number, trigger: EventTriggerSpec): string {
  const settings = { parameters: trigger.parameters ?? {}, idempotencyKey: trigger.idempotencyKey, batchWindow: trigger.batchWindow };
  const head = JSON.stringify({ schedule: def.name, trigger: index, settings: dropUndefined(settings), definition: def });
  return `${head.slice(0, -1)},"event":${EVENT_JSON_PLACEHOLDER}}`;
}

/** EventBridge's InputTransformer variable for the whole event. */
export const EVENT_JSON_PLACEHOLDER = '<aws.events.event.json>';

/**
 * Paths of every own `__proto__` key among the maps of a parsed YAML/JSON value. Names only
 * live in maps; an array where a map belongs is a type error the schema reports.
 */
function reservedKeyPaths(value: unknown, path: string): string[] {
  if (!isRecord(value)) return [];
  return Object.keys(value).flatMap((key) => {
    const at = `${path}${path ? '.' : ''}${key}`;
    return key === '__proto__' ? [at] : reservedKeyPaths(value[key], at);
  });
}

function retryProblems(path: string, retry: RetryPolicyDefinition): string[] {
  const { initialSeconds, maxSeconds } = retry.backoff;
  return maxSeconds < initialSeconds
    ? [`${path}.backoff.maxSeconds: must be at least initialSeconds (${initialSeconds}) (got ${maxSeconds})`]
    : [];
}

/** `${param.NAME}` in a value must name a declared run parameter. */
function paramRefProblems(path: string, values: readonly string[] | undefined, declared: readonly string[]): string[] {
  const problems: string[] = [];
  for (const value of values ?? []) {
    for (const m of value.matchAll(/\$\{param\.([^}]*)\}/g)) {
      const ref = m[1]!;
      if (!declared.includes(ref)) {
        problems.push(`${path}: uses \${param.${ref}}, which is not declared (${declared.length > 0 ? `parameters: ${declared.join(', ')}` : 'the schedule declares no parameters'})`);
      }
    }
  }
  return problems;
}

/** Fargate's vCPU/memory pairs (AWS Batch user guide, "Fargate job definitions"). */
const FARGATE_MEMORY: Record<string, number[]> = {
  '0.25': [512, 1024, 2048],
  '0.5': range(1024, 4096, 1024),
  '1': range(2048, 8192, 1024),
  '2': range(4096, 16384, 1024),
  '4': range(8192, 30720, 1024),
  '8': range(16384, 61440, 4096),
  '16': range(32768, 122880, 8192),
};

/** What is wrong with a Fargate vCPU/memory pair, and which of the two fields is at fault. */
function fargateProblem(vcpus: number, memory: number | undefined): { field: 'vcpus' | 'memory'; message: string } | undefined {
  const allowed = FARGATE_MEMORY[String(vcpus)];
  // Integer-like keys come first in an object's key order: sort them by value for the message.
  if (!allowed) return { field: 'vcpus', message: `Fargate takes vcpus ${Object.keys(FARGATE_MEMORY).sort((a, b) => Number(a) - Number(b)).join(', ')} (got ${vcpus})` };
  if (memory === undefined || allowed.includes(memory)) return undefined;
  const list = allowed.length > 6 ? `${allowed[0]}-${allowed[allowed.length - 1]} in steps of ${allowed[1]! - allowed[0]!}` : allowed.join(', ');
  return { field: 'memory', message: `Fargate with ${vcpus} vCPU takes ${list} MiB of memory (got ${memory})` };
}

/**
 * What is wrong with `vcpus`/`memory` for a job definition on `platform`, if anything: the
 * rule serverless.yml's Fargate definitions follow, applied by the API to the existing job
 * definitions dynamic schedules name (their platform read from Batch).
 */
export function resourceProblem(platform: 'FARGATE' | 'EC2', vcpus: number, memory: number): string | undefined {
  if (platform === 'FARGATE') return fargateProblem(vcpus, memory)?.message;
  if (!Number.isInteger(vcpus) || vcpus < 1) return `EC2 jobs take a whole number of vCPUs, at least 1 (got ${vcpus})`;
  return undefined;
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

/** The first cycle found in a dependency graph, as a closed path `a -> b -> a`. */
function findCycle(graph: Record<string, string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph[node] ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of Object.keys(graph)) {
    const found = visit(node);
    if (found) return found;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Normalization

function buildDefinition(name: string, spec: ScheduleSpec, config: BatchronConfig, ctx: NormalizeContext, links: 'all' | 'dependents' = 'all'): ScheduleDefinition {
  const scheduleRetry = mergeRetry(mergeRetry(BUILT_IN_RETRY, config.defaults?.retry), spec.retry);
  const queue = config.defaults?.queue ?? ctx.defaultQueue;
  const task = (taskName: string, t: Task, withDeps: boolean): TaskDefinition => {
    const ref = resolveJobDefinition(t.definition, config, ctx);
    if ('problem' in ref) throw new ConfigError([`schedules.${name}: ${ref.problem}`]);
    // A declared definition off Fargate runs on its platform's queue unless the task names one.
    const platform = ref.kind === 'declared' ? config.jobDefinitions[ref.key]!.platform : 'fargate';
    return dropUndefined({
      name: taskName,
      jobDefinition: ref.kind === 'arn' ? ref.arn : ref.name,
      jobQueue: t.queue ?? (platform === 'fargate' ? queue : platformQueueName(ctx, platform)),
      command: t.command,
      environment: t.environment,
      parameters: t.parameters,
      vcpus: t.vcpus,
      memory: t.memory,
      timeoutSeconds: t.timeoutSeconds,
      dependsOn: withDeps ? [...new Set(t.dependsOn ?? [])] : [],
      retry: mergeRetry(scheduleRetry, t.retry),
    });
  };
  const declared: [string, Task][] = spec.job ? [['main', spec.job]] : Object.entries(spec.tasks ?? {});
  const sweep = config.sweep.stuckAfterMinutes;
  const stuck = spec.notify?.stuckAfterMinutes;
  return ScheduleDefinitionSchema.parse({
    name,
    expression: spec.expression,
    timezone: spec.timezone ?? config.defaults?.timezone ?? 'UTC',
    overlap: spec.overlap ?? config.defaults?.overlap ?? 'allow',
    parameters: spec.parameters ?? {},
    tasks: topologicalOrder(declared).map(([n, t]) => task(n, t, !spec.job)),
    onFailure: Object.entries(spec.onFailure ?? {}).map(([n, t]) => task(n, t, false)),
    notify: {
      onFailure: spec.notify?.onFailure ?? true,
      onRecovery: spec.notify?.onRecovery ?? true,
      stuckAfterMinutes: {
        queued: stuck?.queued ?? sweep.queued,
        submitted: stuck?.submitted ?? sweep.submitted,
        running: stuck?.running ?? sweep.running,
      },
      ...(spec.notify?.slack ? { slack: spec.notify.slack } : {}),
    },
    tags: spec.tags ?? {},
    ...(spec.catchUp ? { catchUp: { mode: spec.catchUp.mode, windowMinutes: spec.catchUp.window } } : {}),
    ...dependencyFields(name, spec, config, links === 'all', (n) => buildDefinition(n, config.schedules[n]!, config, ctx, 'dependents')),
    ...(spec.deadline ? { deadline: normalizeDeadline(spec.deadline, spec.timezone ?? config.defaults?.timezone ?? 'UTC') } : {}),
  });
}

/** Kahn's algorithm, taking ready tasks in declaration order so the result is stable. */
function topologicalOrder(tasks: [string, Task][]): [string, Task][] {
  const names = new Set(tasks.map(([n]) => n));
  const done = new Set<string>();
  const out: [string, Task][] = [];
  while (out.length < tasks.length) {
    const next = tasks.find(([n, t]) => !done.has(n) && (t.dependsOn ?? []).every((d) => done.has(d) || !names.has(d)));
    if (!next) throw new ConfigError(['tasks: dependsOn forms a cycle']); // validated before; defensive
    done.add(next[0]);
    out.push(next);
  }
  return out;
}

function mergeRetry(base: RetryPolicyDefinition, override: RetryOverride | undefined): RetryPolicyDefinition {
  if (!override) return base;
  return {
    attempts: override.attempts ?? base.attempts,
    backoff: { ...base.backoff, ...dropUndefined(override.backoff ?? {}) },
    retryOn: { ...base.retryOn, ...dropUndefined(override.retryOn ?? {}) },
  };
}


// ---------------------------------------------------------------------------------------
// zod issues in plain words

/** zod's per-parse error map: used only where the schema gave no message of its own. */
function plainWords(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `is required (${article(issue.expected)})`;
      return `must be ${article(issue.expected)} (got ${typeName(issue.input)})`;
    case 'too_small':
      if (issue.origin === 'array') return `must list at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`;
      if (issue.origin === 'string') return issue.minimum === 1 ? 'must not be empty' : `must be at least ${String(issue.minimum)} characters`;
      return issue.inclusive ? `must be at least ${String(issue.minimum)}` : `must be more than ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} characters`;
      if (issue.origin === 'array') return `must list at most ${String(issue.maximum)} items`;
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'datetime') return 'must be an ISO-8601 date-time with a zone, e.g. "2026-01-31T02:00:00Z" or "2026-01-31T02:00:00+09:00"';
      return `has the wrong format (${issue.format})`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'has none of the allowed shapes';
    default:
      return undefined;
  }
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string[] {
  const path = formatPath(['custom.batchron', ...issue.path]).replace(/^custom\.batchron\./, '');
  const where = issue.path.length === 0 ? 'custom.batchron' : path;
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(issue.path);
    return issue.keys.map((key) => {
      const near = allowed ? closest(key, allowed, 3) : undefined;
      const hint = near ? `did you mean "${near}"? ` : '';
      return `${where}: unknown field "${key}" (${hint}${allowed ? `allowed: ${allowed.join(', ')}` : 'remove it'})`;
    });
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // A value of the right kind for exactly one of the shapes (a mapping where the other
    // shape is a string): report what is wrong inside that shape, at its own path.
    const near = issue.errors.filter((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
    if (near.length === 1 && near[0]!.length > 0) {
      return near[0]!.flatMap((inner) => describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, raw));
    }
  }
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0]?.message ?? 'invalid name';
    return [`${where}: invalid name "${String(issue.path[issue.path.length - 1])}" (${inner})`];
  }
  const input = 'input' in issue ? issue.input : valueAt(raw, issue.path);
  const got = input === undefined || issue.code === 'invalid_type' || /\(got /.test(issue.message) ? '' : ` (got ${show(input)})`;
  return [`${where}: ${issue.message}${got}`];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** The field names a strict object at `path` accepts, found by walking the schema. */
function allowedKeys(path: readonly PropertyKey[]): string[] | undefined {
  let schema: unknown = BatchronConfigSchema;
  for (const segment of [...path, undefined]) {
    schema = unwrap(schema);
    const def = defOf(schema);
    if (segment === undefined) return def?.type === 'object' ? Object.keys(def.shape as object) : undefined;
    if (def?.type === 'object') schema = (def.shape as Record<string, unknown>)[String(segment)];
    else if (def?.type === 'record') schema = def.valueType;
    else if (def?.type === 'array') schema = def.element;
    else return undefined;
  }
  return undefined;
}

function unwrap(schema: unknown): unknown {
  let s = schema;
  for (let def = defOf(s); def && ['optional', 'default', 'nullable', 'prefault', 'pipe'].includes(def.type as string); def = defOf(s)) {
    s = def.type === 'pipe' ? def.in : def.innerType;
  }
  return s;
}

function defOf(schema: unknown): Record<string, unknown> | undefined {
  // zod 4 keeps a schema's definition at `_zod.def`; reading it is the documented way to introspect.
  const zod = (schema as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod;
  return zod?.def;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) v = isRecord(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function article(type: string): string {
  const names: Record<string, string> = { array: 'a list', object: 'a mapping', record: 'a mapping', string: 'a string', number: 'a number', boolean: 'true or false', int: 'a whole number' };
  return names[type] ?? type;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${show(v)}`;
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function expressionMessage(error: unknown): string {
  if (error instanceof ExpressionError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function timezoneProblem(tz: string): string {
  const zones = Intl.supportedValuesOf('timeZone');
  const near = closest(tz, [...zones, 'UTC'], 4, true);
  return `unknown time zone "${tz}" (use an IANA name such as "${near ?? 'Asia/Tokyo'}")`;
}

/** The candidate nearest to `word` by edit distance, if within `max`. */
function closest(word: string, candidates: readonly string[], max: number, ignoreCase = false): string | undefined {
  let best: string | undefined;
  let bestDistance = max + 1;
  const w = ignoreCase ? word.toLowerCase() : word;
  for (const c of candidates) {
    const d = editDistance(w, ignoreCase ? c.toLowerCase() : c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}
