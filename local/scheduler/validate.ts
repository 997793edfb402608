/**
 * Request validation for the local Scheduler, with the constraints of the Scheduler API
 * reference (lengths, patterns, enums, ranges) and AWS's message style
 * ("1 validation error detected: Value '…' at '…' failed to satisfy constraint: …"),
 * so SDK code sees the same ValidationException it would see on AWS.
 */
import { AwsError } from '#local/contracts';
import { ExpressionError, isValidTimezone, parseExpression, type ParsedExpression } from '#shared/expressions/index';

export const NAME_PATTERN = /^[0-9a-zA-Z-_.]+$/;
const ROLE_ARN = /^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const SQS_ARN = /^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9\-_]+$/;
const UNIVERSAL = /^arn:aws(-[a-z]+)?:scheduler:::aws-sdk:([a-z0-9-]+):([a-zA-Z0-9]+)$/;
/** Scheduler refuses read-only universal-target actions with these prefixes (user guide, "Unsupported actions"). */
const READ_ONLY_PREFIXES = [
  'get', 'describe', 'list', 'poll', 'receive', 'search', 'scan', 'query', 'select', 'read', 'lookup',
  'discover', 'validate', 'batchGet', 'batchDescribe', 'batchRead', 'transactGet', 'adminGet', 'adminList',
  'testMigration', 'retrieve', 'testConnection', 'translateDocument', 'isAuthorized', 'invokeModel',
];

export function validationError(message: string): AwsError {
  return new AwsError('ValidationException', message, 400);
}

function constraint(value: unknown, at: string, rule: string): AwsError {
  const shown = value === undefined || value === null ? 'null' : `'${String(value)}'`;
  return validationError(`1 validation error detected: Value ${shown} at '${at}' failed to satisfy constraint: ${rule}`);
}

export function requireString(value: unknown, at: string, min: number, max: number, pattern?: RegExp): string {
  if (value === undefined || value === null) throw constraint(value, at, 'Member must not be null');
  if (typeof value !== 'string') throw constraint(value, at, 'Member must be a string');
  return checkString(value, at, min, max, pattern);
}

export function optionalString(value: unknown, at: string, min: number, max: number, pattern?: RegExp): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw constraint(value, at, 'Member must be a string');
  return checkString(value, at, min, max, pattern);
}

function checkString(value: string, at: string, min: number, max: number, pattern?: RegExp): string {
  if (value.length < min || value.length > max) {
    throw constraint(value, at, `Member must have length between ${min} and ${max}, inclusive`);
  }
  if (pattern && !pattern.test(value)) {
    throw constraint(value, at, `Member must satisfy regular expression pattern: ${pattern.source}`);
  }
  return value;
}

function optionalInt(value: unknown, at: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw constraint(value, at, 'Member must be an integer');
  if (value < min) throw constraint(value, at, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw constraint(value, at, `Member must have value less than or equal to ${max}`);
  return value;
}

function oneOf<T extends string>(value: unknown, at: string, values: readonly T[], fallback?: T): T {
  if ((value === undefined || value === null) && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || !values.includes(value as T)) {
    throw constraint(value, at, `Member must satisfy enum value set: [${values.join(', ')}]`);
  }
  return value as T;
}

/** Epoch seconds on the wire (restJson1 timestamps) to epoch milliseconds. */
function optionalTimestamp(value: unknown, at: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw constraint(value, at, 'Member must be a timestamp');
  return Math.round(value * 1000);
}

export interface TargetSpec {
  Arn: string;
  RoleArn: string;
  Input?: string;
  RetryPolicy: { MaximumEventAgeInSeconds: number; MaximumRetryAttempts: number };
  DeadLetterConfig?: { Arn?: string };
  /** Other templated-target parameters (EcsParameters, SqsParameters, …), kept and echoed back. */
  extra: Record<string, unknown>;
}

export interface ScheduleSpec {
  ScheduleExpression: string;
  parsed: ParsedExpression;
  ScheduleExpressionTimezone?: string;
  StartDate?: number;
  EndDate?: number;
  Description?: string;
  State: 'ENABLED' | 'DISABLED';
  KmsKeyArn?: string;
  ActionAfterCompletion: 'NONE' | 'DELETE';
  FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  Target: TargetSpec;
}

/** Validates a CreateSchedule / UpdateSchedule body the way the service does. */
export function validateSchedule(body: Record<string, unknown>, now: number): ScheduleSpec {
  const expression = requireString(body.ScheduleExpression, 'scheduleExpression', 1, 256);
  let parsed: ParsedExpression;
  try {
    parsed = parseExpression(expression);
  } catch (error) {
    if (error instanceof ExpressionError) throw validationError(`Invalid Schedule Expression ${expression}. ${error.message}`);
    throw error;
  }
  const tz = optionalString(body.ScheduleExpressionTimezone, 'scheduleExpressionTimezone', 1, 50);
  if (tz !== undefined && !isValidTimezone(tz)) {
    throw validationError(`Invalid Schedule Expression Timezone ${tz}. Use an IANA time zone name such as UTC or America/New_York.`);
  }

  const ftw = body.FlexibleTimeWindow as Record<string, unknown> | undefined;
  if (ftw === undefined || ftw === null || typeof ftw !== 'object') throw constraint(undefined, 'flexibleTimeWindow', 'Member must not be null');
  const mode = oneOf(ftw.Mode, 'flexibleTimeWindow.mode', ['OFF', 'FLEXIBLE'] as const);
  const window = optionalInt(ftw.MaximumWindowInMinutes, 'flexibleTimeWindow.maximumWindowInMinutes', 1, 1440);
  if (mode === 'FLEXIBLE' && window === undefined) {
    throw validationError('MaximumWindowInMinutes is required when FlexibleTimeWindow Mode is FLEXIBLE.');
  }
  if (mode === 'OFF' && window !== undefined) {
    throw validationError('MaximumWindowInMinutes must not be set when FlexibleTimeWindow Mode is OFF.');
  }

  const start = optionalTimestamp(body.StartDate, 'startDate');
  const end = optionalTimestamp(body.EndDate, 'endDate');
  if (parsed.kind !== 'at') {
    if (end !== undefined && end <= now) throw validationError('The EndDate you specify must be in the future.');
    if (start !== undefined && end !== undefined && start >= end) {
      throw validationError('The StartDate you specify must come before the EndDate.');
    }
  }

  const target = validateTarget(body.Target);
  return {
    ScheduleExpression: expression,
    parsed,
    ScheduleExpressionTimezone: tz,
    StartDate: start,
    EndDate: end,
    Description: optionalString(body.Description, 'description', 0, 512),
    State: oneOf(body.State, 'state', ['ENABLED', 'DISABLED'] as const, 'ENABLED'),
    KmsKeyArn: optionalString(body.KmsKeyArn, 'kmsKeyArn', 1, 2048),
    ActionAfterCompletion: oneOf(body.ActionAfterCompletion, 'actionAfterCompletion', ['NONE', 'DELETE'] as const, 'NONE'),
    FlexibleTimeWindow: window === undefined ? { Mode: mode } : { Mode: mode, MaximumWindowInMinutes: window },
    Target: target,
  };
}

function validateTarget(value: unknown): TargetSpec {
  if (value === undefined || value === null || typeof value !== 'object') throw constraint(undefined, 'target', 'Member must not be null');
  const t = value as Record<string, unknown>;
  const arn = requireString(t.Arn, 'target.arn', 1, 1600);
  const roleArn = requireString(t.RoleArn, 'target.roleArn', 1, 1600, ROLE_ARN);
  const input = optionalString(t.Input, 'target.input', 1, 8192);
  const universal = UNIVERSAL.exec(arn);
  if (universal) {
    const action = universal[3]!;
    if (READ_ONLY_PREFIXES.some((p) => action.startsWith(p))) {
      throw validationError(`Target ${arn} is not supported: EventBridge Scheduler does not call read-only API actions (${action}).`);
    }
    if (input !== undefined) {
      try {
        JSON.parse(input);
      } catch {
        throw validationError(`The Input of a universal target must be well-formed JSON with the ${universal[2]} ${action} request parameters.`);
      }
    }
  } else if (!/^arn:aws(-[a-z]+)?:[a-z0-9-]+:/.test(arn)) {
    throw validationError(`Invalid target ARN ${arn}. A target is an AWS resource ARN or a universal target arn:aws:scheduler:::aws-sdk:service:apiAction.`);
  }
  const rp = (t.RetryPolicy ?? {}) as Record<string, unknown>;
  const dlq = t.DeadLetterConfig as Record<string, unknown> | undefined;
  const dlqArn = dlq ? optionalString(dlq.Arn, 'target.deadLetterConfig.arn', 1, 1600, SQS_ARN) : undefined;
  const { Arn: _a, RoleArn: _r, Input: _i, RetryPolicy: _p, DeadLetterConfig: _d, ...extra } = t;
  return {
    Arn: arn,
    RoleArn: roleArn,
    ...(input !== undefined ? { Input: input } : {}),
    // The service's defaults: 185 retries over at most 24 hours.
    RetryPolicy: {
      MaximumEventAgeInSeconds: optionalInt(rp.MaximumEventAgeInSeconds, 'target.retryPolicy.maximumEventAgeInSeconds', 60, 86_400) ?? 86_400,
      MaximumRetryAttempts: optionalInt(rp.MaximumRetryAttempts, 'target.retryPolicy.maximumRetryAttempts', 0, 185) ?? 185,
    },
    ...(dlq ? { DeadLetterConfig: dlqArn ? { Arn: dlqArn } : {} } : {}),
    extra,
  };
}
