/**
 * The jobs of the local Batch as data: a SubmitJob request checked and turned into its job
 * records (an array job's parent and children with their dependencies), ListJobs'
 * selection, filters and summaries, a job process's environment, and what an ended attempt
 * records. Pure functions over the state LocalBatch keeps (./local-batch.ts), which runs
 * what they build.
 */
import type { SubmitJobRequest } from '#local/contracts';
import type { BatchResources } from './resources.ts';
import { checkRetryStrategy, checkTimeout } from './resources.ts';
import type { Body } from './service.ts';
import type { RunResult } from './runner.ts';
import {
  JOB_STATUSES,
  REASONS,
  type AttemptDetail,
  type JobDefinition,
  type JobDetail,
  type JobRecord,
  type JobStatus,
  type KeyValuePair,
  type ResourceRequirement,
} from './types.ts';
import {
  checkJobName,
  clientError,
  optionalNumber,
  optionalString,
  optionalStringMap,
  optionalTags,
  page,
  requireString,
} from './validate.ts';

/** A dependency as SubmitJob takes it. */
export type Dependency = { jobId?: string; type?: 'N_TO_N' | 'SEQUENTIAL' };

/** What a new job's records are built from: its identity, given by the caller. */
export interface NewJob {
  jobId: string;
  seq: number;
  now: number;
  /** The ARN of job `id`. */
  arnOf: (id: string) => string;
}

/**
 * The records of a submitted job: the job itself first, then (an array job) its children in
 * index order. Throws Batch's ClientException for a request Batch would refuse.
 */
export function submittedJobs(
  body: Body,
  resources: BatchResources,
  existing: (jobId: string) => JobRecord | undefined,
  identify: () => NewJob,
): JobRecord[] {
  const jobName = requireString(body, 'jobName');
  checkJobName(jobName);
  const queueRef = requireString(body, 'jobQueue');
  const queue = resources.findQueue(queueRef);
  if (!queue) throw clientError(`Job queue '${queueRef}' does not exist.`);
  if (queue.state !== 'ENABLED') throw clientError(`Job queue '${queue.jobQueueName}' is DISABLED and does not accept jobs.`);
  const defRef = requireString(body, 'jobDefinition');
  const def = resources.findDefinition(defRef);
  if (!def) throw clientError(`Job definition '${defRef}' does not exist or is not ACTIVE.`);
  if (def.type !== 'container' || !def.containerProperties) {
    throw clientError(`Job definition '${defRef}' is of type ${def.type}; the local stack runs container jobs only.`);
  }
  const size = (body.arrayProperties as Body | undefined)?.size;
  if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 2 || size > 10_000)) {
    throw clientError(`arrayProperties.size must be an integer from 2 to 10000 (got ${String(size)}).`);
  }
  const dependsOn = checkDependsOn(body.dependsOn, size !== undefined, existing);
  const overrides = (body.containerOverrides ?? {}) as NonNullable<SubmitJobRequest['containerOverrides']>;
  if (overrides.command !== undefined && (!Array.isArray(overrides.command) || overrides.command.some((c) => typeof c !== 'string'))) {
    throw clientError('containerOverrides.command must be a list of strings.');
  }
  const timeout = checkTimeout(body.timeout) ?? def.timeout;
  const retryStrategy = checkRetryStrategy(body.retryStrategy) ?? def.retryStrategy;
  const parameters = { ...def.parameters, ...optionalStringMap(body, 'parameters') };
  const tags = optionalTags(body, 'tags') ?? {};
  const propagateTags = typeof body.propagateTags === 'boolean' ? body.propagateTags : (def.propagateTags ?? false);

  // Identified only once the request is known to be valid: a refused one takes no sequence number.
  const job = identify();
  const { jobId, seq, now } = job;
  const container = buildContainer(def, overrides, parameters);
  const vcpus = vcpusOf(container.resourceRequirements, container.vcpus);
  const base: Omit<JobDetail, 'jobId' | 'jobArn' | 'dependsOn'> = {
    jobName,
    jobQueue: queue.jobQueueArn,
    status: 'SUBMITTED',
    ...(optionalString(body, 'shareIdentifier') ? { shareIdentifier: body.shareIdentifier as string } : {}),
    ...(optionalNumber(body, 'schedulingPriorityOverride') !== undefined || def.schedulingPriority !== undefined
      ? { schedulingPriority: (body.schedulingPriorityOverride as number | undefined) ?? def.schedulingPriority }
      : {}),
    attempts: [],
    createdAt: now,
    ...(retryStrategy ? { retryStrategy } : {}),
    jobDefinition: def.jobDefinitionArn,
    parameters,
    container,
    ...(timeout ? { timeout } : {}),
    tags,
    propagateTags,
    platformCapabilities: def.platformCapabilities ?? ['EC2'],
    eksAttempts: [],
  };
  const plainDeps = dependsOn.filter((d) => d.type !== 'N_TO_N' && d.jobId).map((d) => d.jobId!);
  const parent: JobRecord = {
    detail: {
      ...structuredClone(base),
      jobId,
      jobArn: job.arnOf(jobId),
      dependsOn: dependsOn.map((d) => ({ ...(d.jobId ? { jobId: d.jobId } : {}), ...(d.type ? { type: d.type } : {}) })) as JobDetail['dependsOn'],
      ...(size !== undefined ? { arrayProperties: { size, statusSummary: emptySummary(size) } } : {}),
    },
    queueName: queue.jobQueueName,
    vcpus,
    seq,
    waitsFor: size === undefined ? dependsOn.map((d) => d.jobId!) : plainDeps,
  };
  if (size === undefined) return [parent];
  parent.children = [];
  const children: JobRecord[] = [];
  for (let index = 0; index < size; index++) {
    const childId = `${jobId}:${index}`;
    const waitsFor = [...plainDeps];
    const childDeps: JobDetail['dependsOn'] = [];
    for (const d of dependsOn) {
      if (d.type === 'SEQUENTIAL' && !d.jobId && index > 0) {
        waitsFor.push(`${jobId}:${index - 1}`);
        childDeps.push({ jobId: `${jobId}:${index - 1}`, type: 'SEQUENTIAL' });
      } else if (d.type === 'N_TO_N' && d.jobId) {
        waitsFor.push(`${d.jobId}:${index}`);
        childDeps.push({ jobId: `${d.jobId}:${index}`, type: 'N_TO_N' });
      } else if (d.jobId && d.type !== 'N_TO_N') {
        childDeps.push({ jobId: d.jobId, ...(d.type ? { type: d.type } : {}) });
      }
    }
    children.push({
      detail: {
        ...structuredClone(base),
        jobId: childId,
        jobArn: job.arnOf(childId),
        dependsOn: childDeps,
        arrayProperties: { index },
      },
      queueName: queue.jobQueueName,
      vcpus,
      seq,
      waitsFor,
      arrayParentId: jobId,
      arrayIndex: index,
    });
    parent.children.push(childId);
  }
  return [parent, ...children];
}

function checkDependsOn(raw: unknown, isArray: boolean, existing: (jobId: string) => JobRecord | undefined): Dependency[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) throw clientError('dependsOn must be a list.');
    if (raw.length > 20) throw clientError('A job can depend on at most 20 jobs.');
    return raw.map((d: Body) => {
      const jobId = optionalString(d, 'jobId');
      const type = optionalString(d, 'type');
      if (type !== undefined && type !== 'N_TO_N' && type !== 'SEQUENTIAL') throw clientError(`dependsOn[].type must be N_TO_N or SEQUENTIAL, not '${type}'.`);
      if (type === 'SEQUENTIAL' && !jobId && !isArray) throw clientError('A SEQUENTIAL dependency without a jobId is only valid for an array job.');
      if (!jobId && type !== 'SEQUENTIAL') throw clientError('dependsOn[].jobId is required.');
      if (jobId && !existing(jobId)) throw clientError(`Dependent job ID '${jobId}' does not exist.`);
      if (type === 'N_TO_N' && jobId && !existing(jobId)!.children) throw clientError(`N_TO_N dependency '${jobId}' is not an array job.`);
      return { ...(jobId ? { jobId } : {}), ...(type ? { type: type as 'N_TO_N' | 'SEQUENTIAL' } : {}) };
    });
  }

/**
 * The jobs ListJobs answers with, one page: the queue's top-level jobs (or an array job's
 * children), by filter or else by status (RUNNING when none is given).
 */
export function listedJobs(
  body: Body,
  resources: BatchResources,
  jobs: readonly JobRecord[],
  byId: (jobId: string) => JobRecord | undefined,
): { jobSummaryList: unknown[]; nextToken?: string } {
  const queueRef = optionalString(body, 'jobQueue');
  const arrayJobId = optionalString(body, 'arrayJobId');
  const multiNodeJobId = optionalString(body, 'multiNodeJobId');
  if (!queueRef && !arrayJobId && !multiNodeJobId) throw clientError('One of jobQueue, arrayJobId or multiNodeJobId is required.');
  const filters = (body.filters ?? []) as { name?: string; values?: string[] }[];
  if (!Array.isArray(filters)) throw clientError('filters must be a list.');
  let selected: JobRecord[];
  if (arrayJobId) {
    const parent = byId(arrayJobId);
    if (!parent?.children) throw clientError(`Array job '${arrayJobId}' does not exist.`);
    selected = parent.children.map((id) => byId(id)!);
  } else if (multiNodeJobId) {
    selected = []; // multi-node parallel jobs are not run locally, so none can exist
  } else {
    const queue = resources.findQueue(queueRef!);
    if (!queue) throw clientError(`Job queue '${queueRef}' does not exist.`);
    selected = jobs.filter((j) => j.queueName === queue.jobQueueName && !j.arrayParentId);
  }
  if (filters.length > 0) {
    // With a filter Batch lists jobs of every status, ignoring jobStatus.
    for (const f of filters) selected = selected.filter(filterFor(f));
  } else {
    const status = optionalString(body, 'jobStatus') ?? 'RUNNING';
    if (!JOB_STATUSES.includes(status as JobStatus)) throw clientError(`jobStatus '${status}' is not one of ${JOB_STATUSES.join(', ')}.`);
    selected = selected.filter((j) => j.detail.status === status);
  }
  const p = page(selected, optionalNumber(body, 'maxResults'), optionalString(body, 'nextToken'));
  return { jobSummaryList: p.items.map(summaryOf), ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
}

export function buildContainer(
  def: JobDefinition,
  overrides: NonNullable<SubmitJobRequest['containerOverrides']>,
  parameters: Record<string, string>,
): JobDetail['container'] {
  const props = structuredClone(def.containerProperties ?? {});
  const environment = mergeByKey<KeyValuePair>(props.environment ?? [], overrides.environment ?? [], (e) => e.name);
  const resourceRequirements = mergeByKey<ResourceRequirement>(
    props.resourceRequirements ?? [],
    overrides.resourceRequirements ?? [],
    (r) => r.type,
  );
  const command = (overrides.command ?? props.command ?? []).map((arg) =>
    // Batch substitutes Ref::name placeholders from the merged parameters and leaves unknown ones as written.
    arg.replace(/Ref::([A-Za-z0-9_-]+)/g, (whole, name: string) => parameters[name] ?? whole),
  );
  return {
    ...props,
    command,
    ...(overrides.vcpus !== undefined ? { vcpus: overrides.vcpus } : {}),
    ...(overrides.memory !== undefined ? { memory: overrides.memory } : {}),
    volumes: (props.volumes as unknown[] | undefined) ?? [],
    environment,
    mountPoints: (props.mountPoints as unknown[] | undefined) ?? [],
    ulimits: (props.ulimits as unknown[] | undefined) ?? [],
    networkInterfaces: [],
    resourceRequirements,
    secrets: (props.secrets as unknown[] | undefined) ?? [],
  };
}

function mergeByKey<T>(base: T[], over: T[], key: (t: T) => string): T[] {
  const out = new Map(base.map((b) => [key(b), b]));
  for (const o of over) out.set(key(o), o);
  return [...out.values()];
}

/** vCPUs from resourceRequirements (which win, as on AWS) or the legacy `vcpus`; 1 when neither says. */
function vcpusOf(requirements: ResourceRequirement[], legacy: number | undefined): number {
  const v = requirements.find((r) => r.type === 'VCPU');
  const n = v ? Number.parseFloat(v.value) : legacy;
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : 1;
}

function filterFor(f: { name?: string; values?: string[] }): (job: JobRecord) => boolean {
  const value = f.values?.[0];
  if (!f.name || value === undefined) throw clientError('Each filter needs a name and one value.');
  switch (f.name) {
    case 'JOB_NAME': {
      // Case-insensitive; a trailing * matches by prefix.
      const v = value.toLowerCase();
      return (j) =>
        v.endsWith('*') ? j.detail.jobName.toLowerCase().startsWith(v.slice(0, -1)) : j.detail.jobName.toLowerCase() === v;
    }
    case 'JOB_DEFINITION': {
      const v = value.startsWith('arn:') ? value.split('/').pop()! : value;
      return (j) => {
        const ref = j.detail.jobDefinition.split('/').pop()!;
        const name = ref.replace(/:\d+$/, '');
        if (v.endsWith('*')) return ref.startsWith(v.slice(0, -1));
        return v.includes(':') ? ref === v : name === v;
      };
    }
    case 'AFTER_CREATED_AT': {
      const t = Number(value);
      if (!Number.isFinite(t)) throw clientError(`AFTER_CREATED_AT needs epoch milliseconds, not '${value}'.`);
      return (j) => j.detail.createdAt > t;
    }
    case 'BEFORE_CREATED_AT': {
      const t = Number(value);
      if (!Number.isFinite(t)) throw clientError(`BEFORE_CREATED_AT needs epoch milliseconds, not '${value}'.`);
      return (j) => j.detail.createdAt < t;
    }
    default:
      throw clientError(`Filter '${f.name}' is not one of JOB_NAME, JOB_DEFINITION, AFTER_CREATED_AT, BEFORE_CREATED_AT.`);
  }
}

/** ListJobs' JobSummary for a job. */
function summaryOf(job: JobRecord): unknown {
  const d = job.detail;
  const container =
    d.container.exitCode !== undefined || d.container.reason !== undefined
      ? { ...(d.container.exitCode !== undefined ? { exitCode: d.container.exitCode } : {}), ...(d.container.reason ? { reason: d.container.reason } : {}) }
      : undefined;
  return JSON.parse(
    JSON.stringify({
      jobArn: d.jobArn,
      jobId: d.jobId,
      jobName: d.jobName,
      createdAt: d.createdAt,
      status: d.status,
      statusReason: d.statusReason,
      startedAt: d.startedAt,
      stoppedAt: d.stoppedAt,
      container,
      arrayProperties: d.arrayProperties ? { size: d.arrayProperties.size, index: d.arrayProperties.index } : undefined,
      jobDefinition: d.jobDefinition,
    }),
  );
}

/** A statusSummary with every child still SUBMITTED; members in the order AWS lists them. */
function emptySummary(size: number): Partial<Record<JobStatus, number>> {
  return { STARTING: 0, FAILED: 0, RUNNING: 0, SUCCEEDED: 0, RUNNABLE: 0, SUBMITTED: size, PENDING: 0 };
}

/** Host environment variables a job process inherits; the rest of the caller's environment stays out, as in a container. */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TZ', 'TERM'];

/**
 * The environment of a job's process before its secrets: the host's basics, the region, the
 * stack's job environment, the container's variables, Batch's own `AWS_BATCH_*`, then the
 * job role's session.
 */
export function jobProcessEnvironment(
  job: JobRecord,
  attemptNo: number,
  o: { region: string; jobEnv?: Record<string, string>; roleEnv?: Record<string, string> | undefined },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of INHERITED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  Object.assign(env, { AWS_REGION: o.region, AWS_DEFAULT_REGION: o.region }, o.jobEnv);
  for (const { name, value } of job.detail.container.environment) env[name] = value;
  Object.assign(env, {
    AWS_BATCH_JOB_ID: job.detail.jobId,
    AWS_BATCH_JOB_ATTEMPT: String(attemptNo),
    AWS_BATCH_JQ_NAME: job.queueName,
    AWS_BATCH_CE_NAME: job.ceName,
  });
  if (job.arrayIndex !== undefined) env.AWS_BATCH_JOB_ARRAY_INDEX = String(job.arrayIndex);
  Object.assign(env, o.roleEnv);
  return env;
}

/** Why a running process is being ended by the emulator rather than by itself. */
export type Ending =
  | { kind: 'timeout' }
  | { kind: 'terminate'; reason: string }
  | { kind: 'lost'; reason: string }
  | { kind: 'stop'; graceMs: number };

/**
 * How an attempt that ran ended: its AttemptDetail, the job's status reason, and whether
 * the retry strategy may be asked (an attempt the emulator ended for a timeout, a
 * TerminateJob or the stack's stop is not retried, as Batch does not).
 */
export function endedAttempt(
  job: JobRecord,
  result: RunResult,
  startedAt: number | undefined,
  ending: Ending | undefined,
  o: { now: number; instanceId: (ceName: string) => string },
): { attempt: AttemptDetail; retryable: boolean; jobReason: string; succeeded: boolean } {
  const c = job.detail.container;
  const attempt: AttemptDetail = {
    container: {
      containerInstanceArn: c.containerInstanceArn,
      taskArn: c.taskArn,
      ...(result.exitCode !== undefined && ending?.kind !== 'lost' ? { exitCode: result.exitCode } : {}),
      logStreamName: c.logStreamName,
      networkInterfaces: [],
    },
    ...(startedAt !== undefined ? { startedAt } : {}),
    stoppedAt: o.now,
  };
  let retryable = true;
  let jobReason: string;
  if (ending?.kind === 'timeout') {
    // Batch does not retry an attempt it ended for exceeding its timeout.
    attempt.statusReason = jobReason = REASONS.timeout;
    retryable = false;
  } else if (ending?.kind === 'terminate') {
    attempt.statusReason = REASONS.essentialExited;
    jobReason = ending.reason;
    retryable = false;
  } else if (ending?.kind === 'lost') {
    attempt.statusReason = jobReason = ending.reason;
  } else if (ending?.kind === 'stop') {
    attempt.statusReason = jobReason = REASONS.stackStopped(o.instanceId(job.ceName ?? 'unknown'), ending.graceMs);
    retryable = false;
  } else if (result.startError) {
    attempt.container.reason = REASONS.cannotStart(result.startError);
    attempt.statusReason = jobReason = REASONS.taskFailedToStart;
  } else {
    attempt.statusReason = jobReason = REASONS.essentialExited;
  }
  const succeeded = !ending && result.exitCode === 0 && !result.startError;
  return { attempt, retryable: retryable && !succeeded, jobReason, succeeded };
}
