/**
 * Cross-schedule dependencies on DynamoDB Local: the conditional writes that make one run per
 * logical date hold on the real store when upstream outcomes arrive at the same moment.
 * The logic itself is covered on the memory store (test/unit/engine-dependencies.test.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { dependencyRunId } from '#shared/engine/dependencies';
import { resumeRetry } from '#shared/engine/retry';
import { sweep } from '#shared/engine/sweep';
import { dynamoStore } from '#shared/store/dynamo';
import type { StoreDeps } from '#shared/store/runs';
import { dependencyBench } from '#test/helpers/dependencies';
import { createEngineTable } from '#test/helpers/engine';

let client: DynamoDBClient;
let store: StoreDeps;
const T0 = Date.parse('2026-11-30T02:00:00Z');
const DAY = '2026-11-30';
const job = { definition: 'sh' };

beforeAll(async () => {
  client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  store = { doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), table: `engine-dependencies-${process.pid}` };
  await createEngineTable(client, store.table, 'all');
});

afterAll(() => client?.destroy());

describe('cross-schedule dependencies (DynamoDB Local)', () => {
  it('submits a fan-in once when both upstreams end at the same moment, each end delivered three times at once', async () => {
    // Prepare: no time of its own, so whichever upstream ends first creates the waiting run.
    const e = dependencyBench(
      {
        orders: { expression: 'cron(0 2 * * ? *)', job },
        customers: { expression: 'cron(0 2 * * ? *)', job },
        report: { after: [{ schedule: 'orders' }, { schedule: 'customers' }], job },
      },
      dynamoStore(store),
      T0,
    );
    await Promise.all([e.fire('orders', T0), e.fire('customers', T0)]);
    // Act
    await Promise.all([e.finish('orders', 'SUCCEEDED', 3), e.finish('customers', 'SUCCEEDED', 3)]);
    await sweep(e.deps);
    // Assess
    const runs = await e.runsOf('report');
    expect(runs.map((r) => [r.runId, r.status, r.held ?? false])).toEqual([[dependencyRunId('report', DAY), 'SUBMITTED', false]]);
    expect(Object.keys(runs[0]!.dependency!.met).sort()).toEqual(['customers', 'orders']);
    expect(e.submittedFor('report')).toBe(1);
  });

  it('runs B and C once for the date when A fails once and its retry succeeds', async () => {
    // Prepare
    const e = dependencyBench(
      {
        a2: { expression: 'cron(0 2 * * ? *)', job, retry: { attempts: 2, backoff: { initialSeconds: 10, jitter: 'none' } } },
        b2: { after: [{ schedule: 'a2' }], job },
        c2: { after: [{ schedule: 'b2' }], job },
      },
      dynamoStore(store),
      T0,
    );
    await e.fire('a2', T0);
    // Act
    await e.finish('a2', 'FAILED', 2);
    e.clock.now += 10_000;
    await resumeRetry(e.retries[0]!, e.deps);
    await e.finish('a2', 'SUCCEEDED', 2);
    await e.finish('b2', 'SUCCEEDED', 2);
    await e.finish('c2', 'SUCCEEDED', 2);
    await sweep(e.deps);
    // Assess
    for (const schedule of ['b2', 'c2']) {
      expect((await e.runsOf(schedule)).map((r) => [r.runId, r.status])).toEqual([[dependencyRunId(schedule, DAY), 'SUCCEEDED']]);
      expect(e.submittedFor(schedule)).toBe(1);
    }
  });
});
