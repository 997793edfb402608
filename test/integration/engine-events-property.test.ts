/**
 * Property: a run's events delivered shuffled, duplicated and out of order end in the same
 * state as the same events delivered in order, once each. Runs against DynamoDB Local (the
 * run's shared instance) through the real store and engine; Batch is simulated in memory
 * (it is not what is under test here, and thousands of interleavings cannot each start
 * processes), emitting real-shaped Job State Change events parsed by the real schema.
 *
 * "In order" keeps the chaos run's order of *decisive* deliveries (the first terminal event
 * of each job, each retry firing): two independent branches racing (one fails while the
 * other's success would release a dependent) legitimately end differently depending on
 * which is first, in any scheduler; what must never matter is duplicates, a RUNNING after a
 * SUCCEEDED, stale attempts, or how the non-decisive events interleave.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createEngineTable } from '#test/helpers/engine';
import { chaosPolicy, execute, orderedPick, project, scenario } from '#test/helpers/event-sim';

const table = `engine-prop-${process.pid}`;
let client: DynamoDBClient;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  await createEngineTable(client, table);
});

afterAll(() => client?.destroy());

let counter = 0;

describe('event order independence', () => {
  it('ends a run in the same state whether its events come shuffled and duplicated or in order', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const id = ++counter;
        // Act: chaos first (random picks, duplicates), then the ordered replay of its decisions.
        const { pick, duplicate } = chaosPolicy(s);
        const chaos = await execute(`chaos${id}`, s, pick, duplicate, { doc, table });
        // RUNNING before anything decisive; decisive items in the chaos run's order.
        const ordered = await execute(`ordered${id}`, s, orderedPick(chaos.order), () => false, { doc, table });
        // Assess
        expect(project(chaos.run)).toEqual(project(ordered.run));
        expect(chaos.jobs.length).toBe(ordered.jobs.length);
        expect(new Set(chaos.jobs).size).toBe(chaos.jobs.length);
        expect(chaos.notifier.sent.length).toBe(ordered.notifier.sent.length);
        expect(chaos.notifier.sent.filter((m) => m.kind === 'failure').length).toBe(chaos.run.status === 'FAILED' ? 1 : 0);
        expect(chaos.run.finalized).toBe(true);
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
