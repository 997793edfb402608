/**
 * The crash-point tables and their runners, on the in-process world (test/helpers/crash-world.ts):
 * every step of `fire`, `retry`, `job-events`, `sweep`, the event `trigger` and a batch
 * window's close, named by the port method it calls, with a fault injected right after it;
 * then only the normal repairs (Lambda's async retries, one-time schedules, the sweeper).
 * Each case asserts the end state: nothing lost, nothing doubled, one Batch job per attempt,
 * the right final status, the Slack messages due. docs/crash-points.md writes the tables up.
 *
 * Each table's scenario first runs without a fault, and its invocation must make exactly the
 * steps listed, in order, so the table cannot drift from the code.
 */
import { describe, expect, it } from 'vitest';
import type { ScheduleDefinition } from '#shared/config/definition';
import { DEFAULTS } from '#shared/engine/deps';
import { retryScheduleName } from '#shared/engine/naming';
import { WINDOW_REPAIR_GRACE_MS } from '#shared/engine/trigger';
import type { AttemptStatus, RunItem, RunStatus } from '#shared/store/schema';
import { definition, fire, retry, task } from '#test/helpers/engine';
import { CrashWorld, FAULT_KINDS, type Fault, type FaultKind, type JobPlan, type JobRef } from '#test/helpers/crash-world';

export { FAULT_KINDS, type FaultKind };

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
  /** How the scenario's jobs behave in Batch (default: exit 0). */
  jobs?: (job: JobRef) => JobPlan;
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

const SCHEDULED = '2025-03-01T00:00:00Z';
const SCHEDULED_B = '2025-03-01T01:00:00Z';
const SCHEDULED_C = '2025-03-01T02:00:00Z';

/** The script of a task that fails its first attempt (exit 3); on the local stack it runs as written. */
const FAILS_FIRST = '[ "$BATCHRON_ATTEMPT" -ge 2 ] || exit 3';
const failsFirst = (job: JobRef): JobPlan => ({ exit: job.attempt >= 2 ? 0 : 3 });
/** A task that stays RUNNING until its schedule is released. */
const PARKED = 'parked';
const parked = (): JobPlan => 'park';
/** Only run A (scheduled at 00:00) does `plan`; the others exit 0. */
const forRunA = (plan: JobPlan) => (job: JobRef): JobPlan => (job.runId.endsWith('T000000Z') ? plan : { exit: 0 });

/** The pacer's step before every SubmitJob: idle in these scenarios, so the slot is now. */
const RESERVE_SLOT: Step = { label: 'store.reserveSubmitSlot', what: 'reserve a SubmitJob slot from the pacer (idle: the slot is now)' };

const FIRE_STEPS: Step[] = [
  { label: 'store.getScheduleState', what: 'read the schedule state (pause flag, overlap set)' },
  { label: 'store.createRunWithState', what: 'create run + overlap state (one transaction, the definition with it); the attempt is created READY with this invocation\'s lease' },
  RESERVE_SLOT,
  { label: 'batch.submitJob', what: 'SubmitJob (the lease holder, no lookup)' },
  { label: 'store.saveRun', what: 'record the job id (task SUBMITTED), over the state this invocation wrote: no read' },
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
    jobs: failsFirst,
    invocation: 'retry:main#2',
    steps: [
      { label: 'store.getRun', what: 'read the run' },
      { label: 'store.saveRun', what: 'claim attempt 2: task READY, attempt SUBMITTING with this invocation\'s lease' },
      RESERVE_SLOT,
      { label: 'batch.submitJob', what: 'SubmitJob for attempt 2' },
      { label: 'store.saveRun', what: 'record the job id of attempt 2, over the state this invocation wrote: no read' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['FAILED', 'SUCCEEDED'] }, slack: 0 },
  },
  running: {
    name: 'running',
    summary: 'one task, overlap skip: the RUNNING event',
    build: (name) => definition(name, [task('main')], { overlap: 'skip' }),
    invocation: 'job-events:RUNNING:main',
    steps: [
      { label: 'store.getRun', what: 'parse the event, read the run' },
      { label: 'store.saveRun', what: 'apply RUNNING (attempt, task and run RUNNING)' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0 },
  },
  successor: {
    name: 'successor',
    summary: 'a → b: the SUCCEEDED event of a',
    build: (name) => definition(name, [task('a'), task('b', 'exit 0', { dependsOn: ['a'] })]),
    invocation: 'job-events:SUCCEEDED:a',
    steps: [
      { label: 'store.getRun', what: 'parse the event, read the run' },
      { label: 'store.saveRun', what: 'apply SUCCEEDED to a; b READY with this invocation\'s lease (one write)' },
      RESERVE_SLOT,
      { label: 'batch.submitJob', what: 'SubmitJob for the successor b' },
      { label: 'store.saveRun', what: 'record b\'s job id, over the state this invocation wrote: no read' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { a: ['SUCCEEDED'], b: ['SUCCEEDED'] }, slack: 0 },
  },
  'end-allow': {
    name: 'end-allow',
    summary: 'one task, overlap allow: the SUCCEEDED event that ends the run',
    build: (name) => definition(name, [task('main')]),
    invocation: 'job-events:SUCCEEDED:main',
    steps: [
      { label: 'store.getRun', what: 'parse the event, read the run' },
      { label: 'store.getScheduleState', what: 'may the end be written finalized inline? (last outcome)' },
      { label: 'store.saveRun', what: 'apply SUCCEEDED: run SUCCEEDED and settled' },
      { label: 'store.getScheduleState', what: 'finalize: does the overlap slot need a release?' },
      { label: 'store.releaseRun', what: 'release overlap, record the outcome (recovered?)' },
      { label: 'store.saveRun', what: 'finalize: out of the active index, TTL' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0 },
  },
  'end-skip': {
    name: 'end-skip',
    summary: 'one task, overlap skip: the SUCCEEDED event that ends the run',
    build: (name) => definition(name, [task('main')], { overlap: 'skip' }),
    invocation: 'job-events:SUCCEEDED:main',
    steps: [
      { label: 'store.getRun', what: 'parse the event, read the run' },
      { label: 'store.saveRun', what: 'apply SUCCEEDED: run SUCCEEDED and settled' },
      { label: 'store.releaseRun', what: 'release the overlap slot, record the outcome' },
      { label: 'store.saveRun', what: 'finalize: out of the active index, TTL' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0 },
  },
  'retry-wait': {
    name: 'retry-wait',
    summary: 'one task failing its 1st attempt: the FAILED event that schedules the retry',
    build: (name) => definition(name, [task('main', FAILS_FIRST, { retry: retry(2, 60) })]),
    jobs: failsFirst,
    invocation: 'job-events:FAILED:main',
    steps: [
      { label: 'store.getRun', what: 'parse the event, read the run' },
      { label: 'retries.scheduleRetry', what: 'create the one-time retry schedule (before the state that implies it)' },
      { label: 'store.saveRun', what: 'apply FAILED: task RETRY_WAIT with retryAt' },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['FAILED', 'SUCCEEDED'] }, slack: 0 },
  },
  failure: {
    name: 'failure',
    summary: 'one task failing for good, overlap skip: the FAILED event (Slack)',
    build: (name) => definition(name, [task('main', 'exit 5')], { overlap: 'skip' }),
    jobs: () => ({ exit: 5 }),
    invocation: 'job-events:FAILED:main',
    steps: [
      { label: 'store.getRun', what: 'parse the event, read the run' },
      { label: 'store.saveRun', what: 'apply FAILED: run FAILED and settled, failure message owed (PENDING)' },
      { label: 'store.getRun', what: 'read the run to claim the message' },
      { label: 'store.saveRun', what: 'claim the message (SENDING until now + 60 s)' },
      { label: 'notifier.send', what: 'post to Slack', slack: 2 },
      { label: 'store.getRun', what: 'read the run to record the message', slack: 2 },
      { label: 'store.saveRun', what: 'record the message SENT' },
      { label: 'store.releaseRun', what: 'release the overlap slot, record the outcome' },
      { label: 'store.getRun', what: 'finalize: read the run (nothing left to claim)' },
      { label: 'store.saveRun', what: 'finalize: out of the active index, TTL' },
    ],
    expect: { status: 'FAILED', attempts: { main: ['FAILED'] }, slack: 1 },
  },
};

/** (step × fault kind) rows for `it.each`, from a table of scenarios, for the steps `faulted` keeps. */
export function stepCases(
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

/** The Slack messages a case owes: the step's own count when the fault follows it, else the scenario's. */
function slackDue(scenario: { steps: { slack?: number }[]; expect: { slack: number } }, step: number | undefined): number {
  return step !== undefined ? (scenario.steps[step - 1]!.slack ?? scenario.expect.slack) : scenario.expect.slack;
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

/** Exactly one Batch job per recorded attempt (each the one recorded), the Slack messages due, no retry left waiting. */
function assertOneJobPerAttempt(out: { jobNames: string[]; jobIds: string[]; slack: number; pendingRetries: number }, recorded: (string | undefined)[], slack: number): void {
  expect(out.jobNames.length, `jobs: ${out.jobNames.join(', ')}`).toBe(recorded.length);
  expect(new Set(out.jobNames).size).toBe(out.jobNames.length);
  expect([...out.jobIds].sort()).toEqual([...recorded].sort());
  expect(out.slack, 'Slack messages').toBe(slack);
  expect(out.pendingRetries, 'Lambda retries still waiting').toBe(0);
}

const attemptsOf = (run: RunItem) => Object.fromEntries(Object.values(run.tasks).map((t) => [t.name, t.attempts.map((a) => a.status)]));
const jobIdsOf = (run: RunItem) => Object.values(run.tasks).flatMap((t) => t.attempts.map((a) => a.jobId));

/** The assertions every case shares: the right end state, one job per attempt, nothing lost, the Slack messages due. */
export function assertRecovered(scenario: CrashScenario, step: number | undefined, out: CaseOutcome): void {
  const { run } = out;
  if (step !== undefined) expect(out.fired, 'the fault was injected').toBe(true);
  expect(run, 'the run exists').toBeDefined();
  expect(run!.status).toBe(scenario.expect.status);
  expect(run!.finalized, 'the run is finalized').toBe(true);
  expect(attemptsOf(run!)).toEqual(scenario.expect.attempts);
  const recorded = jobIdsOf(run!);
  if (scenario.expect.before) {
    const before = out.before;
    expect(before, 'the earlier run exists').toBeDefined();
    expect(before!.status, 'the earlier run\'s status').toBe(scenario.expect.before.status);
    expect(before!.finalized, 'the earlier run is finalized').toBe(true);
    expect(attemptsOf(before!)).toEqual(scenario.expect.before.attempts);
    recorded.push(...jobIdsOf(before!));
  }
  // Exactly one Batch job per task attempt, each the one the run recorded.
  assertOneJobPerAttempt(out, recorded, slackDue(scenario, step));
}

/** A world for one case, its jobs planned by the scenario. */
async function worldFor(scenario: { jobs?: (job: JobRef) => JobPlan }): Promise<CrashWorld> {
  const world = await CrashWorld.create();
  if (scenario.jobs) world.plan = scenario.jobs;
  return world;
}

function outcomeOf(w: CrashWorld, schedule: string, runIds: string[]): Omit<CaseOutcome, 'run' | 'before'> {
  const jobs = w.jobsOf(schedule);
  return {
    fired: w.fired,
    jobNames: jobs.map((j) => j.jobName),
    jobIds: jobs.map((j) => j.jobId),
    slack: w.slack.filter((m) => runIds.some((id) => m.text.includes(id))).length,
    pendingRetries: w.pendingRetries(),
  };
}

/** Runs `scenario` under schedule `schedule` with `fault` (or none, or several) and lets every repair happen. */
export async function runCase(
  scenario: CrashScenario,
  schedule: string,
  fault: { step: number; kind: FaultKind } | Fault[] | undefined,
): Promise<CaseOutcome & { traces: string[][] }> {
  const w = await worldFor(scenario);
  const def = scenario.build(schedule);
  const runId = `${schedule}.20250301T000000Z`;
  w.arm(
    Array.isArray(fault)
      ? fault
      : fault && { schedule, invocation: scenario.invocation, label: scenario.steps[fault.step - 1]!.label, step: fault.step, kind: fault.kind },
  );
  w.accept('fire', fire(def, SCHEDULED));
  const run = await w.settle(runId);
  return { run, ...outcomeOf(w, schedule, [runId]), traces: tracesOf(w, schedule, scenario.invocation) };
}

function tracesOf(w: CrashWorld, schedule: string, invocation: string, from = 0): string[][] {
  return w.traces.slice(from).filter((t) => t.schedule === schedule && t.invocation === invocation).map((t) => t.steps);
}

/**
 * The suite of one crash-point table: a baseline per scenario (the invocation makes exactly
 * the steps the table lists, and the run ends as expected), then every (step × fault kind).
 */
export function defineCrashSuite(title: string, names: string[]): void {
  describe(title, () => {
    it.each(names)('makes the steps the table lists for %s, and without a fault ends the run as expected', async (name) => {
      // Prepare
      const scenario = SCENARIOS[name]!;
      // Act
      const out = await runCase(scenario, `${name}-baseline`, undefined);
      // Assess
      expect(out.traces).toEqual([scenario.steps.map((s) => s.label)]);
      assertRecovered(scenario, undefined, out);
    });

    it.each(stepCases(SCENARIOS, names))('%s: after step %i (%s), a %s still ends with one job per attempt and nothing lost', async (name, step, _label, kind) => {
      // Prepare
      const scenario = SCENARIOS[name]!;
      // Act
      const out = await runCase(scenario, `${name}-${step}-${kind}`, { step, kind });
      // Assess
      assertRecovered(scenario, step, out);
    });
  });
}

/* ------------------------------------------------------------------ overlap: two or three runs of one schedule */

/**
 * A two-run overlap scenario: run A (scheduled at 00:00) is fired first; its job ends in
 * Batch but its events are held back, so A is still active when run B (01:00) fires.
 * `faulted` names which invocation the fault targets: B's `fire` (the waiter held, or the run
 * that cancels A), A's job event that ends it (promoting B), a third fire C (02:00) while A
 * is active and B queued, or B's job event that ends it. `a` changes how A stands when B
 * fires: `running` (its job still running: parked), or `settled` (A ran to its end first).
 */
export interface OverlapScenario {
  name: string;
  summary: string;
  build(schedule: string): ScheduleDefinition;
  jobs?: (job: JobRef) => JobPlan;
  invocation: string;
  faulted: 'fire-b' | 'event-a' | 'fire-c' | 'event-b';
  a?: 'held' | 'running' | 'settled';
  steps: (Step & { /** A's end status when the fault follows this step, if not the scenario's. */ a?: RunStatus })[];
  expect: {
    a: { status: RunStatus; attempts: Record<string, AttemptStatus[]> };
    b: { status: RunStatus; attempts: Record<string, AttemptStatus[]> };
    c?: { status: RunStatus; attempts: Record<string, AttemptStatus[]> };
    /** How A's job(s) end in Batch (status, and the reason Batch gives), when it matters. */
    aJobs?: (runB: string) => { status: string; reason: string }[];
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
      { label: 'store.getScheduleState', what: 'read the schedule state: A active, no waiter' },
      { label: 'store.createRunWithState', what: 'create B QUEUED + held and SET queued = B (one transaction); nothing to submit' },
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
      { label: 'store.getRun', what: 'parse the event, read A' },
      { label: 'store.saveRun', what: 'apply SUCCEEDED: A SUCCEEDED and settled' },
      { label: 'store.releaseRun', what: 'release A\'s overlap slot, record the outcome' },
      { label: 'store.promoteQueued', what: 'promoteQueued: B from queued to active (one conditional update)' },
      { label: 'store.getRun', what: 'read B to release it' },
      { label: 'store.saveRun', what: 'release B (not held, task READY with this invocation\'s lease)' },
      RESERVE_SLOT,
      { label: 'batch.submitJob', what: 'SubmitJob for B (the lease holder, no lookup)' },
      { label: 'store.saveRun', what: 'record B\'s job id, over the state this invocation wrote: no read' },
      { label: 'store.saveRun', what: 'finalize A: out of the active index, TTL' },
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
      { label: 'store.getScheduleState', what: 'read the schedule state: A active (its version)', a: 'SUCCEEDED' },
      { label: 'store.createRunWithState', what: 'create B with supersedes = [A], SET active = {B} on the version read (one transaction)', a: 'SUCCEEDED' },
      { ...RESERVE_SLOT, a: 'SUCCEEDED' },
      { label: 'batch.submitJob', what: 'SubmitJob for B (the lease holder, no lookup)', a: 'SUCCEEDED' },
      { label: 'store.saveRun', what: 'record B\'s job id, over the state this invocation wrote: no read', a: 'SUCCEEDED' },
      { label: 'store.getRun', what: 'cancelRunById: read A', a: 'SUCCEEDED' },
      { label: 'store.saveRun', what: 'A CANCELLED (task CANCELLED with its live job id)' },
      { label: 'batch.terminateJob', what: 'TerminateJob for A\'s job' },
      { label: 'store.releaseRun', what: 'finalize A: release (A no longer active), record the outcome' },
      { label: 'store.saveRun', what: 'finalize A: out of the active index, TTL' },
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
      { label: 'store.getScheduleState', what: 'read the schedule state: A active, B queued' },
      { label: 'store.putNewRun', what: 'create C SKIPPED (B is already queued), finalized at creation: a plain conditional put, no state change' },
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
    build: (name) => definition(name, [task('main', PARKED)], { overlap: 'cancel-previous' }),
    jobs: forRunA('park'),
    invocation: 'fire',
    faulted: 'fire-b',
    a: 'running',
    steps: [
      { label: 'store.getScheduleState', what: 'read the schedule state: A active (its version)' },
      { label: 'store.createRunWithState', what: 'create B with supersedes = [A], SET active = {B} on the version read (one transaction)' },
      RESERVE_SLOT,
      { label: 'batch.submitJob', what: 'SubmitJob for B (the lease holder, no lookup)' },
      { label: 'store.saveRun', what: 'record B\'s job id, over the state this invocation wrote: no read' },
      { label: 'store.getRun', what: 'cancelRunById: read A' },
      { label: 'store.saveRun', what: 'A CANCELLED and settled (its task CANCELLED with its live job id)' },
      { label: 'batch.terminateJob', what: 'TerminateJob for A\'s running job' },
      { label: 'store.releaseRun', what: 'finalize A: release (A no longer active), record the outcome' },
      { label: 'store.saveRun', what: 'finalize A: out of the active index, TTL' },
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
    build: (name) => definition(name, [task('main')]),
    jobs: forRunA({ exit: 5 }),
    invocation: 'job-events:SUCCEEDED:main',
    faulted: 'event-b',
    a: 'settled',
    steps: [
      { label: 'store.getRun', what: 'parse the event, read B' },
      { label: 'store.getScheduleState', what: 'may the end be written finalized inline? (no: the last outcome is FAILED)' },
      { label: 'store.saveRun', what: 'apply SUCCEEDED: B SUCCEEDED and settled' },
      { label: 'store.getScheduleState', what: 'finalize: does the overlap slot need a release? (the last outcome differs)' },
      { label: 'store.releaseRun', what: 'record the outcome SUCCEEDED; the previous one was FAILED: "recovered" is due' },
      { label: 'store.getRun', what: 'read B to claim the recovery message' },
      { label: 'store.saveRun', what: 'claim it (notify.recovery SENDING until now + 60 s)' },
      { label: 'notifier.send', what: 'post "recovered" to Slack', slack: 3 },
      { label: 'store.getRun', what: 'read B to record the message', slack: 3 },
      { label: 'store.saveRun', what: 'record it SENT and finalize B: out of the active index, TTL (one write)' },
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

/** Runs an overlap scenario under `schedule` with `fault` (or none) and lets every repair happen. */
export async function runOverlapCase(scenario: OverlapScenario, schedule: string, fault: { step: number; kind: FaultKind } | undefined): Promise<OverlapOutcome> {
  const w = await worldFor(scenario);
  const def = scenario.build(schedule);
  const runA = `${schedule}.20250301T000000Z`;
  const runB = `${schedule}.20250301T010000Z`;
  const runC = scenario.expect.c ? `${schedule}.20250301T020000Z` : undefined;
  const armed = fault && { schedule, invocation: scenario.invocation, label: scenario.steps[fault.step - 1]!.label, step: fault.step, kind: fault.kind };
  let from = 0;
  const arm = () => {
    from = w.traces.length;
    w.arm(armed);
  };
  if (scenario.a === 'running') w.park(schedule);
  // A starts; by default its job ends in Batch and its events are captured and held back.
  w.accept('fire', fire(def, SCHEDULED));
  await w.quiet();
  // A's job still running: its RUNNING event is applied, so A is RUNNING when B fires.
  if (scenario.a === 'running') await w.deliverEvents();
  if (scenario.a === 'settled') await w.settle(runA);
  if (scenario.faulted === 'fire-b') arm();
  w.accept('fire', fire(def, SCHEDULED_B));
  await w.quiet();
  if (scenario.faulted === 'fire-c') arm();
  if (runC) {
    w.accept('fire', fire(def, SCHEDULED_C));
    await w.quiet();
    // Past C's Lambda retries while A is still active and B still queued (A's events held).
    w.advance(121_000);
    await w.quiet();
  }
  if (scenario.faulted === 'event-a' || scenario.faulted === 'event-b') arm();
  await w.settle(runA);
  await w.settle(runB);
  if (runC) await w.settle(runC);
  const a = await w.settle(runA);
  const b = await w.run(runB);
  const c = runC ? await w.run(runC) : undefined;
  const runs = [runA, runB, ...(runC ? [runC] : [])];
  return {
    a,
    b,
    c,
    ...outcomeOf(w, schedule, runs),
    traces: tracesOf(w, schedule, scenario.invocation, from),
    aJobs: w.jobsOf(schedule, runA).map((j) => ({ status: j.status, reason: j.reason })),
  };
}

/** Every run in its expected end state, finalized, not held, one Batch job per attempt, nothing lost. */
export function assertOverlapRecovered(scenario: OverlapScenario, step: number | undefined, out: OverlapOutcome): void {
  if (step !== undefined) expect(out.fired, 'the fault was injected').toBe(true);
  const recorded: (string | undefined)[] = [];
  const runs = [['A', out.a, scenario.expect.a], ['B', out.b, scenario.expect.b], ...(scenario.expect.c ? [['C', out.c, scenario.expect.c] as const] : [])] as const;
  for (const [which, run, want] of runs) {
    const status = which === 'A' && step !== undefined ? (scenario.steps[step - 1]!.a ?? want.status) : want.status;
    expect(run, `run ${which} exists`).toBeDefined();
    expect(run!.status, `run ${which} status`).toBe(status);
    expect(run!.finalized, `run ${which} is finalized`).toBe(true);
    expect(run!.held ?? false, `run ${which} is not held`).toBe(false);
    expect(attemptsOf(run!), `run ${which} attempts`).toEqual(want.attempts);
    recorded.push(...jobIdsOf(run!));
  }
  if (scenario.expect.aJobs) expect(out.aJobs, 'how A\'s job ended in Batch').toEqual(scenario.expect.aJobs(out.b!.runId));
  assertOneJobPerAttempt(out, recorded, slackDue(scenario, step));
}

/** The suite of an overlap table: a baseline per scenario, then every (step × fault kind). */
export function defineOverlapSuite(title: string, names: string[]): void {
  describe(title, () => {
    it.each(names)('makes the steps the table lists for %s, and without a fault ends every run as expected', async (name) => {
      // Prepare
      const scenario = OVERLAP_SCENARIOS[name]!;
      // Act
      const out = await runOverlapCase(scenario, `${name}-baseline`, undefined);
      // Assess
      expect(out.traces[0]).toEqual(scenario.steps.map((s) => s.label));
      assertOverlapRecovered(scenario, undefined, out);
    });

    it.each(stepCases(OVERLAP_SCENARIOS, names))('%s: after step %i (%s), a %s still ends with one job per attempt and nothing lost', async (name, step, _label, kind) => {
      // Prepare
      const scenario = OVERLAP_SCENARIOS[name]!;
      // Act
      const out = await runOverlapCase(scenario, `${name}-${step}-${kind}`, { step, kind });
      // Assess
      assertOverlapRecovered(scenario, step, out);
    });
  });
}

/* ------------------------------------------------------------------ the sweeper */

/**
 * A sweep scenario: a run brought to a state only the sweeper repairs; the sweep invocation
 * itself is faulted at one of its steps, then the next rate fire (a second sweep) must
 * complete the repair.
 *   events-dropped   the run's job events are all dropped by the bus;
 *   retry-lost       the task failed its first attempt and its one-time retry schedule is
 *                    gone; the clock is 5 minutes (the grace) past its retryAt;
 *   waiter-stranded  queue-one: B is held behind A; A's SUCCEEDED event died right after
 *                    promoting B, and its Lambda retry finalized A without seeing a waiter,
 *                    so B is active but still held (the run under test is B);
 *   stuck-running    the run's job is still running (parked) past its
 *                    `stuckAfterMinutes.running`; it is released after the second sweep.
 */
export interface SweepScenario extends CrashScenario {
  setup?: 'events-dropped' | 'retry-lost' | 'waiter-stranded' | 'stuck-running';
  /** What the second sweep must have achieved (before any further event or sweep). */
  repaired(run: RunItem): boolean;
}

/** One-minute stuck limit for RUNNING (the others as the default). */
const STUCK_AFTER_ONE_MINUTE: ScheduleDefinition['notify'] = { onFailure: true, onRecovery: true, stuckAfterMinutes: { queued: 30, submitted: 120, running: 1 } };

const LIST_ACTIVE: Step = { label: 'store.listActiveRunIds', what: 'list active runs (the 16 shards of the active index)' };
const LIST_WINDOWS: Step = { label: 'windowStore.listOverdueWindows', what: 'batch windows past their end still open: none' };

export const SWEEP_SCENARIOS: Record<string, SweepScenario> = {
  'sweep-end': {
    name: 'sweep-end',
    summary: 'one task, overlap skip, its RUNNING and SUCCEEDED events dropped: the sweep that ends the run',
    build: (name) => definition(name, [task('main')], { overlap: 'skip' }),
    invocation: 'sweep',
    steps: [
      LIST_ACTIVE,
      { label: 'store.getRun', what: 'read the active run' },
      { label: 'batch.describeJobs', what: 'DescribeJobs of its live job: SUCCEEDED, unlike the run\'s SUBMITTED' },
      { label: 'store.getRun', what: 'applyJobFacts: read the run' },
      { label: 'store.saveRun', what: 'apply SUCCEEDED (RUNNING skipped): run SUCCEEDED and settled' },
      { label: 'store.releaseRun', what: 'finalize: release the overlap slot, record the outcome' },
      { label: 'store.saveRun', what: 'finalize: out of the active index, TTL' },
      { label: 'store.getRun', what: 'per-run pass: read the run again (finalized: nothing left)' },
      LIST_WINDOWS,
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
      LIST_ACTIVE,
      { label: 'store.getRun', what: 'read the active run' },
      { label: 'batch.describeJobs', what: 'DescribeJobs of a\'s job: SUCCEEDED, unlike the run\'s SUBMITTED' },
      { label: 'store.getRun', what: 'applyJobFacts: read the run' },
      { label: 'store.saveRun', what: 'apply SUCCEEDED to a; b READY with the sweep\'s lease (one write)' },
      RESERVE_SLOT,
      { label: 'batch.submitJob', what: 'SubmitJob for b (the lease holder, no lookup)' },
      { label: 'store.saveRun', what: 'record b\'s job id, over the state this invocation wrote: no read' },
      { label: 'store.getRun', what: 'per-run pass: read the run again (overdue retries?)' },
      { label: 'store.getRun', what: 'read the run (held?)' },
      { label: 'store.getRun', what: 'read the run to drive it (nothing owed)' },
      LIST_WINDOWS,
    ],
    expect: { status: 'SUCCEEDED', attempts: { a: ['SUCCEEDED'], b: ['SUCCEEDED'] }, slack: 0 },
    repaired: (run) => run.tasks.a!.status === 'SUCCEEDED' && run.tasks.b!.attempts.length === 1 && !!run.tasks.b!.attempts[0]!.jobId,
  },
  'sweep-retry': {
    name: 'sweep-retry',
    summary: 'one task failing its 1st attempt, 2 attempts, 60 s backoff, its retry schedule lost: the sweep that starts the overdue retry itself',
    build: (name) => definition(name, [task('main', FAILS_FIRST, { retry: retry(2, 60) })]),
    jobs: failsFirst,
    invocation: 'sweep',
    setup: 'retry-lost',
    steps: [
      LIST_ACTIVE,
      { label: 'store.getRun', what: 'read the active run (no live job: nothing to describe)' },
      { label: 'store.getRun', what: 'per-run pass: read the run again: main RETRY_WAIT, 5 min past retryAt' },
      { label: 'store.getRun', what: '`resumeRetry`: read the run' },
      { label: 'store.saveRun', what: 'claim attempt 2: task READY, attempt SUBMITTING with the sweep\'s lease' },
      RESERVE_SLOT,
      { label: 'batch.submitJob', what: 'SubmitJob for attempt 2 (the lease holder, no lookup)' },
      { label: 'store.saveRun', what: 'record the job id of attempt 2, over the state this invocation wrote: no read' },
      { label: 'store.getRun', what: 'read the run (held?)' },
      { label: 'store.getRun', what: 'read the run to drive it (nothing owed)' },
      LIST_WINDOWS,
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
    steps: [
      LIST_ACTIVE,
      { label: 'store.getRun', what: 'read the active run B (A is finalized: out of the index)' },
      { label: 'store.getRun', what: 'per-run pass: read B again (overdue retries?)' },
      { label: 'store.getRun', what: 'read B: held' },
      { label: 'store.getScheduleState', what: 'is it B\'s turn? B is in the active set' },
      { label: 'store.promoteQueued', what: '`startQueued`: promote B: already done (B is active, nothing queued): false' },
      { label: 'store.getScheduleState', what: '`startQueued`: B is active: start it' },
      { label: 'store.getRun', what: 'read B to release it' },
      { label: 'store.saveRun', what: 'release B (not held; task READY with the sweep\'s lease)' },
      RESERVE_SLOT,
      { label: 'batch.submitJob', what: 'SubmitJob for B (the lease holder, no lookup)' },
      { label: 'store.saveRun', what: 'record B\'s job id, over the state this invocation wrote: no read' },
      { label: 'store.getRun', what: 'read B to drive it (nothing owed)' },
      LIST_WINDOWS,
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0, before: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] } } },
    repaired: (run) => !run.held && !!run.tasks.main!.attempts[0]?.jobId,
  },
  'sweep-stuck': {
    name: 'sweep-stuck',
    summary: 'one task still RUNNING past its 1-minute stuck limit: the sweep that sends the stuck alert',
    build: (name) => definition(name, [task('main', PARKED)], { notify: STUCK_AFTER_ONE_MINUTE }),
    jobs: parked,
    invocation: 'sweep',
    setup: 'stuck-running',
    steps: [
      LIST_ACTIVE,
      { label: 'store.getRun', what: 'read the active run' },
      { label: 'batch.describeJobs', what: 'DescribeJobs of its live job: RUNNING, as recorded (nothing to apply)' },
      { label: 'store.getRun', what: 'per-run pass: read the run again (overdue retries?)' },
      { label: 'store.getRun', what: 'read the run (held?)' },
      { label: 'store.getRun', what: 'read the run to drive it (nothing owed); RUNNING for more than 1 minute: stuck' },
      { label: 'store.getRun', what: 'read the run to claim the stuck alert' },
      { label: 'store.saveRun', what: 'claim it (notify.stuck.RUNNING SENDING until now + 60 s)' },
      { label: 'notifier.send', what: 'post the stuck alert to Slack', slack: 2 },
      { label: 'store.getRun', what: 'read the run to record the alert', slack: 2 },
      { label: 'store.saveRun', what: 'record it SENT' },
      LIST_WINDOWS,
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 1 },
    repaired: (run) => run.notify.stuck?.RUNNING?.status === 'SENT',
  },
};

/** Brings the case's run to the state `setup` names; returns the run the sweep must repair. */
async function prepareSweep(w: CrashWorld, scenario: SweepScenario, def: ScheduleDefinition, schedule: string): Promise<string> {
  const runA = `${schedule}.20250301T000000Z`;
  w.accept('fire', fire(def, SCHEDULED));
  await w.quiet();
  switch (scenario.setup ?? 'events-dropped') {
    case 'events-dropped':
      expect(w.dropEvents(), 'job events dropped').toBeGreaterThan(0);
      return runA;
    case 'retry-lost': {
      await w.deliverEvents();
      const main = (await w.run(runA))!.tasks.main!;
      expect(main.status, 'the task waits for its retry').toBe('RETRY_WAIT');
      expect(w.deleteSchedule(retryScheduleName(w.deployment, runA, 'main', 2)), 'the retry schedule existed').toBe(true);
      w.advance(Date.parse(main.retryAt!) + DEFAULTS.retryGraceMs + 1_000 - w.now);
      await w.quiet();
      return runA;
    }
    case 'waiter-stranded': {
      const runB = `${schedule}.20250301T010000Z`;
      w.accept('fire', fire(def, SCHEDULED_B));
      await w.quiet();
      const promote = OVERLAP_SCENARIOS['queue-one-promote']!.steps.findIndex((s) => s.label === 'store.promoteQueued') + 1;
      w.arm({ schedule, invocation: 'job-events:SUCCEEDED:main', step: promote, label: 'store.promoteQueued', kind: 'crash' });
      await w.deliverEvents();
      // Its Lambda retry finalizes A; B was promoted already, so nothing starts it.
      w.advance(121_000);
      await w.quiet();
      expect(w.fired, 'A\'s end died after promoting B').toBe(true);
      w.arm(undefined);
      expect((await w.run(runA))?.finalized, 'A is finalized').toBe(true);
      expect((await w.run(runB))?.held, 'B is still held').toBe(true);
      return runB;
    }
    case 'stuck-running':
      await w.deliverEvents();
      expect((await w.run(runA))?.status, 'the run is RUNNING').toBe('RUNNING');
      w.advance(121_000);
      await w.quiet();
      return runA;
  }
}

/** Runs a sweep scenario: the run brought to its state, the (faulted) sweep, a second sweep, then every repair. */
export async function runSweepCase(
  scenario: SweepScenario,
  schedule: string,
  fault: { step: number; kind: FaultKind } | undefined,
): Promise<CaseOutcome & { traces: string[][]; afterSecondSweep: RunItem | undefined }> {
  const w = await worldFor(scenario);
  const def = scenario.build(schedule);
  const runA = `${schedule}.20250301T000000Z`;
  if (scenario.setup === 'stuck-running') w.park(schedule);
  const runId = await prepareSweep(w, scenario, def, schedule);
  const from = w.traces.length;
  w.arm(fault && { schedule, invocation: 'sweep', label: scenario.steps[fault.step - 1]!.label, step: fault.step, kind: fault.kind });
  w.invokeSweep(schedule);
  await w.quiet();
  // Past the faulted sweep's Lambda retries (if it counted an error) and any lease or claim it held.
  w.advance(121_000);
  await w.quiet();
  const fired = w.fired;
  const traces = tracesOf(w, schedule, 'sweep', from);
  w.arm(undefined);
  // The next rate fire.
  w.invokeSweep(schedule);
  await w.quiet();
  const afterSecondSweep = await w.run(runId);
  if (scenario.setup === 'stuck-running') w.unpark(schedule);
  const run = await w.settle(runId);
  const before = runId === runA ? undefined : await w.settle(runA);
  return { run, before, ...outcomeOf(w, schedule, [runId, runA]), fired, traces, afterSecondSweep };
}

/** The suite of a sweep table: a baseline per scenario, then every (step × fault kind). */
export function defineSweepSuite(title: string, names: string[]): void {
  describe(title, () => {
    it.each(names)('makes the steps the table lists for %s, and without a fault the sweep repairs the run', async (name) => {
      // Prepare
      const scenario = SWEEP_SCENARIOS[name]!;
      // Act
      const out = await runSweepCase(scenario, `${name}-baseline`, undefined);
      // Assess
      expect(out.traces[0]).toEqual(scenario.steps.map((s) => s.label));
      expect(out.afterSecondSweep && scenario.repaired(out.afterSecondSweep), 'repaired by the sweeps').toBe(true);
      assertRecovered(scenario, undefined, out);
    });

    it.each(stepCases(SWEEP_SCENARIOS, names))('%s: after step %i (%s), a %s: the next sweep completes the repair, one job per attempt', async (name, step, _label, kind) => {
      // Prepare
      const scenario = SWEEP_SCENARIOS[name]!;
      // Act
      const out = await runSweepCase(scenario, `${name}-${step}-${kind}`, { step, kind });
      // Assess
      expect(out.afterSecondSweep && scenario.repaired(out.afterSecondSweep), 'repaired by the second sweep').toBe(true);
      assertRecovered(scenario, step, out);
    });
  });
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
    first: { invocation: 'fire', step: stepOf('fire', 'batch.submitJob'), label: 'batch.submitJob', kind: 'crash', nth: 1 },
    second: {
      invocation: 'job-events:SUCCEEDED:main',
      nth: 1,
      steps: [
        { label: 'store.getRun', what: 'parse the event, read the run (the job adopted from the RUNNING event\'s tags)' },
        { label: 'store.saveRun', what: 'apply SUCCEEDED: run SUCCEEDED and settled' },
        { label: 'store.releaseRun', what: 'release the overlap slot, record the outcome' },
        { label: 'store.saveRun', what: 'finalize: out of the active index, TTL' },
      ],
    },
  },
  'successor-twice': {
    name: 'successor-twice',
    summary: 'a → b: the SUCCEEDED event of a dies right after making b READY under its lease, then Lambda\'s retry of it (same request id, so the same lease) is faulted',
    base: 'successor',
    first: { invocation: 'job-events:SUCCEEDED:a', step: stepOf('successor', 'store.saveRun'), label: 'store.saveRun', kind: 'crash', nth: 1 },
    second: {
      invocation: 'job-events:SUCCEEDED:a',
      nth: 2,
      steps: [
        { label: 'store.getRun', what: 'parse the event, read the run: a already SUCCEEDED (nothing to apply), b READY under this request id\'s lease' },
        { label: 'store.getRun', what: 'not a fresh claim: take over the lease; read the run' },
        { label: 'store.saveRun', what: 'renew b\'s lease' },
        { label: 'batch.findJobsByName', what: 'ListJobs by b\'s job name: none' },
        RESERVE_SLOT,
        { label: 'batch.submitJob', what: 'SubmitJob for b' },
        { label: 'store.getRun', what: 'read the run to record b\'s job id' },
        { label: 'store.saveRun', what: 'record b\'s job id' },
      ],
    },
  },
  'failure-twice': {
    name: 'failure-twice',
    summary: 'one task failing for good, overlap skip: the FAILED event dies right after posting to Slack, then Lambda\'s retry of it (which posts again) is faulted',
    base: 'failure',
    first: { invocation: 'job-events:FAILED:main', step: stepOf('failure', 'notifier.send'), label: 'notifier.send', kind: 'crash', nth: 1 },
    second: {
      invocation: 'job-events:FAILED:main',
      nth: 2,
      steps: [
        { label: 'store.getRun', what: 'parse the event, read the run: FAILED already applied, the message SENDING (claim expired)' },
        { label: 'store.getRun', what: 'read the run to claim the message' },
        { label: 'store.saveRun', what: 'claim it again (SENDING until now + 60 s)' },
        { label: 'notifier.send', what: 'post to Slack (the 2nd message)', slack: 3 },
        { label: 'store.getRun', what: 'read the run to record the message', slack: 3 },
        { label: 'store.saveRun', what: 'record the message SENT' },
        { label: 'store.releaseRun', what: 'release the overlap slot, record the outcome' },
        { label: 'store.getRun', what: 'finalize: read the run (nothing left to claim)' },
        { label: 'store.saveRun', what: 'finalize: out of the active index, TTL' },
      ],
      // Once SENT is recorded (step 6) the run is where `failure` is after its step 7; the
      // release and finalization that follow are faulted there.
      faultTo: 6,
    },
    // The first crash came between posting and recording: the message goes out twice.
    slack: 2,
  },
};

/** A two-fault scenario seen as the single-fault scenario of its second invocation. */
function secondFaultScenario(s: TwoFaultScenario): CrashScenario {
  const base = SCENARIOS[s.base]!;
  return { ...base, invocation: s.second.invocation, steps: s.second.steps, expect: { ...base.expect, slack: s.slack ?? base.expect.slack } };
}

/** Runs a two-fault scenario: its first fault, and the second after step `second.step` (none: the baseline). */
export async function runTwoFaultCase(scenario: TwoFaultScenario, schedule: string, second: { step: number; kind: FaultKind } | undefined): Promise<CaseOutcome & { traces: string[][] }> {
  const base = SCENARIOS[scenario.base]!;
  const faults: Fault[] = [{ ...scenario.first, schedule }];
  if (second) {
    const { invocation, nth, steps } = scenario.second;
    faults.push({ schedule, invocation, nth, step: second.step, label: steps[second.step - 1]!.label, kind: second.kind });
  }
  const out = await runCase({ ...base, invocation: scenario.second.invocation }, schedule, faults);
  return out;
}

/** The suite of the two-fault table: a baseline per scenario (its first fault only), then the second fault at every step × fault kind. */
export function defineTwoFaultSuite(title: string, names: string[]): void {
  const table = Object.fromEntries(names.map((n) => [n, { steps: TWO_FAULT_SCENARIOS[n]!.second.steps }]));
  const faulted = (name: string, step: number) => step <= (TWO_FAULT_SCENARIOS[name]!.second.faultTo ?? Infinity);

  describe(title, () => {
    it.each(names)('with only its first fault, %s makes the steps the table lists in the second invocation, and ends the run as expected', async (name) => {
      // Prepare
      const scenario = TWO_FAULT_SCENARIOS[name]!;
      // Act
      const out = await runTwoFaultCase(scenario, `${name}-baseline`, undefined);
      // Assess
      expect(out.fired, 'the first fault was injected').toBe(true);
      expect(out.traces[scenario.second.nth - 1]).toEqual(scenario.second.steps.map((s) => s.label));
      assertRecovered(secondFaultScenario(scenario), undefined, out);
    });

    it.each(stepCases(table, names, faulted))('%s: after step %i (%s) of the second invocation, a %s still ends with one job per attempt and nothing lost', async (name, step, _label, kind) => {
      // Prepare
      const scenario = TWO_FAULT_SCENARIOS[name]!;
      // Act
      const out = await runTwoFaultCase(scenario, `${name}-${step}-${kind}`, { step, kind });
      // Assess
      assertRecovered(secondFaultScenario(scenario), step, out);
    });
  });
}

/* ------------------------------------------------------------------ the API's engine paths */

/**
 * An API scenario: `functions/api.ts` (the real handler through its deps factory, its own
 * reads on the same in-memory store) with a request that starts or cancels a run faulted
 * after one of the engine steps it makes. The client sees a 5xx and does what a client of an
 * idempotent API does: it sends the same request again (the same Idempotency-Key for a
 * start). Then the normal repairs run, as for the other scenarios.
 */
export interface ApiScenario extends CrashScenario {
  invocation: 'api:start' | 'api:cancel';
  steps: (Step & { /** What the client's repeated request answers when the fault follows this step. */ again: number })[];
  /** What the request answers without a fault. */
  answer: number;
  /** How the run's job(s) end in Batch, when it matters (a cancel terminates it). */
  jobEnds?: { status: string; reason: string }[];
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
      { label: 'store.getScheduleState', what: 'read the schedule state (pause flag, overlap set)', again: 201 },
      { label: 'store.putNewRun', what: 'create the run (id from the key, the definition with it); the attempt READY with this request\'s lease', again: 200 },
      { ...RESERVE_SLOT, again: 200 },
      { label: 'batch.submitJob', what: 'SubmitJob (the lease holder, no lookup)', again: 200 },
      { label: 'store.saveRun', what: 'record the job id, over the state this request wrote: no read', again: 200 },
    ],
    expect: { status: 'SUCCEEDED', attempts: { main: ['SUCCEEDED'] }, slack: 0 },
  },
  'api-cancel': {
    name: 'api-cancel',
    summary: 'one task, its job RUNNING: POST /runs/{id}/cancel (cancelRunById), retried by the client after a 5xx',
    build: (name) => definition(name, [task('main', PARKED)]),
    jobs: parked,
    invocation: 'api:cancel',
    answer: 200,
    steps: [
      { label: 'store.getRun', what: 'read the run', again: 200 },
      { label: 'store.saveRun', what: 'run CANCELLED and settled (its task CANCELLED with its live job id)', again: 409 },
      { label: 'batch.terminateJob', what: 'TerminateJob for the running job', again: 409 },
      { label: 'store.getScheduleState', what: 'finalize: does the overlap slot need a release?', again: 409 },
      { label: 'store.releaseRun', what: 'release overlap, record the outcome', again: 409 },
      { label: 'store.saveRun', what: 'finalize: out of the active index, TTL', again: 409 },
    ],
    expect: { status: 'CANCELLED', attempts: { main: ['FAILED'] }, slack: 0 },
    jobEnds: [{ status: 'FAILED', reason: 'Batchron: Cancelled through the API' }],
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
export async function runApiCase(scenario: ApiScenario, schedule: string, fault: { step: number; kind: FaultKind } | undefined): Promise<ApiOutcome> {
  const w = await worldFor(scenario);
  const def = scenario.build(schedule);
  const cancel = scenario.invocation === 'api:cancel';
  const key = { schedule, invocation: scenario.invocation };
  let request: () => Promise<{ status: number; body: any }>;
  let runId: string;
  if (cancel) {
    // A scheduled run whose job is running.
    w.park(schedule);
    runId = `${schedule}.20250301T000000Z`;
    w.accept('fire', fire(def, SCHEDULED));
    await w.quiet();
    await w.deliverEvents();
    expect((await w.run(runId))?.status, 'the run is RUNNING').toBe('RUNNING');
    request = () => w.request(key, 'POST', `/runs/${encodeURIComponent(runId)}/cancel`);
  } else {
    // The schedule as the registry holds it (disabled: only the API starts its runs here).
    w.register(def);
    const { runIdFor } = await import('#shared/engine/naming');
    runId = runIdFor({ schedule, scheduledTime: '' }, API_KEY);
    request = () => w.request(key, 'POST', `/schedules/${schedule}/runs`, {}, { 'idempotency-key': API_KEY });
  }
  const from = w.traces.length;
  w.arm(fault && { schedule, invocation: scenario.invocation, label: scenario.steps[fault.step - 1]!.label, step: fault.step, kind: fault.kind });
  const first = await request();
  const again = first.status >= 500 ? await request() : undefined;
  const fired = w.fired;
  const traces = tracesOf(w, schedule, scenario.invocation, from);
  w.arm(undefined);
  const run = await w.settle(runId);
  const listed = (await w.request({ schedule, invocation: 'api:list' }, 'GET', `/runs?schedule=${schedule}`)).body.runs.map((r: { runId: string }) => r.runId);
  return {
    run,
    first,
    again,
    listed,
    ...outcomeOf(w, schedule, [runId]),
    fired,
    traces,
    jobs: w.jobsOf(schedule).map((j) => ({ status: j.status, reason: j.reason })),
  };
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
  if (scenario.jobEnds) expect(out.jobs, 'how the job ended in Batch').toEqual(scenario.jobEnds);
  assertRecovered(scenario, step, out);
}

/** The suite of the API table: a baseline per scenario, then every (step × fault kind). */
export function defineApiSuite(title: string, names: string[]): void {
  describe(title, () => {
    it.each(names)('makes the steps the table lists for %s, and without a fault answers and ends the run as expected', async (name) => {
      // Prepare
      const scenario = API_SCENARIOS[name]!;
      // Act
      const out = await runApiCase(scenario, `${name}-baseline`, undefined);
      // Assess
      expect(out.traces).toEqual([scenario.steps.map((s) => s.label)]);
      assertApiRecovered(scenario, undefined, out);
    });

    it.each(stepCases(API_SCENARIOS, names))('%s: after step %i (%s), a %s: the client repeats the request; one run, one job per attempt, nothing lost', async (name, step, _label, kind) => {
      // Prepare
      const scenario = API_SCENARIOS[name]!;
      // Act
      const out = await runApiCase(scenario, `${name}-${step}-${kind}`, { step, kind });
      // Assess
      assertApiRecovered(scenario, step, out);
    });
  });
}

/* ------------------------------------------------------------------ event triggers and batch windows */

/**
 * An event-trigger scenario: S3 `Object Created` events (events/s3/object-created.json, each
 * with its own id and key) delivered to the `trigger` function, each as an async invoke, in
 * order, one at a time; the trigger's idempotency key is the object key, so `deliveries` may
 * repeat a key (a second upload of the same object, or EventBridge delivering twice). With a
 * batch window the window's one-time close schedule fires at its end (the clock jumps past it
 * while settling); the sweeper closes a window whose close never came.
 *
 * The faulted invocation is one delivery (`trigger:<event id>`) or the window's close
 * (`close:<window>`). Every case must end with every distinct key in exactly one run (its
 * parameter lists), every run SUCCEEDED and finalized with one job per attempt, no window
 * left open and no Lambda retry waiting.
 */
export interface TriggerScenario {
  name: string;
  summary: string;
  /** Object keys, one delivery each, in order (ids evt-1, evt-2, ...). */
  deliveries: string[];
  batchWindow?: { seconds: number; maxEvents: number };
  /** The window's close schedule is lost after the deliveries; the faulted invocation is the sweep that closes the window. */
  closeLost?: true;
  invocation: string;
  steps: Step[];
  /** Runs without a fault (with a fault keys may move to a later window, so only "each key once" holds). */
  runs: number;
}

const TRIGGER_SCHEDULED = Date.parse('2025-03-01T00:00:00Z');
/** The window the deliveries fall in, for 10 s windows from the world's start. */
const FIRST_WINDOW = TRIGGER_SCHEDULED / 10_000;

/** startRun's steps for a new run of an `allow` schedule (a trigger's run, a window part's run). */
const START_STEPS = (what: string): Step[] => [
  { label: 'store.getScheduleState', what: 'startRun: read the schedule state (pause flag, overlap set)' },
  { label: 'store.putNewRun', what: `startRun: create ${what} (the id from the trigger and its key; the definition with it); the attempt READY with this invocation's lease` },
  RESERVE_SLOT,
  { label: 'batch.submitJob', what: 'SubmitJob (the lease holder, no lookup)' },
  { label: 'store.saveRun', what: 'record the job id, over the state this invocation wrote: no read' },
];

export const TRIGGER_SCENARIOS: Record<string, TriggerScenario> = {
  'trigger-event': {
    name: 'trigger-event',
    summary: 'no batch window: the delivery that starts the run for its key (then the same key delivered again)',
    deliveries: ['incoming/a.csv', 'incoming/a.csv'],
    invocation: 'trigger:evt-1',
    steps: START_STEPS('the run'),
    runs: 1,
  },
  'window-first': {
    name: 'window-first',
    summary: 'batch window of 10 s, 3 events a part: the first arrival (it counts itself, schedules the close, joins part 0)',
    deliveries: ['incoming/a.csv', 'incoming/b.csv', 'incoming/c.csv', 'incoming/d.csv', 'incoming/b.csv'],
    batchWindow: { seconds: 10, maxEvents: 3 },
    invocation: 'trigger:evt-1',
    steps: [
      { label: 'windowStore.countArrival', what: 'count the arrival on the window\'s head (created: n = 1, in the open-windows index)' },
      { label: 'windows.scheduleClose', what: 'the first arrival creates the one-time close schedule at the window\'s end' },
      { label: 'windowStore.addToPart', what: 'add the event to part 0 with its key\'s seen-marker (one transaction)' },
    ],
    runs: 2,
  },
  'window-fill': {
    name: 'window-fill',
    summary: 'batch window of 10 s, 3 events a part: the third arrival, which takes part 0\'s last slot, closes it and starts its run',
    deliveries: ['incoming/a.csv', 'incoming/b.csv', 'incoming/c.csv', 'incoming/d.csv', 'incoming/b.csv'],
    batchWindow: { seconds: 10, maxEvents: 3 },
    invocation: 'trigger:evt-3',
    steps: [
      { label: 'windowStore.countArrival', what: 'count the arrival on the window\'s head (n = 3)' },
      { label: 'windowStore.addToPart', what: 'add the event to part 0 with its key\'s seen-marker (one transaction)' },
      { label: 'windowStore.closePart', what: 'n = 3 takes part 0\'s last slot: close it, read its events' },
      ...START_STEPS('part 0\'s run (a, b, c)'),
    ],
    runs: 2,
  },
  'window-duplicate': {
    name: 'window-duplicate',
    summary: 'batch window of 10 s, 3 events a part: a key already collected arrives again (dropped)',
    deliveries: ['incoming/a.csv', 'incoming/b.csv', 'incoming/c.csv', 'incoming/d.csv', 'incoming/b.csv'],
    batchWindow: { seconds: 10, maxEvents: 3 },
    invocation: 'trigger:evt-5',
    steps: [
      { label: 'windowStore.countArrival', what: 'count the arrival on the window\'s head (n = 5)' },
      { label: 'windowStore.addToPart', what: 'add it to part 1: its key was seen already: a duplicate, nothing added' },
    ],
    runs: 2,
  },
  'window-close': {
    name: 'window-close',
    summary: 'batch window of 10 s, 3 events a part: the close at the window\'s end (part 0 started by its third arrival, part 1 holds d)',
    deliveries: ['incoming/a.csv', 'incoming/b.csv', 'incoming/c.csv', 'incoming/d.csv', 'incoming/b.csv'],
    batchWindow: { seconds: 10, maxEvents: 3 },
    invocation: `close:${FIRST_WINDOW}`,
    steps: [
      { label: 'windowStore.closeHead', what: 'mark the window closed (later arrivals go to the next window); read its head (n = 5)' },
      { label: 'windowStore.closePart', what: 'part 0: closed already (idempotent); its events' },
      { label: 'store.getScheduleState', what: 'startRun for part 0: read the schedule state' },
      { label: 'store.putNewRun', what: 'startRun for part 0: the run exists (its third arrival started it)' },
      { label: 'store.getRun', what: 'read part 0\'s run to continue it (nothing owed)' },
      { label: 'windowStore.closePart', what: 'part 1: close it, read its events (d)' },
      ...START_STEPS('part 1\'s run (d)'),
      { label: 'windowStore.retireWindow', what: 'every part has its run: out of the open-windows index' },
    ],
    runs: 2,
  },
  'window-sweep': {
    name: 'window-sweep',
    summary: 'batch window of 10 s, 3 events a part, two arrivals, its close schedule lost: the sweep that closes the window past its end and the grace',
    deliveries: ['incoming/a.csv', 'incoming/b.csv'],
    batchWindow: { seconds: 10, maxEvents: 3 },
    closeLost: true,
    invocation: 'sweep',
    steps: [
      LIST_ACTIVE,
      { label: 'windowStore.listOverdueWindows', what: 'batch windows past their end and the 60 s grace still open: this one' },
      { label: 'windowStore.closeHead', what: 'mark the window closed; read its head (n = 2)' },
      { label: 'windowStore.closePart', what: 'part 0: close it, read its events (a, b)' },
      ...START_STEPS('part 0\'s run (a, b)'),
      { label: 'windowStore.retireWindow', what: 'every part has its run: out of the open-windows index' },
    ],
    runs: 1,
  },
};

/** Ends after every window of these cases: the open-windows index holds none ending before it once all are closed. */
const EVERY_WINDOW = Date.parse('2100-01-01T00:00:00Z');

/** What a trigger case ended with. */
export interface TriggerOutcome {
  runs: RunItem[];
  /** Each run's keys (its `key` parameter: one key, or the JSON list of a window part). */
  keys: string[][];
  fired: boolean;
  traces: string[][];
  jobIds: string[];
  openWindows: number;
  pendingRetries: number;
}

/**
 * Runs a trigger scenario under `schedule` with `fault` (or none): the deliveries, then every
 * repair; in a world `makeWorld` makes (the in-memory stores by default).
 */
export async function runTriggerCase(
  scenario: TriggerScenario,
  schedule: string,
  fault: { step: number; kind: FaultKind } | undefined,
  makeWorld: () => Promise<CrashWorld> = () => CrashWorld.create(),
): Promise<TriggerOutcome> {
  const { readFileSync } = await import('node:fs');
  const { sweep } = await import('#shared/engine/sweep');
  const upload = JSON.parse(readFileSync(new URL('../../events/s3/object-created.json', import.meta.url), 'utf8')) as Record<string, any>;
  const w = await makeWorld();
  const def = definition(schedule, [task('main')]);
  const settings = {
    parameters: { key: '$.detail.object.key' },
    idempotencyKey: '$.detail.object.key',
    ...(scenario.batchWindow ? { batchWindow: scenario.batchWindow } : {}),
  };
  w.arm(fault && { schedule, invocation: scenario.invocation, label: scenario.steps[fault.step - 1]!.label, step: fault.step, kind: fault.kind });
  for (const [i, key] of scenario.deliveries.entries()) {
    const event = { ...upload, id: `evt-${i + 1}`, time: new Date(w.now).toISOString(), detail: { ...upload.detail, object: { ...upload.detail.object, key } } };
    w.accept('trigger', { schedule, trigger: 0, settings, definition: def, event });
    await w.quiet();
  }
  if (scenario.closeLost) {
    // The close schedule is lost; the next rate fire of the sweeper comes after the window's end and the grace.
    for (const name of w.schedules()) w.deleteSchedule(name);
    w.advance(scenario.batchWindow!.seconds * 1000 + WINDOW_REPAIR_GRACE_MS + 1_000);
    w.invokeSweep(schedule);
    await w.quiet();
  }
  // Every repair: Lambda's retries, window closes, job events, the sweeper (which closes overdue windows).
  const listed = async () => (await w.store.listRunsBySchedule(schedule, { limit: 100 })).items.map((i) => i.summary.runId);
  for (let round = 0; round < 10; round++) {
    await w.quiet();
    await w.deliverEvents();
    const runs = await Promise.all((await listed()).map((id) => w.run(id)));
    const open = await w.windowStore.listOverdueWindows(EVERY_WINDOW);
    if (round > 0 && runs.every((r) => r?.finalized) && open.length === 0 && w.pendingRetries() === 0 && w.schedules().length === 0) break;
    w.advance(121_000);
    await w.quiet();
    await w.deliverEvents();
    await sweep(w.deps(`sweeper-${round}`));
  }
  await w.quiet();
  const runs = (await Promise.all((await listed()).map((id) => w.run(id)))).filter((r): r is RunItem => r !== undefined);
  const keysOf = (run: RunItem): string[] => {
    const value = run.parameters.key ?? '';
    return scenario.batchWindow ? (JSON.parse(value) as string[]) : [value];
  };
  return {
    runs,
    keys: runs.map(keysOf),
    fired: w.fired,
    traces: tracesOf(w, schedule, scenario.invocation),
    jobIds: w.jobsOf(schedule).map((j) => j.jobId),
    openWindows: (await w.windowStore.listOverdueWindows(EVERY_WINDOW)).length,
    pendingRetries: w.pendingRetries(),
  };
}

/** Every distinct key in exactly one run, every run SUCCEEDED and finalized with one job per attempt, nothing left open. */
export function assertTriggerRecovered(scenario: TriggerScenario, step: number | undefined, out: TriggerOutcome): void {
  if (step !== undefined) expect(out.fired, 'the fault was injected').toBe(true);
  const distinct = [...new Set(scenario.deliveries)].sort();
  expect(out.keys.flat().sort(), 'each key in exactly one run').toEqual(distinct);
  for (const run of out.runs) {
    expect(run.status, `run ${run.runId}`).toBe('SUCCEEDED');
    expect(run.finalized, `run ${run.runId} is finalized`).toBe(true);
    expect(attemptsOf(run)).toEqual({ main: ['SUCCEEDED'] });
  }
  const recorded = out.runs.flatMap(jobIdsOf);
  expect([...out.jobIds].sort(), 'one Batch job per attempt, each the one recorded').toEqual([...recorded].sort());
  expect(out.openWindows, 'batch windows left open').toBe(0);
  expect(out.pendingRetries, 'Lambda retries still waiting').toBe(0);
}

/** The suite of the trigger table: a baseline per scenario, then every (step × fault kind). */
export function defineTriggerSuite(title: string, names: string[]): void {
  describe(title, () => {
    it.each(names)('makes the steps the table lists for %s, and without a fault starts one run per key or window part', async (name) => {
      // Prepare
      const scenario = TRIGGER_SCENARIOS[name]!;
      // Act
      const out = await runTriggerCase(scenario, `${name}-baseline`, undefined);
      // Assess
      expect(out.traces[0]).toEqual(scenario.steps.map((s) => s.label));
      expect(out.runs.length, 'runs').toBe(scenario.runs);
      assertTriggerRecovered(scenario, undefined, out);
    });

    it.each(stepCases(TRIGGER_SCENARIOS, names))('%s: after step %i (%s), a %s still puts every key in exactly one run', async (name, step, _label, kind) => {
      // Prepare
      const scenario = TRIGGER_SCENARIOS[name]!;
      // Act
      const out = await runTriggerCase(scenario, `${name}-${step}-${kind}`, { step, kind });
      // Assess
      assertTriggerRecovered(scenario, step, out);
    });
  });
}
