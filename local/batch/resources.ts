/**
 * Compute environments, job queues and job definitions: create, update, delete,
 * describe, as the Batch API does. Creation is immediate (status VALID at once): there
 * is no fleet to bring up locally, and clients that wait for VALID see it on first poll.
 */
import type { AwsError } from '#local/contracts';
import { capacityOf, nameFromArn } from './capacity.ts';
import type { BatchState, ComputeEnvironment, ContainerProperties, JobDefinition, JobQueue, RetryStrategy } from './types.ts';
import {
  checkResourceName,
  clientError,
  optionalNumber,
  optionalString,
  optionalStringList,
  optionalStringMap,
  optionalTags,
  page,
  requireString,
  uuidFrom,
} from './validate.ts';

type Body = Record<string, unknown>;

export interface ArnContext {
  region: string;
  account: string;
}

export class BatchResources {
  constructor(
    private readonly state: () => BatchState,
    private readonly ctx: ArnContext,
    private readonly changed: () => void,
    private readonly now: () => number,
  ) {}

  arn(kind: string, rest: string): string {
    return `arn:aws:batch:${this.ctx.region}:${this.ctx.account}:${kind}/${rest}`;
  }

  // ---- compute environments -------------------------------------------------------

  createComputeEnvironment(body: Body): { computeEnvironmentName: string; computeEnvironmentArn: string } {
    const name = requireString(body, 'computeEnvironmentName');
    checkResourceName('Compute environment', name);
    const type = requireString(body, 'type');
    if (type !== 'MANAGED' && type !== 'UNMANAGED') throw clientError(`type must be MANAGED or UNMANAGED, not '${type}'.`);
    if (this.findCe(name)) throw clientError(`Object already exists: compute environment '${name}'.`);
    const state = optionalString(body, 'state') ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw clientError(`state must be ENABLED or DISABLED.`);
    const computeResources = body.computeResources as ComputeEnvironment['computeResources'] | undefined;
    if (type === 'MANAGED' && !computeResources) throw clientError('computeResources is required for a MANAGED compute environment.');
    if (computeResources?.maxvCpus !== undefined && (typeof computeResources.maxvCpus !== 'number' || computeResources.maxvCpus < 0)) {
      throw clientError('computeResources.maxvCpus must be a non-negative number.');
    }
    if (type === 'MANAGED' && computeResources) checkManagedResources(computeResources as unknown as Record<string, unknown>);
    const uuid = uuidFrom(`ce:${name}:${this.now()}`);
    const ce: ComputeEnvironment = {
      computeEnvironmentName: name,
      computeEnvironmentArn: this.arn('compute-environment', name),
      ecsClusterArn: `arn:aws:ecs:${this.ctx.region}:${this.ctx.account}:cluster/AWSBatch-${name}-${uuid}`,
      type,
      state,
      status: 'VALID',
      statusReason: 'ComputeEnvironment Healthy',
      computeResources,
      unmanagedvCpus: optionalNumber(body, 'unmanagedvCpus'),
      serviceRole: optionalString(body, 'serviceRole'),
      tags: optionalTags(body, 'tags') ?? {},
      uuid,
      containerOrchestrationType: 'ECS',
    };
    this.state().computeEnvironments.push(ce);
    this.changed();
    return { computeEnvironmentName: name, computeEnvironmentArn: ce.computeEnvironmentArn };
  }

  updateComputeEnvironment(body: Body): { computeEnvironmentName: string; computeEnvironmentArn: string } {
    const ce = this.requireCe(requireString(body, 'computeEnvironment'));
    const state = optionalString(body, 'state');
    if (state !== undefined) {
      if (state !== 'ENABLED' && state !== 'DISABLED') throw clientError(`state must be ENABLED or DISABLED.`);
      ce.state = state;
    }
    const cr = body.computeResources as Record<string, unknown> | undefined;
    if (cr) ce.computeResources = { ...ce.computeResources, ...cr };
    const unmanaged = optionalNumber(body, 'unmanagedvCpus');
    if (unmanaged !== undefined) ce.unmanagedvCpus = unmanaged;
    const role = optionalString(body, 'serviceRole');
    if (role !== undefined) ce.serviceRole = role;
    this.changed();
    return { computeEnvironmentName: ce.computeEnvironmentName, computeEnvironmentArn: ce.computeEnvironmentArn };
  }

  deleteComputeEnvironment(body: Body): Record<string, never> {
    const ce = this.requireCe(requireString(body, 'computeEnvironment'));
    if (ce.state !== 'DISABLED') {
      throw clientError(`Cannot delete, found existing JobQueue relationship or state is ENABLED: disable compute environment '${ce.computeEnvironmentName}' first.`);
    }
    const queue = this.state().jobQueues.find((q) =>
      q.computeEnvironmentOrder.some((o) => nameFromArn(o.computeEnvironment) === ce.computeEnvironmentName),
    );
    if (queue) {
      throw clientError(
        `Cannot delete, found existing JobQueue relationship: compute environment '${ce.computeEnvironmentName}' is used by job queue '${queue.jobQueueName}'.`,
      );
    }
    const s = this.state();
    s.computeEnvironments = s.computeEnvironments.filter((c) => c !== ce);
    this.changed();
    return {};
  }

  describeComputeEnvironments(body: Body): { computeEnvironments: ComputeEnvironment[]; nextToken?: string } {
    const wanted = optionalStringList(body, 'computeEnvironments');
    let list = this.state().computeEnvironments;
    if (wanted?.length) list = list.filter((c) => wanted.some((w) => nameFromArn(w) === c.computeEnvironmentName));
    const p = page(list, optionalNumber(body, 'maxResults'), optionalString(body, 'nextToken'));
    return { computeEnvironments: structuredClone(p.items), ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  }

  findCe(nameOrArn: string): ComputeEnvironment | undefined {
    const name = nameFromArn(nameOrArn);
    return this.state().computeEnvironments.find((c) => c.computeEnvironmentName === name);
  }

  private requireCe(nameOrArn: string): ComputeEnvironment {
    const ce = this.findCe(nameOrArn);
    if (!ce) throw clientError(`Compute environment '${nameOrArn}' does not exist.`);
    return ce;
  }

  // ---- job queues ----------------------------------------------------------------

  createJobQueue(body: Body): { jobQueueName: string; jobQueueArn: string } {
    const name = requireString(body, 'jobQueueName');
    checkResourceName('Job queue', name);
    if (this.findQueue(name)) throw clientError(`Object already exists: job queue '${name}'.`);
    const priority = optionalNumber(body, 'priority');
    if (priority === undefined) throw clientError('priority is required and must be a number.');
    const state = optionalString(body, 'state') ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw clientError(`state must be ENABLED or DISABLED.`);
    const order = this.checkOrder(body.computeEnvironmentOrder);
    if (body.schedulingPolicyArn !== undefined && body.schedulingPolicyArn !== null) throw fairShareNotEmulated();
    const queue: JobQueue = {
      jobQueueName: name,
      jobQueueArn: this.arn('job-queue', name),
      state,
      status: 'VALID',
      statusReason: 'JobQueue Healthy',
      priority,
      computeEnvironmentOrder: order,
      jobStateTimeLimitActions: Array.isArray(body.jobStateTimeLimitActions) ? body.jobStateTimeLimitActions : undefined,
      tags: optionalTags(body, 'tags') ?? {},
      createdAt: this.now(),
    };
    this.state().jobQueues.push(queue);
    this.changed();
    return { jobQueueName: name, jobQueueArn: queue.jobQueueArn };
  }

  updateJobQueue(body: Body): { jobQueueName: string; jobQueueArn: string } {
    const queue = this.requireQueue(requireString(body, 'jobQueue'));
    if (body.schedulingPolicyArn !== undefined && body.schedulingPolicyArn !== null) throw fairShareNotEmulated();
    const state = optionalString(body, 'state');
    if (state !== undefined) {
      if (state !== 'ENABLED' && state !== 'DISABLED') throw clientError(`state must be ENABLED or DISABLED.`);
      queue.state = state;
    }
    const priority = optionalNumber(body, 'priority');
    if (priority !== undefined) queue.priority = priority;
    if (body.computeEnvironmentOrder !== undefined) queue.computeEnvironmentOrder = this.checkOrder(body.computeEnvironmentOrder);
    this.changed();
    return { jobQueueName: queue.jobQueueName, jobQueueArn: queue.jobQueueArn };
  }

  /** Removes the queue; the caller fails the jobs still in it, as AWS does on deletion. */
  deleteJobQueue(body: Body): JobQueue {
    const queue = this.requireQueue(requireString(body, 'jobQueue'));
    if (queue.state !== 'DISABLED') throw clientError(`Job queue '${queue.jobQueueName}' must be DISABLED before it can be deleted.`);
    const s = this.state();
    s.jobQueues = s.jobQueues.filter((q) => q !== queue);
    this.changed();
    return queue;
  }

  describeJobQueues(body: Body): { jobQueues: Omit<JobQueue, 'createdAt'>[]; nextToken?: string } {
    const wanted = optionalStringList(body, 'jobQueues');
    let list = this.state().jobQueues;
    if (wanted?.length) list = list.filter((q) => wanted.some((w) => nameFromArn(w) === q.jobQueueName));
    const p = page(list, optionalNumber(body, 'maxResults'), optionalString(body, 'nextToken'));
    const jobQueues = p.items.map(({ createdAt: _createdAt, ...q }) => structuredClone(q));
    return { jobQueues, ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  }

  findQueue(nameOrArn: string): JobQueue | undefined {
    const name = nameFromArn(nameOrArn);
    return this.state().jobQueues.find((q) => q.jobQueueName === name);
  }

  requireQueue(nameOrArn: string): JobQueue {
    const q = this.findQueue(nameOrArn);
    if (!q) throw clientError(`Job queue '${nameOrArn}' does not exist.`);
    return q;
  }

  private checkOrder(raw: unknown): JobQueue['computeEnvironmentOrder'] {
    if (!Array.isArray(raw) || raw.length === 0) throw clientError('computeEnvironmentOrder must list at least one compute environment.');
    return raw.map((entry: unknown) => {
      const e = (entry ?? {}) as Body;
      const ceRef = requireString(e, 'computeEnvironment');
      const order = optionalNumber(e, 'order');
      if (order === undefined) throw clientError('computeEnvironmentOrder[].order is required.');
      const ce = this.findCe(ceRef);
      if (!ce) throw clientError(`Compute environment '${ceRef}' in computeEnvironmentOrder does not exist.`);
      return { order, computeEnvironment: ce.computeEnvironmentArn };
    });
  }

  // ---- job definitions -----------------------------------------------------------

  registerJobDefinition(body: Body): { jobDefinitionName: string; jobDefinitionArn: string; revision: number } {
    const name = requireString(body, 'jobDefinitionName');
    checkResourceName('Job definition', name);
    const type = requireString(body, 'type');
    if (type !== 'container' && type !== 'multinode') throw clientError(`type must be container or multinode, not '${type}'.`);
    const containerProperties = body.containerProperties as ContainerProperties | undefined;
    // Refused rather than stored half-emulated: jobs run as local processes from containerProperties.
    for (const unsupported of ['eksProperties', 'ecsProperties', 'nodeProperties'] as const) {
      if (body[unsupported] !== undefined && body[unsupported] !== null) {
        throw clientError(
          `${unsupported} is not emulated by the local Batch (jobs run as local processes from containerProperties); ` +
            'use containerProperties, or test this job definition on AWS.',
        );
      }
    }
    if (type === 'container' && !containerProperties) {
      throw clientError('containerProperties is required for a job definition of type container.');
    }
    if (containerProperties?.command !== undefined && !isStringList(containerProperties.command)) {
      throw clientError('containerProperties.command must be a list of strings.');
    }
    const timeout = checkTimeout(body.timeout);
    const retryStrategy = checkRetryStrategy(body.retryStrategy);
    const revision = this.state().jobDefinitions.filter((d) => d.jobDefinitionName === name).reduce((m, d) => Math.max(m, d.revision), 0) + 1;
    const def: JobDefinition = {
      jobDefinitionName: name,
      jobDefinitionArn: this.arn('job-definition', `${name}:${revision}`),
      revision,
      status: 'ACTIVE',
      type,
      parameters: optionalStringMap(body, 'parameters') ?? {},
      retryStrategy,
      containerProperties: containerProperties ? structuredClone(containerProperties) : undefined,
      timeout,
      tags: optionalTags(body, 'tags') ?? {},
      propagateTags: typeof body.propagateTags === 'boolean' ? body.propagateTags : false,
      platformCapabilities: optionalStringList(body, 'platformCapabilities') ?? ['EC2'],
      schedulingPriority: optionalNumber(body, 'schedulingPriority'),
      containerOrchestrationType: 'ECS',
    };
    this.state().jobDefinitions.push(def);
    this.changed();
    return { jobDefinitionName: name, jobDefinitionArn: def.jobDefinitionArn, revision };
  }

  deregisterJobDefinition(body: Body): Record<string, never> {
    const ref = requireString(body, 'jobDefinition');
    const def = this.findDefinition(ref, true);
    if (!def) throw clientError(`Job definition '${ref}' does not exist.`);
    def.status = 'INACTIVE';
    this.changed();
    return {};
  }

  describeJobDefinitions(body: Body): { jobDefinitions: JobDefinition[]; nextToken?: string } {
    const refs = optionalStringList(body, 'jobDefinitions');
    const name = optionalString(body, 'jobDefinitionName');
    const status = optionalString(body, 'status');
    let list = this.state().jobDefinitions;
    if (refs?.length) {
      list = list.filter((d) =>
        refs.some((r) => {
          const ref = r.startsWith('arn:') ? nameFromArn(r) : r;
          return ref === `${d.jobDefinitionName}:${d.revision}` || ref === d.jobDefinitionName;
        }),
      );
    }
    if (name) list = list.filter((d) => d.jobDefinitionName === name);
    if (status) list = list.filter((d) => d.status === status);
    const p = page(list, optionalNumber(body, 'maxResults'), optionalString(body, 'nextToken'));
    return { jobDefinitions: structuredClone(p.items), ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  }

  /**
   * Resolves `name` (latest ACTIVE revision), `name:rev` or an ARN.
   * @param anyStatus also find INACTIVE revisions (deregistering, describing old jobs)
   */
  findDefinition(ref: string, anyStatus = false): JobDefinition | undefined {
    const bare = ref.startsWith('arn:') ? nameFromArn(ref) : ref;
    const m = /^(.+):(\d+)$/.exec(bare);
    const defs = this.state().jobDefinitions;
    if (m) {
      const def = defs.find((d) => d.jobDefinitionName === m[1] && d.revision === Number(m[2]));
      return def && (anyStatus || def.status === 'ACTIVE') ? def : undefined;
    }
    return defs
      .filter((d) => d.jobDefinitionName === bare && (anyStatus || d.status === 'ACTIVE'))
      .sort((a, b) => b.revision - a.revision)[0];
  }

  /** Tags of a compute environment, queue or definition by ARN; undefined when no such resource. */
  taggable(arn: string): { tags?: Record<string, string> } | undefined {
    const s = this.state();
    return (
      s.computeEnvironments.find((c) => c.computeEnvironmentArn === arn) ??
      s.jobQueues.find((q) => q.jobQueueArn === arn) ??
      s.jobDefinitions.find((d) => d.jobDefinitionArn === arn)
    );
  }

  /** vCPU capacity by compute environment name. */
  capacities(): Map<string, number> {
    return new Map(this.state().computeEnvironments.map((c) => [c.computeEnvironmentName, capacityOf(c)]));
  }
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Batch's minimum job timeout is 60 seconds; anything less is refused, as on AWS. */
export function checkTimeout(raw: unknown): { attemptDurationSeconds?: number } | undefined {
  if (raw === undefined || raw === null) return undefined;
  const t = raw as Body;
  const s = optionalNumber(t, 'attemptDurationSeconds');
  if (s !== undefined && s < 60) throw clientError(`timeout.attemptDurationSeconds must be at least 60 seconds (got ${s}).`);
  return s === undefined ? {} : { attemptDurationSeconds: s };
}

/** `attempts` 1..10 and at most 5 `evaluateOnExit` rules with a RETRY/EXIT action, as Batch validates. */
export function checkRetryStrategy(raw: unknown): RetryStrategy | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = raw as Body;
  const attempts = optionalNumber(r, 'attempts');
  if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 1 || attempts > 10)) {
    throw clientError(`retryStrategy.attempts must be an integer from 1 to 10 (got ${attempts}).`);
  }
  const rules = r.evaluateOnExit;
  if (rules !== undefined && (!Array.isArray(rules) || rules.length > 5)) {
    throw clientError('retryStrategy.evaluateOnExit must be a list of at most 5 rules.');
  }
  const evaluateOnExit = (rules as Body[] | undefined)?.map((rule) => {
    const action = requireString(rule, 'action');
    if (!/^(retry|exit)$/i.test(action)) throw clientError(`retryStrategy.evaluateOnExit[].action must be RETRY or EXIT, not '${action}'.`);
    return {
      ...(optionalString(rule, 'onStatusReason') !== undefined ? { onStatusReason: rule.onStatusReason as string } : {}),
      ...(optionalString(rule, 'onReason') !== undefined ? { onReason: rule.onReason as string } : {}),
      ...(optionalString(rule, 'onExitCode') !== undefined ? { onExitCode: rule.onExitCode as string } : {}),
      action,
    };
  });
  return { ...(attempts !== undefined ? { attempts } : {}), evaluateOnExit: evaluateOnExit ?? [] };
}

/**
 * What CreateComputeEnvironment requires of a MANAGED environment's computeResources
 * (API reference, ComputeResource): `maxvCpus` and `subnets` always; on EC2 and SPOT also
 * `minvCpus` and `instanceRole` (the ECS instance profile), which Fargate refuses.
 */
function checkManagedResources(cr: Record<string, unknown>): void {
  const kind = cr.type;
  if (!['EC2', 'SPOT', 'FARGATE', 'FARGATE_SPOT'].includes(String(kind))) {
    throw clientError(`computeResources.type must be EC2, SPOT, FARGATE or FARGATE_SPOT, not '${String(kind)}'.`);
  }
  if (cr.maxvCpus === undefined) throw clientError('computeResources.maxvCpus is required for a MANAGED compute environment.');
  if (!Array.isArray(cr.subnets) || cr.subnets.length === 0) {
    throw clientError('computeResources.subnets is required for a MANAGED compute environment: give at least one subnet.');
  }
  const ec2 = kind === 'EC2' || kind === 'SPOT';
  for (const member of ['minvCpus', 'instanceRole'] as const) {
    if (ec2 && (cr[member] === undefined || cr[member] === null || cr[member] === '')) {
      throw clientError(`computeResources.${member} is required for a MANAGED compute environment of type ${String(kind)}.`);
    }
    if (!ec2 && cr[member] !== undefined) {
      throw clientError(`computeResources.${member} isn't applicable to a ${String(kind)} compute environment; don't specify it.`);
    }
  }
  if (ec2 && (typeof cr.minvCpus !== 'number' || cr.minvCpus < 0 || (typeof cr.maxvCpus === 'number' && cr.minvCpus > cr.maxvCpus))) {
    throw clientError('computeResources.minvCpus must be a number from 0 to maxvCpus.');
  }
}

/** Fair-share scheduling is refused everywhere it would appear, not half-emulated (README, How it differs from AWS). */
export function fairShareNotEmulated(): AwsError {
  return clientError(
    'Fair-share scheduling policies are not emulated by the local Batch: its queues dispatch first in, first out by queue priority. ' +
      'Leave schedulingPolicyArn out locally, or test fair-share scheduling on AWS.',
  );
}
