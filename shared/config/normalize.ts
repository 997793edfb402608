/**
 * Normalization of a valid schedule into the ScheduleDefinition contract (./definition.ts)
 * that travels in the Scheduler target input to `fire`, and the target inputs themselves.
 */
import { ConfigError } from '../errors.ts';
import { issue } from '../issues.ts';
import { dropUndefined } from '../objects.ts';
import { normalizeDeadline } from './deadline.ts';
import { dependencyFields } from './dependencies.ts';
import { platformQueueName, type NormalizeContext } from './deployment.ts';
import {
  ScheduleDefinitionSchema,
  type FireInput,
  type RetryPolicyDefinition,
  type ScheduleDefinition,
  type TaskDefinition,
} from './definition.ts';
import { BUILT_IN_RETRY, EVENT_JSON_PLACEHOLDER, EXECUTION_ID_PLACEHOLDER, SCHEDULED_TIME_PLACEHOLDER } from './limits.ts';
import type { BatchronConfig, EventTriggerSpec, RetryOverride, ScheduleSpec, Task } from './schema.ts';
import { closest } from './suggest.ts';

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

/** The definition of a schedule checked by ./rules.ts; see normalizeSchedule (./validate.ts). */
export function buildDefinition(name: string, spec: ScheduleSpec, config: BatchronConfig, ctx: NormalizeContext, links: 'all' | 'dependents' = 'all'): ScheduleDefinition {
  const scheduleRetry = mergeRetry(mergeRetry(BUILT_IN_RETRY, config.defaults?.retry), spec.retry);
  const queue = config.defaults?.queue ?? ctx.defaultQueue;
  const task = (taskName: string, t: Task, withDeps: boolean): TaskDefinition => {
    const ref = resolveJobDefinition(t.definition, config, ctx);
    if ('problem' in ref) throw new ConfigError([issue(`schedules.${name}`, ref.problem)]);
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
    if (!next) throw new ConfigError([issue('tasks', 'dependsOn forms a cycle')]); // validated before; defensive
    done.add(next[0]);
    out.push(next);
  }
  return out;
}

/** A retry policy with `override`'s fields over `base`'s. */
export function mergeRetry(base: RetryPolicyDefinition, override: RetryOverride | undefined): RetryPolicyDefinition {
  if (!override) return base;
  return {
    attempts: override.attempts ?? base.attempts,
    backoff: { ...base.backoff, ...dropUndefined(override.backoff ?? {}) },
    retryOn: { ...base.retryOn, ...dropUndefined(override.retryOn ?? {}) },
  };
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
