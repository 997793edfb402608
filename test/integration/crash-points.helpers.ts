/**
 * The crash-point world end to end (crash-points-e2e.test.ts): the same `World` the tables'
 * runners drive in process (test/helpers/crash-points.ts), here the real functions/*.ts
 * handlers on the local stack (local Lambda with its timeouts and async retries, local Batch
 * running each job as a process, local Scheduler, the event bus), DynamoDB Local and a Slack
 * capture server. Every port call an invocation makes is a step labelled by port and method,
 * as in process (`wrapPorts`, `Faults` of test/helpers/crash-world.ts), plus one step only the
 * DynamoDB store has: `put-definition`, the definition item written before the conditional
 * create of the first run of a definition (`onDynamo`).
 *
 * Job state-change events are not routed to job-events by the bus: the world captures them
 * and delivers each once, in order, as an async invoke (so Lambda's async retries apply).
 * That keeps every invocation's step sequence deterministic, so "after step i of the
 * SUCCEEDED event of task a" names one exact moment. A timed-out invocation is frozen: the
 * local Lambda abandons its promise, and its ports never act again (as a killed sandbox).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListJobsCommand, type JobStatus } from '@aws-sdk/client-batch';
import { CreateScheduleCommand, DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { defaultDeps, type DepsFor, type EngineDeps } from '#shared/engine/deps';
import { readEnv } from '#shared/env';
import { schedulerTargetInput } from '#shared/config/validate';
import { sweep } from '#shared/engine/sweep';
import { dynamoStore } from '#shared/store/dynamo';
import { documentClient } from '#shared/clients/dynamodb';
import type { RunItem } from '#shared/store/schema';
import type { ScheduleDefinition } from '#shared/config/definition';
import type { EventBridgeEvent } from '#local/contracts';
import type { HttpApi } from '#local/http-api';
import type { LocalHandler } from '#local/lambda';
import type { EngineStack } from '#test/helpers/engine';
import { Faults, HeldEvents, invocationKey, settleRun, wrapPorts, type Fault, type Liveness, type StepFn, type Trace } from '#test/helpers/crash-world';
import { PARKED, type JobSeen, type Step, type World } from '#test/helpers/crash-points';

/* ------------------------------------------------------------------ the DynamoDB-only step */

/**
 * The one step only the DynamoDB store makes: `store.createRunWithState` and `store.putNewRun`
 * make sure the run's definition item (`DEF#<hash>`, shared/store/definitions.ts) exists
 * before they create the run, and write it when it does not: on the first run of a definition
 * version. A fault between that put and the create is a state the in-memory store has not.
 * Everything about it is here and in the `PUT_DEFINITION` cases of crash-points-e2e.test.ts.
 *
 * Only the first run of a schedule's definition in a case writes it: a scenario whose faulted
 * invocation creates a later run (every overlap scenario: run A came first) has no such step;
 * its creates find the definition known (no request) and the traces show none.
 */
const PUT_DEFINITION = 'put-definition';
const CREATES = ['store.createRunWithState', 'store.putNewRun'];

/** Whether a document-client command is the definition put. */
function isDefinitionPut(command: { constructor: { name: string }; input: Record<string, any> }): boolean {
  return command.constructor.name === 'PutCommand' && command.input.Item?.sk === 'DEF';
}

/**
 * A scenario's steps as the DynamoDB store makes them: `put-definition` before its first run
 * creation when that run is the first of its schedule (`firstRun`) (what holds after it is
 * what held after the step before: the definition item alone is no run).
 */
export function onDynamo<S extends { steps: Step[] }>(scenario: S, firstRun = true): S {
  const first = firstRun ? scenario.steps.findIndex((s) => CREATES.includes(s.label)) : -1;
  const steps = scenario.steps.flatMap((s, i) =>
    i === first ? [{ ...scenario.steps[i - 1]!, label: PUT_DEFINITION, what: 'write the definition item (first run of this definition)' }, s] : [s],
  );
  return { ...scenario, steps };
}

/** A step number of a scenario's table as the DynamoDB store numbers it (`onDynamo`). */
export function dynamoStep(scenario: { steps: Step[] }, step: number, firstRun = true): number {
  const first = scenario.steps.findIndex((s) => CREATES.includes(s.label));
  return step + (firstRun && first >= 0 && first < step ? 1 : 0);
}

/** The steps of `scenario` that are the definition put, as the DynamoDB store numbers them. */
export function definitionPuts(scenario: { steps: Step[] }, firstRun = true): number[] {
  return onDynamo(scenario, firstRun).steps.flatMap((s, i) => (s.label === PUT_DEFINITION ? [i + 1] : []));
}

/* ------------------------------------------------------------------ the world */

/** The functions the world registers in the local Lambda. */
type StackFn = 'fire' | 'jobEvents' | 'retry' | 'sweep' | 'api';

const DEFAULT_TIMEOUT_MS: Record<StackFn, number> = { fire: 60_000, jobEvents: 60_000, retry: 60_000, sweep: 300_000, api: 30_000 };

/** Batch statuses of a job not over yet. */
const NOT_OVER: JobStatus[] = ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'];

function keyFunction(invocation: string): StackFn {
  if (invocation.startsWith('job-events')) return 'jobEvents';
  if (invocation.startsWith('api:')) return 'api';
  if (invocation === 'sweep') return 'sweep';
  return invocation.startsWith('retry') ? 'retry' : 'fire';
}

/** The crash-point `World` on the local stack and DynamoDB Local; one per test file. */
export class StackWorld implements World {
  private readonly faults = new Faults();
  readonly traces: Trace[] = this.faults.traces;
  readonly deployment: string;
  private readonly keyOf = new Map<string, { schedule: string; invocation: string }>();
  /** Attempts per request id (Lambda's async retries keep the id), and each attempt's liveness. */
  private readonly attempts = new Map<string, number>();
  private readonly liveness = new Map<string, Liveness>();
  private readonly unsubscribe: () => void;
  private readonly events = new HeldEvents<EventBridgeEvent>({ deliver: (event) => this.engine.stack.lambda.accept(this.engine.arns.jobEvents, event), quiet: () => this.quiet() });
  private readonly handlers: Partial<Record<StackFn, LocalHandler>>;
  private readonly names: Record<StackFn, string>;
  /** Schedules whose jobs may stay RUNNING while the world waits for quiet (parked until released). */
  private readonly parked = new Set<string>();
  /** Where parked jobs look for their release file (one per schedule). */
  private readonly parkDir = mkdtempSync(join(tmpdir(), 'batchron-crash-park-'));
  private api: HttpApi | undefined;
  /** The schedule of the case whose sweeps run now. */
  private sweepFor = '';
  /** What the real handlers build their deps with: the production wiring (no schedule registry, as in process), every port wrapped. */
  private readonly depsFor: DepsFor = (context) => {
    const { registry: _registry, ...production } = this.engine.lambdaDeps(context);
    return this.wrap(production);
  };

  constructor(
    readonly engine: EngineStack,
    factories: Record<'fire' | 'jobEvents' | 'retry' | 'sweep', (depsFor: DepsFor) => LocalHandler>,
    /** The timeout of a function a `timeout` fault targets. */
    readonly timeoutMs: number,
  ) {
    this.deployment = engine.deployment;
    this.handlers = {
      fire: factories.fire(this.depsFor),
      jobEvents: factories.jobEvents(this.depsFor),
      retry: factories.retry(this.depsFor),
      sweep: factories.sweep(this.depsFor),
    };
    const d = engine.deployment;
    this.names = { fire: `${d}-fire`, jobEvents: `${d}-job-events`, retry: `${d}-retry`, sweep: `${d}-sweep`, api: `${d}-api` };
    for (const fn of ['fire', 'jobEvents', 'retry', 'sweep'] as const) this.registerFn(fn, DEFAULT_TIMEOUT_MS[fn]);
    // Events go to a capture function; the world delivers them one at a time.
    const capture = engine.stack.lambda.register(`${d}-capture`, async (event: EventBridgeEvent) => {
      this.events.captured.push(event);
    });
    const rule = engine.stack.bus.rules().find((r) => r.name === `${d}-job-events`)!;
    engine.stack.bus.putRule({ ...rule, targets: [{ id: 'capture', arn: capture }] });
    // On AWS a timed-out sandbox is frozen or killed; the local Lambda abandons the promise
    // instead, so the world freezes that attempt's ports: it can never act afterwards.
    this.unsubscribe = engine.stack.lambda.onInvoke((record) => {
      if (record.error?.startsWith('Sandbox.Timedout')) {
        const live = this.liveness.get(`${record.requestId}#${record.attempt}`);
        if (live) live.state = 'frozen';
      }
    });
  }

  /** Starts the engine stack (Lambda's real 60 s / 120 s retry delays, on the Clock) with the world installed. */
  static async start(timeoutMs = 500): Promise<StackWorld> {
    const { startEngineStack } = await import('#test/helpers/engine');
    const engine = await startEngineStack({ lambdaRetryDelaysMs: [60_000, 120_000] });
    const [f, j, r, s] = await Promise.all([import('#functions/fire'), import('#functions/job-events'), import('#functions/retry'), import('#functions/sweep')]);
    return new StackWorld(engine, { fire: f.createHandler, jobEvents: j.createHandler, retry: r.createHandler, sweep: s.createHandler }, timeoutMs);
  }

  /** Stops what the world added to the stack (the HTTP API, parked jobs' folder), removes the hook, stops the stack. */
  async dispose(): Promise<void> {
    this.unsubscribe();
    await this.api?.close();
    rmSync(this.parkDir, { recursive: true, force: true });
    await this.engine.stop();
  }

  /* ---------------------------------------------------------------- faults and steps */

  /** Sets the fault(s) of what follows (undefined: none); a function a `timeout` targets gets the short timeout. */
  arm(fault: Fault | Fault[] | undefined): void {
    this.faults.arm(fault);
    for (const fn of Object.keys(this.handlers) as StackFn[]) this.registerFn(fn, this.timeoutOf(fn));
  }

  get fired(): boolean {
    return this.faults.fired;
  }

  private timeoutOf(fn: StackFn): number {
    return this.faults.armed.some((f) => f.kind === 'timeout' && keyFunction(f.invocation) === fn) ? this.timeoutMs : DEFAULT_TIMEOUT_MS[fn];
  }

  private registerFn(fn: StackFn, timeoutMs: number): void {
    const real = this.handlers[fn]!;
    this.engine.stack.lambda.register(
      this.names[fn],
      (event: any, context: Context) => {
        // A sweep is keyed by the schedule of the case that invoked it (`invokeSweep`).
        this.keyOf.set(context.awsRequestId, fn === 'sweep' ? { schedule: this.sweepFor, invocation: 'sweep' } : invocationKey(fn, event));
        this.attempts.set(context.awsRequestId, (this.attempts.get(context.awsRequestId) ?? 0) + 1);
        return real(event, context);
      },
      { timeoutMs },
    );
  }

  /** Every port labelled by method; the store over the functions' own document client, its definition put a step of its own. */
  private wrap(deps: EngineDeps): EngineDeps {
    const key = this.keyOf.get(deps.owner) ?? { schedule: '', invocation: 'unknown' };
    const live: Liveness = { state: 'alive' };
    this.liveness.set(`${deps.owner}#${this.attempts.get(deps.owner) ?? 1}`, live);
    const step: StepFn = this.faults.invocation(key, deps.owner, live);
    const send = documentClient.send.bind(documentClient) as (command: any, ...rest: any[]) => Promise<unknown>;
    const doc = { send: (command: any, ...rest: any[]) => (isDefinitionPut(command) ? step(PUT_DEFINITION, () => send(command, ...rest)) : send(command, ...rest)) };
    return wrapPorts({ ...deps, store: dynamoStore({ doc: doc as unknown as DynamoDBDocumentClient, table: this.engine.table }) }, step);
  }

  /* ---------------------------------------------------------------- Lambda, Scheduler, the API */

  get now(): number {
    return this.engine.stack.clock.now();
  }

  advance(ms: number): void {
    this.engine.stack.clock.advance(ms);
  }

  get slack(): readonly { text: string }[] {
    return this.engine.slack.messages;
  }

  accept(fn: 'fire', payload: unknown): void {
    this.engine.stack.lambda.accept(this.engine.arns[fn], payload);
  }

  pendingRetries(): number {
    return this.engine.stack.lambda.pendingRetries();
  }

  /** Invokes the real sweep function asynchronously (as its rate schedule does), keyed `sweep` for `schedule`. */
  invokeSweep(schedule: string): void {
    this.sweepFor = schedule;
    this.engine.stack.lambda.accept(this.names.sweep, { source: 'aws.scheduler', 'detail-type': 'Scheduled Event', detail: {} });
  }

  sweepOnce(owner: string): Promise<unknown> {
    return sweep(this.engine.deps(owner));
  }

  async deleteSchedule(name: string): Promise<boolean> {
    await this.engine.ts.clients.scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: this.deployment }));
    return true;
  }

  async register(def: ScheduleDefinition): Promise<void> {
    await this.engine.ts.clients.scheduler.send(
      new CreateScheduleCommand({
        Name: def.name,
        GroupName: this.deployment,
        ScheduleExpression: def.expression,
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'DISABLED',
        Target: { Arn: this.engine.arns.fire, RoleArn: 'arn:aws:iam::000000000000:role/batchron-scheduler', Input: schedulerTargetInput(def) },
      }),
    );
  }

  /**
   * A request over HTTP to `functions/api.ts` in the local Lambda behind the local HTTP API
   * (as api.test.ts serves it); its invocations are keyed from the path (`api:start`,
   * `api:cancel`), so `key` is not needed here.
   */
  async request(_key: { schedule: string; invocation: string }, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
    if (!this.api) {
      const api = await import('#functions/api');
      const { runtime } = this.engine;
      this.handlers.api = api.createHandler((context) => this.wrap(defaultDeps(readEnv(runtime.env), context.awsRequestId, { now: runtime.now })), api.productionParts(runtime), runtime);
      this.registerFn('api', this.timeoutOf('api'));
      const { startHttpApi } = await import('#local/http-api');
      this.api = await startHttpApi({
        port: 0,
        token: 'crash-points',
        lambda: this.engine.stack.lambda,
        now: () => this.now,
        routes: [{ method: 'ANY', path: '/{proxy+}', functionName: this.names.api }],
      });
    }
    const res = await fetch(`${this.api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.api.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /* ---------------------------------------------------------------- Batch */

  /** The definition with a parked task's script made real: it runs until the world `unpark`s its schedule, then exits 0. */
  definition(def: ScheduleDefinition): ScheduleDefinition {
    const release = `while [ ! -e '${join(this.parkDir, def.name)}' ]; do sleep 0.1; done`;
    return { ...def, tasks: def.tasks.map((t) => ({ ...t, command: t.command?.map((c) => c.replaceAll(PARKED, release)) })) };
  }

  park(schedule: string): void {
    this.parked.add(schedule);
  }

  unpark(schedule: string): void {
    writeFileSync(join(this.parkDir, schedule), '');
    this.parked.delete(schedule);
  }

  async jobsOf(schedule: string, runId?: string): Promise<JobSeen[]> {
    const jobs = await this.engine.jobs(`${this.deployment}_${schedule}-`);
    return jobs
      .filter((j) => runId === undefined || j.jobName!.includes(`-${runId.split('.')[1]}-`))
      .map((j) => ({ jobId: j.jobId!, jobName: j.jobName!, status: j.status!, reason: j.statusReason ?? '' }));
  }

  /* ---------------------------------------------------------------- events and settling */

  run(runId: string): Promise<RunItem | undefined> {
    return this.engine.run(runId);
  }

  /** Drops the captured job events not yet delivered (events the bus lost); returns how many. */
  dropEvents(): number {
    return this.events.drop();
  }

  /** Delivers captured job events not yet delivered, one at a time; false when there were none. */
  deliverEvents(): Promise<boolean> {
    return this.events.deliver();
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
    const prefixes = [...this.parked].map((s) => `${this.deployment}_${s}-`);
    return lists.flatMap((l) => l.jobSummaryList ?? []).every((j) => j.status === 'RUNNING' && prefixes.some((p) => j.jobName!.startsWith(p)));
  }

  settle(runId: string): Promise<RunItem | undefined> {
    return settleRun(this, runId);
  }
}
