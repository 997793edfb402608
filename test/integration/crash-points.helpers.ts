/**
 * End-to-end crash-point harness (crash-points-e2e.test.ts): the real functions/*.ts handlers
 * on the local stack and DynamoDB Local, with every port
 * call they make (DynamoDB, Batch, Scheduler, Slack) labelled as a step through the
 * handlers' deps factory (`createHandler(depsFor)`), and one fault injected right after a chosen step of a
 * chosen invocation:
 *
 *   crash      the real call succeeded, then the process dies: this call and every later
 *              port call of the same invocation throw, so none of its later steps happen;
 *   exception  the real call succeeded, then this call throws a transient AWS-like error
 *              (the response was lost); the engine's own error handling runs as it would;
 *   timeout    the real call succeeded, then the invocation hangs (every later call too)
 *              until the local Lambda times it out and counts an error.
 *
 * Job state-change events are not routed to job-events by the bus: the harness captures
 * them and delivers each once, in order, as an async invoke (so Lambda's async retries
 * apply). That keeps every invocation's step sequence deterministic, so "after step i of
 * the SUCCEEDED event of task a" names one exact moment.
 *
 * Several faults can be armed at once (two faults in one run); `nth` then says which
 * invocation of a key a fault targets (Lambda's retry of a faulted invocation is the 2nd).
 * A job can be "parked" (its task runs until the case releases it), so a run can stay
 * RUNNING for as long as a case needs (a stuck alert, a cancel while the job runs).
 *
 * Here a step is one request as the functions send it (the DynamoDB document-client command
 * labelled from its command and key), so a fault can fall between the requests of one store
 * call. Every table also runs in process, steps named by port method, in test/unit/crash-*
 * (test/helpers/crash-world.ts, test/helpers/crash-points.ts); this harness keeps the cases
 * only the DynamoDB store and the real services can show (docs/crash-points.md, "End to end").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListJobsCommand, type JobStatus } from '@aws-sdk/client-batch';
import { CreateScheduleCommand, DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import type { Context } from 'aws-lambda';
import { DEFAULTS, defaultDeps, lambdaDeps, type DepsFor, type EngineDeps } from '#shared/engine/deps';
import { getEnv } from '#shared/env';
import { retryScheduleName, runIdFor } from '#shared/engine/naming';
import { schedulerTargetInput } from '#shared/config/validate';
import { sweep } from '#shared/engine/sweep';
import { dynamoStore } from '#shared/store/dynamo';
import { documentClient } from '#shared/clients/dynamodb';
import { TAGS } from '#shared/engine/submit';
import type { AttemptStatus, RunItem, RunStatus } from '#shared/store/schema';
import type { ScheduleDefinition } from '#shared/config/definition';
import type { EventBridgeEvent } from '#local/contracts';
import type { HttpApi } from '#local/http-api';
import type { LocalHandler } from '#local/lambda';
import { definition, fire, retry, task, type EngineStack } from '#test/helpers/engine';
import { lostResponse, ProcessDied, type Fault, type FaultKind, type Trace } from '#test/helpers/crash-world';

export { ProcessDied, type Fault, type FaultKind, type Trace } from '#test/helpers/crash-world';

/** Labels a DynamoDB document-client command as an engine step. */
function labelOf(command: { constructor: { name: string }; input: Record<string, any> }): string {
  const input = command.input;
  switch (command.constructor.name) {
    case 'QueryCommand':
      return input.IndexName ? 'query-index' : 'load-run';
    case 'GetCommand':
      return 'read-schedule-state';
    case 'TransactWriteCommand':
      return 'create-run';
    case 'PutCommand':
      if (input.Item?.sk === 'DEF') return 'put-definition';
      return String(input.ConditionExpression ?? '').includes('attribute_not_exists') ? 'create-run' : 'save-run';
    case 'UpdateCommand': {
      if (input.Key?.pk === 'PACER') return 'reserve-submit-slot';
      const expr = String(input.UpdateExpression ?? '');
      if (expr.includes('#lastRunId')) return 'release-overlap';
      if (expr.startsWith('REMOVE #queued ADD #active')) return 'promote-queued';
      if (expr.startsWith('SET #kind = :kind, #schedule = :s ADD #version :one DELETE #active')) return 'release-overlap';
      return 'update-schedule-state';
    }
    default:
      return command.constructor.name;
  }
}

/**
 * Installs the hook and wraps the deployment's functions so each invocation is known by
 * a key: `fire`, `job-events:<STATUS>:<task>`, `retry:<task>#<attempt>`.
 */
export class CrashHarness {
  readonly traces: Trace[] = [];
  private readonly keyOf = new Map<string, { schedule: string; invocation: string }>();
  /** Attempts per request id (Lambda's async retries keep the id), and each attempt's liveness. */
  private readonly attempts = new Map<string, number>();
  private readonly liveness = new Map<string, { state: 'alive' | 'dead' | 'frozen' }>();
  private readonly unsubscribe: () => void;
  private faults: (Fault & { fired: boolean })[] = [];
  /** Index in `traces` where the armed faults start counting invocations (`nth`). */
  private armedAt = 0;
  private readonly captured: EventBridgeEvent[] = [];
  private delivered = 0;
  private readonly realHandlers: Partial<Record<HarnessFn, LocalHandler>>;
  private readonly names: Record<HarnessFn, string>;
  /** Schedules whose jobs may stay RUNNING while the harness waits for quiet (parked until released). */
  private readonly parked = new Set<string>();
  private api: HttpApi | undefined;
  /** What the real handlers build their deps with: the production wiring, every port wrapped. */
  readonly depsFor: DepsFor = (context) => this.wrap(lambdaDeps(getEnv(), context));

  constructor(
    readonly engine: EngineStack,
    factories: Record<'fire' | 'jobEvents' | 'retry', (depsFor: DepsFor) => LocalHandler>,
    readonly timeoutMs: number,
  ) {
    // The real handlers, built over the real deps with every port call labelled and faultable.
    this.realHandlers = {
      fire: factories.fire(this.depsFor),
      jobEvents: factories.jobEvents(this.depsFor),
      retry: factories.retry(this.depsFor),
    };
    const d = engine.deployment;
    this.names = { fire: `${d}-fire`, jobEvents: `${d}-job-events`, retry: `${d}-retry`, api: `${d}-api` };
    for (const fn of ['fire', 'jobEvents', 'retry'] as const) this.register(fn, DEFAULT_TIMEOUT_MS[fn]);
    // Events go to a capture function; the harness delivers them one at a time.
    const capture = engine.stack.lambda.register(`${d}-capture`, async (event: EventBridgeEvent) => {
      this.captured.push(event);
    });
    const rule = engine.stack.bus.rules().find((r) => r.name === `${d}-job-events`)!;
    engine.stack.bus.putRule({ ...rule, targets: [{ id: 'capture', arn: capture }] });
    // On AWS a timed-out sandbox is frozen or killed; the local Lambda abandons the promise
    // instead, so the harness freezes that attempt's ports: it can never act afterwards.
    this.unsubscribe = engine.stack.lambda.onInvoke((record) => {
      if (record.error?.startsWith('Sandbox.Timedout')) {
        const live = this.liveness.get(`${record.requestId}#${record.attempt}`);
        if (live) live.state = 'frozen';
      }
    });
  }

  /** Stops what the harness added to the stack (the HTTP API, parked jobs' folder) and removes the hook. */
  async dispose(): Promise<void> {
    this.unsubscribe();
    await this.api?.close();
    if (parkDir) rmSync(parkDir, { recursive: true, force: true });
  }

  /** Sets the fault(s) of the next case (undefined: none); the functions get their timeouts. */
  arm(fault: Fault | Fault[] | undefined): void {
    this.faults = (fault === undefined ? [] : Array.isArray(fault) ? fault : [fault]).map((f) => ({ ...f, fired: false }));
    this.armedAt = this.traces.length;
    for (const fn of Object.keys(this.realHandlers) as HarnessFn[]) {
      const target = this.faults.some((f) => f.kind === 'timeout' && keyFunction(f.invocation) === fn);
      this.register(fn, target ? this.timeoutMs : DEFAULT_TIMEOUT_MS[fn]);
    }
  }

  /** Whether every armed fault was injected. */
  get fired(): boolean {
    return this.faults.length > 0 && this.faults.every((f) => f.fired);
  }

  /**
   * Registers `functions/api.ts` in the local Lambda runtime behind the local HTTP API (as
   * api.test.ts serves it); its invocations are keyed `api:start` (POST a run) and
   * `api:cancel` for the schedule of the run. Returns a client that calls it over HTTP.
   */
  async startApi(): Promise<ApiClient> {
    if (!this.api) {
      this.realHandlers.api = (await import('#functions/api')).createHandler((context) => this.wrap(defaultDeps(getEnv(), context.awsRequestId)));
      this.register('api', DEFAULT_TIMEOUT_MS.api);
      const { startHttpApi } = await import('#local/http-api');
      this.api = await startHttpApi({
        port: 0,
        token: 'crash-points',
        lambda: this.engine.stack.lambda,
        now: () => this.engine.stack.clock.now(),
        routes: [{ method: 'ANY', path: '/{proxy+}', functionName: this.names.api }],
      });
    }
    const { url, token } = this.api;
    return async (method, path, body, headers = {}) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
  }

  /** Lets the jobs of `schedule` stay RUNNING while the harness waits for quiet (their task is `parkedScript`). */
  park(schedule: string): void {
    this.parked.add(schedule);
  }

  /** Lets the parked jobs of `schedule` end (exit 0), and waits for quiet with them again. */
  unpark(schedule: string): void {
    writeFileSync(parkFile(schedule), '');
    this.parked.delete(schedule);
  }

  private register(fn: HarnessFn, timeoutMs: number): void {
    const real = this.realHandlers[fn]!;
    this.engine.stack.lambda.register(
      this.names[fn],
      (event: any, context: Context) => {
        this.keyOf.set(context.awsRequestId, invocationKey(fn, event));
        this.attempts.set(context.awsRequestId, (this.attempts.get(context.awsRequestId) ?? 0) + 1);
        return real(event, context);
      },
      { timeoutMs },
    );
  }

  private wrap(deps: EngineDeps): EngineDeps {
    const { schedule, invocation } = this.keyOf.get(deps.owner) ?? { schedule: '', invocation: 'unknown' };
    const trace: Trace = { schedule, invocation, owner: deps.owner, steps: [] };
    const nth = this.traces.slice(this.armedAt).filter((t) => t.schedule === schedule && t.invocation === invocation).length + 1;
    this.traces.push(trace);
    const live = { state: 'alive' as 'alive' | 'dead' | 'frozen' };
    this.liveness.set(`${deps.owner}#${this.attempts.get(deps.owner) ?? 1}`, live);
    /** True when the invocation is frozen; throws when it is dead. */
    const halted = (label: string): boolean => {
      if (live.state === 'dead') throw new ProcessDied(`${label} (already dead)`);
      return live.state === 'frozen';
    };
    const step = async <T>(label: string, call: () => Promise<T>): Promise<T> => {
      if (halted(label)) return new Promise<T>(() => undefined);
      const out = await call();
      // A sibling branch of the same invocation (Promise.all) may have died or frozen meanwhile.
      if (halted(label)) return new Promise<T>(() => undefined);
      trace.steps.push(label);
      const f = this.faults.find(
        (f) => !f.fired && f.schedule === schedule && f.invocation === invocation && f.step === trace.steps.length && (f.nth === undefined || f.nth === nth),
      );
      if (f) {
        if (label !== f.label) throw new Error(`crash-point table out of date: step ${f.step} of ${invocation} is ${label}, not ${f.label}`);
        f.fired = true;
        if (f.kind === 'crash') {
          live.state = 'dead';
          throw new ProcessDied(label);
        }
        if (f.kind === 'exception') throw lostResponse(label);
        live.state = 'frozen';
        return new Promise<T>(() => undefined);
      }
      return out;
    };
    // The functions' own document client (shared/clients/dynamodb.ts): the one their store sends through.
    const realDoc = documentClient;
    const doc = { send: (command: any, ...rest: any[]) => step(labelOf(command), () => (realDoc.send as any)(command, ...rest)) };
    const b = deps.batch;
    return {
      ...deps,
      store: dynamoStore({ doc: doc as unknown as DynamoDBDocumentClient, table: this.engine.table }),
      batch: {
        submitJob: (input) => step('submit-job', () => b.submitJob(input)),
        findJobsByName: (queue, name) => step('find-job', () => b.findJobsByName(queue, name)),
        describeJobs: (ids) => step('describe-jobs', () => b.describeJobs(ids)),
        terminateJob: (id, reason) => step('terminate-job', () => b.terminateJob(id, reason)),
      },
      retries: { scheduleRetry: (s) => step('schedule-retry', () => deps.retries.scheduleRetry(s)) },
      notifier: { send: (m) => step('notify-slack', () => deps.notifier.send(m)) },
    };
  }

  /** Drops the captured job events not yet delivered (events the bus lost); returns how many. */
  dropEvents(): number {
    const n = this.captured.length - this.delivered;
    this.delivered = this.captured.length;
    return n;
  }

  /**
   * Invokes the real sweep function asynchronously (as its rate schedule does), registered
   * with `timeoutMs`; its invocations are keyed `sweep` for `schedule`, so a fault can target them.
   */
  invokeSweep(handler: LocalHandler, schedule: string, timeoutMs: number): void {
    const name = `${this.engine.deployment}-sweep`;
    this.engine.stack.lambda.register(
      name,
      (event: any, context: Context) => {
        this.keyOf.set(context.awsRequestId, { schedule, invocation: 'sweep' });
        this.attempts.set(context.awsRequestId, (this.attempts.get(context.awsRequestId) ?? 0) + 1);
        return handler(event, context);
      },
      { timeoutMs },
    );
    this.engine.stack.lambda.accept(name, { source: 'aws.scheduler', 'detail-type': 'Scheduled Event', detail: {} });
  }

  /** Delivers captured job events not yet delivered, one at a time; false when there were none. */
  async deliverEvents(): Promise<boolean> {
    let any = false;
    while (this.delivered < this.captured.length) {
      const event = this.captured[this.delivered++]!;
      this.engine.stack.lambda.accept(this.engine.arns.jobEvents, event);
      await this.quiet();
      any = true;
    }
    return any;
  }

  /**
   * Waits until Batch has no job in flight (parked jobs RUNNING excepted) and the bus and
   * Lambda are quiet (Lambda retries on the Clock excepted).
   */
  async quiet(): Promise<void> {
    const { stack } = this.engine;
    for (;;) {
      await stack.idle();
      if (await this.batchQuiet()) {
        await stack.idle();
        if (await this.batchQuiet()) return;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async batchQuiet(): Promise<boolean> {
    if (this.engine.stack.batch.idle()) return true;
    if (this.parked.size === 0) return false;
    const batch = this.engine.ts.clients.batch;
    const lists = await Promise.all(
      NOT_OVER.map((jobStatus) => batch.send(new ListJobsCommand({ jobQueue: 'engine-queue', jobStatus, maxResults: 100 }))),
    );
    const prefixes = [...this.parked].map((s) => `${this.engine.deployment}_${s}-`);
    return lists.flatMap((l) => l.jobSummaryList ?? []).every((j) => j.status === 'RUNNING' && prefixes.some((p) => j.jobName!.startsWith(p)));
  }

  /**
   * Lets a run play out through every normal repair: deliveries, Lambda's async retries
   * (the Clock moved past their 60 s / 120 s), retry schedules, and the sweeper once the
   * leases a dead invocation held have expired. Returns the run once nothing is left.
   */
  async settle(runId: string): Promise<RunItem | undefined> {
    const { stack } = this.engine;
    for (let round = 0; round < 10; round++) {
      await this.quiet();
      await this.deliverEvents();
      const run = await this.engine.run(runId);
      const owed = run?.notify.failure && run.notify.failure.status !== 'SENT';
      const waiting = run && Object.values(run.tasks).some((t) => t.status === 'RETRY_WAIT');
      if (run?.finalized && !owed && !waiting && stack.lambda.pendingRetries() === 0) return run;
      // Past Lambda's retry delays, a retry's at() time and a lease; then the sweeper.
      stack.clock.advance(121_000);
      await this.quiet();
      await this.deliverEvents();
      await sweep(this.engine.deps(`sweeper-${runId}-${round}`));
    }
    await this.quiet();
    return this.engine.run(runId);
  }
}

/** The functions the harness registers (the sweep is registered per invocation, see `invokeSweep`). */
type HarnessFn = 'fire' | 'jobEvents' | 'retry' | 'api';

const DEFAULT_TIMEOUT_MS: Record<HarnessFn, number> = { fire: 60_000, jobEvents: 60_000, retry: 60_000, api: 30_000 };

/** Batch statuses of a job not over yet. */
const NOT_OVER: JobStatus[] = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'];

/** Where parked jobs look for their release file (one per schedule); made on first use. */
let parkDir: string | undefined;

function parkFile(schedule: string): string {
  parkDir ??= mkdtempSync(join(tmpdir(), 'batchron-crash-park-'));
  return join(parkDir, schedule);
}

/** A task script that runs until the harness `unpark`s its schedule, then exits 0. */
export function parkedScript(schedule: string): string {
  return `while [ ! -e '${parkFile(schedule)}' ]; do sleep 0.1; done`;
}

/** A call to the HTTP API: status and parsed JSON body. */
export type ApiClient = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any }>;

function keyFunction(invocation: string): HarnessFn | 'sweep' {
  if (invocation.startsWith('job-events')) return 'jobEvents';
  if (invocation.startsWith('api:')) return 'api';
  if (invocation === 'sweep') return 'sweep';
  return invocation.startsWith('retry') ? 'retry' : 'fire';
}

function invocationKey(fn: HarnessFn, event: any): { schedule: string; invocation: string } {
  if (fn === 'fire') return { schedule: String(event?.schedule), invocation: 'fire' };
  if (fn === 'api') {
    const path = String(event?.rawPath ?? '');
    const start = /^\/schedules\/([^/]+)\/runs$/.exec(path);
    if (start) return { schedule: decodeURIComponent(start[1]!), invocation: 'api:start' };
    const cancel = /^\/runs\/([^/]+)\/cancel$/.exec(path);
    if (cancel) return { schedule: decodeURIComponent(cancel[1]!).split('.')[0]!, invocation: 'api:cancel' };
    return { schedule: '', invocation: `api:${event?.requestContext?.http?.method} ${path}` };
  }
  if (fn === 'retry') return { schedule: String(event?.runId).split('.')[0]!, invocation: `retry:${event?.task}#${event?.attempt}` };
  const tags = event?.detail?.tags ?? {};
  return { schedule: String(tags[TAGS.schedule]), invocation: `job-events:${event?.detail?.status}:${tags[TAGS.task]}` };
}

/* ------------------------------------------------------------------ the table */

/** One step of an invocation: the port call's label and what it means. */
export interface Step {
  label: string;
  what: string;
  /** Slack messages expected when the fault follows this step, if not the scenario's (see docs/crash-points.md). */
  slack?: number;
}

/** A run shape, the invocation faulted, its steps in the order the code makes them, and the end state. */
export interface CrashScenario {
  name: string;
  summary: string;
  build(schedule: string): ScheduleDefinition;
  invocation: string;
  steps: Step[];
  expect: {
    status: RunStatus;
    attempts: Record<string, AttemptStatus[]>;
    slack: number;
    /** The end of the schedule's earlier run (A, 00:00), when the case has one and the run above is B (01:00). */
    before?: { status: RunStatus; attempts: Record<string, AttemptStatus[]> };
  };
}

const FAILS_FIRST = '[ "$BATCHRON_ATTEMPT" -ge 2 ] || exit 3';

/** The pacer's step before every SubmitJob: idle in these scenarios, so one conditional write. */
const RESERVE_SLOT: Step = { label: 'reserve-submit-slot', what: 'reserve a SubmitJob slot from the pacer (idle: one conditional write, the slot is now)' };

const FIRE_STEPS: Step[] = [
  { label: 'read-schedule-state', what: 'read the schedule state (pause flag, overlap set)' },
  { label: 'put-definition', what: 'write the run definition item' },
  { label: 'create-run', what: 'create run + overlap state (one transaction); the attempt is created READY with this invocation\'s lease' },
  RESERVE_SLOT,
  { label: 'submit-job', what: 'SubmitJob (the lease holder, no lookup)' },
  { label: 'save-run', what: 'record the job id (task SUBMITTED), over the state this invocation wrote: no read' },
];

/** Every invocation shape of fire, job-events and retry, each in one scenario. */
export const SCENARIOS: Record<string, CrashScenario> = {
  fire: {
    name: 'fire',
    summary: 'one task, overlap skip',
    build: (name) => definition(name, [task('main')], { overlap: 'skip' }),
    invocation: 'fire',
    steps: FIRE_STEPS,
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0 },
  },
  retry: {
    name: 'retry',
    summary: 'one task failing its 1st attempt, 2 attempts, 60 s backoff',
    build: (name) => definition(name, [task('main', FAILS_FIRST, { retry: retry(2, 60) })]),
    invocation: 'retry:main#2',
    steps: [
      { label: 'load-run', what: 'read the run' },
      { label: 'save-run', what: 'claim attempt 2: task READY, attempt SUBMITTING with this invocation\'s lease' },
      RESERVE_SLOT,
      { label: 'submit-job', what: 'SubmitJob for attempt 2' },
      { label: 'save-run', what: 'record the job id of attempt 2, over the state this invocation wrote: no read' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['FAILED', 'SUCCEEDED'] }, slack: 0 },
  },
  running: {
    name: 'running',
    summary: 'one task, overlap skip: the RUNNING event',
    build: (name) => definition(name, [task('main')], { overlap: 'skip' }),
    invocation: 'job-events:RUNNING:main',
    steps: [
      { label: 'load-run', what: 'parse the event, read the run' },
      { label: 'save-run', what: 'apply RUNNING (attempt, task and run RUNNING)' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0 },
  },
  successor: {
    name: 'successor',
    summary: 'a → b: the SUCCEEDED event of a',
    build: (name) => definition(name, [task('a'), task('b', 'exit 0', { dependsOn: ['a'] })]),
    invocation: 'job-events:SUCCEEDED:a',
    steps: [
      { label: 'load-run', what: 'parse the event, read the run' },
      { label: 'save-run', what: 'apply SUCCEEDED to a; b READY with this invocation\'s lease (one write)' },
      RESERVE_SLOT,
      { label: 'submit-job', what: 'SubmitJob for the successor b' },
      { label: 'save-run', what: 'record b\'s job id, over the state this invocation wrote: no read' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { a: ['SUCCEEDED'], b: ['SUCCEEDED'] }, slack: 0 },
  },
  'end-allow': {
    name: 'end-allow',
    summary: 'one task, overlap allow: the SUCCEEDED event that ends the run',
    build: (name) => definition(name, [task('main')]),
    invocation: 'job-events:SUCCEEDED:main',
    steps: [
      { label: 'load-run', what: 'parse the event, read the run' },
      { label: 'read-schedule-state', what: 'may the end be written finalized inline? (last outcome)' },
      { label: 'save-run', what: 'apply SUCCEEDED: run SUCCEEDED and settled' },
      { label: 'read-schedule-state', what: 'finalize: does the overlap slot need a release?' },
      { label: 'release-overlap', what: 'release overlap, record the outcome (recovered?)' },
      { label: 'save-run', what: 'finalize: out of the active index, TTL' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0 },
  },
  'end-skip': {
    name: 'end-skip',
    summary: 'one task, overlap skip: the SUCCEEDED event that ends the run',
    build: (name) => definition(name, [task('main')], { overlap: 'skip' }),
    invocation: 'job-events:SUCCEEDED:main',
    steps: [
      { label: 'load-run', what: 'parse the event, read the run' },
      { label: 'save-run', what: 'apply SUCCEEDED: run SUCCEEDED and settled' },
      { label: 'release-overlap', what: 'release the overlap slot, record the outcome' },
      { label: 'save-run', what: 'finalize: out of the active index, TTL' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0 },
  },
  'retry-wait': {
    name: 'retry-wait',
    summary: 'one task failing its 1st attempt: the FAILED event that schedules the retry',
    build: (name) => definition(name, [task('main', FAILS_FIRST, { retry: retry(2, 60) })]),
    invocation: 'job-events:FAILED:main',
    steps: [
      { label: 'load-run', what: 'parse the event, read the run' },
      { label: 'schedule-retry', what: 'create the one-time retry schedule (before the state that implies it)' },
      { label: 'save-run', what: 'apply FAILED: task RETRY_WAIT with retryAt' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['FAILED', 'SUCCEEDED'] }, slack: 0 },
  },
  failure: {
    name: 'failure',
    summary: 'one task failing for good, overlap skip: the FAILED event (Slack)',
    build: (name) => definition(name, [task('main', 'exit 5')], { overlap: 'skip' }),
    invocation: 'job-events:FAILED:main',
    steps: [
      { label: 'load-run', what: 'parse the event, read the run' },
      { label: 'save-run', what: 'apply FAILED: run FAILED and settled, failure message owed (PENDING)' },
      { label: 'load-run', what: 'read the run to claim the message' },
      { label: 'save-run', what: 'claim the message (SENDING until now + 60 s)' },
      { label: 'notify-slack', what: 'post to Slack', slack: 2 },
      { label: 'load-run', what: 'read the run to record the message', slack: 2 },
      { label: 'save-run', what: 'record the message SENT' },
      { label: 'release-overlap', what: 'release the overlap slot, record the outcome' },
      { label: 'load-run', what: 'finalize: read the run (nothing left to claim)' },
      { label: 'save-run', what: 'finalize: out of the active index, TTL' },
    ],
    expect: { status: 'FAILED', attempts: { main: ['FAILED'] }, slack: 1 },
  },
};


/** The Slack messages a case owes: the step's own count when the fault follows it, else the scenario's. */
function slackDue(scenario: { steps: { slack?: number }[]; expect: { slack: number } }, step: number | undefined): number {
  return step !== undefined ? (scenario.steps[step - 1]!.slack ?? scenario.expect.slack) : scenario.expect.slack;
}

/** Exactly one Batch job per recorded attempt (each the one recorded), the Slack messages due, no retry left waiting. */
function assertOneJobPerAttempt(out: { jobNames: string[]; jobIds: string[]; slack: number; pendingRetries: number }, recorded: (string | undefined)[], slack: number): void {
  expect(out.jobNames.length, `jobs: ${out.jobNames.join(', ')}`).toBe(recorded.length);
  expect(new Set(out.jobNames).size).toBe(out.jobNames.length);
  expect([...out.jobIds].sort()).toEqual([...recorded].sort());
  expect(out.slack, 'Slack messages').toBe(slack);
  expect(out.pendingRetries, 'Lambda retries still waiting').toBe(0);
}

/** What a case ended with, for assertions. */
export interface CaseOutcome {
  run: RunItem | undefined;
  /** The schedule's earlier run, when the scenario has one (`expect.before`). */
  before?: RunItem | undefined;
  fired: boolean;
  jobNames: string[];
  jobIds: string[];
  slack: number;
  pendingRetries: number;
}

const SCHEDULED = '2025-03-01T00:00:00Z';

/** Runs `scenario` under schedule `schedule` with `fault` (or none, or several) and lets every repair happen. */
export async function runCase(
  h: CrashHarness,
  scenario: CrashScenario,
  schedule: string,
  fault: (Omit<Fault, 'schedule' | 'invocation' | 'label'> & { label?: string }) | Fault[] | undefined,
): Promise<CaseOutcome> {
  const { engine } = h;
  const def = scenario.build(schedule);
  const runId = `${schedule}.20250301T000000Z`;
  h.arm(
    Array.isArray(fault)
      ? fault
      : fault && { schedule, invocation: scenario.invocation, label: fault.label ?? scenario.steps[fault.step - 1]!.label, step: fault.step, kind: fault.kind },
  );
  try {
    engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED));
    const run = await h.settle(runId);
    const jobs = await engine.jobs(`${engine.deployment}_${schedule}-20250301T`);
    return {
      run,
      fired: h.fired,
      jobNames: jobs.map((j) => j.jobName!),
      jobIds: jobs.map((j) => j.jobId!),
      slack: engine.slack.messages.filter((m) => m.text.includes(runId)).length,
      pendingRetries: engine.stack.lambda.pendingRetries(),
    };
  } finally {
    h.arm(undefined);
  }
}

/**
 * Starts the engine stack (Lambda's real 60 s / 120 s retry delays, on the Clock) with the
 * harness installed; once per test file.
 */
export async function startCrashHarness(timeoutMs = 500): Promise<CrashHarness> {
  const { startEngineStack } = await import('#test/helpers/engine');
  const engine = await startEngineStack({ lambdaRetryDelaysMs: [60_000, 120_000] });
  const [f, j, r] = await Promise.all([import('#functions/fire'), import('#functions/job-events'), import('#functions/retry')]);
  return new CrashHarness(engine, { fire: f.createHandler, jobEvents: j.createHandler, retry: r.createHandler }, timeoutMs);
}

/** The assertions every case shares: the right end state, one job per attempt, nothing lost, the Slack messages due. */
export function assertRecovered(scenario: CrashScenario, step: number | undefined, out: CaseOutcome): void {
  const { run } = out;
  if (step !== undefined) expect(out.fired, 'the fault was injected').toBe(true);
  expect(run, 'the run exists').toBeDefined();
  expect(run!.status).toBe(scenario.expect.status);
  expect(run!.finalized, 'the run is finalized').toBe(true);
  const attempts = Object.fromEntries(Object.values(run!.tasks).map((t) => [t.name, t.attempts.map((a) => a.status)]));
  expect(attempts).toEqual(scenario.expect.attempts);
  const recorded = Object.values(run!.tasks).flatMap((t) => t.attempts.map((a) => a.jobId));
  if (scenario.expect.before) {
    const before = out.before;
    expect(before, 'the earlier run exists').toBeDefined();
    expect(before!.status, 'the earlier run\'s status').toBe(scenario.expect.before.status);
    expect(before!.finalized, 'the earlier run is finalized').toBe(true);
    expect(Object.fromEntries(Object.values(before!.tasks).map((t) => [t.name, t.attempts.map((a) => a.status)]))).toEqual(scenario.expect.before.attempts);
    recorded.push(...Object.values(before!.tasks).flatMap((t) => t.attempts.map((a) => a.jobId)));
  }
  // Exactly one Batch job per task attempt, each the one the run recorded.
  assertOneJobPerAttempt(out, recorded, slackDue(scenario, step));
}

/* ------------------------------------------------------------------ overlap and sweep scenarios (additive) */

/**
 * A two-run overlap scenario: run A (scheduled at 00:00) is fired first; its job ends in
 * Batch but its events are held back by the harness, so A is still active when run B
 * (01:00) fires. `faulted` names which invocation the fault targets: B's `fire` (the waiter
 * held, or the run that cancels A), A's job event that ends it (promoting B), a third fire
 * C (02:00) while A is active and B queued, or B's job event that ends it.
 * `a` changes how A stands when B fires: `running` (its job still running: parked), or
 * `settled` (A ran to its end first, so B follows it rather than overlaps it).
 */
export interface OverlapScenario {
  name: string;
  summary: string;
  build(schedule: string): ScheduleDefinition;
  /** The invocation faulted. */
  invocation: string;
  faulted: 'fire-b' | 'event-a' | 'fire-c' | 'event-b';
  a?: 'held' | 'running' | 'settled';
  steps: (Step & { /** A's end status when the fault follows this step, if not the scenario's. */ a?: RunStatus })[];
  expect: {
    a: { status: RunStatus; attempts: Record<string, AttemptStatus[]> };
    b: { status: RunStatus; attempts: Record<string, AttemptStatus[]> };
    /** The third fire's run, when the scenario has one. */
    c?: { status: RunStatus; attempts: Record<string, AttemptStatus[]> };
    /** How A's job(s) end in Batch (status, and the reason Batch gives), when it matters. */
    aJobs?: (runB: string) => { status: string; reason: string }[];
    slack: number;
  };
}

/** A task script for run A only (scheduled at 00:00); the other runs of the schedule run `otherwise`. */
function forRunA(script: string, otherwise = 'exit 0'): string {
  return `case "$BATCHRON_SCHEDULED_TIME" in *T00:00:00*) ${script};; *) ${otherwise};; esac`;
}

export const OVERLAP_SCENARIOS: Record<string, OverlapScenario> = {
  'queue-one-fire': {
    name: 'queue-one-fire',
    summary: 'queue-one, one task: `fire` of run B while run A is active (B is held QUEUED)',
    build: (name) => definition(name, [task('main')], { overlap: 'queue-one' }),
    invocation: 'fire',
    faulted: 'fire-b',
    steps: [
      { label: 'read-schedule-state', what: 'read the schedule state: A active, no waiter' },
      { label: 'put-definition', what: 'write B\'s definition item' },
      { label: 'create-run', what: 'create B QUEUED + held and SET queued = B (one transaction); nothing to submit' },
    ],
    expect: {
      a: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } },
      b: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } },
      slack: 0,
    },
  },
  'queue-one-promote': {
    name: 'queue-one-promote',
    summary: 'queue-one, one task, B held behind A: the SUCCEEDED event that ends A and promotes B',
    build: (name) => definition(name, [task('main')], { overlap: 'queue-one' }),
    invocation: 'job-events:SUCCEEDED:main',
    faulted: 'event-a',
    steps: [
      { label: 'load-run', what: 'parse the event, read A' },
      { label: 'save-run', what: 'apply SUCCEEDED: A SUCCEEDED and settled' },
      { label: 'release-overlap', what: 'release A\'s overlap slot, record the outcome' },
      { label: 'promote-queued', what: 'promoteQueued: B from queued to active (one conditional update)' },
      { label: 'load-run', what: 'read B to release it' },
      { label: 'save-run', what: 'release B (not held, task READY with this invocation\'s lease)' },
      RESERVE_SLOT,
      { label: 'submit-job', what: 'SubmitJob for B (the lease holder, no lookup)' },
      { label: 'save-run', what: 'record B\'s job id, over the state this invocation wrote: no read' },
      { label: 'save-run', what: 'finalize A: out of the active index, TTL' },
    ],
    expect: {
      a: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } },
      b: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } },
      slack: 0,
    },
  },
  'cancel-previous': {
    name: 'cancel-previous',
    summary: 'cancel-previous, one task: `fire` of run B while run A is active (A cancelled, its job terminated, B submitted)',
    build: (name) => definition(name, [task('main')], { overlap: 'cancel-previous' }),
    invocation: 'fire',
    faulted: 'fire-b',
    steps: [
      // Faulted before A's cancel is written, B's fire is retried a minute later; A's held
      // events are delivered first, so A's job (which had ended) wins: A SUCCEEDED, the cancel is a no-op.
      { label: 'read-schedule-state', what: 'read the schedule state: A active (its version)', a: 'SUCCEEDED' },
      { label: 'put-definition', what: 'write B\'s definition item', a: 'SUCCEEDED' },
      { label: 'create-run', what: 'create B with supersedes = [A], SET active = {B} on the version read (one transaction)', a: 'SUCCEEDED' },
      { ...RESERVE_SLOT, a: 'SUCCEEDED' },
      { label: 'submit-job', what: 'SubmitJob for B (the lease holder, no lookup)', a: 'SUCCEEDED' },
      { label: 'save-run', what: 'record B\'s job id, over the state this invocation wrote: no read', a: 'SUCCEEDED' },
      { label: 'load-run', what: 'cancelRunById: read A', a: 'SUCCEEDED' },
      { label: 'save-run', what: 'A CANCELLED (task CANCELLED with its live job id)' },
      { label: 'terminate-job', what: 'TerminateJob for A\'s job' },
      { label: 'release-overlap', what: 'finalize A: release (A no longer active), record the outcome' },
      { label: 'save-run', what: 'finalize A: out of the active index, TTL' },
    ],
    expect: {
      a: { status: 'CANCELLED', attempts: { main: ['SUCCEEDED'] } },
      b: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } },
      slack: 0,
    },
  },
  'queue-one-second-waiter': {
    name: 'queue-one-second-waiter',
    summary: 'queue-one, one task: `fire` of run C while A is active and B already queued (C is skipped)',
    build: (name) => definition(name, [task('main')], { overlap: 'queue-one' }),
    invocation: 'fire',
    faulted: 'fire-c',
    steps: [
      { label: 'read-schedule-state', what: 'read the schedule state: A active, B queued' },
      { label: 'put-definition', what: 'write C\'s definition item' },
      { label: 'create-run', what: 'create C SKIPPED (B is already queued), finalized at creation: a plain conditional put, no state change' },
    ],
    expect: {
      a: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } },
      b: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } },
      c: { status: 'SKIPPED', attempts: { main: [] } },
      slack: 0,
    },
  },
  'cancel-previous-running': {
    name: 'cancel-previous-running',
    summary: 'cancel-previous, one task: `fire` of run B while A\'s job is still RUNNING (A cancelled, its job terminated, B submitted)',
    build: (name) => definition(name, [task('main', forRunA(parkedScript(name)))], { overlap: 'cancel-previous' }),
    invocation: 'fire',
    faulted: 'fire-b',
    a: 'running',
    steps: [
      { label: 'read-schedule-state', what: 'read the schedule state: A active (its version)' },
      { label: 'put-definition', what: 'write B\'s definition item' },
      { label: 'create-run', what: 'create B with supersedes = [A], SET active = {B} on the version read (one transaction)' },
      RESERVE_SLOT,
      { label: 'submit-job', what: 'SubmitJob for B (the lease holder, no lookup)' },
      { label: 'save-run', what: 'record B\'s job id, over the state this invocation wrote: no read' },
      { label: 'load-run', what: 'cancelRunById: read A' },
      { label: 'save-run', what: 'A CANCELLED and settled (its task CANCELLED with its live job id)' },
      { label: 'terminate-job', what: 'TerminateJob for A\'s running job' },
      { label: 'release-overlap', what: 'finalize A: release (A no longer active), record the outcome' },
      { label: 'save-run', what: 'finalize A: out of the active index, TTL' },
    ],
    expect: {
      a: { status: 'CANCELLED', attempts: { main: ['FAILED'] } },
      b: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } },
      aJobs: (runB) => [{ status: 'FAILED', reason: `Batchron: cancelled by ${runB} (overlap: cancel-previous)` }],
      slack: 0,
    },
  },
  recovery: {
    name: 'recovery',
    summary: 'one task, overlap allow, notify.onRecovery: run A failed (Slack), then B succeeds: the SUCCEEDED event of B that sends "recovered"',
    build: (name) => definition(name, [task('main', forRunA('exit 5'))]),
    invocation: 'job-events:SUCCEEDED:main',
    faulted: 'event-b',
    a: 'settled',
    steps: [
      { label: 'load-run', what: 'parse the event, read B' },
      { label: 'read-schedule-state', what: 'may the end be written finalized inline? (no: the last outcome is FAILED)' },
      { label: 'save-run', what: 'apply SUCCEEDED: B SUCCEEDED and settled' },
      { label: 'read-schedule-state', what: 'finalize: does the overlap slot need a release? (the last outcome differs)' },
      { label: 'release-overlap', what: 'record the outcome SUCCEEDED; the previous one was FAILED: "recovered" is due' },
      { label: 'load-run', what: 'read B to claim the recovery message' },
      { label: 'save-run', what: 'claim it (notify.recovery SENDING until now + 60 s)' },
      { label: 'notify-slack', what: 'post "recovered" to Slack', slack: 3 },
      { label: 'load-run', what: 'read B to record the message', slack: 3 },
      { label: 'save-run', what: 'record it SENT and finalize B: out of the active index, TTL (one write)' },
    ],
    expect: {
      a: { status: 'FAILED', attempts: { main: ['FAILED'] } },
      b: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } },
      // A's failure message and B's "recovered".
      slack: 2,
    },
  },
};

/** What an overlap case ended with. */
export interface OverlapOutcome {
  a: RunItem | undefined;
  b: RunItem | undefined;
  c: RunItem | undefined;
  fired: boolean;
  jobNames: string[];
  jobIds: string[];
  slack: number;
  pendingRetries: number;
  /** Step lists of the faulted invocation's key, from the moment the fault was armed. */
  traces: string[][];
  /** Batch status and status reason of A's job(s) at the end. */
  aJobs: { status: string; reason: string }[];
}

const SCHEDULED_B = '2025-03-01T01:00:00Z';
const SCHEDULED_C = '2025-03-01T02:00:00Z';

/** Runs an overlap scenario under `schedule` with `fault` (or none) and lets every repair happen. */
export async function runOverlapCase(
  h: CrashHarness,
  scenario: OverlapScenario,
  schedule: string,
  fault: { step: number; kind: FaultKind } | undefined,
): Promise<OverlapOutcome> {
  const { engine } = h;
  const def = scenario.build(schedule);
  const runA = `${schedule}.20250301T000000Z`;
  const runB = `${schedule}.20250301T010000Z`;
  const runC = scenario.expect.c ? `${schedule}.20250301T020000Z` : undefined;
  const armed = fault && {
    schedule,
    invocation: scenario.invocation,
    label: scenario.steps[fault.step - 1]?.label ?? '(baseline)',
    step: fault.step,
    kind: fault.kind,
  };
  let from = h.traces.length;
  const arm = () => {
    from = h.traces.length;
    h.arm(armed);
  };
  if (scenario.a === 'running') h.park(schedule);
  try {
    // A starts; by default its job ends in Batch and its events are captured and held back.
    engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED));
    await h.quiet();
    // A's job still running: its RUNNING event is applied, so A is RUNNING when B fires.
    if (scenario.a === 'running') await h.deliverEvents();
    if (scenario.a === 'settled') await h.settle(runA);
    if (scenario.faulted === 'fire-b') arm();
    engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED_B));
    await h.quiet();
    if (scenario.faulted === 'fire-c') arm();
    if (runC) {
      engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED_C));
      await h.quiet();
      // Past C's Lambda retries while A is still active and B still queued (A's events held).
      engine.stack.clock.advance(121_000);
      await h.quiet();
    }
    if (scenario.faulted === 'event-a' || scenario.faulted === 'event-b') arm();
    await h.settle(runA);
    await h.settle(runB);
    if (runC) await h.settle(runC);
    const a = await h.settle(runA);
    const b = await engine.run(runB);
    const c = runC ? await engine.run(runC) : undefined;
    const jobs = await engine.jobs(`${engine.deployment}_${schedule}-20250301T`);
    const aJobs = jobs.filter((j) => j.jobName!.includes('-20250301T000000Z-'));
    const runs = [runA, runB, ...(runC ? [runC] : [])];
    return {
      a,
      b,
      c,
      fired: h.fired,
      jobNames: jobs.map((j) => j.jobName!),
      jobIds: jobs.map((j) => j.jobId!),
      slack: engine.slack.messages.filter((m) => runs.some((id) => m.text.includes(id))).length,
      pendingRetries: engine.stack.lambda.pendingRetries(),
      traces: h.traces.slice(from).filter((t) => t.schedule === schedule && t.invocation === scenario.invocation).map((t) => t.steps),
      aJobs: aJobs.map((j) => ({ status: j.status!, reason: j.statusReason ?? '' })),
    };
  } finally {
    h.arm(undefined);
    if (scenario.a === 'running') h.unpark(schedule);
  }
}

/** Every run in its expected end state, finalized, not held, one Batch job per attempt, nothing lost. */
export function assertOverlapRecovered(scenario: OverlapScenario, step: number | undefined, out: OverlapOutcome): void {
  if (step !== undefined) expect(out.fired, 'the fault was injected').toBe(true);
  const recorded: string[] = [];
  const runs = [['A', out.a, scenario.expect.a], ['B', out.b, scenario.expect.b], ...(scenario.expect.c ? [['C', out.c, scenario.expect.c] as const] : [])] as const;
  for (const [which, run, want] of runs) {
    const status = which === 'A' && step !== undefined ? (scenario.steps[step - 1]!.a ?? want.status) : want.status;
    expect(run, `run ${which} exists`).toBeDefined();
    expect(run!.status, `run ${which} status`).toBe(status);
    expect(run!.finalized, `run ${which} is finalized`).toBe(true);
    expect(run!.held ?? false, `run ${which} is not held`).toBe(false);
    const attempts = Object.fromEntries(Object.values(run!.tasks).map((t) => [t.name, t.attempts.map((a) => a.status)]));
    expect(attempts, `run ${which} attempts`).toEqual(want.attempts);
    recorded.push(...Object.values(run!.tasks).flatMap((t) => t.attempts.map((a) => a.jobId!)));
  }
  if (scenario.expect.aJobs) expect(out.aJobs, 'how A\'s job ended in Batch').toEqual(scenario.expect.aJobs(out.b!.runId));
  assertOneJobPerAttempt(out, recorded, slackDue(scenario, step));
}

/**
 * A sweep scenario: a run whose job events were all dropped by the bus, so only the sweeper
 * can move it on; the sweep invocation itself is faulted at one of its steps, then the next
 * rate fire (a second sweep) must complete the repair.
 */
export interface SweepScenario extends CrashScenario {
  /** How the run is brought to a state only the sweeper repairs (default: its job events dropped). */
  setup?: SweepSetup;
  /** What the second sweep must have achieved (before any further event or sweep). */
  repaired(run: RunItem): boolean;
  /** The first step faulted (default 1): earlier steps are the same calls as another scenario's, covered there. */
  faultFrom?: number;
  /** Steps not faulted: calls that leave the same state as a step faulted already (the middle active-index shards, reads before the first write). */
  skipSteps?: number[];
}

/**
 * What a sweep case does before the faulted sweep:
 *   events-dropped   the run's job events are all dropped by the bus;
 *   retry-lost       the task failed its first attempt and its one-time retry schedule is
 *                    gone; the clock is 5 minutes (the grace) past its retryAt;
 *   waiter-stranded  queue-one: B is held behind A; A's SUCCEEDED event died right after
 *                    promoting B, and its Lambda retry finalized A without seeing a waiter,
 *                    so B is active but still held (the run under test is B);
 *   stuck-running    the run's job is still running (parked) more than its
 *                    `stuckAfterMinutes.running`; it is released after the second sweep.
 */
type SweepSetup = 'events-dropped' | 'retry-lost' | 'waiter-stranded' | 'stuck-running';

/** One-minute stuck limit for RUNNING (the others as the default). */
const STUCK_AFTER_ONE_MINUTE: ScheduleDefinition['notify'] = { onFailure: true, onRecovery: true, stuckAfterMinutes: { queued: 30, submitted: 120, running: 1 } };

const QUERY_SHARDS: Step[] = Array.from({ length: 16 }, (_, i) => ({ label: 'query-index', what: `list active runs: shard ${i} of the active index` }));

export const SWEEP_SCENARIOS: Record<string, SweepScenario> = {
  'sweep-end': {
    name: 'sweep-end',
    summary: 'one task, overlap skip, its RUNNING and SUCCEEDED events dropped: the sweep that ends the run',
    build: (name) => definition(name, [task('main')], { overlap: 'skip' }),
    invocation: 'sweep',
    // Shards 1-14 make the same query as shards 0 and 15 (faulted), before any run is read;
    // faulting each would add 42 identical cases to a file kept under ~45 s.
    skipSteps: Array.from({ length: 14 }, (_, i) => i + 2),
    steps: [
      ...QUERY_SHARDS,
      { label: 'load-run', what: 'read the active run' },
      { label: 'describe-jobs', what: 'DescribeJobs of its live job: SUCCEEDED, unlike the run\'s SUBMITTED' },
      { label: 'load-run', what: 'applyJobFacts: read the run' },
      { label: 'save-run', what: 'apply SUCCEEDED (RUNNING skipped): run SUCCEEDED and settled' },
      { label: 'release-overlap', what: 'finalize: release the overlap slot, record the outcome' },
      { label: 'save-run', what: 'finalize: out of the active index, TTL' },
      { label: 'load-run', what: 'per-run pass: read the run again (finalized: nothing left)' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0 },
    repaired: (run) => run.status === 'SUCCEEDED' && run.finalized === true,
  },
  'sweep-successor': {
    name: 'sweep-successor',
    summary: 'a → b, a\'s RUNNING and SUCCEEDED events dropped: the sweep that applies a\'s end and submits b',
    build: (name) => definition(name, [task('a'), task('b', 'exit 0', { dependsOn: ['a'] })]),
    invocation: 'sweep',
    steps: [
      ...QUERY_SHARDS,
      { label: 'load-run', what: 'read the active run' },
      { label: 'describe-jobs', what: 'DescribeJobs of a\'s job: SUCCEEDED, unlike the run\'s SUBMITTED' },
      { label: 'load-run', what: 'applyJobFacts: read the run' },
      { label: 'save-run', what: 'apply SUCCEEDED to a; b READY with the sweep\'s lease (one write)' },
      RESERVE_SLOT,
      { label: 'submit-job', what: 'SubmitJob for b (the lease holder, no lookup)' },
      { label: 'save-run', what: 'record b\'s job id, over the state this invocation wrote: no read' },
      { label: 'load-run', what: 'per-run pass: read the run again (overdue retries?)' },
      { label: 'load-run', what: 'read the run (held?)' },
      { label: 'load-run', what: 'read the run to drive it (nothing owed)' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { a: ['SUCCEEDED'], b: ['SUCCEEDED'] }, slack: 0 },
    // Steps 1-16 (the active-index queries) are the calls sweep-end faults, before any run is read.
    faultFrom: 17,
    repaired: (run) => run.tasks.a!.status === 'SUCCEEDED' && run.tasks.b!.attempts.length === 1 && !!run.tasks.b!.attempts[0]!.jobId,
  },
  'sweep-retry': {
    name: 'sweep-retry',
    summary: 'one task failing its 1st attempt, 2 attempts, 60 s backoff, its retry schedule lost: the sweep that starts the overdue retry itself',
    build: (name) => definition(name, [task('main', FAILS_FIRST, { retry: retry(2, 60) })]),
    invocation: 'sweep',
    setup: 'retry-lost',
    // Steps 1-16 (the active-index queries) are the calls sweep-end faults, before any run is
    // read. Steps 18-19 are reads before the sweep's first write, like step 17: a fault after
    // any of them leaves the same state (nothing written), so only the first is faulted.
    faultFrom: 17,
    skipSteps: [18, 19],
    steps: [
      ...QUERY_SHARDS,
      { label: 'load-run', what: 'read the active run (no live job: nothing to describe)' },
      { label: 'load-run', what: 'per-run pass: read the run again: main RETRY_WAIT, 5 min past retryAt' },
      { label: 'load-run', what: '`resumeRetry`: read the run' },
      { label: 'save-run', what: 'claim attempt 2: task READY, attempt SUBMITTING with the sweep\'s lease' },
      RESERVE_SLOT,
      { label: 'submit-job', what: 'SubmitJob for attempt 2 (the lease holder, no lookup)' },
      { label: 'save-run', what: 'record the job id of attempt 2, over the state this invocation wrote: no read' },
      { label: 'load-run', what: 'read the run (held?)' },
      { label: 'load-run', what: 'read the run to drive it (nothing owed)' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['FAILED', 'SUCCEEDED'] }, slack: 0 },
    repaired: (run) => run.tasks.main!.attempts.length === 2 && !!run.tasks.main!.attempts[1]!.jobId,
  },
  'sweep-held': {
    name: 'sweep-held',
    summary: 'queue-one, B held behind A; A\'s end died right after promoting B and its retry finalized A: the sweep that releases B',
    build: (name) => definition(name, [task('main')], { overlap: 'queue-one' }),
    invocation: 'sweep',
    setup: 'waiter-stranded',
    // Steps 18-22 are reads before the first write, like step 17 (see sweep-retry).
    faultFrom: 17,
    skipSteps: [18, 19, 20, 21, 22],
    steps: [
      ...QUERY_SHARDS,
      { label: 'load-run', what: 'read the active run B (A is finalized: out of the index)' },
      { label: 'load-run', what: 'per-run pass: read B again (overdue retries?)' },
      { label: 'load-run', what: 'read B: held' },
      { label: 'read-schedule-state', what: 'is it B\'s turn? B is in the active set' },
      { label: 'read-schedule-state', what: '`startQueued`: the promotion is already done (its conditional update fails, no step); B active: start it' },
      { label: 'load-run', what: 'read B to release it' },
      { label: 'save-run', what: 'release B (not held; task READY with the sweep\'s lease)' },
      RESERVE_SLOT,
      { label: 'submit-job', what: 'SubmitJob for B (the lease holder, no lookup)' },
      { label: 'save-run', what: 'record B\'s job id, over the state this invocation wrote: no read' },
      { label: 'load-run', what: 'read B to drive it (nothing owed)' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0, before: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } } },
    repaired: (run) => !run.held && !!run.tasks.main!.attempts[0]?.jobId,
  },
  'sweep-stuck': {
    name: 'sweep-stuck',
    summary: 'one task still RUNNING past its 1-minute stuck limit: the sweep that sends the stuck alert',
    build: (name) => definition(name, [task('main', parkedScript(name))], { notify: STUCK_AFTER_ONE_MINUTE }),
    invocation: 'sweep',
    setup: 'stuck-running',
    // Steps 19-22 are reads before the first write, like step 17 (see sweep-retry).
    faultFrom: 17,
    skipSteps: [19, 20, 21, 22],
    steps: [
      ...QUERY_SHARDS,
      { label: 'load-run', what: 'read the active run' },
      { label: 'describe-jobs', what: 'DescribeJobs of its live job: RUNNING, as recorded (nothing to apply)' },
      { label: 'load-run', what: 'per-run pass: read the run again (overdue retries?)' },
      { label: 'load-run', what: 'read the run (held?)' },
      { label: 'load-run', what: 'read the run to drive it (nothing owed); RUNNING for more than 1 minute: stuck' },
      { label: 'load-run', what: 'read the run to claim the stuck alert' },
      { label: 'save-run', what: 'claim it (notify.stuck.RUNNING SENDING until now + 60 s)' },
      { label: 'notify-slack', what: 'post the stuck alert to Slack', slack: 2 },
      { label: 'load-run', what: 'read the run to record the alert', slack: 2 },
      { label: 'save-run', what: 'record it SENT' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 1 },
    repaired: (run) => run.notify.stuck?.RUNNING?.status === 'SENT',
  },
};

/** Brings the case's run to the state `setup` names (see SweepSetup); returns the run the sweep must repair. */
async function prepareSweep(h: CrashHarness, scenario: SweepScenario, def: ScheduleDefinition, schedule: string): Promise<string> {
  const { engine } = h;
  const runA = `${schedule}.20250301T000000Z`;
  engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED));
  await h.quiet();
  switch (scenario.setup ?? 'events-dropped') {
    case 'events-dropped':
      expect(h.dropEvents(), 'job events dropped').toBeGreaterThan(0);
      return runA;
    case 'retry-lost': {
      await h.deliverEvents();
      const main = (await engine.run(runA))!.tasks.main!;
      expect(main.status, 'the task waits for its retry').toBe('RETRY_WAIT');
      await engine.ts.clients.scheduler.send(
        new DeleteScheduleCommand({ Name: retryScheduleName(engine.deployment, runA, 'main', 2), GroupName: engine.deployment }),
      );
      engine.stack.clock.advance(Date.parse(main.retryAt!) + DEFAULTS.retryGraceMs + 1_000 - engine.stack.clock.now());
      await h.quiet();
      return runA;
    }
    case 'waiter-stranded': {
      const runB = `${schedule}.20250301T010000Z`;
      engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED_B));
      await h.quiet();
      const promote = OVERLAP_SCENARIOS['queue-one-promote']!.steps.findIndex((s) => s.label === 'promote-queued') + 1;
      h.arm({ schedule, invocation: 'job-events:SUCCEEDED:main', step: promote, label: 'promote-queued', kind: 'crash' });
      await h.deliverEvents();
      // Its Lambda retry finalizes A; B was promoted already, so nothing starts it.
      engine.stack.clock.advance(121_000);
      await h.quiet();
      expect(h.fired, 'A\'s end died after promoting B').toBe(true);
      h.arm(undefined);
      expect((await engine.run(runA))?.finalized, 'A is finalized').toBe(true);
      expect((await engine.run(runB))?.held, 'B is still held').toBe(true);
      return runB;
    }
    case 'stuck-running':
      await h.deliverEvents();
      expect((await engine.run(runA))?.status, 'the run is RUNNING').toBe('RUNNING');
      engine.stack.clock.advance(121_000);
      await h.quiet();
      return runA;
  }
}

/** Runs a sweep scenario: the run brought to its state (`setup`), the (faulted) sweep, a second sweep, then every repair. */
export async function runSweepCase(
  h: CrashHarness,
  sweepHandler: LocalHandler,
  scenario: SweepScenario,
  schedule: string,
  fault: { step: number; kind: FaultKind } | undefined,
): Promise<CaseOutcome & { traces: string[][]; afterSecondSweep: RunItem | undefined }> {
  const { engine } = h;
  const def = scenario.build(schedule);
  const runA = `${schedule}.20250301T000000Z`;
  h.arm(undefined);
  if (scenario.setup === 'stuck-running') h.park(schedule);
  try {
    const runId = await prepareSweep(h, scenario, def, schedule);
    const from = h.traces.length;
    h.arm(fault && { schedule, invocation: 'sweep', label: scenario.steps[fault.step - 1]!.label, step: fault.step, kind: fault.kind });
    h.invokeSweep(sweepHandler, schedule, fault?.kind === 'timeout' ? h.timeoutMs : 300_000);
    await h.quiet();
    // Past the faulted sweep's Lambda retries (if it counted an error) and any lease or claim it held.
    engine.stack.clock.advance(121_000);
    await h.quiet();
    const fired = h.fired;
    const traces = h.traces.slice(from).filter((t) => t.schedule === schedule && t.invocation === 'sweep').map((t) => t.steps);
    h.arm(undefined);
    // The next rate fire.
    h.invokeSweep(sweepHandler, schedule, 300_000);
    await h.quiet();
    const afterSecondSweep = await engine.run(runId);
    if (scenario.setup === 'stuck-running') h.unpark(schedule);
    const run = await h.settle(runId);
    const before = runId === runA ? undefined : await h.settle(runA);
    const jobs = await engine.jobs(`${engine.deployment}_${schedule}-20250301T`);
    return {
      run,
      before,
      fired,
      jobNames: jobs.map((j) => j.jobName!),
      jobIds: jobs.map((j) => j.jobId!),
      slack: engine.slack.messages.filter((m) => m.text.includes(runId) || m.text.includes(runA)).length,
      pendingRetries: engine.stack.lambda.pendingRetries(),
      traces,
      afterSecondSweep,
    };
  } finally {
    h.arm(undefined);
    if (scenario.setup === 'stuck-running') h.unpark(schedule);
  }
}

/* ------------------------------------------------------------------ the API's engine paths */

/**
 * An API scenario: `functions/api.ts` behind the local HTTP API, a request that starts or
 * cancels a run faulted after one of the engine steps it makes. The client sees a 5xx and
 * does what a client of an idempotent API does: it sends the same request again (the same
 * Idempotency-Key for a start). Then the normal repairs run, as for the other scenarios.
 */
export interface ApiScenario extends CrashScenario {
  invocation: 'api:start' | 'api:cancel';
  steps: (Step & { /** What the client's repeated request answers when the fault follows this step. */ again: number })[];
  /** What the request answers without a fault. */
  answer: number;
  /** How the run's job(s) end in Batch, when it matters (a cancel terminates it). */
  jobs?: { status: string; reason: string }[];
}

const API_KEY = 'crash-points-key';

export const API_SCENARIOS: Record<string, ApiScenario> = {
  'api-start': {
    name: 'api-start',
    summary: 'one task, overlap allow: POST /schedules/{name}/runs with an Idempotency-Key (startRun), retried by the client after a 5xx',
    build: (name) => definition(name, [task('main')]),
    invocation: 'api:start',
    answer: 201,
    steps: [
      { label: 'read-schedule-state', what: 'read the schedule state (pause flag, overlap set)', again: 201 },
      { label: 'put-definition', what: 'write the run definition item', again: 201 },
      { label: 'create-run', what: 'create the run (id from the key); the attempt READY with this request\'s lease', again: 200 },
      { ...RESERVE_SLOT, again: 200 },
      { label: 'submit-job', what: 'SubmitJob (the lease holder, no lookup)', again: 200 },
      { label: 'save-run', what: 'record the job id, over the state this request wrote: no read', again: 200 },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0 },
  },
  'api-cancel': {
    name: 'api-cancel',
    summary: 'one task, its job RUNNING: POST /runs/{id}/cancel (cancelRunById), retried by the client after a 5xx',
    build: (name) => definition(name, [task('main', parkedScript(name))]),
    invocation: 'api:cancel',
    answer: 200,
    steps: [
      { label: 'load-run', what: 'read the run', again: 200 },
      { label: 'save-run', what: 'run CANCELLED and settled (its task CANCELLED with its live job id)', again: 409 },
      { label: 'terminate-job', what: 'TerminateJob for the running job', again: 409 },
      { label: 'read-schedule-state', what: 'finalize: does the overlap slot need a release?', again: 409 },
      { label: 'release-overlap', what: 'release overlap, record the outcome', again: 409 },
      { label: 'save-run', what: 'finalize: out of the active index, TTL', again: 409 },
    ],
    expect: { status: 'CANCELLED', attempts: { main: ['FAILED'] }, slack: 0 },
    jobs: [{ status: 'FAILED', reason: 'Batchron: Cancelled through the API' }],
  },
};

/** What an API case ended with. */
export interface ApiOutcome extends CaseOutcome {
  /** The first request's answer, and the repeated one's when the first was a 5xx. */
  first: { status: number; body: any };
  again?: { status: number; body: any };
  /** Runs the schedule has, as GET /runs lists them. */
  listed: string[];
  traces: string[][];
  jobs: { status: string; reason: string }[];
}

/** Runs an API scenario under `schedule` with `fault` (or none): the request, the client's repeat after a 5xx, every repair. */
export async function runApiCase(
  h: CrashHarness,
  call: ApiClient,
  scenario: ApiScenario,
  schedule: string,
  fault: { step: number; kind: FaultKind } | undefined,
): Promise<ApiOutcome> {
  const { engine } = h;
  const def = scenario.build(schedule);
  h.arm(undefined);
  const cancel = scenario.invocation === 'api:cancel';
  if (cancel) h.park(schedule);
  try {
    let request: () => Promise<{ status: number; body: any }>;
    if (cancel) {
      // A scheduled run whose job is running.
      const runId = `${schedule}.20250301T000000Z`;
      engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED));
      await h.quiet();
      await h.deliverEvents();
      expect((await engine.run(runId))?.status, 'the run is RUNNING').toBe('RUNNING');
      request = () => call('POST', `/runs/${encodeURIComponent(runId)}/cancel`);
    } else {
      // The schedule as the registry holds it (disabled: only the API starts its runs here).
      await engine.ts.clients.scheduler.send(
        new CreateScheduleCommand({
          Name: schedule,
          GroupName: engine.deployment,
          ScheduleExpression: def.expression,
          FlexibleTimeWindow: { Mode: 'OFF' },
          State: 'DISABLED',
          Target: { Arn: engine.arns.fire, RoleArn: 'arn:aws:iam::000000000000:role/batchron-scheduler', Input: schedulerTargetInput(def) },
        }),
      );
      request = () => call('POST', `/schedules/${schedule}/runs`, {}, { 'idempotency-key': API_KEY });
    }
    const from = h.traces.length;
    h.arm(fault && { schedule, invocation: scenario.invocation, label: scenario.steps[fault.step - 1]!.label, step: fault.step, kind: fault.kind });
    const first = await request();
    const again = first.status >= 500 ? await request() : undefined;
    const fired = h.fired;
    const traces = h.traces.slice(from).filter((t) => t.schedule === schedule && t.invocation === scenario.invocation).map((t) => t.steps);
    h.arm(undefined);
    const runId = cancel ? `${schedule}.20250301T000000Z` : runIdFor({ schedule, scheduledTime: '' }, API_KEY);
    const run = await h.settle(runId);
    const listed = (await call('GET', `/runs?schedule=${schedule}`)).body.runs.map((r: { runId: string }) => r.runId);
    const jobs = await engine.jobs(`${engine.deployment}_${schedule}-`);
    return {
      run,
      first,
      again,
      listed,
      fired,
      traces,
      jobNames: jobs.map((j) => j.jobName!),
      jobIds: jobs.map((j) => j.jobId!),
      jobs: jobs.map((j) => ({ status: j.status!, reason: j.statusReason ?? '' })),
      slack: engine.slack.messages.filter((m) => m.text.includes(runId)).length,
      pendingRetries: engine.stack.lambda.pendingRetries(),
    };
  } finally {
    h.arm(undefined);
    if (cancel) h.unpark(schedule);
  }
}

/** What the client saw, and the run in its end state with one job per attempt and nothing lost. */
export function assertApiRecovered(scenario: ApiScenario, step: number | undefined, out: ApiOutcome): void {
  if (step === undefined) {
    expect(out.first.status, JSON.stringify(out.first.body)).toBe(scenario.answer);
  } else {
    expect(out.first.status, 'the faulted request answers a 5xx').toBe(500);
    expect(out.again?.status, `the repeated request: ${JSON.stringify(out.again?.body)}`).toBe(scenario.steps[step - 1]!.again);
  }
  const last = out.again ?? out.first;
  if (last.status === 409) expect(last.body.error.message).toContain('already finished (CANCELLED');
  else expect(last.body.runId).toBe(out.run?.runId);
  // The repeated request made no second run.
  expect(out.listed, 'runs of the schedule').toEqual([out.run?.runId]);
  if (scenario.jobs) expect(out.jobs, 'how the job ended in Batch').toEqual(scenario.jobs);
  assertRecovered(scenario, step, out);
}

/* ------------------------------------------------------------------ two faults in one run */

/**
 * Two faults in one run: a fixed first fault (a crash at the most telling step of one
 * invocation), then a second fault after each step of a second invocation, the one that
 * must repair or continue what the first left. `second.nth` picks which invocation of its
 * key (2: Lambda's retry of the first faulted invocation). The run shape and its end are
 * those of a scenario of SCENARIOS (`base`).
 */
export interface TwoFaultScenario {
  name: string;
  summary: string;
  base: string;
  first: Omit<Fault, 'schedule'> & { nth: number };
  /** `faultTo`: the last step faulted; after it the state is one a single-fault case of `base` reaches too. */
  second: { invocation: string; nth: number; steps: Step[]; faultTo?: number };
  /** Slack messages due when the second fault follows no Slack post, if not the base scenario's. */
  slack?: number;
}

/** The step number of the first `label` in a scenario of SCENARIOS (so a first fault follows its table). */
function stepOf(scenario: string, label: string): number {
  return SCENARIOS[scenario]!.steps.findIndex((s) => s.label === label) + 1;
}

export const TWO_FAULT_SCENARIOS: Record<string, TwoFaultScenario> = {
  'fire-then-end': {
    name: 'fire-then-end',
    summary: '`fire` dies right after SubmitJob (the job id never recorded), then the SUCCEEDED event that ends the run is faulted',
    base: 'end-skip',
    first: { invocation: 'fire', step: stepOf('fire', 'submit-job'), label: 'submit-job', kind: 'crash', nth: 1 },
    second: {
      invocation: 'job-events:SUCCEEDED:main',
      nth: 1,
      steps: [
        { label: 'load-run', what: 'parse the event, read the run (the job adopted from the RUNNING event\'s tags)' },
        { label: 'save-run', what: 'apply SUCCEEDED: run SUCCEEDED and settled' },
        { label: 'release-overlap', what: 'release the overlap slot, record the outcome' },
        { label: 'save-run', what: 'finalize: out of the active index, TTL' },
      ],
    },
  },
  'successor-twice': {
    name: 'successor-twice',
    summary: 'a → b: the SUCCEEDED event of a dies right after making b READY under its lease, then Lambda\'s retry of it (same request id, so the same lease) is faulted',
    base: 'successor',
    first: { invocation: 'job-events:SUCCEEDED:a', step: stepOf('successor', 'save-run'), label: 'save-run', kind: 'crash', nth: 1 },
    second: {
      invocation: 'job-events:SUCCEEDED:a',
      nth: 2,
      steps: [
        { label: 'load-run', what: 'parse the event, read the run: a already SUCCEEDED (nothing to apply), b READY under this request id\'s lease' },
        { label: 'load-run', what: 'not a fresh claim: take over the lease; read the run' },
        { label: 'save-run', what: 'renew b\'s lease' },
        { label: 'find-job', what: 'ListJobs by b\'s job name: none' },
        RESERVE_SLOT,
        { label: 'submit-job', what: 'SubmitJob for b' },
        { label: 'load-run', what: 'read the run to record b\'s job id' },
        { label: 'save-run', what: 'record b\'s job id' },
      ],
    },
  },
  'failure-twice': {
    name: 'failure-twice',
    summary: 'one task failing for good, overlap skip: the FAILED event dies right after posting to Slack, then Lambda\'s retry of it (which posts again) is faulted',
    base: 'failure',
    first: { invocation: 'job-events:FAILED:main', step: stepOf('failure', 'notify-slack'), label: 'notify-slack', kind: 'crash', nth: 1 },
    second: {
      invocation: 'job-events:FAILED:main',
      nth: 2,
      steps: [
        { label: 'load-run', what: 'parse the event, read the run: FAILED already applied, the message SENDING (claim expired)' },
        { label: 'load-run', what: 'read the run to claim the message' },
        { label: 'save-run', what: 'claim it again (SENDING until now + 60 s)' },
        { label: 'notify-slack', what: 'post to Slack (the 2nd message)', slack: 3 },
        { label: 'load-run', what: 'read the run to record the message', slack: 3 },
        { label: 'save-run', what: 'record the message SENT' },
        { label: 'release-overlap', what: 'release the overlap slot, record the outcome' },
        { label: 'load-run', what: 'finalize: read the run (nothing left to claim)' },
        { label: 'save-run', what: 'finalize: out of the active index, TTL' },
      ],
      // Once SENT is recorded (step 6) the run is where `failure` is after its step 7; the
      // release and finalization that follow are faulted there.
      faultTo: 6,
    },
    // The first crash came between posting and recording: the message goes out twice.
    slack: 2,
  },
};

/** A two-fault scenario seen as the single-fault scenario of its second invocation (for runCase and assertRecovered). */
function secondFaultScenario(s: TwoFaultScenario): CrashScenario {
  const base = SCENARIOS[s.base]!;
  return { ...base, invocation: s.second.invocation, steps: s.second.steps, expect: { ...base.expect, slack: s.slack ?? base.expect.slack } };
}

/** Runs a two-fault scenario: its first fault, and the second after step `second.step` (none: the baseline). */
export async function runTwoFaultCase(
  h: CrashHarness,
  scenario: TwoFaultScenario,
  schedule: string,
  second: { step: number; kind: FaultKind } | undefined,
): Promise<CaseOutcome & { traces: string[][] }> {
  const base = SCENARIOS[scenario.base]!;
  const faults: Fault[] = [{ ...scenario.first, schedule }];
  if (second) {
    const { invocation, nth, steps } = scenario.second;
    faults.push({ schedule, invocation, nth, step: second.step, label: steps[second.step - 1]!.label, kind: second.kind });
  }
  const from = h.traces.length;
  const out = await runCase(h, base, schedule, faults);
  const traces = h.traces.slice(from).filter((t) => t.schedule === schedule && t.invocation === scenario.second.invocation).map((t) => t.steps);
  return { ...out, traces };
}

