/**
 * The rules of `custom.batchron` a schema cannot say (see ./validate.ts): each returns the
 * problems it finds, one line `<field path>: <what is wrong and what is allowed>` each.
 */
import { ExpressionError, isValidTimezone, parseExpression } from '../expressions/index.ts';
import type { RetryPolicyDefinition } from './definition.ts';
import { isFargate, type NormalizeContext } from './deployment.ts';
import { compilePattern as compileEventPattern, EventPatternError } from './event-pattern.ts';
import { isRecord, issue, show, type Issue } from '../issues.ts';
import { BATCH_NAME_LIMIT, BUILT_IN_RETRY, JOB_NAME_SUFFIX_RESERVE, SCHEDULER_INPUT_LIMIT, TRIGGER_INPUT_LIMIT } from './limits.ts';
import { buildDefinition, mergeRetry, resolveJobDefinition, schedulerTargetInput, triggerInputTemplate } from './normalize.ts';
import { compilePattern, PARAMETER_VALUE_MAX_LENGTH } from './pattern.ts';
import type { BatchronConfig, JobDefinitionSpec, ScheduleSpec, Task } from './schema.ts';
import { closest, timezoneProblem } from './suggest.ts';
import { deadlineProblems } from './deadline.ts';
import { findCycle } from './graph.ts';
import { dayOfWeekWarning } from './warnings.ts';

export interface CheckOptions {
  skipInputSize?: boolean;
  /**
   * When the config did not parse as a whole: only these job definitions are known as
   * declared (the others are placeholders, whose Fargate sizes are not checked).
   */
  trustedDefinitions?: ReadonlySet<string>;
}

/** Problems of the config as a whole: defaults, sweep, Slack parameter, job definitions, deployment name. */
export function configProblems(config: BatchronConfig, ctx: NormalizeContext): Issue[] {
  const problems: Issue[] = [];
  const tz = config.defaults?.timezone;
  if (tz !== undefined && !isValidTimezone(tz)) problems.push(issue('defaults.timezone', timezoneProblem(tz)));
  try {
    const sweep = parseExpression(config.sweep.expression);
    if (sweep.kind !== 'rate' && sweep.kind !== 'cron') problems.push(issue('sweep.expression', `must be rate(...) or cron(...) (got "${config.sweep.expression}")`));
  } catch (error) {
    problems.push(issue('sweep.expression', expressionMessage(error)));
  }
  if (config.defaults?.retry?.backoff) problems.push(...retryProblems('defaults.retry', mergeRetry(BUILT_IN_RETRY, config.defaults.retry)));
  const param = config.slackWebhookParameter;
  if (param !== undefined && !/^\/[A-Za-z0-9_.\-/]{1,1010}$/.test(param)) {
    problems.push(issue('slackWebhookParameter', `must be an SSM parameter path starting with "/", e.g. "/batchron/dev/slack-webhook" (got "${param}")`));
  }
  for (const [key, def] of Object.entries(config.jobDefinitions)) {
    const path = `jobDefinitions.${key}`;
    if (!/^[A-Za-z0-9_-]+$/.test(key)) {
      problems.push(issue(path, `job definition keys may use letters, digits, "-" and "_" only, as Batch names do (got "${key}")`));
    }
    const batchName = ctx.jobDefinitionName(key);
    if (batchName.length > BATCH_NAME_LIMIT) {
      problems.push(issue(path, `the Batch name "${batchName}" is ${batchName.length} characters, over Batch's ${BATCH_NAME_LIMIT}; use a shorter key`));
    }
    problems.push(...jobDefinitionProblems(path, def, config));
  }
  if (!/^[A-Za-z0-9-]+$/.test(ctx.deployment)) {
    // Generated names put "_" after the deployment so that `dev` never matches `dev-2`'s jobs.
    problems.push(issue('custom.deployment', `must use letters, digits and "-" only, as osls service and stage names do (got "${ctx.deployment}")`));
  }
  return problems;
}

/** GPU instance families (accelerated computing, NVIDIA) that Batch's GPU scheduling supports. */
const GPU_INSTANCE = /^(g[0-9]|p[0-9])/;

function jobDefinitionProblems(path: string, def: JobDefinitionSpec, config: BatchronConfig): Issue[] {
  const problems: Issue[] = [];
  const fargate = isFargate(def.platform);
  if (fargate) {
    const combo = fargateProblem(def.vcpus, def.memory);
    if (combo) problems.push(issue(`${path}.${combo.field}`, combo.message));
  } else if (!Number.isInteger(def.vcpus)) {
    problems.push(issue(`${path}.vcpus`, `EC2 jobs take whole vCPUs (got ${def.vcpus})`));
  }
  if (def.gpus !== undefined) {
    if (fargate) {
      problems.push(issue(`${path}.gpus`, `Fargate has no GPUs; use platform ec2 or ec2-spot (got platform ${def.platform})`));
    } else {
      const where = def.platform === 'ec2' ? 'compute.ec2.instanceTypes' : 'compute.ec2Spot.instanceTypes';
      const types = def.platform === 'ec2' ? config.compute.ec2.instanceTypes : config.compute.ec2Spot.instanceTypes;
      if (!types.some((t) => GPU_INSTANCE.test(t))) {
        problems.push(issue(where, `${path} needs GPUs, but ${types.join(', ')} has no GPU instances; list GPU types such as "g5.xlarge" or "g4dn"`));
      }
    }
  }
  if (def.architecture !== undefined && !fargate) {
    const where = def.platform === 'ec2' ? 'compute.ec2.instanceTypes' : 'compute.ec2Spot.instanceTypes';
    problems.push(issue(`${path}.architecture`, `applies to Fargate only; on EC2 the instance types (${where}) decide`));
  }
  if (def.architecture === 'arm64' && def.platform === 'fargate-spot') {
    problems.push(issue(`${path}.architecture`, 'Fargate Spot runs x86_64 only; use platform fargate for arm64'));
  }
  if (def.ephemeralStorageGiB !== undefined && !fargate) {
    problems.push(issue(`${path}.ephemeralStorageGiB`, `applies to Fargate only; EC2 jobs use the instance's storage`));
  }
  for (const name of Object.keys(def.secrets ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push(issue(`${path}.secrets.${name}`, 'environment variable names use letters, digits and "_", starting with a letter or "_"'));
    }
    if (def.environment && name in def.environment) {
      problems.push(issue(`${path}.secrets.${name}`, 'is also in environment; a variable comes from one or the other'));
    }
  }
  if (def.role !== undefined && typeof def.role !== 'string') {
    def.role.statements.forEach((st, i) => {
      const at = `${path}.role.statements[${i}]`;
      if ((st.Action === undefined) === (st.NotAction === undefined)) problems.push(issue(at, 'needs exactly one of Action or NotAction'));
      if ((st.Resource === undefined) === (st.NotResource === undefined)) problems.push(issue(at, 'needs exactly one of Resource or NotResource (name the resources the job uses)'));
    });
  }
  return problems;
}

/** Problems of one schedule: when, what, each task, parameters, tags, target input sizes. */
export function scheduleProblems(name: string, spec: ScheduleSpec, config: BatchronConfig, ctx: NormalizeContext, options: CheckOptions = {}): Issue[] {
  const at = `schedules.${name}`;
  const problems: Issue[] = [];

  // When: expression, zone, window.
  let kind: 'cron' | 'rate' | 'at' | undefined;
  if (spec.expression !== undefined) {
    try {
      kind = parseExpression(spec.expression).kind;
    } catch (error) {
      const message = expressionMessage(error);
      // A Unix-style day 0 (Sunday): say how AWS counts, and what to write instead.
      const hint = /day-of-week/.test(message) ? dayOfWeekWarning(spec.expression) : undefined;
      problems.push(issue(`${at}.expression`, `${message}${hint ? `; ${hint}` : ''}`));
    }
  } else if (!spec.on && !spec.after) {
    problems.push(issue(at, 'needs expression (cron, rate or at), event triggers (on), upstream schedules (after), or a combination'));
  }
  problems.push(...triggerProblems(at, spec));
  if (spec.deadline) problems.push(...deadlineProblems(`${at}.deadline`, spec.deadline, spec.expression !== undefined));
  if (spec.timezone !== undefined && !isValidTimezone(spec.timezone)) problems.push(issue(`${at}.timezone`, timezoneProblem(spec.timezone)));
  if (spec.startDate && spec.endDate && Date.parse(spec.startDate) >= Date.parse(spec.endDate)) {
    problems.push(issue(`${at}.endDate`, `must be after startDate (startDate ${spec.startDate}, got ${spec.endDate})`));
  }
  if (kind === 'at' && (spec.startDate || spec.endDate)) {
    problems.push(issue(at, 'startDate and endDate do not apply to a one-time at(...) schedule (Scheduler ignores them); remove them'));
  }

  // What: exactly one of job / tasks.
  if (spec.job && spec.tasks) {
    problems.push(issue(at, 'declare either job (a single task) or tasks (several), not both'));
  } else if (!spec.job && !spec.tasks) {
    problems.push(issue(at, 'needs job (a single task) or tasks (several with dependsOn)'));
  } else if (spec.tasks && Object.keys(spec.tasks).length === 0) {
    problems.push(issue(`${at}.tasks`, 'must declare at least one task'));
  }
  if (spec.job?.dependsOn && spec.job.dependsOn.length > 0) {
    problems.push(issue(`${at}.job.dependsOn`, 'a single job has nothing to depend on; declare tasks to have several'));
  }

  const tasks: [string, Task, string][] = spec.job
    ? [['main', spec.job, `${at}.job`]]
    : Object.entries(spec.tasks ?? {}).map(([n, t]) => [n, t, `${at}.tasks.${n}`]);
  const taskNames = tasks.map(([n]) => n);
  const onFailure = Object.entries(spec.onFailure ?? {});
  const parameterNames = Object.keys(spec.parameters ?? {});

  for (const [taskName, task, path] of spec.job && spec.tasks ? [] : tasks) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(taskName)) {
      problems.push(issue(path, `task names use 1-64 letters, digits, "-" or "_", starting with a letter or digit, as Batch job names do (got "${taskName}")`));
    }
    for (const dep of task.dependsOn ?? []) {
      if (dep === taskName) continue; // reported as a cycle below
      if (!taskNames.includes(dep)) {
        const near = closest(dep, taskNames, 2);
        problems.push(issue(`${path}.dependsOn`, `unknown task "${dep}" (tasks: ${taskNames.join(', ')})${near ? `; did you mean "${near}"?` : ''}`));
      }
    }
  }
  if (spec.tasks && !spec.job) {
    const cycle = findCycle(Object.fromEntries(tasks.map(([n, t]) => [n, (t.dependsOn ?? []).filter((d) => taskNames.includes(d))])));
    if (cycle) problems.push(issue(`${at}.tasks`, `dependsOn forms a cycle: ${cycle.join(' -> ')}`));
  }
  for (const [taskName, task] of onFailure) {
    const path = `${at}.onFailure.${taskName}`;
    if (task.dependsOn && task.dependsOn.length > 0) {
      problems.push(issue(`${path}.dependsOn`, 'on-failure tasks all start when the run fails and cannot depend on other tasks; remove dependsOn'));
    }
    if (taskNames.includes(taskName)) problems.push(issue(path, `the name "${taskName}" is already a task of this schedule; on-failure tasks need names of their own`));
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(taskName)) {
      problems.push(issue(path, `task names use 1-64 letters, digits, "-" or "_", starting with a letter or digit, as Batch job names do (got "${taskName}")`));
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
      problems.push(issue(`${path}.definition`, ref.problem));
    } else if (task.vcpus !== undefined || task.memory !== undefined) {
      // Only for a job definition declared here (Fargate); one named outside serverless.yml
      // may be on EC2, and is checked against Batch by the API (shared/api/batch-refs.ts).
      const candidate = ref.kind === 'declared' && (options.trustedDefinitions?.has(ref.key) ?? true) ? config.jobDefinitions[ref.key] : undefined;
      // EC2 definitions take any whole vCPUs and memory: only Fargate's pairs are checked here.
      const declared = candidate && isFargate(candidate.platform) ? candidate : undefined;
      const combo = declared ? fargateProblem(task.vcpus ?? declared.vcpus, task.memory ?? declared.memory) : undefined;
      // The field named is the one the task sets that is wrong: vcpus when Fargate has no such
      // vCPU value, else the memory the task sets (or its vcpus, when it sets no memory).
      if (combo) problems.push(issue(`${path}.${combo.field === 'memory' && task.memory === undefined ? 'vcpus' : combo.field}`, combo.message));
    }
    if (task.retry?.backoff) problems.push(...retryProblems(`${path}.retry`, mergeRetry(scheduleRetry, task.retry)));
    problems.push(...paramRefProblems(`${path}.command`, task.command, parameterNames));
    for (const [k, v] of Object.entries(task.environment ?? {})) problems.push(...paramRefProblems(`${path}.environment.${k}`, [v], parameterNames));
    for (const [k, v] of Object.entries(task.parameters ?? {})) problems.push(...paramRefProblems(`${path}.parameters.${k}`, [v], parameterNames));
    const jobName = `${ctx.deployment}-${name}-${taskName}`;
    const budget = BATCH_NAME_LIMIT - JOB_NAME_SUFFIX_RESERVE;
    if (jobName.length > budget) {
      problems.push(
        issue(path, `Batch job names "${jobName}-<run>-<attempt>" would exceed Batch's ${BATCH_NAME_LIMIT} characters; ` +
          `deployment, schedule and task names together must stay within ${budget} (got ${jobName.length}); shorten the schedule or task name`,
      ));
    }
  }

  // Run parameters.
  for (const [pname, param] of Object.entries(spec.parameters ?? {})) {
    const path = `${at}.parameters.${pname}`;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(pname)) {
      problems.push(issue(path, `parameter names use letters, digits and "_", starting with a letter or "_" (got "${pname}")`));
    }
    // Patterns compile with RE2 (./pattern.ts): linear-time matching, whoever wrote them.
    if (param.default !== undefined && param.default.length > PARAMETER_VALUE_MAX_LENGTH) {
      problems.push(issue(`${path}.default`, `must be at most ${PARAMETER_VALUE_MAX_LENGTH} characters (got ${param.default.length})`));
    } else if (param.pattern !== undefined) {
      const re = compilePattern(param.pattern);
      if ('problem' in re) {
        problems.push(issue(`${path}.pattern`, `${re.problem} (got ${show(param.pattern)})`));
      } else if (param.default !== undefined && !re.test(param.default)) {
        problems.push(issue(`${path}.default`, `${show(param.default)} does not match its pattern /${param.pattern}/`));
      }
    }
  }

  for (const key of Object.keys(spec.tags ?? {})) {
    if (key.toLowerCase().startsWith('aws:')) problems.push(issue(`${at}.tags.${key}`, 'tag keys starting with "aws:" are reserved by AWS'));
    if (key.length > 128) problems.push(issue(`${at}.tags.${key}`, `tag keys are at most 128 characters (got ${key.length})`));
  }
  for (const [key, value] of Object.entries(spec.tags ?? {})) {
    if (value.length > 256) problems.push(issue(`${at}.tags.${key}`, `tag values are at most 256 characters (got ${value.length})`));
  }

  if (problems.length === 0 && !options.skipInputSize && spec.on) {
    const def = buildDefinition(name, spec, config, ctx);
    for (const [i, trigger] of spec.on.entries()) {
      const template = triggerInputTemplate(def, i, trigger);
      if (template.length > TRIGGER_INPUT_LIMIT) {
        problems.push(
          issue(`${at}.on[${i}]`, `its EventBridge target input template would be ${template.length} characters, over EventBridge's ${TRIGGER_INPUT_LIMIT}; ` +
            'move long commands, environment and parameters into a job definition and reference it',
        ));
      }
    }
  }
  if (problems.length === 0 && !options.skipInputSize) {
    const def = buildDefinition(name, spec, config, ctx);
    const input = schedulerTargetInput(def);
    if (input.length > SCHEDULER_INPUT_LIMIT) {
      const carried = Object.keys(def.downstream ?? {});
      problems.push(
        issue(at, `its Scheduler target input would be ${input.length} characters, over EventBridge Scheduler's ${SCHEDULER_INPUT_LIMIT}; ` +
          'move long commands, environment and parameters into a job definition and reference it' +
          (carried.length ? ` (it carries the definitions of the schedules downstream of it: ${carried.join(', ')})` : ''),
      ));
    }
  }
  return problems;
}

/** The problems of a schedule's event triggers: patterns EventBridge would refuse, parameters the schedule does not declare. */
function triggerProblems(at: string, spec: ScheduleSpec): Issue[] {
  const problems: Issue[] = [];
  const declared = Object.keys(spec.parameters ?? {});
  for (const [i, trigger] of (spec.on ?? []).entries()) {
    const path = `${at}.on[${i}]`;
    try {
      compileEventPattern(trigger.event);
    } catch (error) {
      const reason = error instanceof EventPatternError ? error.message : String(error);
      problems.push(issue(`${path}.event`, `not a valid EventBridge event pattern: ${reason}`));
    }
    for (const name of Object.keys(trigger.parameters ?? {})) {
      if (!declared.includes(name)) {
        const near = closest(name, declared, 2);
        problems.push(
          issue(`${path}.parameters.${name}`, `not a parameter of this schedule (declare it under parameters; declared: ${declared.join(', ') || 'none'})${near ? `; did you mean "${near}"?` : ''}`,
        ));
      }
    }
    for (const [name, p] of Object.entries(spec.parameters ?? {})) {
      if (p.required && p.default === undefined && !(name in (trigger.parameters ?? {}))) {
        problems.push(issue(`${path}.parameters`, `the required parameter "${name}" takes no value from the event; map it to a path (e.g. ${name}: $.detail.${name})`));
      }
    }
  }
  return problems;
}

/**
 * Paths of every own `__proto__` key among the maps of a parsed YAML/JSON value. Names only
 * live in maps; an array where a map belongs is a type error the schema reports.
 */
export function reservedKeyPaths(value: unknown, path: string): string[] {
  if (!isRecord(value)) return [];
  return Object.keys(value).flatMap((key) => {
    const at = `${path}${path ? '.' : ''}${key}`;
    return key === '__proto__' ? [at] : reservedKeyPaths(value[key], at);
  });
}

function retryProblems(path: string, retry: RetryPolicyDefinition): Issue[] {
  const { initialSeconds, maxSeconds } = retry.backoff;
  return maxSeconds < initialSeconds
    ? [issue(`${path}.backoff.maxSeconds`, `must be at least initialSeconds (${initialSeconds}) (got ${maxSeconds})`)]
    : [];
}

/** `${param.NAME}` in a value must name a declared run parameter. */
function paramRefProblems(path: string, values: readonly string[] | undefined, declared: readonly string[]): Issue[] {
  const problems: Issue[] = [];
  for (const value of values ?? []) {
    for (const m of value.matchAll(/\$\{param\.([^}]*)\}/g)) {
      const ref = m[1]!;
      if (!declared.includes(ref)) {
        problems.push(issue(path, `uses \${param.${ref}}, which is not declared (${declared.length > 0 ? `parameters: ${declared.join(', ')}` : 'the schedule declares no parameters'})`));
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
export function fargateProblem(vcpus: number, memory: number | undefined): { field: 'vcpus' | 'memory'; message: string } | undefined {
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

function expressionMessage(error: unknown): string {
  if (error instanceof ExpressionError) return error.message;
  return error instanceof Error ? error.message : String(error);
}
