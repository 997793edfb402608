/**
 * The functions' environment, read once per cold start. A missing or malformed variable
 * fails the cold start with the variable's name, instead of a `undefined` surfacing in a
 * DynamoDB key three calls later. Names come from the agreed contract in
 * shared/config/definition.ts.
 */
import { ENV } from './config/definition.ts';
import { EnvironmentError } from './errors.ts';

/** Everything the engine reads from the environment. */
export interface EngineEnv {
  table: string;
  deployment: string;
  scheduleGroup: string;
  retryTargetArn: string;
  /** The `trigger` function, which batch windows' close schedules invoke; absent: windows close by maxEvents and the sweeper only. */
  triggerTargetArn?: string;
  /** The `fire` function's ARN: what the deployment's schedules target (the sweeper's missed-fire repair lists them). */
  fireTargetArn: string | undefined;
  schedulerRoleArn: string;
  defaultQueue: string | undefined;
  retentionDays: number;
  /** SubmitJob calls per second the whole deployment keeps to (the pacer's rate). */
  submitRate: number;
  slackWebhookParameter: string | undefined;
  slackWebhookUrl: string | undefined;
  jobLogGroup: string;
  region: string;
  stuckMinutes: { queued: number; submitted: number; running: number };
  /** Status-reason globs whose failures are not notified (the local stack's own stop); none on AWS. */
  quietFailureReasons?: string[];
}

type Source = Record<string, string | undefined>;

function required(source: Source, name: string): string {
  const value = source[name]?.trim();
  if (!value) throw new EnvironmentError(name, 'is required and not set');
  return value;
}

function optional(source: Source, name: string): string | undefined {
  const value = source[name]?.trim();
  return value ? value : undefined;
}

function positiveInt(source: Source, name: string, fallback: number): number {
  const raw = optional(source, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new EnvironmentError(name, `must be a positive integer, got "${raw}"`);
  return value;
}

function positiveNumber(source: Source, name: string, fallback: number): number {
  const raw = optional(source, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new EnvironmentError(name, `must be a number above 0, got "${raw}"`);
  return value;
}

function globList(source: Source, name: string): string[] {
  const raw = optional(source, name);
  if (raw === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new EnvironmentError(name, `must be a JSON array of status-reason globs, got "${raw}"`);
  }
  return value;
}

/** Parses the engine environment from `source`; throws EnvironmentError naming the variable. */
export function readEnv(source: Source = process.env): EngineEnv {
  return {
    table: required(source, ENV.table),
    deployment: required(source, ENV.deployment),
    scheduleGroup: required(source, ENV.scheduleGroup),
    retryTargetArn: required(source, ENV.retryTargetArn),
    triggerTargetArn: optional(source, ENV.triggerTargetArn),
    schedulerRoleArn: required(source, ENV.schedulerRoleArn),
    fireTargetArn: optional(source, ENV.fireTargetArn),
    defaultQueue: optional(source, ENV.defaultQueue),
    retentionDays: positiveInt(source, ENV.retentionDays, 30),
    submitRate: positiveNumber(source, ENV.submitRate, 50),
    slackWebhookParameter: optional(source, ENV.slackWebhookParameter),
    slackWebhookUrl: optional(source, ENV.slackWebhookUrl),
    jobLogGroup: optional(source, ENV.jobLogGroup) ?? '/aws/batch/job',
    region: optional(source, 'AWS_REGION') ?? optional(source, 'AWS_DEFAULT_REGION') ?? 'us-east-1',
    stuckMinutes: {
      queued: positiveInt(source, ENV.stuckQueuedMinutes, 30),
      submitted: positiveInt(source, ENV.stuckSubmittedMinutes, 120),
      running: positiveInt(source, ENV.stuckRunningMinutes, 720),
    },
    quietFailureReasons: globList(source, ENV.quietFailureReasons),
  };
}

let cached: EngineEnv | undefined;

/**
 * The process environment, parsed on first use and cached for the life of the process. The
 * functions read theirs through their Runtime (`handlerFor`, shared/runtime.ts) instead; this
 * remains for callers built over Lambda's own environment.
 */
export function getEnv(): EngineEnv {
  cached ??= readEnv();
  return cached;
}
