/**
 * Crash-point harness: the real functions/*.ts handlers on the local stack, with every port
 * call they make (DynamoDB, Batch, Scheduler, Slack) labelled as a step through the
 * engine's deps seam (`setDepsHook`), and one fault injected right after a chosen step of a
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
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { setDepsHook, type EngineDeps } from '#shared/engine/deps';
import { sweep } from '#shared/engine/sweep';
import { TAGS } from '#shared/engine/submit';
import type { AttemptStatus, RunItem, RunStatus } from '#shared/store/schema';
import type { ScheduleDefinition } from '#shared/config/definition';
import type { EventBridgeEvent } from '#local/contracts';
import type { LocalHandler } from '#local/lambda';
import { definition, fire, retry, task, type EngineStack } from '#test/helpers/engine';

export type FaultKind = 'crash' | 'exception' | 'timeout';

/** One injected fault: after step `step` (1-based) of the first invocation whose key is `invocation`. */
export interface Fault {
  schedule: string;
  invocation: string;
  step: number;
  /** The label the step must have (guards the table against code changes). */
  label: string;
  kind: FaultKind;
}

/** Thrown by the harness when a simulated process dies. */
export class ProcessDied extends Error {
  constructor(label: string) {
    super(`simulated process death after ${label}`);
    this.name = 'ProcessDied';
  }
}

/** A transient server-side error of the kind the SDK raises when a response is lost. */
function lostResponse(label: string): Error {
  const error = new Error(`injected: the response of ${label} was lost`) as Error & { $fault: string; $metadata: object };
  error.name = 'InternalServerError';
  error.$fault = 'server';
  error.$metadata = { httpStatusCode: 500 };
  return error;
}

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

/** What one invocation attempt did, step by step. */
export interface Trace {
  schedule: string;
  invocation: string;
  owner: string;
  steps: string[];
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
  private fault: (Fault & { fired: boolean }) | undefined;
  private readonly captured: EventBridgeEvent[] = [];
  private delivered = 0;
  private readonly restore: () => void;
  private readonly realHandlers: Record<'fire' | 'jobEvents' | 'retry', LocalHandler>;
  private readonly names: Record<'fire' | 'jobEvents' | 'retry', string>;

  constructor(
    readonly engine: EngineStack,
    handlers: Record<'fire' | 'jobEvents' | 'retry', LocalHandler>,
    readonly timeoutMs: number,
  ) {
    this.realHandlers = handlers;
    const d = engine.deployment;
    this.names = { fire: `${d}-fire`, jobEvents: `${d}-job-events`, retry: `${d}-retry` };
    for (const fn of ['fire', 'jobEvents', 'retry'] as const) this.register(fn, 60_000);
    // Events go to a capture function; the harness delivers them one at a time.
    const capture = engine.stack.lambda.register(`${d}-capture`, async (event: EventBridgeEvent) => {
      this.captured.push(event);
    });
    const rule = engine.stack.bus.rules().find((r) => r.name === `${d}-job-events`)!;
    engine.stack.bus.putRule({ ...rule, targets: [{ id: 'capture', arn: capture }] });
    this.restore = setDepsHook((deps) => this.wrap(deps));
    // On AWS a timed-out sandbox is frozen or killed; the local Lambda abandons the promise
    // instead, so the harness freezes that attempt's ports: it can never act afterwards.
    this.unsubscribe = engine.stack.lambda.onInvoke((record) => {
      if (record.error?.startsWith('Sandbox.Timedout')) {
        const live = this.liveness.get(`${record.requestId}#${record.attempt}`);
        if (live) live.state = 'frozen';
      }
    });
  }

  dispose(): void {
    this.unsubscribe();
    this.restore();
  }

  /** Sets the fault of the next case (undefined: none); the functions get their timeouts. */
  arm(fault: Fault | undefined): void {
    this.fault = fault && { ...fault, fired: false };
    for (const fn of ['fire', 'jobEvents', 'retry'] as const) {
      const target = fault?.kind === 'timeout' && keyFunction(fault.invocation) === fn;
      this.register(fn, target ? this.timeoutMs : 60_000);
    }
  }

  /** Whether the armed fault was injected. */
  get fired(): boolean {
    return this.fault?.fired ?? false;
  }

  private register(fn: 'fire' | 'jobEvents' | 'retry', timeoutMs: number): void {
    const real = this.realHandlers[fn];
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
      const f = this.fault;
      if (f && !f.fired && f.schedule === schedule && f.invocation === invocation && f.step === trace.steps.length) {
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
    const realDoc = deps.store.doc;
    const doc = { send: (command: any, ...rest: any[]) => step(labelOf(command), () => (realDoc.send as any)(command, ...rest)) };
    const b = deps.batch;
    return {
      ...deps,
      store: { ...deps.store, doc: doc as unknown as DynamoDBDocumentClient },
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

  /** Waits until Batch has no job in flight and the bus and Lambda are quiet (Lambda retries on the Clock excepted). */
  async quiet(): Promise<void> {
    const { stack } = this.engine;
    for (;;) {
      await stack.idle();
      if (stack.batch.idle()) {
        await stack.idle();
        if (stack.batch.idle()) return;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
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

function keyFunction(invocation: string): 'fire' | 'jobEvents' | 'retry' {
  if (invocation.startsWith('job-events')) return 'jobEvents';
  return invocation.startsWith('retry') ? 'retry' : 'fire';
}

function invocationKey(fn: 'fire' | 'jobEvents' | 'retry', event: any): { schedule: string; invocation: string } {
  if (fn === 'fire') return { schedule: String(event?.schedule), invocation: 'fire' };
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
  expect: { status: RunStatus; attempts: Record<string, AttemptStatus[]>; slack: number };
}

const FAILS_FIRST = '[ "$BATCHRON_ATTEMPT" -ge 2 ] || exit 3';

const FIRE_STEPS: Step[] = [
  { label: 'read-schedule-state', what: 'read the schedule state (pause flag, overlap set)' },
  { label: 'put-definition', what: 'write the run definition item' },
  { label: 'create-run', what: 'create run + overlap state (one transaction); the attempt is created READY with this invocation\'s lease' },
  { label: 'reserve-submit-slot', what: 'reserve a SubmitJob slot from the pacer (idle: one conditional write, the slot is now)' },
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
      { label: 'reserve-submit-slot', what: 'reserve a SubmitJob slot from the pacer (idle: one conditional write, the slot is now)' },
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
      { label: 'reserve-submit-slot', what: 'reserve a SubmitJob slot from the pacer (idle: one conditional write, the slot is now)' },
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
      { label: 'read-schedule-state', what: 'read the state after the release (queue-one waiter?)' },
      { label: 'load-run', what: 'read the run to finalize it' },
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
      { label: 'read-schedule-state', what: 'read the state after the release (queue-one waiter?)' },
      { label: 'load-run', what: 'read the run to finalize it' },
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
      { label: 'read-schedule-state', what: 'read the state after the release' },
      { label: 'load-run', what: 'finalize: read the run (nothing left to claim)' },
      { label: 'load-run', what: 'read the run to finalize it' },
      { label: 'save-run', what: 'finalize: out of the active index, TTL' },
    ],
    expect: { status: 'FAILED', attempts: { main: ['FAILED'] }, slack: 1 },
  },
};

export const FAULT_KINDS: FaultKind[] = ['crash', 'exception', 'timeout'];

/** (step × fault kind) rows for `it.each`, from a table of scenarios, for the steps `faulted` keeps. */
function stepCases(
  table: Record<string, { steps: { label: string }[] }>,
  names: string[],
  faulted: (name: string, step: number) => boolean = () => true,
): [string, number, string, FaultKind][] {
  return names.flatMap((name) =>
    table[name]!.steps.flatMap((step, i) =>
      faulted(name, i + 1) ? FAULT_KINDS.map((kind) => [name, i + 1, step.label, kind] as [string, number, string, FaultKind]) : [],
    ),
  );
}

/** (step × fault kind) for the scenarios named, as rows for `it.each`. */
export function crashCases(...names: string[]): [string, number, string, FaultKind][] {
  return stepCases(SCENARIOS, names);
}

/** One harness per suite file: started before its tests, stopped after them. */
function useHarness(): () => CrashHarness {
  let h: CrashHarness | undefined;
  beforeAll(async () => {
    h = await startCrashHarness(500);
  });
  afterAll(async () => {
    h?.dispose();
    await h?.engine.stop();
  });
  return () => h!;
}

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
  fired: boolean;
  jobNames: string[];
  jobIds: string[];
  slack: number;
  pendingRetries: number;
}

const SCHEDULED = '2025-03-01T00:00:00Z';

/** Runs `scenario` under schedule `schedule` with `fault` (or none) and lets every repair happen. */
export async function runCase(h: CrashHarness, scenario: CrashScenario, schedule: string, fault: Omit<Fault, 'schedule' | 'invocation' | 'label'> & { label?: string } | undefined): Promise<CaseOutcome> {
  const { engine } = h;
  const def = scenario.build(schedule);
  const runId = `${schedule}.20250301T000000Z`;
  h.arm(fault && { schedule, invocation: scenario.invocation, label: fault.label ?? scenario.steps[fault.step - 1]!.label, step: fault.step, kind: fault.kind });
  try {
    engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED));
    const run = await h.settle(runId);
    const jobs = await engine.jobs(`${engine.deployment}-${schedule}-20250301T`);
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
  return new CrashHarness(engine, { fire: f.handler, jobEvents: j.handler, retry: r.handler }, timeoutMs);
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
  // Exactly one Batch job per task attempt, each the one the run recorded.
  assertOneJobPerAttempt(out, Object.values(run!.tasks).flatMap((t) => t.attempts.map((a) => a.jobId)), slackDue(scenario, step));
}

/**
 * The suite of one crash-point file: a baseline per scenario (the invocation makes exactly
 * the steps the table lists, and the run ends as expected), then every (step × fault kind).
 */
export function defineCrashSuite(title: string, names: string[]): void {
  const harness = useHarness();

  describe(title, () => {
    it.each(names)('makes the steps the table lists for %s, and without a fault ends the run as expected', async (name) => {
      // Prepare
      const scenario = SCENARIOS[name]!;
      // Act
      const out = await runCase(harness(), scenario, `${name}-baseline`, undefined);
      // Assess
      const traces = harness().traces.filter((t) => t.schedule === `${name}-baseline` && t.invocation === scenario.invocation);
      expect(traces.map((t) => t.steps)).toEqual([scenario.steps.map((s) => s.label)]);
      assertRecovered(scenario, undefined, out);
    });

    it.each(crashCases(...names))('%s: after step %i (%s), a %s still ends with one job per attempt and nothing lost', async (name, step, _label, kind) => {
      // Prepare
      const scenario = SCENARIOS[name]!;
      // Act
      const out = await runCase(harness(), scenario, `${name}-${step}-${kind}`, { step, kind });
      // Assess
      assertRecovered(scenario, step, out);
    });
  });
}

/* ------------------------------------------------------------------ overlap and sweep scenarios (additive) */

/**
 * A two-run overlap scenario: run A (scheduled at 00:00) is fired first; its job ends in
 * Batch but its events are held back by the harness, so A is still active when run B
 * (01:00) fires. `faulted` names which of the two invocations the fault targets: B's `fire`
 * (the waiter held, or the run that cancels A), or A's job event that ends it (promoting B).
 */
export interface OverlapScenario {
  name: string;
  summary: string;
  build(schedule: string): ScheduleDefinition;
  /** The invocation faulted: `fire` of B, or a job event of A. */
  invocation: string;
  faulted: 'fire-b' | 'event-a';
  steps: (Step & { /** A's end status when the fault follows this step, if not the scenario's. */ a?: RunStatus })[];
  expect: {
    a: { status: RunStatus; attempts: Record<string, AttemptStatus[]> };
    b: { status: RunStatus; attempts: Record<string, AttemptStatus[]> };
    slack: number;
  };
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
      { label: 'read-schedule-state', what: 'read the state after the release: B is the waiter, nothing active' },
      { label: 'promote-queued', what: 'promoteQueued: B from queued to active (one conditional update)' },
      { label: 'load-run', what: 'read B to release it' },
      { label: 'save-run', what: 'release B (not held, task READY with this invocation\'s lease)' },
      { label: 'reserve-submit-slot', what: 'reserve a SubmitJob slot from the pacer (idle: one conditional write, the slot is now)' },
      { label: 'submit-job', what: 'SubmitJob for B (the lease holder, no lookup)' },
      { label: 'save-run', what: 'record B\'s job id, over the state this invocation wrote: no read' },
      { label: 'load-run', what: 'read A to finalize it' },
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
      { label: 'reserve-submit-slot', what: 'reserve a SubmitJob slot from the pacer (idle: one conditional write, the slot is now)', a: 'SUCCEEDED' },
      { label: 'submit-job', what: 'SubmitJob for B (the lease holder, no lookup)', a: 'SUCCEEDED' },
      { label: 'save-run', what: 'record B\'s job id, over the state this invocation wrote: no read', a: 'SUCCEEDED' },
      { label: 'load-run', what: 'cancelRunById: read A', a: 'SUCCEEDED' },
      { label: 'save-run', what: 'A CANCELLED (task CANCELLED with its live job id)' },
      { label: 'terminate-job', what: 'TerminateJob for A\'s job' },
      { label: 'release-overlap', what: 'finalize A: release (A no longer active), record the outcome' },
      { label: 'read-schedule-state', what: 'read the state after the release (queue-one waiter?)' },
      { label: 'load-run', what: 'read A to finalize it' },
      { label: 'save-run', what: 'finalize A: out of the active index, TTL' },
    ],
    expect: {
      a: { status: 'CANCELLED', attempts: { main: ['SUCCEEDED'] } },
      b: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } },
      slack: 0,
    },
  },
};

/** (step × fault kind) of an overlap scenario, as rows for `it.each`. */
export function overlapCases(...names: string[]): [string, number, string, FaultKind][] {
  return stepCases(OVERLAP_SCENARIOS, names);
}

/** What an overlap case ended with. */
export interface OverlapOutcome {
  a: RunItem | undefined;
  b: RunItem | undefined;
  fired: boolean;
  jobNames: string[];
  jobIds: string[];
  slack: number;
  pendingRetries: number;
  /** Step lists of the faulted invocation's key, from the moment the fault was armed. */
  traces: string[][];
  /** Batch status of A's job(s) at the end. */
  aJobStatuses: string[];
}

const SCHEDULED_B = '2025-03-01T01:00:00Z';

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
  try {
    // A starts; its job ends in Batch, its events are captured and held back.
    engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED));
    await h.quiet();
    if (scenario.faulted === 'fire-b') arm();
    engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED_B));
    await h.quiet();
    if (scenario.faulted === 'event-a') arm();
    await h.settle(runA);
    await h.settle(runB);
    const a = await h.settle(runA);
    const b = await engine.run(runB);
    const jobs = await engine.jobs(`${engine.deployment}-${schedule}-20250301T`);
    const aJobs = jobs.filter((j) => j.jobName!.includes('-20250301T000000Z-'));
    return {
      a,
      b,
      fired: h.fired,
      jobNames: jobs.map((j) => j.jobName!),
      jobIds: jobs.map((j) => j.jobId!),
      slack: engine.slack.messages.filter((m) => m.text.includes(runA) || m.text.includes(runB)).length,
      pendingRetries: engine.stack.lambda.pendingRetries(),
      traces: h.traces.slice(from).filter((t) => t.schedule === schedule && t.invocation === scenario.invocation).map((t) => t.steps),
      aJobStatuses: aJobs.map((j) => j.status!),
    };
  } finally {
    h.arm(undefined);
  }
}

/** Both runs in their expected end state, finalized, one Batch job per attempt, nothing lost. */
export function assertOverlapRecovered(scenario: OverlapScenario, step: number | undefined, out: OverlapOutcome): void {
  if (step !== undefined) expect(out.fired, 'the fault was injected').toBe(true);
  const recorded: string[] = [];
  for (const [which, run] of [['A', out.a], ['B', out.b]] as const) {
    const want = which === 'A' ? scenario.expect.a : scenario.expect.b;
    const status = which === 'A' && step !== undefined ? (scenario.steps[step - 1]!.a ?? want.status) : want.status;
    expect(run, `run ${which} exists`).toBeDefined();
    expect(run!.status, `run ${which} status`).toBe(status);
    expect(run!.finalized, `run ${which} is finalized`).toBe(true);
    expect(run!.held ?? false, `run ${which} is not held`).toBe(false);
    const attempts = Object.fromEntries(Object.values(run!.tasks).map((t) => [t.name, t.attempts.map((a) => a.status)]));
    expect(attempts, `run ${which} attempts`).toEqual(want.attempts);
    recorded.push(...Object.values(run!.tasks).flatMap((t) => t.attempts.map((a) => a.jobId!)));
  }
  assertOneJobPerAttempt(out, recorded, slackDue(scenario, step));
}

/** The suite of an overlap crash-point file: a baseline per scenario, then every (step × fault kind). */
export function defineOverlapSuite(title: string, names: string[]): void {
  const harness = useHarness();

  describe(title, () => {
    it.each(names)('makes the steps the table lists for %s, and without a fault ends both runs as expected', async (name) => {
      // Prepare
      const scenario = OVERLAP_SCENARIOS[name]!;
      // Act
      const out = await runOverlapCase(harness(), scenario, `${name}-baseline`, undefined);
      // Assess
      expect(out.traces[0]).toEqual(scenario.steps.map((s) => s.label));
      assertOverlapRecovered(scenario, undefined, out);
    });

    it.each(overlapCases(...names))('%s: after step %i (%s), a %s still ends with one job per attempt and nothing lost', async (name, step, _label, kind) => {
      // Prepare
      const scenario = OVERLAP_SCENARIOS[name]!;
      // Act
      const out = await runOverlapCase(harness(), scenario, `${name}-${step}-${kind}`, { step, kind });
      // Assess
      assertOverlapRecovered(scenario, step, out);
    });
  });
}

/**
 * A sweep scenario: a run whose job events were all dropped by the bus, so only the sweeper
 * can move it on; the sweep invocation itself is faulted at one of its steps, then the next
 * rate fire (a second sweep) must complete the repair.
 */
export interface SweepScenario extends CrashScenario {
  /** What the second sweep must have achieved (before any further event or sweep). */
  repaired(run: RunItem): boolean;
  /** The first step faulted (default 1): earlier steps are the same calls as another scenario's, covered there. */
  faultFrom?: number;
  /** Steps not faulted (the middle active-index shards: the same query as the first and the last). */
  skipSteps?: number[];
}

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
      { label: 'read-schedule-state', what: 'read the state after the release (queue-one waiter?)' },
      { label: 'load-run', what: 'read the run to finalize it' },
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
      { label: 'reserve-submit-slot', what: 'reserve a SubmitJob slot from the pacer (idle: one conditional write, the slot is now)' },
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
};

/** (step × fault kind) of the sweep scenarios, as rows for `it.each`: from `faultFrom`, less `skipSteps`. */
export function sweepCases(...names: string[]): [string, number, string, FaultKind][] {
  return stepCases(SWEEP_SCENARIOS, names, (name, step) => {
    const s = SWEEP_SCENARIOS[name]!;
    return step >= (s.faultFrom ?? 1) && !s.skipSteps?.includes(step);
  });
}

/** Runs a sweep scenario: the run with its events dropped, the (faulted) sweep, a second sweep, then every repair. */
export async function runSweepCase(
  h: CrashHarness,
  sweepHandler: LocalHandler,
  scenario: SweepScenario,
  schedule: string,
  fault: { step: number; kind: FaultKind } | undefined,
): Promise<CaseOutcome & { traces: string[][]; afterSecondSweep: RunItem | undefined }> {
  const { engine } = h;
  const def = scenario.build(schedule);
  const runId = `${schedule}.20250301T000000Z`;
  h.arm(undefined);
  try {
    engine.stack.lambda.accept(engine.arns.fire, fire(def, SCHEDULED));
    await h.quiet();
    expect(h.dropEvents(), 'job events dropped').toBeGreaterThan(0);
    const from = h.traces.length;
    h.arm(fault && { schedule, invocation: 'sweep', label: scenario.steps[fault.step - 1]!.label, step: fault.step, kind: fault.kind });
    h.invokeSweep(sweepHandler, schedule, fault?.kind === 'timeout' ? h.timeoutMs : 300_000);
    await h.quiet();
    // Past the faulted sweep's Lambda retries (if it counted an error) and any lease it held.
    engine.stack.clock.advance(121_000);
    await h.quiet();
    const fired = h.fired;
    const traces = h.traces.slice(from).filter((t) => t.schedule === schedule && t.invocation === 'sweep').map((t) => t.steps);
    h.arm(undefined);
    // The next rate fire.
    h.invokeSweep(sweepHandler, schedule, 300_000);
    await h.quiet();
    const afterSecondSweep = await engine.run(runId);
    const run = await h.settle(runId);
    const jobs = await engine.jobs(`${engine.deployment}-${schedule}-20250301T`);
    return {
      run,
      fired,
      jobNames: jobs.map((j) => j.jobName!),
      jobIds: jobs.map((j) => j.jobId!),
      slack: engine.slack.messages.filter((m) => m.text.includes(runId)).length,
      pendingRetries: engine.stack.lambda.pendingRetries(),
      traces,
      afterSecondSweep,
    };
  } finally {
    h.arm(undefined);
  }
}

/** The suite of a sweep crash-point file: a baseline per scenario, then every (step × fault kind). */
export function defineSweepSuite(title: string, names: string[]): void {
  const harness = useHarness();
  let sweepHandler: LocalHandler;

  beforeAll(async () => {
    sweepHandler = (await import('#functions/sweep')).handler;
  });

  describe(title, () => {
    it.each(names)('makes the steps the table lists for %s, and without a fault the sweep repairs the run', async (name) => {
      // Prepare
      const scenario = SWEEP_SCENARIOS[name]!;
      // Act
      const out = await runSweepCase(harness(), sweepHandler, scenario, `${name}-baseline`, undefined);
      // Assess
      expect(out.traces[0]).toEqual(scenario.steps.map((s) => s.label));
      expect(out.afterSecondSweep && scenario.repaired(out.afterSecondSweep), 'repaired by the sweeps').toBe(true);
      assertRecovered(scenario, undefined, out);
    });

    it.each(sweepCases(...names))('%s: after step %i (%s), a %s: the next sweep completes the repair, one job per attempt', async (name, step, _label, kind) => {
      // Prepare
      const scenario = SWEEP_SCENARIOS[name]!;
      // Act
      const out = await runSweepCase(harness(), sweepHandler, scenario, `${name}-${step}-${kind}`, { step, kind });
      // Assess
      expect(out.afterSecondSweep && scenario.repaired(out.afterSecondSweep), 'repaired by the second sweep').toBe(true);
      assertRecovered(scenario, step, out);
    });
  });
}
