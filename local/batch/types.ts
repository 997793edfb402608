/**
 * The local Batch's model: the resources as the API describes them (restJson1 member
 * names, epoch-millisecond timestamps) plus the little each job needs internally.
 * Everything here is plain JSON so the whole state can be snapshotted to disk.
 */

export type JobStatus = 'SUBMITTED' | 'PENDING' | 'RUNNABLE' | 'STARTING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export const JOB_STATUSES: readonly JobStatus[] = [
  'SUBMITTED',
  'PENDING',
  'RUNNABLE',
  'STARTING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
];

/** Statuses in which a job holds capacity on a compute environment. */
export const ACTIVE_ON_HOST: ReadonlySet<JobStatus> = new Set(['STARTING', 'RUNNING']);
export const TERMINAL: ReadonlySet<JobStatus> = new Set(['SUCCEEDED', 'FAILED']);

/**
 * Status reasons Batch writes, so `evaluateOnExit.onStatusReason` globs written for AWS
 * (`Host EC2*`, `Essential container*`) match the local stack the same way.
 */
/** What a stack-stopped reason says after AWS's own text; `STACK_STOPPED_GLOB` matches it. */
const STACK_STOPPED_MARK = '(The local stack stopped:';
/**
 * The status-reason glob of jobs the local stack's own stop ended: the local deploy gives it
 * to the functions (BATCHRON_QUIET_FAILURE_REASONS), so a run its retry policy then fails is
 * not notified (see docs/cli.md, Stopping the local stack).
 */
export const STACK_STOPPED_GLOB = `*${STACK_STOPPED_MARK}*`;

export const REASONS = {
  essentialExited: 'Essential container in task exited',
  timeout: 'Job attempt duration exceeded timeout',
  dependencyFailed: 'Dependent Job failed',
  /** AWS's text when the instance under a job goes away (Spot reclaim, scale-in, hardware). */
  hostTerminated: (instanceId: string) => `Host EC2 (instance ${instanceId}) terminated.`,
  /**
   * A stop of the local stack ends its jobs as a lost host would, so it says what AWS says
   * then (and a retry policy that treats `Host EC2*` as infrastructure retries them), plus
   * what really happened.
   */
  stackStopped: (instanceId: string, graceMs: number) =>
    `Host EC2 (instance ${instanceId}) terminated. ${STACK_STOPPED_MARK} the job's process was sent SIGTERM, then SIGKILL after ${graceMs} ms.)`,
  cannotStart: (detail: string) => `CannotStartContainerError: ${detail}`,
  taskFailedToStart: 'Task failed to start',
  arrayChildFailed: 'Array Child Job failed',
} as const;

export interface KeyValuePair {
  name: string;
  value: string;
}

export interface ResourceRequirement {
  type: 'VCPU' | 'MEMORY' | 'GPU';
  value: string;
}

export interface EvaluateOnExit {
  onStatusReason?: string;
  onReason?: string;
  onExitCode?: string;
  action: string;
}

export interface RetryStrategy {
  attempts?: number;
  evaluateOnExit?: EvaluateOnExit[];
}

export interface ContainerProperties {
  image?: string;
  command?: string[];
  environment?: KeyValuePair[];
  resourceRequirements?: ResourceRequirement[];
  vcpus?: number;
  memory?: number;
  jobRoleArn?: string;
  executionRoleArn?: string;
  [other: string]: unknown;
}

export interface ComputeEnvironment {
  computeEnvironmentName: string;
  computeEnvironmentArn: string;
  ecsClusterArn: string;
  type: 'MANAGED' | 'UNMANAGED';
  state: 'ENABLED' | 'DISABLED';
  status: 'CREATING' | 'UPDATING' | 'DELETING' | 'DELETED' | 'VALID' | 'INVALID';
  statusReason: string;
  computeResources?: { maxvCpus?: number; minvCpus?: number; [other: string]: unknown };
  unmanagedvCpus?: number;
  serviceRole?: string;
  tags?: Record<string, string>;
  uuid: string;
  containerOrchestrationType: 'ECS';
}

export interface ComputeEnvironmentOrder {
  order: number;
  computeEnvironment: string;
}

export interface JobQueue {
  jobQueueName: string;
  jobQueueArn: string;
  state: 'ENABLED' | 'DISABLED';
  status: 'CREATING' | 'UPDATING' | 'DELETING' | 'DELETED' | 'VALID' | 'INVALID';
  statusReason: string;
  priority: number;
  computeEnvironmentOrder: ComputeEnvironmentOrder[];
  schedulingPolicyArn?: string;
  jobStateTimeLimitActions?: unknown[];
  tags?: Record<string, string>;
  /** Insertion order, to keep DescribeJobQueues stable. */
  createdAt: number;
}

export interface JobDefinition {
  jobDefinitionName: string;
  jobDefinitionArn: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  type: string;
  parameters?: Record<string, string>;
  retryStrategy?: RetryStrategy;
  containerProperties?: ContainerProperties;
  timeout?: { attemptDurationSeconds?: number };
  tags?: Record<string, string>;
  propagateTags?: boolean;
  platformCapabilities?: string[];
  schedulingPriority?: number;
  containerOrchestrationType: 'ECS';
}

export interface AttemptContainer {
  containerInstanceArn?: string;
  taskArn?: string;
  exitCode?: number;
  reason?: string;
  logStreamName?: string;
  networkInterfaces: unknown[];
}

export interface AttemptDetail {
  container: AttemptContainer;
  startedAt?: number;
  stoppedAt?: number;
  statusReason?: string;
}

export interface ContainerDetail extends ContainerProperties {
  command: string[];
  volumes: unknown[];
  environment: KeyValuePair[];
  mountPoints: unknown[];
  ulimits: unknown[];
  networkInterfaces: unknown[];
  resourceRequirements: ResourceRequirement[];
  secrets: unknown[];
  exitCode?: number;
  reason?: string;
  logStreamName?: string;
  containerInstanceArn?: string;
  taskArn?: string;
}

export interface ArrayPropertiesDetail {
  statusSummary?: Partial<Record<JobStatus, number>>;
  size?: number;
  index?: number;
}

/** A job exactly as DescribeJobs returns it (and as the state-change event's `detail`). */
export interface JobDetail {
  jobArn: string;
  jobName: string;
  jobId: string;
  jobQueue: string;
  status: JobStatus;
  shareIdentifier?: string;
  schedulingPriority?: number;
  attempts: AttemptDetail[];
  statusReason?: string;
  createdAt: number;
  retryStrategy?: RetryStrategy;
  startedAt?: number;
  stoppedAt?: number;
  dependsOn: { jobId: string; type?: string }[];
  jobDefinition: string;
  parameters: Record<string, string>;
  container: ContainerDetail;
  arrayProperties?: ArrayPropertiesDetail;
  timeout?: { attemptDurationSeconds?: number };
  tags: Record<string, string>;
  propagateTags: boolean;
  platformCapabilities: string[];
  eksAttempts: unknown[];
}

/** What the emulator keeps per job beside the public detail. */
export interface JobRecord {
  detail: JobDetail;
  /** Queue name, for dispatch and AWS_BATCH_JQ_NAME. */
  queueName: string;
  /** vCPUs one attempt holds on its compute environment. */
  vcpus: number;
  /** Compute environment the current attempt is placed on. */
  ceName?: string;
  /** Monotonic submit order: FIFO tie-break inside a queue. */
  seq: number;
  /** Effective dependencies (array SEQUENTIAL/N_TO_N translated to child ids). */
  waitsFor: string[];
  arrayParentId?: string;
  arrayIndex?: number;
  children?: string[];
  /** A CancelJob on a PENDING job takes effect once its dependencies are done, as on AWS. */
  cancelReason?: string;
}

export interface BatchState {
  computeEnvironments: ComputeEnvironment[];
  jobQueues: JobQueue[];
  jobDefinitions: JobDefinition[];
  jobs: JobRecord[];
  /** Counter behind ids, so they never repeat across restarts. */
  seq: number;
}
