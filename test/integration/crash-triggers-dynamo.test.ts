/**
 * Crash points of the event-trigger path on the DynamoDB stores: the in-process world of
 * test/unit/crash-triggers.test.ts (the real `trigger` and `sweep` handlers, in-process
 * Batch, Scheduler and Lambda) with its run store and window store on DynamoDB Local
 * (shared/store/dynamo.ts, windows.ts) instead of in memory. A representative set of the
 * trigger table (after an arrival is counted, a duplicate's add, a part's close, the head's
 * close, the overdue listing; each fault kind; the retirement ends the baseline),
 * proves the DynamoDB window items keep what the in-memory ones do under faults: every event
 * key in exactly one run, nothing doubled, no window left open. One table per case: the
 * SubmitJob pacer is one item per table, and each case's clock starts at the same instant.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { dynamoStore } from '#shared/store/dynamo';
import { dynamoWindowStore } from '#shared/store/windows';
import { CrashWorld, type FaultKind } from '#test/helpers/crash-world';
import { assertTriggerRecovered, runTriggerCase, TRIGGER_SCENARIOS } from '#test/helpers/crash-points';
import { createEngineTable } from '#test/helpers/engine';

let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tables = 0;

beforeAll(() => {
  client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(() => client?.destroy());

/** A world whose stores are on a fresh DynamoDB Local table. */
async function dynamoWorld(): Promise<CrashWorld> {
  const table = `crash-triggers-${process.pid}-${++tables}`;
  await createEngineTable(client, table);
  return CrashWorld.create({ store: dynamoStore({ doc, table }), windowStore: dynamoWindowStore({ doc, table }) });
}

const CASES: [scenario: string, step: number, kind: FaultKind][] = [
  ['window-first', 1, 'crash'],
  ['window-fill', 3, 'exception'],
  ['window-duplicate', 2, 'timeout'],
  ['window-close', 1, 'timeout'],
  ['window-sweep', 2, 'exception'],
];

describe('crash points of event triggers and batch windows on DynamoDB Local', () => {
  it('makes the steps the table lists for window-close on the DynamoDB stores, and without a fault starts one run per window part', async () => {
    // Prepare
    const scenario = TRIGGER_SCENARIOS['window-close']!;
    // Act
    const out = await runTriggerCase(scenario, 'window-close-baseline', undefined, dynamoWorld);
    // Assess
    expect(out.traces[0]).toEqual(scenario.steps.map((s) => s.label));
    expect(out.runs.length).toBe(scenario.runs);
    assertTriggerRecovered(scenario, undefined, out);
  });

  it.each(CASES)('%s: after step %i, a %s still puts every key in exactly one run', async (name, step, kind) => {
    // Prepare
    const scenario = TRIGGER_SCENARIOS[name]!;
    // Act
    const out = await runTriggerCase(scenario, `${name}-${step}-${kind}`, { step, kind }, dynamoWorld);
    // Assess
    assertTriggerRecovered(scenario, step, out);
  });
});
