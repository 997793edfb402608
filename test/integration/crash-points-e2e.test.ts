/**
 * Crash points end to end: a representative set of the crash-point cases on DynamoDB Local,
 * the local stack and real job processes (crash-points.helpers.ts), where each step is a
 * DynamoDB request, a Batch or Scheduler call or a Slack post as the functions really make
 * it. Every case of the tables also runs in process, in milliseconds, on the in-memory stores
 * (test/unit/crash-*.test.ts); these prove what the in-process world cannot:
 *
 * - the DynamoDB mapping: the run definition item is its own request before the conditional
 *   create (`put-definition`), a step only the DynamoDB store has, faulted in every scenario
 *   that creates a run (fire, a queue-one waiter, a skipped third fire, cancel-previous with
 *   the previous job ended and running, the API's start), × crash, exception, timeout;
 * - one case per function and fault kind with real processes, the local Lambda's timeouts and
 *   async retries, the local Scheduler's at() schedules and the adoption of a job by its name
 *   (ListJobs) after a crash right after SubmitJob.
 * See docs/crash-points.md ("End to end") and docs/testing.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHandler } from '#local/lambda';
import {
  API_SCENARIOS,
  OVERLAP_SCENARIOS,
  SCENARIOS,
  SWEEP_SCENARIOS,
  TWO_FAULT_SCENARIOS,
  assertApiRecovered,
  assertOverlapRecovered,
  assertRecovered,
  runApiCase,
  runCase,
  runOverlapCase,
  runSweepCase,
  runTwoFaultCase,
  startCrashHarness,
  type ApiClient,
  type CrashHarness,
  type FaultKind,
} from './crash-points.helpers.ts';

let h: CrashHarness;
let sweepHandler: LocalHandler;
let api: ApiClient;

beforeAll(async () => {
  h = await startCrashHarness(500);
  sweepHandler = (await import('#functions/sweep')).createHandler(h.depsFor);
  api = await h.startApi();
});

afterAll(async () => {
  await h?.dispose();
  await h?.engine.stop();
});

type Case = [table: 'single' | 'overlap' | 'sweep' | 'api' | 'two', scenario: string, step: number, kind: FaultKind];

/** The step of a table's scenario by label: the `put-definition` request, only the DynamoDB store makes it. */
const PUT_DEFINITION: Case[] = [
  ...(['crash', 'exception', 'timeout'] as FaultKind[]).flatMap((kind): Case[] => [
    ['single', 'fire', 2, kind],
    ['overlap', 'queue-one-fire', 2, kind],
    ['overlap', 'cancel-previous', 2, kind],
    ['overlap', 'queue-one-second-waiter', 2, kind],
    ['overlap', 'cancel-previous-running', 2, kind],
    ['api', 'api-start', 2, kind],
  ]),
];

/** One case per function and fault kind, with real processes and the local services. */
const REPRESENTATIVE: Case[] = [
  // fire dies right after SubmitJob: the job is adopted from its RUNNING event's tags.
  ['single', 'fire', 5, 'crash'],
  // The local Lambda times the retry out right after SubmitJob (500 ms); its async retry finishes.
  ['single', 'retry', 4, 'timeout'],
  ['single', 'successor', 4, 'exception'],
  // The local Scheduler's one-time retry schedule created, then the invocation dies.
  ['single', 'retry-wait', 2, 'crash'],
  ['single', 'end-allow', 5, 'timeout'],
  // Posted to the Slack capture server, the answer lost: the message goes out twice.
  ['single', 'failure', 5, 'exception'],
  ['overlap', 'queue-one-promote', 4, 'crash'],
  // TerminateJob kills the parked job's real process, then the invocation times out.
  ['overlap', 'cancel-previous-running', 9, 'timeout'],
  ['overlap', 'recovery', 8, 'crash'],
  // The sweep function itself, after the last shard of the active-index Query and after SubmitJob.
  ['sweep', 'sweep-end', 16, 'exception'],
  ['sweep', 'sweep-successor', 22, 'crash'],
  ['api', 'api-cancel', 3, 'crash'],
  // Lambda's retry of a dead successor submit dies right after SubmitJob: the next driver
  // finds b's job by name (ListJobs on the local Batch) and adopts it.
  ['two', 'successor-twice', 6, 'crash'],
];

async function runAndAssert([table, name, step, kind]: Case): Promise<void> {
  const schedule = `${name}-${step}-${kind}`;
  switch (table) {
    case 'single': {
      const scenario = SCENARIOS[name]!;
      const out = await runCase(h, scenario, schedule, { step, kind });
      return assertRecovered(scenario, step, out);
    }
    case 'overlap': {
      const scenario = OVERLAP_SCENARIOS[name]!;
      const out = await runOverlapCase(h, scenario, schedule, { step, kind });
      return assertOverlapRecovered(scenario, step, out);
    }
    case 'sweep': {
      const scenario = SWEEP_SCENARIOS[name]!;
      const out = await runSweepCase(h, sweepHandler, scenario, schedule, { step, kind });
      expect(out.afterSecondSweep && scenario.repaired(out.afterSecondSweep), 'repaired by the second sweep').toBe(true);
      return assertRecovered(scenario, step, out);
    }
    case 'api': {
      const scenario = API_SCENARIOS[name]!;
      const out = await runApiCase(h, api, scenario, schedule, { step, kind });
      return assertApiRecovered(scenario, step, out);
    }
    case 'two': {
      const scenario = TWO_FAULT_SCENARIOS[name]!;
      const out = await runTwoFaultCase(h, scenario, schedule, { step, kind });
      const base = SCENARIOS[scenario.base]!;
      return assertRecovered(
        { ...base, invocation: scenario.second.invocation, steps: scenario.second.steps, expect: { ...base.expect, slack: scenario.slack ?? base.expect.slack } },
        step,
        out,
      );
    }
  }
}

describe('crash points end to end on DynamoDB Local and the local stack', () => {
  it('makes the DynamoDB requests the table lists for fire, and without a fault ends the run as expected', async () => {
    // Prepare
    const scenario = SCENARIOS.fire!;
    // Act
    const from = h.traces.length;
    const out = await runCase(h, scenario, 'fire-baseline', undefined);
    // Assess
    const traces = h.traces.slice(from).filter((t) => t.schedule === 'fire-baseline' && t.invocation === 'fire');
    expect(traces.map((t) => t.steps)).toEqual([scenario.steps.map((s) => s.label)]);
    assertRecovered(scenario, undefined, out);
  });

  it.each(PUT_DEFINITION)('%s %s: after step %i (put-definition, the definition item before the conditional create), a %s still ends with one job per attempt', async (...c) => {
    await runAndAssert(c);
  });

  it.each(REPRESENTATIVE)('%s %s: after step %i, a %s still ends with one job per attempt and nothing lost', async (...c) => {
    await runAndAssert(c);
  });
});
