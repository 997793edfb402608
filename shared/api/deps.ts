/**
 * What the API's domain functions take as collaborators. functions/api.ts builds the real
 * ones once per cold start; a test can pass others (a fixed clock, a second table).
 */
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { BatchClient } from '@aws-sdk/client-batch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { FireInput } from '../config/definition.ts';
import { ENV } from '../config/definition.ts';
import { EnvironmentError } from '../errors.ts';
import type { DeadlineStore, Store } from '../engine/ports.ts';
import type { RerunResult } from '../engine/rerun.ts';
import type { RunItem } from '../store/schema.ts';

/** The environment the API reads (once, at cold start). */
export interface ApiEnv {
  table: string;
  deployment: string;
  scheduleGroup: string;
  /** `fire`'s ARN: the target of every schedule, and so what marks a Batchron schedule in the group. */
  fireTargetArn: string;
  schedulerRoleArn: string;
  defaultQueue: string;
  /** Log group of the Batch jobs (`/aws/batch/job` unless the job definitions say otherwise). */
  jobLogGroup: string;
  /** Whether dynamic schedules may replace a job definition's command (default false). */
  allowCommandOverride: boolean;
}

/** How the api function tells a browser operator from a viewer (read once, at cold start). */
export interface RoleConfig {
  /** JWT claim with the caller's groups. */
  groupsClaim: string;
  /** The group that makes a browser user an operator. */
  operatorGroup: string;
}

/** Reads the dashboard's role settings; both have defaults (Cognito's claim, `operators`). */
export function readRoleConfig(source: Source = process.env): RoleConfig {
  return {
    groupsClaim: source[DASHBOARD_ENV.groupsClaim]?.trim() || 'cognito:groups',
    operatorGroup: source[DASHBOARD_ENV.operatorGroup]?.trim() || 'operators',
  };
}

type Source = Record<string, string | undefined>;

/** Variables only the api function reads (the dashboard's roles); serverless.yml sets them on `api`. */
export const DASHBOARD_ENV = {
  /** The JWT claim that lists a browser user's groups (Cognito: `cognito:groups`). */
  groupsClaim: 'BATCHRON_GROUPS_CLAIM',
  /** The group whose members may trigger, cancel, pause, backfill and re-run from the dashboard. */
  operatorGroup: 'BATCHRON_OPERATOR_GROUP',
  /** The identity provider's authorization endpoint, where the dashboard sends a browser to sign in. */
  authorizeUrl: 'BATCHRON_DASHBOARD_AUTHORIZE_URL',
  /** Its token endpoint (default: the authorization endpoint with `/token` for `/authorize`, as Cognito has it). */
  tokenUrl: 'BATCHRON_DASHBOARD_TOKEN_URL',
  /** The dashboard's OIDC client id (the `aud` of its ID tokens). */
  clientId: 'BATCHRON_DASHBOARD_CLIENT_ID',
} as const;

/** How a browser signs in on AWS: OIDC with PKCE, or not at all when unconfigured. */
export type SignInConfig = { signIn: 'oidc'; authorizeUrl: string; tokenUrl: string; clientId: string } | { signIn: 'none' };

/** Reads the dashboard's OIDC settings; `none` unless an authorization URL and client id are set. */
export function readSignInConfig(source: Source = process.env): SignInConfig {
  const authorizeUrl = source[DASHBOARD_ENV.authorizeUrl]?.trim();
  const clientId = source[DASHBOARD_ENV.clientId]?.trim();
  if (!authorizeUrl || !clientId) return { signIn: 'none' };
  const tokenUrl = source[DASHBOARD_ENV.tokenUrl]?.trim() || authorizeUrl.replace(/\/authorize$/, '/token');
  for (const [name, url] of [[DASHBOARD_ENV.authorizeUrl, authorizeUrl], [DASHBOARD_ENV.tokenUrl, tokenUrl]] as const) {
    if (!/^https:\/\/[^/]+/.test(url)) throw new EnvironmentError(name, `must be an https:// URL, not '${url}'`);
  }
  return { signIn: 'oidc', authorizeUrl, tokenUrl, clientId };
}

function required(source: Source, name: string): string {
  const value = source[name]?.trim();
  if (!value) throw new EnvironmentError(name, 'is required and not set');
  return value;
}

function booleanFlag(source: Source, name: string): boolean {
  const value = source[name]?.trim().toLowerCase();
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new EnvironmentError(name, `must be "true" or "false" (got "${value}")`);
}

/** Reads the API's environment; throws EnvironmentError naming the first missing variable. */
export function readApiEnv(source: Source = process.env): ApiEnv {
  const deployment = required(source, ENV.deployment);
  return {
    table: required(source, ENV.table),
    deployment,
    scheduleGroup: required(source, ENV.scheduleGroup),
    fireTargetArn: required(source, ENV.fireTargetArn),
    schedulerRoleArn: required(source, ENV.schedulerRoleArn),
    defaultQueue: source[ENV.defaultQueue]?.trim() || deployment,
    jobLogGroup: source[ENV.jobLogGroup]?.trim() || '/aws/batch/job',
    allowCommandOverride: booleanFlag(source, ENV.allowCommandOverride),
  };
}

/** The outcome of asking the engine to start a run. */
export interface StartedRun {
  run: RunItem;
  /** False when a run with the same id already existed (a repeated request or fire). */
  created: boolean;
}

/** The engine operations the API drives; functions/api.ts adapts the engine's own signatures. */
export interface EngineOps {
  /**
   * Starts a run as `fire` would (same ids, same overlap policy). `idempotencyKey` set: the
   * run id derives from it (ad hoc runs); absent: from schedule + scheduled time.
   */
  startRun(input: FireInput, options: { idempotencyKey?: string; overlap?: 'ignore' }): Promise<StartedRun>;
  /** A new attempt of a finished run (see shared/engine/rerun.ts). */
  rerunRun(runId: string, options: { tasks: 'all' | 'failed'; key?: string }): Promise<RerunResult>;
  /** Cancels a run that is not finished: terminates its jobs, marks it CANCELLED. */
  cancelRun(runId: string, reason: string): Promise<RunItem>;
}

/** Everything the API's domain functions use. */
export interface ApiDeps {
  env: ApiEnv;
  store: Store;
  scheduler: SchedulerClient;
  batch: BatchClient;
  logs: CloudWatchLogsClient;
  /** Lists the rules of event triggers (trigger-only schedules have no Scheduler schedule). */
  events: EventBridgeClient;
  engine: EngineOps;
  /** Deadline records, for the listings' last deadline (shared/engine/deadline.ts); none shown without it. */
  deadlines?: DeadlineStore;
  /** Epoch milliseconds; the local stack's clock when running locally. */
  now: () => number;
}
