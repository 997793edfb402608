/**
 * Crash points end to end: a representative set of the crash-point tables
 * (test/helpers/crash-points.ts, the same scenarios, runners and assertions as in process)
 * run on DynamoDB Local, the local stack and real job processes (`StackWorld`,
 * crash-points.helpers.ts). Every case of the tables also runs in process, in milliseconds,
 * on the in-memory stores (test/unit/crash-*.test.ts); these prove what the in-process world
 * cannot:
 *
 * - the DynamoDB mapping: the first run of a definition writes the definition item in a
 *   request of its own before the conditional create (`put-definition`), a step only the
 *   DynamoDB store has, faulted in every scenario whose faulted invocation creates its
 *   schedule's first run, × crash, exception, timeout; a later run writes none (the overlap
 *   scenarios' traces have no such step);
 * - one case per function and fault kind with real processes, the local Lambda's timeouts and
 *   async retries, the local Scheduler's at() schedules and the adoption of a job by its name
 *   (ListJobs) after a crash right after SubmitJob.
 * See docs/crash-points.md ("End to end") and docs/testing.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_SCENARIOS,
  FAULT_KINDS,
  OVERLAP_SCENARIOS,
  SCENARIOS,
  SWEEP_SCENARIOS,
  TWO_FAULT_SCENARIOS,
  assertApiRecovered,
  assertOverlapRecovered,
  assertRecovered,
  assertSweepRecovered,
  runApiCase,
  runCase,
  runOverlapCase,
  runSweepCase,
  runTwoFaultCase,
  secondFaultScenario,
  type FaultKind,
  type Step,
} from '#test/helpers/crash-points';
import { StackWorld, definitionPuts, dynamoStep, onDynamo } from './crash-points.helpers.ts';

let w: StackWorld;

beforeAll(async () => {
  w = await StackWorld.start(500);
});

afterAll(async () => {
  await w?.dispose();
});

/** The tables a case is picked from, and the steps of each scenario's faulted invocation. */
const TABLES = {
  single: SCENARIOS,
  overlap: OVERLAP_SCENARIOS,
  sweep: SWEEP_SCENARIOS,
  api: API_SCENARIOS,
  two: Object.fromEntries(Object.entries(TWO_FAULT_SCENARIOS).map(([name, s]) => [name, { steps: s.second.steps }])),
} satisfies Record<string, Record<string, { steps: Step[] }>>;

type Table = keyof typeof TABLES;

/** A case: a scenario of a table and a step as the DynamoDB store numbers it (`onDynamo`), its label, a fault kind. */
type Case = [table: Table, scenario: string, step: number, label: string, kind: FaultKind];

/**
 * Whether a table's faulted invocation creates its schedule's first run (so writes the
 * definition item): an overlap scenario's run A is always fired first.
 */
const firstRun = (table: Table): boolean => table !== 'overlap';

/** A case by the step number of its table (docs/crash-points.md). */
function tableCase(table: Table, name: string, step: number, kind: FaultKind): Case {
  const scenario = TABLES[table][name]!;
  return [table, name, dynamoStep(scenario, step, firstRun(table)), scenario.steps[step - 1]!.label, kind];
}

/** `put-definition`, in every scenario whose faulted invocation creates a schedule's first run (the DynamoDB-only step: see crash-points.helpers.ts). */
const PUT_DEFINITION: Case[] = (['single', 'overlap', 'api'] as const).flatMap((table) =>
  Object.entries(TABLES[table]).flatMap(([name, scenario]) =>
    definitionPuts(scenario, firstRun(table)).flatMap((step) => FAULT_KINDS.map((kind): Case => [table, name, step, 'put-definition', kind])),
  ),
);

/** One case per function and fault kind, with real processes and the local services. */
const REPRESENTATIVE: Case[] = [
  // fire dies right after SubmitJob: the job is adopted from its RUNNING event's tags.
  tableCase('single', 'fire', 4, 'crash'),
  // The local Lambda times the retry out right after SubmitJob (500 ms); its async retry finishes.
  tableCase('single', 'retry', 4, 'timeout'),
  tableCase('single', 'successor', 4, 'exception'),
  // The local Scheduler's one-time retry schedule created, then the invocation dies.
  tableCase('single', 'retry-wait', 2, 'crash'),
  tableCase('single', 'end-allow', 5, 'timeout'),
  // Posted to the Slack capture server, the answer lost: the message goes out twice.
  tableCase('single', 'failure', 5, 'exception'),
  tableCase('overlap', 'queue-one-promote', 4, 'crash'),
  // TerminateJob kills the parked job's real process, then the invocation times out.
  tableCase('overlap', 'cancel-previous-running', 8, 'timeout'),
  tableCase('overlap', 'recovery', 8, 'crash'),
  // The sweep function itself, after the 16 shard queries of the active index and after SubmitJob.
  tableCase('sweep', 'sweep-end', 1, 'exception'),
  tableCase('sweep', 'sweep-successor', 7, 'crash'),
  tableCase('api', 'api-cancel', 3, 'crash'),
  // Lambda's retry of a dead successor submit dies right after SubmitJob: the next driver
  // finds b's job by name (ListJobs on the local Batch) and adopts it.
  tableCase('two', 'successor-twice', 6, 'crash'),
];

async function runAndAssert([table, name, step, , kind]: Case): Promise<void> {
  const schedule = `${name}-${step}-${kind}`;
  switch (table) {
    case 'single': {
      const scenario = onDynamo(SCENARIOS[name]!, firstRun(table));
      return assertRecovered(scenario, step, await runCase(w, scenario, schedule, { step, kind }));
    }
    case 'overlap': {
      const scenario = onDynamo(OVERLAP_SCENARIOS[name]!, firstRun(table));
      return assertOverlapRecovered(scenario, step, await runOverlapCase(w, scenario, schedule, { step, kind }));
    }
    case 'sweep': {
      const scenario = onDynamo(SWEEP_SCENARIOS[name]!, firstRun(table));
      return assertSweepRecovered(scenario, step, await runSweepCase(w, scenario, schedule, { step, kind }));
    }
    case 'api': {
      const scenario = onDynamo(API_SCENARIOS[name]!, firstRun(table));
      return assertApiRecovered(scenario, step, await runApiCase(w, scenario, schedule, { step, kind }));
    }
    case 'two': {
      const scenario = TWO_FAULT_SCENARIOS[name]!;
      return assertRecovered(secondFaultScenario(scenario), step, await runTwoFaultCase(w, scenario, schedule, { step, kind }));
    }
  }
}

describe('crash points end to end on DynamoDB Local and the local stack', () => {
  it('makes the steps the table lists for fire, with the definition put, and without a fault ends the run as expected', async () => {
    // Prepare
    const scenario = onDynamo(SCENARIOS.fire!);
    // Act
    const out = await runCase(w, scenario, 'fire-baseline', undefined);
    // Assess
    expect(out.traces).toEqual([scenario.steps.map((s) => s.label)]);
    assertRecovered(scenario, undefined, out);
  });

  it('makes the steps the table lists for queue-one-fire (run B), with no definition put: run A of the same definition wrote it', async () => {
    // Prepare
    const scenario = onDynamo(OVERLAP_SCENARIOS['queue-one-fire']!, firstRun('overlap'));
    // Act
    const out = await runOverlapCase(w, scenario, 'queue-one-fire-baseline', undefined);
    // Assess
    expect(out.traces).toEqual([scenario.steps.map((s) => s.label)]);
    expect(out.traces[0]).not.toContain('put-definition');
    assertOverlapRecovered(scenario, undefined, out);
  });

  it.each(PUT_DEFINITION)('%s %s: after step %i (%s, the definition item before the conditional create), a %s still ends with one job per attempt', async (...c) => {
    await runAndAssert(c);
  });

  it.each(REPRESENTATIVE)('%s %s: after step %i (%s), a %s still ends with one job per attempt and nothing lost', async (...c) => {
    await runAndAssert(c);
  });
});
