/**
 * What a dynamic schedule refers to in AWS Batch, checked before the schedule is created:
 * serverless.yml's job definitions are checked at package time, but a dynamic schedule
 * names existing ones (by Batch name or ARN) and queues, and a name that does not exist
 * would only surface at the first fire, as a SubmitJob refused with ClientException.
 *
 * Also the source of the command a schedule runs when its tasks keep their job
 * definition's command (GET /schedules shows it).
 */
import {
  ClientException,
  DescribeJobDefinitionsCommand,
  DescribeJobQueuesCommand,
  type BatchClient,
  type JobDefinition,
} from '@aws-sdk/client-batch';
import pLimit from 'p-limit';
import type { ScheduleDefinition, TaskDefinition } from '../config/definition.ts';
import { resourceProblem } from '../config/validate.ts';

/** The latest ACTIVE revision of a job definition given by name or by ARN without revision; undefined when none. */
export async function describeJobDefinition(batch: BatchClient, ref: string): Promise<JobDefinition | undefined> {
  const arn = /^(arn:[^:]+:batch:[^:]+:\d+):job-definition\/([A-Za-z0-9_-]+)$/.exec(ref);
  const name = arn ? arn[2]! : ref;
  const found: JobDefinition[] = [];
  let nextToken: string | undefined;
  do {
    const out = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: name, status: 'ACTIVE', nextToken }));
    found.push(...(out.jobDefinitions ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  // An ARN also names the account and Region: a same-named definition elsewhere is not it.
  const matching = arn ? found.filter((d) => d.jobDefinitionArn?.startsWith(`${arn[1]}:job-definition/${name}:`)) : found;
  return matching.sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0))[0];
}

/** Whether a job queue exists, by name or ARN. */
async function jobQueueExists(batch: BatchClient, ref: string): Promise<boolean> {
  const out = await batch.send(new DescribeJobQueuesCommand({ jobQueues: [ref] }));
  const name = ref.startsWith('arn:') ? ref.slice(ref.lastIndexOf('/') + 1) : ref;
  return (out.jobQueues ?? []).some((q) => (ref.startsWith('arn:') ? q.jobQueueArn === ref : q.jobQueueName === name));
}

/** A problem with one field of a dynamic schedule: `where` is the field path as the user wrote it (`job.definition`). */
export interface FieldProblem {
  where: string;
  message: string;
}

/**
 * Checks that every task's job definition and queue exist in Batch and that its vcpus and
 * memory suit the definition's platform (the same rule serverless.yml's declared job
 * definitions follow). `paths` maps a task name to where the user wrote it (`job`,
 * `tasks.extract`, `onFailure.cleanup`).
 */
export async function batchReferenceProblems(
  batch: BatchClient,
  definition: ScheduleDefinition,
  paths: Record<string, string>,
): Promise<FieldProblem[]> {
  const limit = pLimit(4);
  const definitions = new Map<string, Promise<JobDefinition | undefined>>();
  const queues = new Map<string, Promise<boolean>>();
  const tasks = [...definition.tasks, ...definition.onFailure];
  const perTask = await Promise.all(
    tasks.map(async (task): Promise<FieldProblem[]> => {
      const at = paths[task.name] ?? `tasks.${task.name}`;
      // Batch answers ClientException to a reference it cannot parse: that is "does not exist" too, never a 500.
      if (!definitions.has(task.jobDefinition)) {
        definitions.set(task.jobDefinition, limit(() => describeJobDefinition(batch, task.jobDefinition).catch(unlessClientError(undefined))));
      }
      if (!queues.has(task.jobQueue)) queues.set(task.jobQueue, limit(() => jobQueueExists(batch, task.jobQueue).catch(unlessClientError(false))));
      const [def, queueOk] = await Promise.all([definitions.get(task.jobDefinition)!, queues.get(task.jobQueue)!]);
      const problems: FieldProblem[] = [];
      if (!def) {
        problems.push({ where: `${at}.definition`, message: `job definition "${task.jobDefinition}" does not exist (no ACTIVE revision in AWS Batch)` });
      } else {
        const resources = resourceIssue(def, task);
        if (resources) problems.push({ where: `${at}.${resources.field}`, message: resources.message });
      }
      if (!queueOk) problems.push({ where: `${at}.queue`, message: `job queue "${task.jobQueue}" does not exist in AWS Batch` });
      return problems;
    }),
  );
  return perTask.flat();
}

function unlessClientError<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof ClientException) return value;
    throw error;
  };
}

/** The vcpus/memory a task asks for, against the platform of its job definition. */
function resourceIssue(def: JobDefinition, task: TaskDefinition): { field: 'vcpus' | 'memory'; message: string } | undefined {
  if (task.vcpus === undefined && task.memory === undefined) return undefined;
  const requirement = (type: string) => def.containerProperties?.resourceRequirements?.find((r) => r.type === type)?.value;
  const vcpus = task.vcpus ?? Number(requirement('VCPU') ?? def.containerProperties?.vcpus ?? NaN);
  const memory = task.memory ?? Number(requirement('MEMORY') ?? def.containerProperties?.memory ?? NaN);
  const platform = def.platformCapabilities?.includes('FARGATE') ? 'FARGATE' : 'EC2';
  const message = resourceProblem(platform, vcpus, memory);
  return message ? { field: task.memory !== undefined && task.vcpus === undefined ? 'memory' : 'vcpus', message } : undefined;
}

/** Job definitions already asked for, by reference, so a listing asks Batch once for each. */
export type DefinitionCache = Map<string, Promise<JobDefinition | undefined>>;

/**
 * The command each task runs: its own when the schedule overrides it, otherwise its job
 * definition's (looked up once per definition); null when the definition cannot be read.
 */
export async function taskCommands(
  batch: BatchClient,
  tasks: readonly TaskDefinition[],
  cache: DefinitionCache = new Map(),
): Promise<Map<string, { command: string[] | null; commandFrom: 'schedule' | 'jobDefinition' }>> {
  const out = new Map<string, { command: string[] | null; commandFrom: 'schedule' | 'jobDefinition' }>();
  for (const task of tasks) {
    if (task.command) {
      out.set(task.name, { command: task.command, commandFrom: 'schedule' });
      continue;
    }
    if (!cache.has(task.jobDefinition)) {
      cache.set(task.jobDefinition, describeJobDefinition(batch, task.jobDefinition).catch(() => undefined));
    }
    const def = await cache.get(task.jobDefinition)!;
    out.set(task.name, { command: def?.containerProperties?.command ?? null, commandFrom: 'jobDefinition' });
  }
  return out;
}
