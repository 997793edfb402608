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
 * The parts live in modules of their own: ./rules.ts (the rules), ./normalize.ts
 * (normalization and target inputs), ./issues.ts (zod issues in plain words), ./suggest.ts
 * ("did you mean"), ./deployment.ts and ./limits.ts (context and AWS limits). This module
 * re-exports what callers use.
 *
 * Job definition references (documented in the README):
 * - a key of `jobDefinitions` means the definition this deployment declares, named
 *   `${deployment}-${key}`;
 * - a Batch job definition ARN without a revision means an existing one, used as is;
 * - any other plain name means an existing job definition of that name, unless it is a
 *   near miss of a declared key (edit distance <= 2), which is reported as a typo: a typo
 *   would otherwise only surface at the first fire, as a failed SubmitJob at night;
 * - `name:revision` or an ARN ending in `:revision` is refused, since a deploy deregisters
 *   old revisions and the pinned one would stop working.
 * (resolveJobDefinition, ./normalize.ts)
 */
import { ConfigError } from '../errors.ts';
import { completeContext, type NormalizeContext } from './deployment.ts';
import type { ScheduleDefinition } from './definition.ts';
import { describeZodIssue, isRecord, issue, plainWords, uniqueIssues, type Issue } from '../issues.ts';
import { dependencyProblems } from './dependencies.ts';
import { buildDefinition } from './normalize.ts';
import { configProblems, fargateProblem, reservedKeyPaths, scheduleProblems } from './rules.ts';
import { BatchronConfigSchema, JobDefinitionSchema, ScheduleSchema, type BatchronConfig, type ScheduleSpec } from './schema.ts';

export { ConfigError };
export { DEFAULT_DEPLOYMENT, deploymentContext, deploymentOf, isFargate, platformQueueName, type NormalizeContext } from './deployment.ts';
export {
  BATCH_NAME_LIMIT,
  BUILT_IN_RETRY,
  EVENT_JSON_PLACEHOLDER,
  EXECUTION_ID_PLACEHOLDER,
  JOB_NAME_SUFFIX_RESERVE,
  SCHEDULED_TIME_PLACEHOLDER,
  SCHEDULER_INPUT_LIMIT,
  TRIGGER_INPUT_LIMIT,
} from './limits.ts';
export { fireInput, fireInputTemplate, resolveJobDefinition, schedulerTargetInput, triggerInputTemplate, type JobDefinitionRef } from './normalize.ts';
export { resourceProblem } from './rules.ts';

/**
 * Parses and validates `custom.batchron`. Throws ConfigError listing every problem, one per
 * line, each `<path>: <problem> (<what is allowed>)`.
 */
export function parseConfig(raw: unknown, context: Partial<NormalizeContext> = {}): BatchronConfig {
  const ctx = completeContext(context);
  if (raw === undefined || raw === null) {
    throw new ConfigError([issue('custom.batchron', 'is missing; declare at least `schedules:` under custom.batchron in serverless.yml')]);
  }
  const problems: Issue[] = [];
  // YAML and JSON.parse make `__proto__` an own key, which an object record then drops
  // without a word; a schedule must never vanish silently, so such keys are refused by name.
  const reserved = reservedKeyPaths(raw, '');
  if (reserved.length > 0) {
    throw new ConfigError(reserved.map((path) => issue(path, '"__proto__" cannot be used as a name; rename it')));
  }
  const parsed = BatchronConfigSchema.safeParse(raw, { reportInput: true, error: plainWords });
  if (!parsed.success) {
    const source = { root: 'custom.batchron', prefixed: false, schema: BatchronConfigSchema, input: raw };
    for (const zi of parsed.error.issues) problems.push(...describeZodIssue(zi, source));
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
      if (combo) problems.push(issue(`jobDefinitions.${key}.${combo.field}`, combo.message));
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
    throw new ConfigError(uniqueIssues(problems));
  }
  const config = parsed.data;
  problems.push(...configProblems(config, ctx));
  for (const [name, spec] of Object.entries(config.schedules)) {
    problems.push(...scheduleProblems(name, spec, config, ctx));
  }
  problems.push(...dependencyProblems(config.schedules));
  if (problems.length > 0) throw new ConfigError(uniqueIssues(problems));
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
