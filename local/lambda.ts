/**
 * The local Lambda runtime: handlers registered by name run in this process, invoked the
 * way AWS invokes them. Asynchronous invokes (Scheduler targets, EventBridge rules,
 * `InvocationType: Event`) go through a queue with Lambda's documented error handling:
 * a function error is retried twice more, after one and then two minutes, and an event
 * older than six hours is discarded; those delays wait on the stack's Clock, so a test
 * fast-forwards through them. A per-function concurrency cap queues async events and
 * throttles sync invokes, as reserved concurrency does.
 *
 * Execution timeouts are measured in real time, not on the Clock: the Clock's jumps
 * simulate waiting between events, while a handler's run time is real work, and a test
 * that fast-forwards a day while a handler awaits DynamoDB must not time that handler out.
 * A timed-out handler's promise cannot be stopped; it is abandoned and its result ignored.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { Clock, Timer } from './clock.ts';
import { AwsError, DEFAULT_REGION, LOCAL_ACCOUNT, type AwsRequest, type AwsResponse, type LambdaInvoker, type LocalService } from './contracts.ts';
import type { Faults } from './faults.ts';
import type { LocalIam, RoleCredentials } from './iam/index.ts';

/** A Lambda handler as `functions/*.ts` export it (async style; callback style also works). */
// `any` because each handler declares its own event type; the runtime cannot know it.
export type LocalHandler = (event: any, context: Context, callback?: (error?: unknown, result?: unknown) => void) => unknown;

/** Per-function settings, as serverless.yml would declare them. */
export interface FunctionOptions {
  /** Execution timeout in real milliseconds (default 6,000, the Serverless Framework's default). */
  timeoutMs?: number;
  /** Maximum concurrent executions; async events beyond it wait in the queue, sync invokes are throttled. */
  reservedConcurrency?: number;
  /** Async retries after a function error, 0..2 (default 2, as on AWS). */
  maximumRetryAttempts?: number;
  /** Maximum age of an async event before it is discarded, in clock ms (default 6 h). */
  maximumEventAgeMs?: number;
  /** Reported as `memoryLimitInMB` in the context. */
  memorySizeMb?: number;
  /**
   * The function role's session (local/iam/): the handler's AWS calls sign with these, as
   * Lambda's AWS_ACCESS_KEY_ID/SECRET/SESSION_TOKEN variables make them on AWS.
   */
  credentials?: RoleCredentials;
  /** The function's role: Lambda writes the function's CloudWatch logs with it (checked per invocation). */
  roleArn?: string;
}

export interface LocalLambdaOptions {
  /** Runs handlers of functions registered with `credentials` as their role's session. */
  iam?: LocalIam;
  clock: Clock;
  faults: Faults;
  region?: string;
  account?: string;
  /** Waits before the 2nd and 3rd async attempts, in clock ms (default [60_000, 120_000], as on AWS). */
  retryDelaysMs?: number[];
  /** Default for functions that set no `maximumEventAgeMs` (default 6 h). */
  maximumEventAgeMs?: number;
  /** Default for functions that set no `timeoutMs`. */
  defaultTimeoutMs?: number;
  /** Concurrency of a function without reserved concurrency (AWS's default account limit is 1,000). */
  defaultConcurrency?: number;
}

/** Lambda's payload limit for asynchronous invocations (1 MB); synchronous ones get 6 MB at the endpoint. */
export const ASYNC_PAYLOAD_LIMIT = 1024 * 1024;

/** One finished attempt, reported to `onInvoke` observers. */
export interface InvocationRecord {
  name: string;
  requestId: string;
  /** 1 for the first attempt, 2 and 3 for async retries. */
  attempt: number;
  async: boolean;
  ok: boolean;
  /** `errorType: errorMessage` when the attempt failed. */
  error?: string;
  /** Real milliseconds the handler ran. */
  durationMs: number;
  /** For a failed async attempt: whether Lambda will try again. */
  willRetry?: boolean;
}

/** An async event Lambda gave up on (retries exhausted or too old). */
export interface DiscardRecord {
  name: string;
  requestId: string;
  reason: 'RetriesExhausted' | 'EventAgeExceeded';
  payload: unknown;
}

export interface FunctionStats {
  invocations: number;
  errors: number;
  throttles: number;
  retries: number;
  discarded: number;
}

/** A function error from a sync invoke, in Lambda's `errorType`/`errorMessage` terms. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
    readonly trace: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(`${errorType}: ${errorMessage}`, options);
    this.name = 'FunctionError';
  }
}

interface Fn {
  name: string;
  arn: string;
  handler: LocalHandler;
  timeoutMs: number;
  concurrency: number;
  maximumRetryAttempts: number;
  maximumEventAgeMs: number;
  memorySizeMb: number;
  credentials: RoleCredentials | undefined;
  roleArn: string | undefined;
  logsDeniedWarned?: boolean;
  running: number;
  queue: QueuedEvent[];
  stats: FunctionStats;
}

interface QueuedEvent {
  requestId: string;
  payload: unknown;
  attempt: number;
  enqueuedAt: number;
}

const DEFAULT_RETRY_DELAYS = [60_000, 120_000];
const SIX_HOURS = 6 * 60 * 60 * 1000;

export class LocalLambda implements LambdaInvoker, LocalService {
  readonly signingName = 'lambda';
  private readonly fns = new Map<string, Fn>();
  private readonly clock: Clock;
  private readonly faults: Faults;
  private readonly region: string;
  private readonly account: string;
  private readonly retryDelaysMs: number[];
  private readonly opts: LocalLambdaOptions;
  private readonly retryTimers = new Set<Timer>();
  private readonly invokeListeners = new Set<(r: InvocationRecord) => void>();
  private readonly discardListeners = new Set<(r: DiscardRecord) => void>();
  private idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(opts: LocalLambdaOptions) {
    this.opts = opts;
    this.clock = opts.clock;
    this.faults = opts.faults;
    this.region = opts.region ?? DEFAULT_REGION;
    this.account = opts.account ?? LOCAL_ACCOUNT;
    this.retryDelaysMs = opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS;
  }

  /** Registers (or replaces) a function; returns its ARN. */
  register(name: string, handler: LocalHandler, options: FunctionOptions = {}): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new Error(`Invalid Lambda function name '${name}'.`);
    const arn = `arn:aws:lambda:${this.region}:${this.account}:function:${name}`;
    const previous = this.fns.get(name);
    this.fns.set(name, {
      name,
      arn,
      handler,
      timeoutMs: options.timeoutMs ?? this.opts.defaultTimeoutMs ?? 6_000,
      concurrency: options.reservedConcurrency ?? this.opts.defaultConcurrency ?? 1_000,
      maximumRetryAttempts: Math.min(2, Math.max(0, options.maximumRetryAttempts ?? 2)),
      maximumEventAgeMs: options.maximumEventAgeMs ?? this.opts.maximumEventAgeMs ?? SIX_HOURS,
      memorySizeMb: options.memorySizeMb ?? 1024,
      credentials: options.credentials,
      roleArn: options.roleArn,
      running: previous?.running ?? 0,
      queue: previous?.queue ?? [],
      stats: previous?.stats ?? { invocations: 0, errors: 0, throttles: 0, retries: 0, discarded: 0 },
    });
    return arn;
  }

  /**
   * Lambda sends a function's output to `/aws/lambda/<name>` with the function's role; without
   * the grant the function still runs on AWS and its logs are lost, so locally it is a warning.
   */
  private checkLogWrites(fn: Fn): void {
    if (!this.opts.iam || !fn.roleArn) return;
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
    const stream = `arn:aws:logs:${this.region}:${this.account}:log-group:/aws/lambda/${fn.name}:log-stream:${day}/[$LATEST]${fn.name}`;
    const denied = this.opts.iam.checkRole(fn.roleArn, fn.name, [
      { action: 'logs:CreateLogStream', resource: stream },
      { action: 'logs:PutLogEvents', resource: stream },
    ]);
    if (denied && !fn.logsDeniedWarned) {
      fn.logsDeniedWarned = true;
      console.warn(`local Lambda: ${fn.name}'s role cannot write its CloudWatch logs, which AWS would drop: ${denied}`);
    }
  }

  /** Removes a function; queued events for it are dropped. */
  unregister(nameOrArn: string): void {
    const fn = this.find(nameOrArn);
    if (fn) this.fns.delete(fn.name);
    this.checkIdle();
  }

  /** The ARN a function has (or would have) under this stack's region and account. */
  arnOf(name: string): string {
    return `arn:aws:lambda:${this.region}:${this.account}:function:${name}`;
  }

  /** Names of registered functions. */
  functions(): string[] {
    return [...this.fns.keys()];
  }

  has(arnOrName: string): boolean {
    return this.find(arnOrName) !== undefined;
  }

  async invokeAsync(arnOrName: string, payload: unknown): Promise<void> {
    this.accept(arnOrName, payload);
  }

  /** Like `invokeAsync`, but answers the request id the event was queued under. */
  accept(arnOrName: string, payload: unknown): string {
    this.faults.check('lambda', 'Invoke');
    const fn = this.require(arnOrName);
    const event: QueuedEvent = { requestId: randomUUID(), payload, attempt: 1, enqueuedAt: this.clock.now() };
    fn.queue.push(event);
    this.pump(fn);
    return event.requestId;
  }

  async invoke(arnOrName: string, payload: unknown): Promise<unknown> {
    this.faults.check('lambda', 'Invoke');
    const fn = this.require(arnOrName);
    if (fn.running >= fn.concurrency) {
      fn.stats.throttles += 1;
      throw new AwsError('TooManyRequestsException', 'Rate Exceeded.', 429, {
        Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
        Type: 'User',
      });
    }
    const outcome = await this.execute(fn, payload, randomUUID(), 1, false);
    // The slot it held may be what queued async events were waiting for.
    this.pump(fn);
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  /** Observes every finished attempt; returns an unsubscribe function. */
  onInvoke(cb: (record: InvocationRecord) => void): () => void {
    this.invokeListeners.add(cb);
    return () => this.invokeListeners.delete(cb);
  }

  /** Observes async events Lambda gave up on; returns an unsubscribe function. */
  onDiscard(cb: (record: DiscardRecord) => void): () => void {
    this.discardListeners.add(cb);
    return () => this.discardListeners.delete(cb);
  }

  /** Counters per function name, for benchmarks and tests. */
  stats(): Record<string, FunctionStats> {
    return Object.fromEntries([...this.fns.values()].map((f) => [f.name, { ...f.stats }]));
  }

  /** Async events waiting on the Clock for a retry; `idle()` does not wait for these. */
  pendingRetries(): number {
    return this.retryTimers.size;
  }

  /**
   * Resolves when no handler is running and no async event is queued. Retries waiting on
   * the Clock do not count (see `pendingRetries`): a test advances the clock to release them.
   */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels pending retries and refuses new invokes; running handlers are left to finish. */
  stop(): void {
    this.stopped = true;
    for (const t of this.retryTimers) t.cancel();
    this.retryTimers.clear();
    for (const fn of this.fns.values()) fn.queue.length = 0;
    this.checkIdle();
  }

  // ---- the Lambda Invoke API over HTTP (restJson1), so `aws lambda invoke` works ----

  async handle(req: AwsRequest): Promise<AwsResponse> {
    const m = /^\/2015-03-31\/functions\/([^/]+)(\/invocations|\/configuration)?\/?$/.exec(req.path);
    if (req.method === 'GET' && /^\/2015-03-31\/functions\/?$/.test(req.path)) {
      this.faults.check('lambda', 'ListFunctions');
      return { status: 200, body: { Functions: [...this.fns.values()].map((f) => this.configuration(f)) } };
    }
    if (m && req.method === 'GET') {
      this.faults.check('lambda', 'GetFunction');
      const fn = this.require(m[1]!);
      return m[2] === '/configuration'
        ? { status: 200, body: this.configuration(fn) }
        : { status: 200, body: { Configuration: this.configuration(fn) } };
    }
    if (m && m[2] === '/invocations' && req.method === 'POST') {
      return this.handleInvoke(decodeURIComponent(m[1]!), req);
    }
    throw new AwsError('UnknownOperationException', `The local Lambda does not serve ${req.method} ${req.path}.`, 404);
  }

  private async handleInvoke(name: string, req: AwsRequest): Promise<AwsResponse> {
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    // The endpoint caps every Invoke at the synchronous 6 MB; an asynchronous one may carry 1 MB, as on AWS.
    if (type === 'Event' && req.body.length > ASYNC_PAYLOAD_LIMIT) {
      throw new AwsError(
        'RequestEntityTooLargeException',
        `${req.body.length} byte payload is too large for the Event invocation type (limit ${ASYNC_PAYLOAD_LIMIT} bytes)`,
        413,
      );
    }
    let payload: unknown = {};
    if (req.body.length > 0) {
      try {
        payload = JSON.parse(req.body.toString('utf8'));
      } catch {
        throw new AwsError('InvalidRequestContentException', 'Could not parse request body into json.', 400);
      }
    }
    const fn = this.require(name);
    if (type === 'DryRun') return { status: 204 };
    if (type === 'Event') {
      this.accept(fn.name, payload);
      return { status: 202, headers: { 'x-amz-executed-version': '$LATEST' } };
    }
    if (type !== 'RequestResponse') {
      throw new AwsError('InvalidParameterValueException', `Unsupported InvocationType '${type}'.`, 400);
    }
    try {
      const result = await this.invoke(fn.name, payload);
      return {
        status: 200,
        headers: { 'x-amz-executed-version': '$LATEST', 'content-type': 'application/json' },
        body: result === undefined ? 'null' : JSON.stringify(result),
      };
    } catch (error) {
      if (!(error instanceof FunctionError)) throw error;
      // A function error is still a 200 for the Invoke call; the header tells the SDK.
      return {
        status: 200,
        headers: { 'x-amz-executed-version': '$LATEST', 'x-amz-function-error': 'Unhandled', 'content-type': 'application/json' },
        // The trace as AWS shows it, but with paths relative to the project: an error body names no absolute path.
        body: { errorType: error.errorType, errorMessage: error.errorMessage, trace: error.trace.map((l) => l.split(`${process.cwd()}/`).join('./')) },
      };
    }
  }

  private configuration(f: Fn): Record<string, unknown> {
    return {
      FunctionName: f.name,
      FunctionArn: f.arn,
      Runtime: 'nodejs20.x',
      Handler: `${f.name}.handler`,
      Timeout: Math.ceil(f.timeoutMs / 1000),
      MemorySize: f.memorySizeMb,
      Version: '$LATEST',
      State: 'Active',
      PackageType: 'Zip',
    };
  }

  // ---- internals ----

  private find(arnOrName: string): Fn | undefined {
    // Accepts `name`, `name:qualifier`, `account:function:name` and full ARNs with an optional qualifier.
    const m = /^(?:arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:|\d{12}:function:)?([A-Za-z0-9_-]+)(?::[$\w-]+)?$/.exec(arnOrName);
    return m ? this.fns.get(m[1]!) : undefined;
  }

  private require(arnOrName: string): Fn {
    if (this.stopped) throw new AwsError('ServiceException', 'The local Lambda runtime has stopped.', 500);
    const fn = this.find(arnOrName);
    if (!fn) {
      throw new AwsError('ResourceNotFoundException', `Function not found: ${arnOrName.startsWith('arn:') ? arnOrName : this.arnOf(arnOrName)}`, 404, {
        Type: 'User',
      });
    }
    return fn;
  }

  private pump(fn: Fn): void {
    while (fn.running < fn.concurrency && fn.queue.length > 0) {
      const event = fn.queue.shift()!;
      if (this.clock.now() - event.enqueuedAt > fn.maximumEventAgeMs) {
        this.discard(fn, event, 'EventAgeExceeded');
        continue;
      }
      void this.runAsync(fn, event);
    }
    this.checkIdle();
  }

  private async runAsync(fn: Fn, event: QueuedEvent): Promise<void> {
    const outcome = await this.execute(fn, event.payload, event.requestId, event.attempt, true, (ok) => {
      if (ok) return false;
      const delay = this.retryDelaysMs[event.attempt - 1] ?? this.retryDelaysMs.at(-1) ?? 0;
      return event.attempt <= fn.maximumRetryAttempts && this.clock.now() + delay - event.enqueuedAt <= fn.maximumEventAgeMs;
    });
    if (!outcome.ok && !this.stopped) {
      if (outcome.willRetry) {
        const delay = this.retryDelaysMs[event.attempt - 1] ?? this.retryDelaysMs.at(-1) ?? 0;
        fn.stats.retries += 1;
        const timer = this.clock.after(delay, () => {
          this.retryTimers.delete(timer);
          // The retry goes to the back of the queue, as a re-queued event does on AWS.
          fn.queue.push({ ...event, attempt: event.attempt + 1 });
          this.pump(fn);
        });
        this.retryTimers.add(timer);
      } else {
        const tooOld = event.attempt <= fn.maximumRetryAttempts;
        this.discard(fn, event, tooOld ? 'EventAgeExceeded' : 'RetriesExhausted');
      }
    }
    this.pump(fn);
  }

  private discard(fn: Fn, event: QueuedEvent, reason: DiscardRecord['reason']): void {
    fn.stats.discarded += 1;
    this.faults.count(`lambda:discarded:${reason}`);
    for (const cb of this.discardListeners) cb({ name: fn.name, requestId: event.requestId, reason, payload: event.payload });
  }

  /** Runs the handler once with a Lambda-like context; never rejects. */
  private async execute(
    fn: Fn,
    payload: unknown,
    requestId: string,
    attempt: number,
    isAsync: boolean,
    decideRetry?: (ok: boolean) => boolean,
  ): Promise<{ ok: true; result: unknown; willRetry: false } | { ok: false; error: FunctionError; willRetry: boolean }> {
    fn.running += 1;
    fn.stats.invocations += 1;
    this.checkLogWrites(fn);
    const started = performance.now();
    const deadline = Date.now() + fn.timeoutMs;
    let timeout: NodeJS.Timeout | undefined;
    let outcome: { ok: true; result: unknown } | { ok: false; error: FunctionError };
    try {
      const context = this.context(fn, requestId, deadline);
      const run = new Promise<unknown>((resolve, reject) => {
        const callback = (error?: unknown, result?: unknown) => (error ? reject(error) : resolve(result));
        context.done = (error, result) => callback(error, result);
        context.fail = (error) => reject(typeof error === 'string' ? new Error(error) : error);
        context.succeed = (result: unknown) => resolve(result);
        try {
          const call = () => fn.handler(roundTrip(payload), context, callback);
          const returned = fn.credentials && this.opts.iam ? this.opts.iam.runAs(fn.credentials, call) : call();
          // An async handler settles through its promise; a callback-style one calls back.
          if (returned && typeof (returned as Promise<unknown>).then === 'function') {
            (returned as Promise<unknown>).then(resolve, reject);
          } else if (fn.handler.length < 3) {
            resolve(returned);
          }
        } catch (error) {
          reject(error);
        }
      });
      const timedOut = new Promise<never>((_, reject) => {
        timeout = setTimeout(
          () => reject(new FunctionError('Sandbox.Timedout', `Task timed out after ${(fn.timeoutMs / 1000).toFixed(2)} seconds`)),
          fn.timeoutMs,
        );
      });
      outcome = { ok: true, result: await Promise.race([run, timedOut]) };
    } catch (error) {
      outcome = { ok: false, error: toFunctionError(error) };
    } finally {
      if (timeout) clearTimeout(timeout);
      fn.running -= 1;
    }
    const durationMs = performance.now() - started;
    if (!outcome.ok) fn.stats.errors += 1;
    const willRetry = isAsync && decideRetry ? decideRetry(outcome.ok) : false;
    const record: InvocationRecord = {
      name: fn.name,
      requestId,
      attempt,
      async: isAsync,
      ok: outcome.ok,
      durationMs,
      ...(outcome.ok ? {} : { error: `${outcome.error.errorType}: ${outcome.error.errorMessage}` }),
      ...(isAsync && !outcome.ok ? { willRetry } : {}),
    };
    for (const cb of this.invokeListeners) {
      try {
        cb(record);
      } catch {
        // An observer's bug must not change what the invocation did.
      }
    }
    return outcome.ok ? { ok: true, result: outcome.result, willRetry: false } : { ok: false, error: outcome.error, willRetry };
  }

  private context(fn: Fn, requestId: string, deadline: number): Context {
    const day = new Date(this.clock.now()).toISOString().slice(0, 10).replaceAll('-', '/');
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: String(fn.memorySizeMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `${day}/[$LATEST]${requestId.replaceAll('-', '')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
  }

  /** True when nothing is queued, held or running right now. */
  isIdle(): boolean {
    for (const fn of this.fns.values()) if (fn.running > 0 || fn.queue.length > 0) return false;
    return true;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    // Resolve after the current turn so a handler's own follow-up invokes are seen first.
    setImmediate(() => {
      if (this.isIdle()) for (const w of waiters) w();
      else this.idleWaiters.push(...waiters);
    });
  }
}

/** The handler sees the payload as it would after Lambda's JSON serialization (Dates become strings, no shared references). */
function roundTrip(payload: unknown): unknown {
  return payload === undefined ? {} : JSON.parse(JSON.stringify(payload));
}

function toFunctionError(error: unknown): FunctionError {
  if (error instanceof FunctionError) return error;
  if (error instanceof Error) {
    return new FunctionError(error.name || 'Error', error.message, (error.stack ?? '').split('\n'), { cause: error });
  }
  return new FunctionError('Error', typeof error === 'string' ? error : JSON.stringify(error) ?? String(error));
}
