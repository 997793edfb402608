/**
 * The local AWS Batch: the API over restJson1 and a scheduler that really runs jobs.
 *
 *   SubmitJob ─▶ SUBMITTED ─▶ PENDING (dependsOn unmet) ─▶ RUNNABLE (waits for vCPUs)
 *        ─▶ STARTING (capacity held) ─▶ RUNNING (process up) ─▶ SUCCEEDED | FAILED
 *                         ▲                                        │
 *                         └──── retryStrategy says RETRY ◀─────────┘
 *
 * Every change after SUBMITTED is published as a `Batch Job State Change` event whose
 * detail is the job exactly as DescribeJobs returns it. Automatic transitions wait
 * `transitionDelayMs` on the stack's Clock, and job timeouts are measured on it, so a
 * test can advance time instead of waiting. State is snapshotted on every mutation.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock, Timer } from '#local/clock';
import type { Faults } from '#local/faults';
import type { LocalIam } from '#local/iam/index';
import { JsonSnapshot } from '#local/persist';
import type {
  AwsRequest,
  AwsResponse,
  BatchSubmitter,
  EventBridgeEvent,
  EventSink,
  LocalService,
  SubmitJobRequest,
} from '#local/contracts';
import { place, neverFits } from './capacity.ts';
import { BatchResources, checkRetryStrategy, checkTimeout } from './resources.ts';
import { retryDecision } from './retry.ts';
import { runProcess, type RunningProcess, type RunResult } from './runner.ts';
import { SecretResolutionError, type SecretRef, type SecretResolver } from '../secrets.ts';
import { route, type BatchOperation, type Body } from './service.ts';
import {
  ACTIVE_ON_HOST,
  JOB_STATUSES,
  REASONS,
  TERMINAL,
  type AttemptDetail,
  type BatchState,
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
  hexFrom,
  optionalNumber,
  optionalString,
  optionalStringList,
  optionalTags,
  checkTagCount,
  optionalStringMap,
  page,
  requireString,
  uuidFrom,
} from './validate.ts';

export interface LocalBatchOptions {
  /** Execution roles are checked at task start, job roles handed to the process (local/iam/). */
  iam?: LocalIam;
  clock: Clock;
  faults: Faults;
  events: EventSink;
  region: string;
  account: string;
  /** State in `<dataDir>/state/batch.json`, logs under `<dataDir>/logs/batch/`; undefined keeps state in memory and logs in a temp folder. */
  dataDir?: string;
  /** Working directory of job processes. */
  projectDir: string;
  /** Extra environment for every job process (e.g. `AWS_ENDPOINT_URL`). */
  jobEnv?: Record<string, string>;
  /** Reads a job's `secrets` into its environment (local/secrets.ts); without it a job with secrets fails to start. */
  resolveSecrets?: SecretResolver;
  /** Clock milliseconds between automatic transitions; default 20. */
  transitionDelayMs?: number;
  /** SIGTERM → SIGKILL grace in real milliseconds; default 5000. */
  killGraceMs?: number;
}

/** Why a running process is being ended by the emulator rather than by itself. */
type Ending =
  | { kind: 'timeout' }
  | { kind: 'terminate'; reason: string }
  | { kind: 'lost'; reason: string }
  | { kind: 'stop'; graceMs: number };

/** Host environment variables a job process inherits; the rest of the caller's environment stays out, as in a container. */
const INHERITED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TMPDIR', 'TZ', 'TERM'];

const EMPTY_STATE = (): BatchState => ({ computeEnvironments: [], jobQueues: [], jobDefinitions: [], jobs: [], seq: 0 });

export class LocalBatch implements LocalService, BatchSubmitter {
  readonly signingName = 'batch';

  /** The ARN with revision of the job definition a SubmitJob reference names (latest ACTIVE without one); undefined when none. */
  jobDefinitionArn(ref: string): string | undefined {
    return this.resources.findDefinition(ref)?.jobDefinitionArn;
  }

  private state: BatchState = EMPTY_STATE();
  private readonly byId = new Map<string, JobRecord>();
  /** Ids of jobs not yet SUCCEEDED/FAILED. */
  private readonly active = new Set<string>();
  private readonly resources: BatchResources;
  private readonly snapshot: JsonSnapshot<BatchState>;
  private readonly logDir: string;

  /** The folder holding every attempt's log as `<logStreamName>.log` (served as CloudWatch Logs). */
  get logDirectory(): string {
    return this.logDir;
  }
  private readonly delay: number;
  private readonly grace: number;
  private readonly processes = new Map<string, { proc: RunningProcess; settled: Promise<void> }>();
  private readonly endings = new Map<string, Ending>();
  private readonly timers = new Set<Timer>();
  private dispatchPending = false;
  private snapshotTimer: NodeJS.Timeout | undefined;
  private snapshotCostMs = 0;
  private stopped = false;
  private eventSeq = 0;
  /** The region new ARNs carry: the one that signed the request being answered (SigV4 scope). */
  private readonly arnContext: { region: string; account: string };

  constructor(private readonly opts: LocalBatchOptions) {
    this.arnContext = { region: opts.region, account: opts.account };
    this.delay = opts.transitionDelayMs ?? 20;
    this.grace = opts.killGraceMs ?? 5000;
    this.snapshot = new JsonSnapshot(opts.dataDir, 'batch', () => this.state);
    this.logDir = opts.dataDir ? join(opts.dataDir, 'logs', 'batch') : mkdtempSync(join(tmpdir(), 'batchron-batch-logs-'));
    this.resources = new BatchResources(
      () => this.state,
      this.arnContext,
      () => this.changed(),
      () => opts.clock.now(),
    );
  }

  /**
   * Loads persisted state. Jobs that were STARTING/RUNNING when the stack went away
   * fail as on a lost host (and may be retried); SUBMITTED/PENDING/RUNNABLE ones resume.
   */
  async start(): Promise<void> {
    this.stopped = false;
    const loaded = this.snapshot.load();
    if (loaded) this.state = { ...EMPTY_STATE(), ...loaded };
    this.byId.clear();
    this.active.clear();
    for (const job of this.state.jobs) {
      this.byId.set(job.detail.jobId, job);
      if (!TERMINAL.has(job.detail.status)) this.active.add(job.detail.jobId);
    }
    for (const id of [...this.active]) {
      const job = this.byId.get(id)!;
      if (ACTIVE_ON_HOST.has(job.detail.status)) {
        const reason = REASONS.hostTerminated(this.instanceId(job.ceName ?? 'unknown'));
        const attempt: AttemptDetail = {
          container: {
            ...(job.detail.container.logStreamName ? { logStreamName: job.detail.container.logStreamName } : {}),
            ...(job.detail.container.taskArn ? { taskArn: job.detail.container.taskArn } : {}),
            ...(job.detail.container.containerInstanceArn
              ? { containerInstanceArn: job.detail.container.containerInstanceArn }
              : {}),
            networkInterfaces: [],
          },
          ...(job.detail.status === 'RUNNING' && job.detail.startedAt ? { startedAt: job.detail.startedAt } : {}),
          stoppedAt: this.now(),
          statusReason: reason,
        };
        this.closeAttempt(job, attempt, { retryable: true, jobReason: reason });
      } else if (job.detail.status === 'SUBMITTED' || job.detail.status === 'PENDING') {
        this.later(() => this.evaluate(job));
      }
    }
    this.dispatch();
    this.changed();
  }

  /** Answers one Batch API request from the shared endpoint. */
  async handle(req: AwsRequest): Promise<AwsResponse> {
    const { operation, body } = route(req);
    this.opts.faults.check('batch', operation);
    // operate() is synchronous, so the signing region holds for exactly this request.
    this.arnContext.region = req.region || this.opts.region;
    try {
      return { status: 200, body: this.operate(operation, body) };
    } finally {
      this.arnContext.region = this.opts.region;
    }
  }

  /** SubmitJob in process, for Scheduler's universal `aws-sdk:batch:submitJob` target. */
  async submitJob(req: SubmitJobRequest): Promise<{ jobId: string; jobName: string; jobArn: string }> {
    this.opts.faults.check('batch', 'SubmitJob');
    return this.submit(req as unknown as Body);
  }

  /**
   * Fault injection: the host under a running job disappears. The process is SIGKILLed
   * and the attempt fails with AWS's host-terminated status reason (or `reason`); the
   * retry strategy then decides, as for a reclaimed Spot instance.
   * @returns false when the job is not running
   */
  killJob(jobId: string, reason?: string): boolean {
    const job = this.byId.get(jobId);
    const running = this.processes.get(jobId);
    if (!job || job.detail.status !== 'RUNNING' || !running) return false;
    this.endings.set(jobId, { kind: 'lost', reason: reason ?? REASONS.hostTerminated(this.instanceId(job.ceName ?? 'unknown')) });
    running.proc.kill();
    return true;
  }

  /** The job as DescribeJobs returns it, or undefined. */
  describe(jobId: string): JobDetail | undefined {
    const job = this.byId.get(jobId);
    return job ? this.view(job) : undefined;
  }

  /** Path of the log file of the job's latest attempt (undefined before it first ran). */
  logFile(jobId: string): string | undefined {
    const stream = this.byId.get(jobId)?.detail.container.logStreamName;
    return stream ? this.logPath(stream) : undefined;
  }

  /** Output of the job's latest attempt; empty when it has none yet. */
  readLog(jobId: string): string {
    const file = this.logFile(jobId);
    return file && existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /** True when no job is waiting, starting or running. */
  idle(): boolean {
    return this.active.size === 0 && this.processes.size === 0;
  }

  /**
   * Stops the emulator: running jobs get SIGTERM, then SIGKILL after `graceMs`, and end
   * FAILED with a reason saying the local stack stopped; state is written to disk.
   */
  async stop(graceMs = this.grace): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    const waits: Promise<void>[] = [];
    for (const [jobId, { proc, settled }] of this.processes) {
      this.endings.set(jobId, { kind: 'stop', graceMs });
      void proc.stop(graceMs);
      waits.push(settled);
    }
    for (const id of [...this.active]) {
      const job = this.byId.get(id)!;
      // STARTING without a process yet: nothing to signal, the attempt simply never ran.
      if (job.detail.status === 'STARTING' && !this.processes.has(id)) {
        const instanceId = this.instanceId(job.ceName ?? 'unknown');
        job.ceName = undefined;
        this.finish(job, 'FAILED', REASONS.stackStopped(instanceId, graceMs));
      }
    }
    await Promise.all(waits);
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = undefined;
    this.snapshot.flush();
  }

  // ---- operations ----------------------------------------------------------------

  private operate(operation: BatchOperation, body: Body): unknown {
    const r = this.resources;
    switch (operation) {
      case 'CreateComputeEnvironment':
        return r.createComputeEnvironment(body);
      case 'UpdateComputeEnvironment': {
        const out = r.updateComputeEnvironment(body);
        this.dispatch(); // more capacity or a re-enabled environment may start waiting jobs
        return out;
      }
      case 'DeleteComputeEnvironment':
        return r.deleteComputeEnvironment(body);
      case 'DescribeComputeEnvironments':
        return r.describeComputeEnvironments(body);
      case 'CreateJobQueue':
        return r.createJobQueue(body);
      case 'UpdateJobQueue': {
        const out = r.updateJobQueue(body);
        this.dispatch();
        return out;
      }
      case 'DeleteJobQueue': {
        const queue = r.deleteJobQueue(body);
        for (const id of [...this.active]) {
          const job = this.byId.get(id)!;
          if (job.queueName === queue.jobQueueName && !job.arrayParentId) this.terminate(id, 'Job queue deleted');
        }
        return {};
      }
      case 'DescribeJobQueues':
        return r.describeJobQueues(body);
      case 'RegisterJobDefinition':
        return r.registerJobDefinition(body);
      case 'DeregisterJobDefinition':
        return r.deregisterJobDefinition(body);
      case 'DescribeJobDefinitions':
        return r.describeJobDefinitions(body);
      case 'SubmitJob':
        return this.submit(body);
      case 'DescribeJobs':
        return this.describeJobs(body);
      case 'ListJobs':
        return this.listJobs(body);
      case 'CancelJob':
        this.cancel(requireString(body, 'jobId'), requireString(body, 'reason'));
        return {};
      case 'TerminateJob':
        this.terminate(requireString(body, 'jobId'), requireString(body, 'reason'));
        return {};
      case 'TagResource':
        return this.tagResource(body);
      case 'ListTagsForResource':
        return { tags: { ...this.tagsOf(requireString(body, 'resourceArn')) } };
      case 'UntagResource':
        return this.untagResource(body);
    }
  }

  private submit(body: Body): { jobId: string; jobName: string; jobArn: string } {
    const jobName = requireString(body, 'jobName');
    checkJobName(jobName);
    const queueRef = requireString(body, 'jobQueue');
    const queue = this.resources.findQueue(queueRef);
    if (!queue) throw clientError(`Job queue '${queueRef}' does not exist.`);
    if (queue.state !== 'ENABLED') throw clientError(`Job queue '${queue.jobQueueName}' is DISABLED and does not accept jobs.`);
    const defRef = requireString(body, 'jobDefinition');
    const def = this.resources.findDefinition(defRef);
    if (!def) throw clientError(`Job definition '${defRef}' does not exist or is not ACTIVE.`);
    if (def.type !== 'container' || !def.containerProperties) {
      throw clientError(`Job definition '${defRef}' is of type ${def.type}; the local stack runs container jobs only.`);
    }
    const size = (body.arrayProperties as Body | undefined)?.size;
    if (size !== undefined && (typeof size !== 'number' || !Number.isInteger(size) || size < 2 || size > 10_000)) {
      throw clientError(`arrayProperties.size must be an integer from 2 to 10000 (got ${String(size)}).`);
    }
    const dependsOn = this.checkDependsOn(body.dependsOn, size !== undefined);
    const overrides = (body.containerOverrides ?? {}) as NonNullable<SubmitJobRequest['containerOverrides']>;
    if (overrides.command !== undefined && (!Array.isArray(overrides.command) || overrides.command.some((c) => typeof c !== 'string'))) {
      throw clientError('containerOverrides.command must be a list of strings.');
    }
    const timeout = checkTimeout(body.timeout) ?? def.timeout;
    const retryStrategy = checkRetryStrategy(body.retryStrategy) ?? def.retryStrategy;
    const parameters = { ...def.parameters, ...optionalStringMap(body, 'parameters') };
    const tags = optionalTags(body, 'tags') ?? {};
    const propagateTags = typeof body.propagateTags === 'boolean' ? body.propagateTags : (def.propagateTags ?? false);

    const now = this.now();
    const seq = ++this.state.seq;
    const jobId = uuidFrom(`job:${this.opts.account}:${this.opts.region}:${seq}:${now}`);
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
        jobArn: this.resources.arn('job', jobId),
        dependsOn: dependsOn.map((d) => ({ ...(d.jobId ? { jobId: d.jobId } : {}), ...(d.type ? { type: d.type } : {}) })) as JobDetail['dependsOn'],
        ...(size !== undefined ? { arrayProperties: { statusSummary: {}, size } } : {}),
      },
      queueName: queue.jobQueueName,
      vcpus,
      seq,
      waitsFor: size === undefined ? dependsOn.map((d) => d.jobId!) : plainDeps,
    };
    this.add(parent);
    if (size !== undefined) {
      parent.children = [];
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
        const child: JobRecord = {
          detail: {
            ...structuredClone(base),
            jobId: childId,
            jobArn: this.resources.arn('job', childId),
            dependsOn: childDeps,
            arrayProperties: { index },
          },
          queueName: queue.jobQueueName,
          vcpus,
          seq,
          waitsFor,
          arrayParentId: jobId,
          arrayIndex: index,
        };
        parent.children.push(childId);
        this.add(child);
        this.later(() => this.evaluate(child));
      }
      parent.detail.arrayProperties = { size, statusSummary: emptySummary(size) };
    } else {
      this.later(() => this.evaluate(parent));
    }
    this.changed();
    return { jobArn: parent.detail.jobArn, jobName, jobId };
  }

  private checkDependsOn(raw: unknown, isArray: boolean): { jobId?: string; type?: 'N_TO_N' | 'SEQUENTIAL' }[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) throw clientError('dependsOn must be a list.');
    if (raw.length > 20) throw clientError('A job can depend on at most 20 jobs.');
    return raw.map((d: Body) => {
      const jobId = optionalString(d, 'jobId');
      const type = optionalString(d, 'type');
      if (type !== undefined && type !== 'N_TO_N' && type !== 'SEQUENTIAL') throw clientError(`dependsOn[].type must be N_TO_N or SEQUENTIAL, not '${type}'.`);
      if (type === 'SEQUENTIAL' && !jobId && !isArray) throw clientError('A SEQUENTIAL dependency without a jobId is only valid for an array job.');
      if (!jobId && type !== 'SEQUENTIAL') throw clientError('dependsOn[].jobId is required.');
      if (jobId && !this.byId.has(jobId)) throw clientError(`Dependent job ID '${jobId}' does not exist.`);
      if (type === 'N_TO_N' && jobId && !this.byId.get(jobId)!.children) throw clientError(`N_TO_N dependency '${jobId}' is not an array job.`);
      return { ...(jobId ? { jobId } : {}), ...(type ? { type: type as 'N_TO_N' | 'SEQUENTIAL' } : {}) };
    });
  }

  private describeJobs(body: Body): { jobs: JobDetail[] } {
    const ids = optionalStringList(body, 'jobs');
    if (!ids) throw clientError('jobs is required: a list of up to 100 job IDs.');
    if (ids.length > 100) throw clientError('DescribeJobs takes at most 100 job IDs.');
    // Unknown ids are left out rather than refused, as Batch does.
    const jobs = ids.map((id) => this.byId.get(id)).filter((j): j is JobRecord => j !== undefined).map((j) => this.view(j));
    return { jobs };
  }

  private listJobs(body: Body): { jobSummaryList: unknown[]; nextToken?: string } {
    const queueRef = optionalString(body, 'jobQueue');
    const arrayJobId = optionalString(body, 'arrayJobId');
    const multiNodeJobId = optionalString(body, 'multiNodeJobId');
    if (!queueRef && !arrayJobId && !multiNodeJobId) throw clientError('One of jobQueue, arrayJobId or multiNodeJobId is required.');
    const filters = (body.filters ?? []) as { name?: string; values?: string[] }[];
    if (!Array.isArray(filters)) throw clientError('filters must be a list.');
    let jobs: JobRecord[];
    if (arrayJobId) {
      const parent = this.byId.get(arrayJobId);
      if (!parent?.children) throw clientError(`Array job '${arrayJobId}' does not exist.`);
      jobs = parent.children.map((id) => this.byId.get(id)!);
    } else if (multiNodeJobId) {
      jobs = []; // multi-node parallel jobs are not run locally, so none can exist
    } else {
      const queue = this.resources.findQueue(queueRef!);
      if (!queue) throw clientError(`Job queue '${queueRef}' does not exist.`);
      jobs = this.state.jobs.filter((j) => j.queueName === queue.jobQueueName && !j.arrayParentId);
    }
    if (filters.length > 0) {
      // With a filter Batch lists jobs of every status, ignoring jobStatus.
      for (const f of filters) jobs = jobs.filter(filterFor(f));
    } else {
      const status = optionalString(body, 'jobStatus') ?? 'RUNNING';
      if (!JOB_STATUSES.includes(status as JobStatus)) throw clientError(`jobStatus '${status}' is not one of ${JOB_STATUSES.join(', ')}.`);
      jobs = jobs.filter((j) => j.detail.status === status);
    }
    const p = page(jobs, optionalNumber(body, 'maxResults'), optionalString(body, 'nextToken'));
    return { jobSummaryList: p.items.map(summaryOf), ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
  }

  private tagResource(body: Body): Record<string, never> {
    const tags = optionalTags(body, 'tags');
    if (!tags) throw clientError('tags is required.');
    const holder = this.tagHolder(requireString(body, 'resourceArn'));
    holder.tags = checkTagCount({ ...holder.tags, ...tags }, 'tags');
    this.changed();
    return {};
  }

  private untagResource(body: Body): Record<string, never> {
    const keys = optionalStringList(body, 'tagKeys') ?? [];
    const holder = this.tagHolder(requireString(body, 'resourceArn'));
    const tags = { ...holder.tags };
    for (const k of keys) delete tags[k];
    holder.tags = tags;
    this.changed();
    return {};
  }

  private tagsOf(arn: string): Record<string, string> {
    return this.tagHolder(arn).tags ?? {};
  }

  private tagHolder(arn: string): { tags?: Record<string, string> } {
    const resource = this.resources.taggable(arn);
    if (resource) return resource;
    const job = this.state.jobs.find((j) => j.detail.jobArn === arn);
    if (job) return job.detail;
    throw clientError(`Resource '${arn}' does not exist.`);
  }

  // ---- lifecycle -----------------------------------------------------------------

  /** Moves a SUBMITTED/PENDING job on according to its dependencies. */
  private evaluate(job: JobRecord): void {
    const status = job.detail.status;
    if (status !== 'SUBMITTED' && status !== 'PENDING') return;
    const deps = job.waitsFor.map((id) => this.byId.get(id));
    const failed = deps.some((d) => !d || d.detail.status === 'FAILED');
    const allDone = deps.every((d) => d && TERMINAL.has(d.detail.status));
    if (job.cancelReason && allDone) {
      this.finish(job, 'FAILED', job.cancelReason);
      return;
    }
    if (failed) {
      // Batch moves a dependent job PENDING -> FAILED, so a SUBMITTED one shows PENDING first.
      if (status === 'SUBMITTED') this.setStatus(job, 'PENDING');
      this.finish(job, 'FAILED', REASONS.dependencyFailed);
      return;
    }
    if (deps.every((d) => d!.detail.status === 'SUCCEEDED')) {
      this.setStatus(job, 'RUNNABLE');
      this.dispatch();
      return;
    }
    if (status === 'SUBMITTED') this.setStatus(job, 'PENDING');
  }

  /** Places RUNNABLE jobs on free capacity; coalesced so many changes make one pass. */
  private dispatch(): void {
    if (this.dispatchPending || this.stopped) return;
    this.dispatchPending = true;
    queueMicrotask(() => {
      this.dispatchPending = false;
      if (this.stopped) return;
      const used = new Map<string, number>();
      const runnable: JobRecord[] = [];
      for (const id of this.active) {
        const job = this.byId.get(id)!;
        if (job.children) continue;
        if (ACTIVE_ON_HOST.has(job.detail.status) && job.ceName) {
          used.set(job.ceName, (used.get(job.ceName) ?? 0) + job.vcpus);
        } else if (job.detail.status === 'RUNNABLE') {
          runnable.push(job);
        }
      }
      if (runnable.length === 0) return;
      const environments = new Map(this.state.computeEnvironments.map((c) => [c.computeEnvironmentName, c]));
      for (const { job, ce } of place(runnable, this.state.jobQueues, environments, used)) {
        job.ceName = ce.computeEnvironmentName;
        this.setStatus(job, 'STARTING');
        this.later(() => this.launch(job));
      }
      for (const job of runnable) {
        if (job.detail.status !== 'RUNNABLE' || job.detail.statusReason) continue;
        const queue = this.resources.findQueue(job.queueName);
        if (queue && neverFits(job, queue, environments)) {
          // Batch's blocked-queue reason; the job stays RUNNABLE as it would on AWS.
          job.detail.statusReason =
            'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement (vCPU/memory/GPU) is higher than that can be met by the CE(s) attached to the job queue.';
          this.changed();
        }
      }
    });
  }

  /** STARTING -> RUNNING: starts the attempt's process. */
  private launch(job: JobRecord): void {
    if (job.detail.status !== 'STARTING' || !job.ceName) return;
    const ce = this.resources.findCe(job.ceName);
    const attemptNo = job.detail.attempts.length + 1;
    const taskId = hexFrom(`task:${job.detail.jobId}:${attemptNo}:${this.now()}`);
    const defName = job.detail.jobDefinition.split('/').pop()!.replace(/:\d+$/, '');
    const logStreamName = `${defName}/default/${taskId}`;
    const cluster = `AWSBatch-${job.ceName}-${ce?.uuid ?? 'local'}`;
    const ecs = `arn:aws:ecs:${job.detail.jobArn.split(':')[3] || this.opts.region}:${this.opts.account}`;
    const c = job.detail.container;
    c.logStreamName = logStreamName;
    c.taskArn = `${ecs}:task/${cluster}/${taskId}`;
    c.containerInstanceArn = `${ecs}:container-instance/${cluster}/${hexFrom(`instance:${job.ceName}`)}`;
    delete c.exitCode;
    delete c.reason;

    // The ECS agent acts with the execution role before the container exists: a refusal ends
    // the attempt with ECS's reason and nothing runs.
    const denial = this.opts.iam?.taskStartDenial(c.executionRoleArn, taskId, {
      ...(c.image ? { image: c.image } : {}),
      secrets: c.secrets as { name?: string; valueFrom?: string }[],
      ...(c.logConfiguration ? { logConfiguration: c.logConfiguration as { logDriver?: string; options?: Record<string, string> } } : {}),
      logStreamName,
    });
    if (denial) {
      const attempt: AttemptDetail = {
        container: { containerInstanceArn: c.containerInstanceArn, taskArn: c.taskArn, networkInterfaces: [] },
        stoppedAt: this.now(),
        statusReason: denial,
      };
      this.closeAttempt(job, attempt, { retryable: true, jobReason: denial });
      return;
    }

    const env: Record<string, string> = {};
    for (const k of INHERITED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    Object.assign(env, { AWS_REGION: this.opts.region, AWS_DEFAULT_REGION: this.opts.region }, this.opts.jobEnv);
    for (const { name, value } of c.environment) env[name] = value;
    Object.assign(env, {
      AWS_BATCH_JOB_ID: job.detail.jobId,
      AWS_BATCH_JOB_ATTEMPT: String(attemptNo),
      AWS_BATCH_JQ_NAME: job.queueName,
      AWS_BATCH_CE_NAME: job.ceName,
    });
    if (job.arrayIndex !== undefined) env.AWS_BATCH_JOB_ARRAY_INDEX = String(job.arrayIndex);
    // The job role's session, as ECS gives the container its task role's credentials.
    Object.assign(env, this.opts.iam?.roleEnvironment(c.jobRoleArn, taskId));
    // Secrets last (they win over a same-named variable, as on ECS) and only in the process's environment.
    const secrets = (c.secrets ?? []) as SecretRef[];
    if (secrets.length > 0) {
      try {
        if (!this.opts.resolveSecrets) throw new SecretResolutionError('ResourceInitializationError: unable to pull secrets or registry auth: the local stack has no secret store');
        const executionRoleArn = typeof c.executionRoleArn === 'string' ? c.executionRoleArn : undefined;
        Object.assign(env, this.opts.resolveSecrets(secrets, { jobId: job.detail.jobId, ...(executionRoleArn ? { executionRoleArn } : {}) }));
      } catch (error) {
        const reason = error instanceof SecretResolutionError ? error.message : 'ResourceInitializationError: unable to pull secrets or registry auth';
        this.failToStart(job, reason);
        return;
      }
    }

    const proc = runProcess({ command: c.command, cwd: this.opts.projectDir, env, logFile: this.logPath(logStreamName) });
    const settled = (async () => {
      let startedAt: number | undefined;
      let timer: Timer | undefined;
      if (await proc.started) {
        startedAt = this.now();
        job.detail.startedAt = startedAt;
        this.setStatus(job, 'RUNNING');
        const seconds = job.detail.timeout?.attemptDurationSeconds;
        if (seconds) {
          timer = this.opts.clock.after(seconds * 1000, () => {
            if (!this.processes.has(job.detail.jobId) || this.endings.has(job.detail.jobId)) return;
            this.endings.set(job.detail.jobId, { kind: 'timeout' });
            void proc.stop(this.grace);
          });
        }
      }
      const result = await proc.done;
      timer?.cancel();
      this.processes.delete(job.detail.jobId);
      this.attemptEnded(job, result, startedAt);
    })();
    this.processes.set(job.detail.jobId, { proc, settled });
  }

  /** The attempt ends before its container starts (as ECS ends a task whose secrets it cannot read). */
  private failToStart(job: JobRecord, reason: string): void {
    const c = job.detail.container;
    const attempt: AttemptDetail = {
      container: { containerInstanceArn: c.containerInstanceArn, taskArn: c.taskArn, reason, logStreamName: c.logStreamName, networkInterfaces: [] },
      stoppedAt: this.now(),
      statusReason: reason,
    };
    this.closeAttempt(job, attempt, { retryable: true, jobReason: reason });
  }

  /** Records the attempt that just ended and decides what the job does next. */
  private attemptEnded(job: JobRecord, result: RunResult, startedAt: number | undefined): void {
    const ending = this.endings.get(job.detail.jobId);
    this.endings.delete(job.detail.jobId);
    if (!ACTIVE_ON_HOST.has(job.detail.status)) return;
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
      stoppedAt: this.now(),
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
      attempt.statusReason = jobReason = REASONS.stackStopped(this.instanceId(job.ceName ?? 'unknown'), ending.graceMs);
      retryable = false;
    } else if (result.startError) {
      attempt.container.reason = REASONS.cannotStart(result.startError);
      attempt.statusReason = jobReason = REASONS.taskFailedToStart;
    } else {
      attempt.statusReason = jobReason = REASONS.essentialExited;
    }
    const succeeded = !ending && result.exitCode === 0 && !result.startError;
    this.closeAttempt(job, attempt, { retryable: retryable && !succeeded, jobReason, succeeded });
  }

  /** Appends the attempt, frees its capacity and moves the job to SUCCEEDED, RUNNABLE (retry) or FAILED. */
  private closeAttempt(job: JobRecord, attempt: AttemptDetail, o: { retryable: boolean; jobReason: string; succeeded?: boolean }): void {
    job.detail.attempts.push(attempt);
    const c = job.detail.container;
    if (attempt.container.exitCode !== undefined) c.exitCode = attempt.container.exitCode;
    else delete c.exitCode;
    if (attempt.container.reason !== undefined) c.reason = attempt.container.reason;
    else delete c.reason;
    job.detail.stoppedAt = attempt.stoppedAt;
    job.ceName = undefined;
    if (o.succeeded) {
      this.finish(job, 'SUCCEEDED', o.jobReason);
    } else if (
      o.retryable &&
      !this.stopped &&
      retryDecision(
        job.detail.retryStrategy,
        { exitCode: attempt.container.exitCode, reason: attempt.container.reason, statusReason: attempt.statusReason },
        job.detail.attempts.length,
      ) === 'RETRY'
    ) {
      this.setStatus(job, 'RUNNABLE', o.jobReason);
    } else {
      this.finish(job, 'FAILED', o.jobReason);
    }
    this.dispatch();
  }

  /** Ends a job and releases whatever waited on it. */
  private finish(job: JobRecord, status: 'SUCCEEDED' | 'FAILED', reason: string | undefined): void {
    if (TERMINAL.has(job.detail.status)) return;
    job.detail.stoppedAt ??= this.now();
    this.active.delete(job.detail.jobId);
    this.setStatus(job, status, reason);
    for (const id of this.active) {
      const other = this.byId.get(id)!;
      if (other.waitsFor.includes(job.detail.jobId)) this.later(() => this.evaluate(other));
    }
  }

  private cancel(jobId: string, reason: string): void {
    const job = this.byId.get(jobId);
    // Batch answers 200 with an empty body for a job id it does not know (CancelJob and TerminateJob alike).
    if (!job) return;
    if (job.children) {
      // Batch cancels an array job by cancelling its children; the parent follows them.
      for (const id of job.children) this.cancel(id, reason);
      return;
    }
    const s = job.detail.status;
    if (s === 'SUBMITTED' || s === 'RUNNABLE') {
      this.finish(job, 'FAILED', reason);
    } else if (s === 'PENDING') {
      // A PENDING job is cancelled once its dependencies are done, as Batch documents.
      job.cancelReason = reason;
      this.changed();
      this.evaluate(job);
    }
    // STARTING/RUNNING jobs are left alone: that is TerminateJob's work.
  }

  private terminate(jobId: string, reason: string): void {
    const job = this.byId.get(jobId);
    if (!job) return;
    if (job.children) {
      for (const id of job.children) this.terminate(id, reason);
      return;
    }
    const s = job.detail.status;
    if (s === 'SUBMITTED' || s === 'PENDING' || s === 'RUNNABLE') {
      this.finish(job, 'FAILED', reason);
    } else if (s === 'STARTING' && !this.processes.has(jobId)) {
      job.ceName = undefined;
      this.finish(job, 'FAILED', reason);
      this.dispatch();
    } else if (ACTIVE_ON_HOST.has(s)) {
      const running = this.processes.get(jobId);
      if (running && !this.endings.has(jobId)) {
        this.endings.set(jobId, { kind: 'terminate', reason });
        void running.proc.stop(this.grace);
      }
    }
  }

  private setStatus(job: JobRecord, status: JobStatus, reason?: string): void {
    const previous = job.detail.status;
    job.detail.status = status;
    if (reason !== undefined) job.detail.statusReason = reason;
    else delete job.detail.statusReason;
    this.changed();
    this.publish(job);
    if (job.arrayParentId) this.summarize(this.byId.get(job.arrayParentId)!, previous, status);
  }

  /**
   * Keeps an array parent's statusSummary and status in step with its children. Counts
   * move by one per child transition, so a 10,000-child array costs no rescans.
   */
  private summarize(parent: JobRecord, from: JobStatus, to: JobStatus): void {
    const summary = parent.detail.arrayProperties!.statusSummary!;
    summary[from] = (summary[from] ?? 1) - 1;
    summary[to] = (summary[to] ?? 0) + 1;
    if (TERMINAL.has(parent.detail.status)) return;
    const size = parent.children?.length ?? 0;
    if ((summary.SUCCEEDED ?? 0) + (summary.FAILED ?? 0) === size) {
      const anyFailed = (summary.FAILED ?? 0) > 0;
      parent.detail.startedAt ??= minOf((parent.children ?? []).map((id) => this.byId.get(id)?.detail.startedAt));
      parent.detail.stoppedAt = this.now();
      this.finish(parent, anyFailed ? 'FAILED' : 'SUCCEEDED', anyFailed ? REASONS.arrayChildFailed : undefined);
    } else if (parent.detail.status === 'SUBMITTED' && from === 'SUBMITTED') {
      // The parent only ever shows SUBMITTED, PENDING, SUCCEEDED or FAILED.
      this.setStatus(parent, 'PENDING');
    }
  }

  private publish(job: JobRecord): void {
    const now = this.now();
    const event: EventBridgeEvent<JobDetail> = {
      version: '0',
      id: uuidFrom(`event:${job.detail.jobId}:${this.eventSeq++}:${now}`),
      'detail-type': 'Batch Job State Change',
      source: 'aws.batch',
      account: this.opts.account,
      // EventBridge times carry whole seconds only.
      time: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: job.detail.jobArn.split(':')[3] || this.opts.region,
      resources: [job.detail.jobArn],
      detail: this.view(job),
    };
    try {
      this.opts.events.publish(event);
    } catch {
      // A subscriber's failure must not wedge the job's own lifecycle.
    }
  }

  // ---- plumbing ------------------------------------------------------------------

  private add(job: JobRecord): void {
    this.state.jobs.push(job);
    this.byId.set(job.detail.jobId, job);
    this.active.add(job.detail.jobId);
  }

  /** The public JSON view: a deep copy, without undefined members, as it would cross the wire. */
  private view(job: JobRecord): JobDetail {
    // Identity first, in the order AWS's own samples list members, then the rest.
    const { jobArn, jobName, jobId, jobQueue, status, ...rest } = job.detail;
    return JSON.parse(JSON.stringify({ jobArn, jobName, jobId, jobQueue, status, ...rest })) as JobDetail;
  }

  private later(fn: () => void): void {
    if (this.stopped) return;
    const timer = this.opts.clock.after(this.delay, () => {
      this.timers.delete(timer);
      if (!this.stopped) fn();
    });
    this.timers.add(timer);
  }

  /**
   * Persists after a mutation. The snapshot is the whole state, so its cost grows with the
   * jobs kept (thousands of jobs: megabytes, tens of ms per write); writes are spaced ten
   * times their last cost (at least JsonSnapshot's 200 ms), which keeps persistence under a
   * tenth of a core however many jobs pile up, at the price of a slightly older file on a crash.
   */
  private changed(): void {
    if (!this.opts.dataDir || this.snapshotTimer) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = undefined;
      const started = performance.now();
      this.snapshot.flush();
      this.snapshotCostMs = performance.now() - started;
    }, Math.max(200, this.snapshotCostMs * 10));
    this.snapshotTimer.unref?.();
  }

  private now(): number {
    return this.opts.clock.now();
  }

  private instanceId(ceName: string): string {
    return `i-${hexFrom(`instance:${ceName}`, 17)}`;
  }

  private logPath(logStreamName: string): string {
    return `${join(this.logDir, ...logStreamName.split('/'))}.log`;
  }
}

function buildContainer(
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

function minOf(values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? Math.min(...defined) : undefined;
}

