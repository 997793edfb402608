/**
 * Turning a task attempt into a Batch SubmitJob: overrides from the task definition with
 * `${param.NAME}` substituted from the run's parameters, a deterministic job name, and tags
 * that let job-events and the sweeper find the run, task and attempt from the job alone.
 */
import type { SubmitJobCommandInput } from '@aws-sdk/client-batch';
import type { TaskDefinition } from '../config/definition.ts';
import type { Attempt, RunItem } from '../store/schema.ts';

/** Tag keys every Batchron job carries (propagated to the ECS task). */
export const TAGS = {
  deployment: 'batchron:deployment',
  schedule: 'batchron:schedule',
  run: 'batchron:run',
  task: 'batchron:task',
  attempt: 'batchron:attempt',
} as const;

/** Replaces `${param.NAME}` with the run parameter NAME; unknown names are left as written. */
export function substitute(text: string, parameters: Record<string, string>): string {
  return text.replace(/\$\{param\.([A-Za-z0-9_.-]+)\}/g, (whole, name: string) => parameters[name] ?? whole);
}

/** The SubmitJob request for one attempt of a task. */
export function submitJobInput(run: RunItem, def: TaskDefinition, record: Attempt, deployment: string): SubmitJobCommandInput {
  const p = run.parameters;
  const environment = [
    ...Object.entries(def.environment ?? {}).map(([name, value]) => ({ name, value: substitute(value, p) })),
    // So a job knows which run it belongs to without parsing its own name.
    { name: 'BATCHRON_RUN_ID', value: run.runId },
    { name: 'BATCHRON_SCHEDULE', value: run.schedule },
    { name: 'BATCHRON_SCHEDULED_TIME', value: run.scheduledTime },
    { name: 'BATCHRON_TASK', value: def.name },
    { name: 'BATCHRON_ATTEMPT', value: String(record.attempt) },
  ];
  const resourceRequirements: { type: 'VCPU' | 'MEMORY'; value: string }[] = [];
  if (def.vcpus !== undefined) resourceRequirements.push({ type: 'VCPU', value: String(def.vcpus) });
  if (def.memory !== undefined) resourceRequirements.push({ type: 'MEMORY', value: String(def.memory) });
  const parameters = def.parameters
    ? Object.fromEntries(Object.entries(def.parameters).map(([k, v]) => [k, substitute(v, p)]))
    : undefined;
  return {
    jobName: record.jobName,
    jobQueue: def.jobQueue,
    jobDefinition: def.jobDefinition,
    parameters,
    containerOverrides: {
      command: def.command?.map((part) => substitute(part, p)),
      environment,
      resourceRequirements: resourceRequirements.length ? resourceRequirements : undefined,
    },
    timeout: def.timeoutSeconds ? { attemptDurationSeconds: def.timeoutSeconds } : undefined,
    // Batch retries nothing itself: every attempt is Batchron's, so each one is visible and alertable.
    retryStrategy: { attempts: 1 },
    propagateTags: true,
    tags: {
      ...run.definition.tags,
      [TAGS.deployment]: deployment,
      [TAGS.schedule]: run.schedule,
      [TAGS.run]: run.runId,
      [TAGS.task]: def.name,
      [TAGS.attempt]: String(record.attempt),
    },
  };
}

/** The run, task and attempt a job's tags point to, if it is a Batchron job. */
export function jobRef(tags: Record<string, string> | undefined): { deployment: string; runId: string; task: string; attempt: number } | undefined {
  if (!tags) return undefined;
  const attempt = Number(tags[TAGS.attempt]);
  const deployment = tags[TAGS.deployment];
  const runId = tags[TAGS.run];
  const task = tags[TAGS.task];
  if (!deployment || !runId || !task || !Number.isInteger(attempt) || attempt < 1) return undefined;
  return { deployment, runId, task, attempt };
}
