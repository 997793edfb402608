/**
 * Every error Batchron raises on purpose. The retry policy shows in the type (as inngest's
 * `NonRetriableError` / `RetryAfterError` do): a Lambda handler rethrows a
 * `RetryableError` so Lambda's async retries re-drive the event, and records and swallows
 * a `NonRetryableError`, which can never succeed however often it is retried.
 * HTTP-facing errors carry their status. Other engineers add classes here: keep it additive.
 */
import type { RunItem } from './store/schema.ts';

/** Options every Batchron error accepts. */
export interface BatchronErrorOptions {
  cause?: unknown;
}

/** Base class: a name, a message and an optional cause. */
export class BatchronError extends Error {
  /** HTTP status when the error reaches an HTTP caller. */
  readonly statusCode: number = 500;
  constructor(message: string, options: BatchronErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BatchronError';
  }
}

/** Worth another try later: throttling, a lost optimistic-concurrency race, a dependency outage. */
export class RetryableError extends BatchronError {
  constructor(message: string, options: BatchronErrorOptions = {}) {
    super(message, options);
    this.name = 'RetryableError';
  }
}

/** Can never succeed as given: retrying only burns invocations. */
export class NonRetryableError extends BatchronError {
  constructor(message: string, options: BatchronErrorOptions = {}) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

/** An input (event, request body, direct invoke) failed validation. HTTP 400. */
export class ValidationError extends NonRetryableError {
  override readonly statusCode: number = 400;
  constructor(
    message: string,
    /** Field paths and what was wrong with each. */
    readonly issues: { path: string; message: string }[] = [],
    options: BatchronErrorOptions = {},
  ) {
    super(message, options);
    this.name = 'ValidationError';
  }
}

/** A required environment variable is missing or malformed; the function cannot start. */
export class EnvironmentError extends NonRetryableError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'EnvironmentError';
  }
}

/** The thing asked for does not exist. HTTP 404. */
export class NotFoundError extends NonRetryableError {
  override readonly statusCode: number = 404;
  constructor(message: string, options: BatchronErrorOptions = {}) {
    super(message, options);
    this.name = 'NotFoundError';
  }
}

/** The request conflicts with the current state (e.g. cancelling a finished run). HTTP 409. */
export class ConflictError extends NonRetryableError {
  override readonly statusCode: number = 409;
  constructor(message: string, options: BatchronErrorOptions = {}) {
    super(message, options);
    this.name = 'ConflictError';
  }
}

/** A stored item no longer matches its schema: a bug or a migration to write, never retried. */
export class CorruptItemError extends NonRetryableError {
  constructor(message: string, options: BatchronErrorOptions = {}) {
    super(message, options);
    this.name = 'CorruptItemError';
  }
}

/** A conditional write lost a race with another writer of the same item; re-read and try again. */
export class VersionConflictError extends RetryableError {
  constructor(message: string, options: BatchronErrorOptions = {}) {
    super(message, options);
    this.name = 'VersionConflictError';
  }
}

/**
 * A run write that lost to another writer. `current` is the run as it stands, returned by
 * DynamoDB with the failed condition (ReturnValuesOnConditionCheckFailure, no extra cost), so
 * the writer can re-apply its change without reading again; undefined when the item is gone.
 */
export class RunVersionConflictError extends VersionConflictError {
  constructor(
    message: string,
    readonly current: RunItem | undefined,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'RunVersionConflictError';
  }
}

/** True when Lambda should retry the invocation that raised `error`. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NonRetryableError) return false;
  // Unknown errors (SDK faults, timeouts, bugs that may be transient) are retried: a
  // bounded number of Lambda retries costs less than a run silently dropped.
  return true;
}

/**
 * An invalid `custom.batchron` block (config validation, shared/config/validate.ts). The
 * message lists every problem, one per line, each naming the schedule, the field path and
 * what is allowed; `problems` holds the same lines for callers that render them otherwise.
 */
export class ConfigError extends NonRetryableError {
  override readonly statusCode: number = 400;
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options: BatchronErrorOptions = {}) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`Invalid custom.batchron (${count}):\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * AWS refused a request for good (Batch's `ClientException`: a job definition or queue that
 * does not exist, an invalid vCPU/memory override, a malformed request). The same request
 * can never succeed, so the engine records it (the task fails with AWS's message as the
 * reason) instead of letting Lambda, the retry schedules or the sweeper send it again.
 */
export class RequestRefusedError extends NonRetryableError {
  constructor(
    /** The AWS operation refused (`SubmitJob`, `ListJobs`). */
    readonly operation: string,
    /** AWS's own message, as a user should read it. */
    readonly reason: string,
    options: BatchronErrorOptions = {},
  ) {
    super(`${operation} refused: ${reason}`, options);
    this.name = 'RequestRefusedError';
  }
}

/** A YAML file that does not parse: where (file, line, column, 1-based) and what. */
export class YamlSyntaxError extends NonRetryableError {
  override readonly statusCode: number = 400;
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
    /** The offending line with a caret under the column. */
    readonly excerpt: string = '',
  ) {
    super(`${file}:${line}:${column}: YAML syntax error: ${reason}${excerpt ? `\n${excerpt}` : ''}`);
    this.name = 'YamlSyntaxError';
  }
}

/** The local seed file (local-seed.yml) is not valid: each problem names the field and what is allowed. */
export class LocalSeedError extends NonRetryableError {
  override readonly statusCode: number = 400;
  readonly problems: readonly string[];
  constructor(file: string, problems: readonly string[], options: BatchronErrorOptions = {}) {
    super(`${file} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.name = 'LocalSeedError';
    this.problems = problems;
  }
}

/** The caller is not authenticated (no IAM authorizer context on the API event). HTTP 401. */
export class UnauthorizedError extends NonRetryableError {
  override readonly statusCode: number = 401;
  constructor(message: string, options: BatchronErrorOptions = {}) {
    super(message, options);
    this.name = 'UnauthorizedError';
  }
}

/** The caller is authenticated but its role may not do this (a viewer triggering a run). HTTP 403. */
export class ForbiddenError extends NonRetryableError {
  override readonly statusCode: number = 403;
  constructor(message: string, options: BatchronErrorOptions = {}) {
    super(message, options);
    this.name = 'ForbiddenError';
  }
}
