/**
 * An in-process world for crash points: the real functions/*.ts handlers, built through their
 * deps factory (`createHandler(depsFor)` over `lambdaDeps`), on the in-memory stores
 * (shared/store/memory.ts, memory-windows.ts: the DynamoDB stores' contract,
 * test/integration/store-contract.test.ts) with in-process fakes of what is around them:
 *
 * - Batch: jobs that run when the world is let run (`quiet`), each by a plan per job (exit
 *   code, or parked: RUNNING until released), emitting real-shaped Job State Change events
 *   (events/batch/*.json with the job's fields) that the world captures and delivers one at a
 *   time, as the local-stack harness does; TerminateJob ends a live job FAILED with its reason.
 * - Scheduler: one-time schedules (retries, deferrals, batch-window closes) that fire their
 *   target as an async invoke when the fake clock passes them, and delete themselves.
 * - Lambda: async invokes with Lambda's retries (2, after 60 s and 120 s on the clock), a
 *   timeout per function, the same request id on each retry, and the JSON round trip of the
 *   payload.
 * - Slack: the messages the notifier posts.
 *
 * Every port call of an invocation is a step labelled by the port and its method
 * (`store.saveRun`, `batch.submitJob`, `retries.scheduleRetry`, `notifier.send`,
 * `windowStore.addToPart`, `windows.scheduleClose`, ...), found by wrapping the port objects;
 * a fault is injected right after a chosen step of a chosen invocation:
 *
 *   crash      the real call happened, then the process dies: this call and every later
 *              port call of the invocation throw; Lambda counts an error;
 *   exception  the real call happened, then this call throws a transient AWS-like error
 *              (the response was lost); the engine's own error handling runs as written;
 *   timeout    the real call happened, then the invocation hangs: Lambda times it out and
 *              counts an error, and its ports stay frozen (a killed sandbox never acts again).
 *
 * Nothing here waits on real time: a case runs in milliseconds.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { GetScheduleCommand, ResourceNotFoundException, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { vi } from 'vitest';
import type { ApiParts } from '#functions/api';
import { ListRulesCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { ScheduleDefinition } from '#shared/config/definition';
import { schedulerTargetInput } from '#shared/config/validate';
import { defaultDeps } from '#shared/engine/deps';
import { ENV } from '#shared/config/definition';
import { lambdaDeps, type DepsFor, type EngineDeps } from '#shared/engine/deps';
import type { BatchPort, JobFacts, RetrySchedulerPort, Store, WindowSchedulerPort } from '#shared/engine/ports';
import { TAGS } from '#shared/engine/submit';
import { getEnv } from '#shared/env';
import { logger } from '#shared/logger';
import { memoryStore } from '#shared/store/memory';
import { memoryWindowStore } from '#shared/store/memory-windows';
import { memoryDeadlineStore } from '#shared/store/memory-deadlines';
import type { RunItem } from '#shared/store/schema';
import type { WindowStore } from '#shared/engine/ports';
import type { TriggerDeps } from '#shared/engine/trigger';
import { MemoryLog } from '#test/helpers/engine';
import { CountingMetrics } from '#test/helpers/metrics';
import RUNNING_EVENT from '../../events/batch/RUNNING.json' with { type: 'json' };
import SUCCEEDED_EVENT from '../../events/batch/SUCCEEDED.json' with { type: 'json' };
import FAILED_EVENT from '../../events/batch/FAILED.json' with { type: 'json' };

export type FaultKind = 'crash' | 'exception' | 'timeout';

export const FAULT_KINDS: FaultKind[] = ['crash', 'exception', 'timeout'];

/**
 * One injected fault: after step `step` (1-based) of the first invocation whose key is
 * `invocation` to reach that step, or of the `nth` invocation with that key since the fault
 * was armed (1: the first delivery, 2: Lambda's retry of it, ...).
 */
export interface Fault {
  schedule: string;
  invocation: string;
  step: number;
  /** The label the step must have (guards the table against code changes). */
  label: string;
  kind: FaultKind;
  nth?: number;
}

/** Thrown by the harnesses when a simulated process dies. */
export class ProcessDied extends Error {
  constructor(label: string) {
    super(`simulated process death after ${label}`);
    this.name = 'ProcessDied';
  }
}

/** A transient server-side error of the kind the SDK raises when a response is lost. */
export function lostResponse(label: string): Error {
  const error = new Error(`injected: the response of ${label} was lost`) as Error & { $fault: string; $metadata: object };
  error.name = 'InternalServerError';
  error.$fault = 'server';
  error.$metadata = { httpStatusCode: 500 };
  return error;
}

/** What one invocation attempt did, step by step. */
export interface Trace {
  schedule: string;
  invocation: string;
  owner: string;
  steps: string[];
}

/** How far an invocation attempt is: it runs, its process died, or it hangs until Lambda times it out (never to act again). */
export interface Liveness {
  state: 'alive' | 'dead' | 'frozen';
}

/** A labelled, faultable step of one invocation: the real call, then the fault armed for this step, if any. */
export type StepFn = <T>(label: string, call: () => Promise<T>) => Promise<T>;

/**
 * The armed faults and the traces of a world (in process, or the local stack end to end):
 * each invocation attempt records its steps, and a fault is injected right after the step
 * it names.
 */
export class Faults {
  readonly traces: Trace[] = [];
  private faults: (Fault & { fired: boolean })[] = [];
  /** Index in `traces` where the armed faults start counting invocations (`nth`). */
  private armedAt = 0;

  /** Arms the fault(s) of what follows (undefined: none). */
  arm(fault: Fault | Fault[] | undefined): void {
    this.faults = (fault === undefined ? [] : Array.isArray(fault) ? fault : [fault]).map((f) => ({ ...f, fired: false }));
    this.armedAt = this.traces.length;
  }

  /** The faults armed now. */
  get armed(): readonly Fault[] {
    return this.faults;
  }

  /** Whether every armed fault was injected. */
  get fired(): boolean {
    return this.faults.length > 0 && this.faults.every((f) => f.fired);
  }

  /**
   * The step function of one invocation attempt, keyed `key`: each call is recorded in a new
   * trace, then the fault armed for it (if any) kills it (`crash`), throws (`exception`), or
   * freezes it (`timeout`; `onTimeout` lets Lambda time it out).
   */
  invocation(key: { schedule: string; invocation: string }, owner: string, live: Liveness, onTimeout: () => void = () => undefined): StepFn {
    const { schedule, invocation } = key;
    const trace: Trace = { schedule, invocation, owner, steps: [] };
    const nth = this.traces.slice(this.armedAt).filter((t) => t.schedule === schedule && t.invocation === invocation).length + 1;
    this.traces.push(trace);
    /** True when the invocation is frozen; throws when it is dead. */
    const halted = (label: string): boolean => {
      if (live.state === 'dead') throw new ProcessDied(`${label} (already dead)`);
      return live.state === 'frozen';
    };
    return async <T>(label: string, call: () => Promise<T>): Promise<T> => {
      if (halted(label)) return new Promise<T>(() => undefined);
      const out = await call();
      // A sibling branch of the same invocation (Promise.all) may have died or frozen meanwhile.
      if (halted(label)) return new Promise<T>(() => undefined);
      trace.steps.push(label);
      const f = this.faults.find(
        (f) => !f.fired && f.schedule === schedule && f.invocation === invocation && f.step === trace.steps.length && (f.nth === undefined || f.nth === nth),
      );
      if (!f) return out;
      if (label !== f.label) throw new Error(`crash-point table out of date: step ${f.step} of ${invocation} is ${label}, not ${f.label}`);
      f.fired = true;
      if (f.kind === 'crash') {
        live.state = 'dead';
        throw new ProcessDied(label);
      }
      if (f.kind === 'exception') throw lostResponse(label);
      live.state = 'frozen';
      onTimeout();
      return new Promise<T>(() => undefined);
    };
  }
}

/** Wraps every port of `deps` so each call is a step labelled by the port and its method (`store.saveRun`, `batch.submitJob`, ...). */
export function wrapPorts<D extends TriggerDeps>(deps: D, step: StepFn): D {
  const port = <P extends object>(name: string, target: P): P =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => step(`${name}.${String(prop)}`, () => (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args));
      },
    });
  return {
    ...deps,
    store: port('store', deps.store),
    batch: port('batch', deps.batch),
    retries: port('retries', deps.retries),
    notifier: port('notifier', deps.notifier),
    ...(deps.windowStore ? { windowStore: port('windowStore', deps.windowStore) } : {}),
    ...(deps.windows ? { windows: port('windows', deps.windows) } : {}),
    ...(deps.deadlineStore ? { deadlineStore: port('deadlineStore', deps.deadlineStore) } : {}),
  };
}

/**
 * Job events captured from the bus and held back, delivered one at a time in order (each as
 * an async invoke, the world let quiet after it), or dropped as a bus that lost them.
 */
export class HeldEvents<E> {
  readonly captured: E[] = [];
  private delivered = 0;

  constructor(private readonly world: { deliver(event: E): void; quiet(): Promise<void> }) {}

  /** Drops the events not yet delivered; returns how many. */
  drop(): number {
    const n = this.captured.length - this.delivered;
    this.delivered = this.captured.length;
    return n;
  }

  /** Delivers the events not yet delivered, one at a time; false when there were none. */
  async deliver(): Promise<boolean> {
    let any = false;
    while (this.delivered < this.captured.length) {
      this.world.deliver(this.captured[this.delivered++]!);
      await this.world.quiet();
      any = true;
    }
    return any;
  }
}

/** What `settleRun` drives: a world's deliveries, clock, Lambda retries and a direct sweep. */
export interface Settling {
  quiet(): Promise<void>;
  deliverEvents(): Promise<boolean>;
  run(runId: string): Promise<RunItem | undefined>;
  pendingRetries(): number;
  advance(ms: number): void;
  /** Runs the sweeper once, directly (not a faultable invocation). */
  sweepOnce(owner: string): Promise<unknown>;
}

/**
 * Lets a run play out through every normal repair: deliveries, Lambda's async retries (the
 * clock moved past their 60 s / 120 s), one-time schedules, and the sweeper once the leases
 * a dead invocation held have expired. Returns the run once nothing is left.
 */
export async function settleRun(w: Settling, runId: string): Promise<RunItem | undefined> {
  for (let round = 0; round < 10; round++) {
    await w.quiet();
    await w.deliverEvents();
    const run = await w.run(runId);
    const owed = run?.notify.failure && run.notify.failure.status !== 'SENT';
    const waiting = run && Object.values(run.tasks).some((t) => t.status === 'RETRY_WAIT');
    if (run?.finalized && !owed && !waiting && w.pendingRetries() === 0) return run;
    // Past Lambda's retry delays, a retry's at() time and a lease; then the sweeper.
    w.advance(121_000);
    await w.quiet();
    await w.deliverEvents();
    await w.sweepOnce(`sweeper-${runId}-${round}`);
  }
  await w.quiet();
  return w.run(runId);
}

/** The functions of the deployment, as the world registers them. */
export type Fn = 'fire' | 'jobEvents' | 'retry' | 'sweep' | 'trigger';

/** Lambda's default timeouts of the functions (serverless.yml), in ms. */
const TIMEOUT_MS: Record<Fn, number> = { fire: 60_000, jobEvents: 60_000, retry: 60_000, sweep: 300_000, trigger: 60_000 };

/** Lambda's waits before the 2nd and 3rd async attempts. */
const RETRY_DELAYS_MS = [60_000, 120_000];

const DEPLOYMENT = 'crash';
export const QUEUE = 'engine-queue';

/** How a job behaves once Batch runs it: it exits with `exit`, or it stays RUNNING until its schedule is released. */
export type JobPlan = { exit: number } | 'park';

/** What a job plan is decided from. */
export interface JobRef {
  schedule: string;
  runId: string;
  task: string;
  attempt: number;
}

interface Job {
  jobId: string;
  jobName: string;
  jobQueue: string;
  tags: Record<string, string>;
  status: 'SUBMITTED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  statusReason?: string;
  exitCode?: number;
  createdAt: number;
  startedAt?: number;
  stoppedAt?: number;
}

/** The environment the functions read once at cold start (shared/env.ts), set only while they are imported. */
const FUNCTION_ENV: Record<string, string> = {
  [ENV.table]: DEPLOYMENT,
  [ENV.deployment]: DEPLOYMENT,
  [ENV.scheduleGroup]: DEPLOYMENT,
  [ENV.retryTargetArn]: `arn:aws:lambda:us-east-1:000000000000:function:${DEPLOYMENT}-retry`,
  [ENV.triggerTargetArn]: `arn:aws:lambda:us-east-1:000000000000:function:${DEPLOYMENT}-trigger`,
  [ENV.schedulerRoleArn]: 'arn:aws:iam::000000000000:role/batchron-scheduler',
  [ENV.defaultQueue]: QUEUE,
  [ENV.retentionDays]: '7',
  AWS_REGION: 'us-east-1',
};

type Handler = (event: unknown, context: Context) => Promise<unknown>;
type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;
type Factories = Record<Fn, (depsFor: DepsFor) => Handler>;

let factories: Promise<Factories> | undefined;

/** The real function modules, imported once per worker with their environment set. */
export function functionFactories(): Promise<Factories> {
  factories ??= (async () => {
    for (const [name, value] of Object.entries(FUNCTION_ENV)) vi.stubEnv(name, value);
    try {
      // Decisions are asserted on state, not on log lines (ENGINE_TEST_LOG=INFO shows them).
      logger.setLogLevel((process.env.ENGINE_TEST_LOG ?? 'SILENT') as 'SILENT');
      const [fire, jobEvents, retry, sweep, trigger] = await Promise.all([
        import('#functions/fire'),
        import('#functions/job-events'),
        import('#functions/retry'),
        import('#functions/sweep'),
        import('#functions/trigger'),
      ]);
      getEnv();
      return {
        fire: fire.createHandler as Factories['fire'],
        jobEvents: jobEvents.createHandler as Factories['jobEvents'],
        retry: retry.createHandler as Factories['retry'],
        sweep: sweep.createHandler as Factories['sweep'],
        trigger: trigger.createHandler as unknown as Factories['trigger'],
      };
    } finally {
      vi.unstubAllEnvs();
    }
  })();
  return factories;
}

/** A one-time schedule (retry, deferral, window close) waiting on the clock. */
interface OneTime {
  name: string;
  at: number;
  target: Fn;
  input: unknown;
}

interface Queued {
  fn: Fn;
  payload: unknown;
  requestId: string;
  attempt: number;
}

/**
 * The world of one case: a clock, the stores, Batch, Scheduler, Lambda and Slack, and the
 * harness state (traces, armed faults, captured job events, parked schedules).
 */
export class CrashWorld {
  /** Epoch ms of the fake clock. */
  now = Date.parse('2025-03-01T00:00:00Z');
  readonly store: Store;
  readonly windowStore: WindowStore;
  /** Deadline records: checked only by a sweep with a schedule registry, which this world has none of. */
  readonly deadlineStore = memoryDeadlineStore();
  readonly slack: { text: string }[] = [];
  private readonly faults = new Faults();
  readonly traces: Trace[] = this.faults.traces;
  readonly deployment = DEPLOYMENT;
  /** Plans of the jobs Batch runs (default: exit 0). */
  plan: (job: JobRef) => JobPlan = () => ({ exit: 0 });

  private readonly jobs: Job[] = [];
  private readonly oneTime = new Map<string, OneTime>();
  private readonly retries: { at: number; event: Queued }[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly freezers = new Map<string, () => void>();
  private readonly keyOf = new Map<string, { schedule: string; invocation: string }>();
  private readonly attemptOf = new Map<string, number>();
  private readonly handlers: Partial<Record<Fn, Handler>> = {};
  private readonly timeouts: Record<Fn, number> = { ...TIMEOUT_MS };
  private readonly events = new HeldEvents<unknown>({ deliver: (event) => this.accept('jobEvents', event), quiet: () => this.quiet() });
  private readonly parked = new Set<string>();
  private readonly released = new Set<string>();
  private requests = 0;
  private jobCount = 0;

  /** The api function, built on the first request (its module is imported only by the cases that call it). */
  private api: ApiHandler | undefined;
  private readonly registered = new Map<string, ScheduleDefinition>();
  /** Scheduler, Batch, Logs and EventBridge clients the API uses instead of the world's own minimal ones (the API fuzz's fuller fakes). */
  apiClients: Partial<Pick<ApiParts, 'scheduler' | 'batch' | 'logs' | 'events'>> = {};

  constructor(fns: Factories, stores: { store?: Store; windowStore?: WindowStore } = {}) {
    this.store = stores.store ?? memoryStore();
    this.windowStore = stores.windowStore ?? memoryWindowStore();
    const depsFor: DepsFor = (context) => this.wrap(this.lambdaWorldDeps(context));
    for (const fn of Object.keys(fns) as Fn[]) this.handlers[fn] = fns[fn](depsFor);
  }

  private async apiHandler(): Promise<ApiHandler> {
    if (!this.api) {
      const { createHandler } = await import('#functions/api');
      // The API's engine deps are `defaultDeps` (no Lambda lease bound), as functions/api.ts builds them.
      const apiDepsFor: DepsFor = (context) => {
        const { registry: _registry, ...production } = defaultDeps(getEnv(), context.awsRequestId);
        return this.wrap({ ...production, ...this.ports(context.awsRequestId) });
      };
      this.api = createHandler(apiDepsFor, () => this.apiParts()) as ApiHandler;
    }
    return this.api;
  }

  /** A world with the real handlers of every function, on the in-memory stores unless given others (the DynamoDB ones). */
  static async create(stores: { store?: Store; windowStore?: WindowStore } = {}): Promise<CrashWorld> {
    return new CrashWorld(await functionFactories(), stores);
  }

  /* ---------------------------------------------------------------- deps */

  /**
   * The production wiring of one invocation (`lambdaDeps`: its lease bounded by the time the
   * invocation has left) with this world's stores, Batch, Scheduler, Slack and clock; no
   * schedule registry (the missed-fire repair reads the deployment's schedules, none here).
   */
  private lambdaWorldDeps(context: { awsRequestId: string; getRemainingTimeInMillis(): number }): TriggerDeps {
    const { registry: _registry, ...production } = lambdaDeps(getEnv(), context);
    return { ...production, ...this.ports(context.awsRequestId) };
  }

  /** The world's ports and settings for an owner; what a direct call (the harness's own sweeps) uses, unwrapped. */
  ports(owner: string): TriggerDeps {
    const deps: TriggerDeps = {
      store: this.store,
      windowStore: this.windowStore,
      deadlineStore: this.deadlineStore,
      batch: this.batchPort(),
      retries: this.retryPort(),
      windows: this.windowPort(),
      notifier: { send: async (m) => void this.slack.push({ text: m.text }) },
      env: { ...getEnv(), deployment: DEPLOYMENT },
      now: () => this.now,
      // Waits (a paced slot, a conflict backoff) pass on the clock.
      sleep: async (ms) => this.advance(ms),
      owner,
      log: new MemoryLog(),
      metrics: new CountingMetrics(),
    };
    return deps;
  }

  /** Deps for a direct engine call (as a test calls `sweep(deps)`), on the world, no step labels. */
  deps(owner = `direct-${++this.requests}`): TriggerDeps {
    return this.ports(owner);
  }

  /**
   * The API's own parts: the store unwrapped (its reads, like the run read back for the
   * answer, are not engine port calls), a Scheduler that holds the schedules `register`ed,
   * the clock.
   */
  private apiParts(): ApiParts {
    const env = getEnv();
    const fireTargetArn = `arn:aws:lambda:us-east-1:000000000000:function:${DEPLOYMENT}-fire`;
    const scheduler = {
      send: async (command: unknown) => {
        if (!(command instanceof GetScheduleCommand)) throw new Error(`the crash world's Scheduler does not answer ${String(command?.constructor?.name)}`);
        const def = this.registered.get(command.input.Name!);
        if (!def) throw new ResourceNotFoundException({ message: `Schedule ${command.input.Name} does not exist.`, Message: `Schedule ${command.input.Name} does not exist.`, $metadata: {} });
        return {
          Name: def.name,
          GroupName: env.scheduleGroup,
          ScheduleExpression: def.expression,
          ScheduleExpressionTimezone: def.timezone,
          State: 'DISABLED',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: { Arn: fireTargetArn, RoleArn: env.schedulerRoleArn, Input: schedulerTargetInput(def) },
        };
      },
    } as unknown as SchedulerClient;
    return {
      env: {
        table: env.table,
        deployment: DEPLOYMENT,
        scheduleGroup: env.scheduleGroup,
        fireTargetArn,
        schedulerRoleArn: env.schedulerRoleArn,
        defaultQueue: QUEUE,
        jobLogGroup: env.jobLogGroup,
        allowCommandOverride: false,
      },
      store: this.store,
      deadlines: this.deadlineStore,
      scheduler,
      batch: undefined as never,
      logs: undefined as never,
      // No event triggers' rules: every schedule of the crash world is registered above.
      events: { send: async (command: unknown) => (command instanceof ListRulesCommand ? { Rules: [] } : Promise.reject(new Error(`the crash world's EventBridge does not answer ${String((command as object)?.constructor?.name)}`))) } as unknown as EventBridgeClient,
      now: () => this.now,
      ...this.apiClients,
    };
  }

  /** Registers a schedule in the deployment's Scheduler group (disabled: only the API starts its runs). */
  register(def: ScheduleDefinition): void {
    this.registered.set(def.name, def);
  }

  /**
   * A request to the API, as the HTTP API makes it (a synchronous invoke, the operator's
   * credentials); `key` names the invocation. A timed-out invocation answers 500, as API
   * Gateway answers a function that timed out.
   */
  async request(key: { schedule: string; invocation: string }, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    const requestId = `req-${++this.requests}`;
    this.keyOf.set(requestId, key);
    const text = body === undefined ? '' : JSON.stringify(body);
    const rawHeaders = Object.entries({ host: 'localhost', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }).flat();
    const api = await this.apiHandler();
    const { buildEventV2 } = await import('#local/http-api');
    const event = buildEventV2({
      method,
      url: path,
      httpVersion: '1.1',
      rawHeaders,
      body: Buffer.from(text),
      routeKey: 'ANY /{proxy+}',
      pathParameters: { proxy: path.slice(1).split('?')[0]! },
      sourceIp: '127.0.0.1',
      now: this.now,
      apiId: 'crash',
      domainName: 'localhost',
      authorized: true,
    }) as unknown as APIGatewayProxyEventV2;
    const startedAt = this.now;
    const context = { awsRequestId: requestId, functionName: `${DEPLOYMENT}-api`, getRemainingTimeInMillis: () => Math.max(0, 30_000 - (this.now - startedAt)) } as unknown as Context;
    const timedOut = new Promise<'timeout'>((resolve) => this.freezers.set(`${requestId}#1`, () => resolve('timeout')));
    let out: APIGatewayProxyStructuredResultV2 | 'timeout';
    try {
      out = (await Promise.race([api(event, context), timedOut])) as APIGatewayProxyStructuredResultV2 | 'timeout';
    } catch {
      out = { statusCode: 500 };
    } finally {
      this.freezers.delete(`${requestId}#1`);
    }
    if (out === 'timeout') return { status: 500, body: { message: 'Internal Server Error' } };
    return { status: out.statusCode ?? 200, body: out.body ? JSON.parse(String(out.body)) : undefined };
  }

  /**
   * Invokes the API with `event` as it stands (any method, path, headers, body, with or
   * without an authorizer), as the HTTP API's synchronous invoke does; what the handler
   * throws is thrown (API Gateway would answer it 500).
   */
  async invokeApi(event: APIGatewayProxyEventV2, key = { schedule: '', invocation: 'api' }): Promise<APIGatewayProxyStructuredResultV2> {
    const requestId = `req-${++this.requests}`;
    this.keyOf.set(requestId, key);
    const api = await this.apiHandler();
    const startedAt = this.now;
    const context = { awsRequestId: requestId, functionName: `${DEPLOYMENT}-api`, getRemainingTimeInMillis: () => Math.max(0, 30_000 - (this.now - startedAt)) } as unknown as Context;
    return (await api(event, context)) as APIGatewayProxyStructuredResultV2;
  }

  /* ---------------------------------------------------------------- faults and steps */

  /** Sets the fault(s) of what follows (undefined: none). */
  arm(fault: Fault | Fault[] | undefined): void {
    this.faults.arm(fault);
  }

  /** Whether every armed fault was injected. */
  get fired(): boolean {
    return this.faults.fired;
  }

  /** Wraps every port of `deps` so each call is a labelled, faultable step of this invocation. */
  private wrap(deps: TriggerDeps): TriggerDeps {
    const key = this.keyOf.get(deps.owner) ?? { schedule: '', invocation: 'unknown' };
    const attempt = `${deps.owner}#${this.attemptOf.get(deps.owner) ?? 1}`;
    // A timeout: Lambda times the invocation out.
    const step = this.faults.invocation(key, deps.owner, { state: 'alive' }, () => this.freezers.get(attempt)?.());
    return wrapPorts(deps, step);
  }

  /* ---------------------------------------------------------------- Lambda */

  /** An async invoke of `fn` (Lambda's retries apply); `key` names the invocation for faults and traces. */
  accept(fn: Fn, payload: unknown, key = invocationKey(fn, payload)): void {
    const requestId = `req-${++this.requests}`;
    this.keyOf.set(requestId, key);
    this.start({ fn, payload: JSON.parse(JSON.stringify(payload)), requestId, attempt: 1 });
  }

  /** Sets a function's timeout (default: serverless.yml's). */
  setTimeout(fn: Fn, ms: number): void {
    this.timeouts[fn] = ms;
  }

  private start(event: Queued): void {
    const run = this.execute(event);
    this.inflight.add(run);
    void run.finally(() => this.inflight.delete(run));
  }

  private async execute(event: Queued): Promise<void> {
    const handler = this.handlers[event.fn]!;
    const timeoutMs = this.timeouts[event.fn];
    const startedAt = this.now;
    this.attemptOf.set(event.requestId, event.attempt);
    const context = {
      awsRequestId: event.requestId,
      functionName: `${DEPLOYMENT}-${event.fn}`,
      getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (this.now - startedAt)),
    } as unknown as Context;
    const timedOut = new Promise<'timeout'>((resolve) => this.freezers.set(`${event.requestId}#${event.attempt}`, () => resolve('timeout')));
    let ok: boolean;
    try {
      ok = (await Promise.race([handler(event.payload, context).then(() => 'ok' as const), timedOut])) === 'ok';
    } catch {
      ok = false;
    } finally {
      this.freezers.delete(`${event.requestId}#${event.attempt}`);
    }
    if (!ok && event.attempt <= RETRY_DELAYS_MS.length) {
      this.retries.push({ at: this.now + RETRY_DELAYS_MS[event.attempt - 1]!, event: { ...event, attempt: event.attempt + 1 } });
    }
  }

  /** Async retries waiting on the clock. */
  pendingRetries(): number {
    return this.retries.length;
  }

  /** Waits until no invocation is running (a frozen one is over for Lambda: it timed out). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
    await new Promise((resolve) => setImmediate(resolve));
    if (this.inflight.size > 0) await this.idle();
  }

  /* ---------------------------------------------------------------- the clock and Scheduler */

  /** Moves the clock; one-time schedules and Lambda retries that come due fire, in time order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const schedule = [...this.oneTime.values()].filter((s) => s.at <= until).sort((a, b) => a.at - b.at)[0];
      const retry = this.retries.filter((r) => r.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!schedule && !retry) break;
      if (schedule && (!retry || schedule.at <= retry.at)) {
        this.now = Math.max(this.now, schedule.at);
        // ActionAfterCompletion DELETE: the schedule is gone once it fired.
        this.oneTime.delete(schedule.name);
        this.accept(schedule.target, schedule.input);
      } else {
        this.now = Math.max(this.now, retry!.at);
        this.retries.splice(this.retries.indexOf(retry!), 1);
        this.start(retry!.event);
      }
    }
    this.now = until;
  }

  /** Deletes a one-time schedule (it was lost); true when there was one. */
  deleteSchedule(name: string): boolean {
    return this.oneTime.delete(name);
  }

  /** Names of the one-time schedules waiting. */
  schedules(): string[] {
    return [...this.oneTime.keys()];
  }

  private createOneTime(target: Fn, s: { name: string; at: number; input: unknown }): 'created' | 'exists' {
    if (this.oneTime.has(s.name)) return 'exists';
    this.oneTime.set(s.name, { name: s.name, at: s.at, target, input: JSON.parse(JSON.stringify(s.input)) });
    return 'created';
  }

  private retryPort(): RetrySchedulerPort {
    return { scheduleRetry: async (s) => this.createOneTime('retry', s) };
  }

  private windowPort(): WindowSchedulerPort {
    return { scheduleClose: async (s) => this.createOneTime('trigger', s) };
  }

  /* ---------------------------------------------------------------- Batch */

  private batchPort(): BatchPort {
    return {
      submitJob: async (input) => {
        const job: Job = {
          jobId: `job-${++this.jobCount}`,
          jobName: input.jobName!,
          jobQueue: input.jobQueue!,
          tags: { ...(input.tags ?? {}) },
          status: 'SUBMITTED',
          createdAt: this.now,
        };
        this.jobs.push(job);
        return { jobId: job.jobId };
      },
      findJobsByName: async (queue, name) =>
        this.jobs
          .filter((j) => j.jobQueue === queue && j.jobName === name)
          .sort((a, b) => b.createdAt - a.createdAt)
          .map((j) => ({ jobId: j.jobId, status: j.status })),
      describeJobs: async (ids) => this.jobs.filter((j) => ids.includes(j.jobId)).map(factsOf),
      terminateJob: async (id, reason) => {
        const job = this.jobs.find((j) => j.jobId === id);
        if (!job || job.status === 'SUCCEEDED' || job.status === 'FAILED') return;
        job.status = 'FAILED';
        job.statusReason = reason;
        job.stoppedAt = this.now;
        this.emit(job);
      },
    };
  }

  private emit(job: Job): void {
    const base = job.status === 'RUNNING' ? RUNNING_EVENT : job.status === 'SUCCEEDED' ? SUCCEEDED_EVENT : FAILED_EVENT;
    const { attempts: _attempts, container: _container, ...detail } = base.detail as Record<string, unknown>;
    this.events.captured.push({
      ...base,
      id: `evt-${this.events.captured.length + 1}`,
      time: new Date(this.now).toISOString(),
      detail: {
        ...detail,
        jobArn: `arn:aws:batch:us-east-1:000000000000:job/${job.jobId}`,
        jobId: job.jobId,
        jobName: job.jobName,
        jobQueue: job.jobQueue,
        status: job.status,
        statusReason: job.statusReason,
        createdAt: job.createdAt,
        ...(job.startedAt !== undefined ? { startedAt: job.startedAt } : {}),
        ...(job.stoppedAt !== undefined ? { stoppedAt: job.stoppedAt } : {}),
        ...(job.exitCode !== undefined ? { container: { exitCode: job.exitCode, logStreamName: `engine-sh/default/${job.jobId}` } } : {}),
        tags: job.tags,
      },
    });
  }

  /** Runs Batch's jobs as far as they go (parked ones to RUNNING); true when any moved. */
  private runJobs(): boolean {
    let moved = false;
    for (const job of this.jobs) {
      const ref = refOf(job);
      if (job.status === 'SUBMITTED') {
        job.status = 'RUNNING';
        job.startedAt = this.now;
        this.emit(job);
        moved = true;
      }
      if (job.status !== 'RUNNING') continue;
      const plan = this.plan(ref);
      if (plan === 'park' && !this.released.has(ref.schedule)) continue;
      const exit = plan === 'park' ? 0 : plan.exit;
      job.exitCode = exit;
      job.status = exit === 0 ? 'SUCCEEDED' : 'FAILED';
      job.statusReason = 'Essential container in task exited';
      job.stoppedAt = this.now;
      this.emit(job);
      moved = true;
    }
    return moved;
  }

  /** Jobs whose tags name `schedule` (and, given, run `runId`), any status. */
  jobsOf(schedule: string, runId?: string): { jobId: string; jobName: string; status: string; reason: string }[] {
    return this.jobs
      .filter((j) => j.tags[TAGS.schedule] === schedule && (runId === undefined || j.tags[TAGS.run] === runId))
      .map((j) => ({ jobId: j.jobId, jobName: j.jobName, status: j.status, reason: j.statusReason ?? '' }));
  }

  /** Lets the parked jobs of `schedule` stay RUNNING while the world waits for quiet. */
  park(schedule: string): void {
    this.parked.add(schedule);
  }

  /** Lets the parked jobs of `schedule` end (exit 0). */
  unpark(schedule: string): void {
    this.released.add(schedule);
    this.parked.delete(schedule);
  }

  /* ---------------------------------------------------------------- events and settling */

  /** Drops the captured job events not yet delivered (events the bus lost); returns how many. */
  dropEvents(): number {
    return this.events.drop();
  }

  /** Delivers captured job events not yet delivered, one at a time, each as an async invoke; false when there were none. */
  deliverEvents(): Promise<boolean> {
    return this.events.deliver();
  }

  /** Waits until no invocation runs and Batch has run every job it can (parked jobs stay RUNNING). */
  async quiet(): Promise<void> {
    do await this.idle();
    while (this.runJobs());
  }

  /** Invokes the real sweep function asynchronously (as its rate schedule does), keyed `sweep` for `schedule`. */
  invokeSweep(schedule: string): void {
    this.accept('sweep', { source: 'aws.scheduler', 'detail-type': 'Scheduled Event', detail: {} }, { schedule, invocation: 'sweep' });
  }

  /** The run as stored. */
  run(runId: string): Promise<RunItem | undefined> {
    return this.store.getRun(runId);
  }

  /** Runs the sweeper once, directly, on the world's ports (no step labels). */
  async sweepOnce(owner: string): Promise<unknown> {
    const { sweep } = await import('#shared/engine/sweep');
    return sweep(this.deps(owner));
  }

  /** Lets a run play out through every normal repair (`settleRun`); returns the run once nothing is left. */
  settle(runId: string): Promise<RunItem | undefined> {
    return settleRun(this, runId);
  }

  /** A schedule definition as this world's jobs run it: as written (the jobs' plans decide how they end). */
  definition(def: ScheduleDefinition): ScheduleDefinition {
    return def;
  }
}

function refOf(job: Job): JobRef {
  return { schedule: job.tags[TAGS.schedule]!, runId: job.tags[TAGS.run]!, task: job.tags[TAGS.task]!, attempt: Number(job.tags[TAGS.attempt]) };
}

function factsOf(job: Job): JobFacts {
  return {
    jobId: job.jobId,
    jobName: job.jobName,
    status: job.status,
    statusReason: job.statusReason,
    exitCode: job.exitCode,
    startedAt: job.startedAt,
    stoppedAt: job.stoppedAt,
    tags: { ...job.tags },
  };
}

/** The key of an invocation: `fire`, `job-events:<STATUS>:<task>`, `retry:<task>#<attempt>`, `trigger:<event id>`, `close:<window>`, `api:start`, `api:cancel`. */
export function invocationKey(fn: Fn | 'api', event: any): { schedule: string; invocation: string } {
  switch (fn) {
    case 'api': {
      const path = String(event?.rawPath ?? '');
      const start = /^\/schedules\/([^/]+)\/runs$/.exec(path);
      if (start) return { schedule: decodeURIComponent(start[1]!), invocation: 'api:start' };
      const cancel = /^\/runs\/([^/]+)\/cancel$/.exec(path);
      if (cancel) return { schedule: decodeURIComponent(cancel[1]!).split('.')[0]!, invocation: 'api:cancel' };
      return { schedule: '', invocation: `api:${event?.requestContext?.http?.method} ${path}` };
    }
    case 'fire':
      return { schedule: String(event?.schedule), invocation: 'fire' };
    case 'retry':
      return { schedule: String(event?.runId).split('.')[0]!, invocation: `retry:${event?.task}#${event?.attempt}` };
    case 'trigger':
      if (event?.closeWindow) return { schedule: String(event.closeWindow.schedule), invocation: `close:${event.closeWindow.window}` };
      return { schedule: String(event?.schedule), invocation: `trigger:${event?.event?.id}` };
    case 'sweep':
      return { schedule: '', invocation: 'sweep' };
    case 'jobEvents': {
      const tags = event?.detail?.tags ?? {};
      return { schedule: String(tags[TAGS.schedule]), invocation: `job-events:${event?.detail?.status}:${tags[TAGS.task]}` };
    }
  }
}
