/**
 * What the engine needs from the world, passed in (never imported) so tests can point it at
 * DynamoDB Local and the local stack, wrap a client to inject a crash, or run the same code
 * with a fast-forwarded clock. `defaultDeps` wires the real clients for a Lambda handler.
 */
import { SSMClient } from '@aws-sdk/client-ssm';
import { batch, batchSubmit } from '../clients/batch.ts';
import { documentClient } from '../clients/dynamodb.ts';
import { credentials } from '../clients/credentials.ts';
import { scheduler } from '../clients/scheduler.ts';
import type { EngineEnv } from '../env.ts';
import { logger, powertoolsMetrics, type EngineLogger, type EngineMetrics } from '../logger.ts';
import type { Notifier } from '../notify/slack.ts';
import { routedNotifier } from '../notify/routing.ts';
import { dynamoStore } from '../store/dynamo.ts';
import { dynamoWindowStore } from '../store/windows.ts';
import { dynamoDeadlineStore } from '../store/deadlines.ts';
import { now } from '../time.ts';
import { sdkBatch, sdkRetryScheduler, type BatchPort, type DeadlineStore, type RetrySchedulerPort, type Store, type WindowStore } from './ports.ts';
import type { TransitionContext } from './run-state.ts';
import { sdkScheduleRegistry, type ScheduleRegistryPort } from './registry.ts';

/** The engine's collaborators and settings. */
export interface EngineDeps {
  store: Store;
  batch: BatchPort;
  retries: RetrySchedulerPort;
  /** The schedules the sweeper checks for fires that never became runs; no missed-fire repair without it. */
  registry?: ScheduleRegistryPort;
  /** Batch windows of event triggers (shared/engine/trigger.ts); without it the sweeper has no windows to close. */
  windowStore?: WindowStore;
  /** Deadline records (shared/engine/deadline.ts); without it the sweeper checks no deadlines. */
  deadlineStore?: DeadlineStore;
  notifier: Notifier;
  env: Pick<EngineEnv, 'deployment' | 'defaultQueue' | 'retentionDays' | 'jobLogGroup' | 'region' | 'stuckMinutes' | 'submitRate' | 'quietFailureReasons'>;
  /** Epoch ms; every decision reads time here. */
  now: () => number;
  /** Identity of this invocation (Lambda request id): the owner of the leases it takes. */
  owner: string;
  log: EngineLogger;
  metrics: EngineMetrics;
  /**
   * How long a submission lease lasts (default 60 s). A Lambda invocation leases for the
   * time it has left (see `lambdaDeps`): it cannot act after its timeout, so a longer lease
   * only delays repair and a shorter one would let a second submitter in while it may still submit.
   */
  leaseMs?: number;
  /**
   * At most how long one invocation keeps backing off a throttled SubmitJob before handing
   * over to Lambda's retry. Without it the bound is the submission lease and the time the
   * invocation has left (`remainingMs`), each less `DEFAULTS.throttleReserveMs`.
   */
  throttleBudgetMs?: number;
  /** Milliseconds this invocation has left (Lambda's `getRemainingTimeInMillis`); unbounded when absent. */
  remainingMs?: () => number;
  /** How long a notification claim lasts before another invocation may resend (default 60 s). */
  notifyClaimMs?: number;
  /** Grace after `retryAt` before the sweeper starts an overdue retry itself (default 5 min). */
  retryGraceMs?: number;
  /** Waits in-process (throttle backoff); real time by default. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Defaults for the optional settings. */
export const DEFAULTS = {
  leaseMs: 60_000,
  /** Longest lease a Lambda invocation takes, however long its timeout (the sweeper's is 5 min). */
  maxLeaseMs: 120_000,
  /**
   * A deferred submission (a SubmitJob slot beyond the invocation's budget, handed to a
   * one-time schedule) is left to that schedule until this long before its slot; from then
   * on any invocation that drives the run may take it (the schedule fired early, or was lost).
   */
  deferralLeadMs: 60_000,
  /** Kept free at the end of the lease and of the invocation: recording the submission, then returning. */
  throttleReserveMs: 10_000,
  /** Ceiling of one throttle backoff (full jitter below it): short enough that the last few contenders of a burst are not left waiting. */
  throttleCapMs: 2_000,
  notifyClaimMs: 60_000,
  retryGraceMs: 300_000,
} as const;

/** The transition context for a decision taken now by this invocation. */
export function contextOf(deps: EngineDeps): TransitionContext {
  return {
    now: deps.now(),
    owner: deps.owner,
    leaseMs: deps.leaseMs ?? DEFAULTS.leaseMs,
    deployment: deps.env.deployment,
    retentionDays: deps.env.retentionDays,
    ...(deps.env.quietFailureReasons?.length ? { quietFailureReasons: deps.env.quietFailureReasons } : {}),
  };
}

/** The production wiring for one Lambda invocation: `defaultDeps` bounded by the invocation's remaining time. */
export function lambdaDeps(env: EngineEnv, context: { awsRequestId: string; functionName?: string; getRemainingTimeInMillis(): number }): EngineDeps {
  const leaseMs = Math.max(DEFAULTS.leaseMs, Math.min(DEFAULTS.maxLeaseMs, context.getRemainingTimeInMillis()));
  return { leaseMs, ...defaultDeps(env, context.awsRequestId, undefined, context.functionName), remainingMs: () => context.getRemainingTimeInMillis() };
}

/**
 * How a handler gets its deps for one invocation. Each function module exports
 * `createHandler(depsFor)` beside its `handler` (built with `lambdaDeps`), so a test can
 * build the real handler over wrapped ports, e.g. to die right after a real SubmitJob.
 */
export type DepsFor = (context: { awsRequestId: string; functionName?: string; getRemainingTimeInMillis(): number }) => EngineDeps;

let ssm: SSMClient | undefined;
/**
 * One notifier per function container (it caches the webhook URL read from SSM), by function
 * name: on AWS a container runs one function, so this is one per cold start; the local Lambda
 * runtime runs every function in one process, and each still reads the webhook with its own role.
 */
const slack = new Map<string, Notifier>();

/** The production wiring: shared clients, the environment, Powertools logger and metrics, Slack. */
export function defaultDeps(env: EngineEnv, owner: string, notifier?: Notifier, functionName = ''): EngineDeps {
  if (!notifier && !slack.has(functionName)) {
    slack.set(
      functionName,
      routedNotifier({
        envOf: (name) => process.env[name],
        url: env.slackWebhookUrl,
        parameterName: env.slackWebhookParameter,
        ssm: () => (ssm ??= new SSMClient({ credentials })),
        log: logger,
      }),
    );
  }
  return {
    store: dynamoStore({ doc: documentClient, table: env.table }),
    windowStore: dynamoWindowStore({ doc: documentClient, table: env.table }),
    deadlineStore: dynamoDeadlineStore({ doc: documentClient, table: env.table }),
    batch: sdkBatch(batch, batchSubmit),
    retries: sdkRetryScheduler(scheduler, { groupName: env.scheduleGroup, targetArn: env.retryTargetArn, roleArn: env.schedulerRoleArn }),
    ...(env.fireTargetArn ? { registry: sdkScheduleRegistry(scheduler, { groupName: env.scheduleGroup, fireTargetArn: env.fireTargetArn }) } : {}),
    notifier: notifier ?? slack.get(functionName)!,
    env,
    now,
    owner,
    log: logger,
    metrics: powertoolsMetrics,
  };
}
