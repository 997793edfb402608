/**
 * Cross-schedule dependencies on DynamoDB Local: the conditional writes that make one run per
 * logical date hold on the real store when upstream outcomes arrive at the same moment.
 * The logic itself is covered on the memory store (test/unit/engine-dependencies.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dependencyRunId } from '#shared/engine/dependencies';
import { sweep } from '#shared/engine/sweep';
import { dynamoStore } from '#shared/store/dynamo';
import type { StoreDeps } from '#shared/store/runs';
import { assertRetryChain, dependencyBench, playRetryChain, retryChain } from '#test/helpers/dependencies';
import { useDynamoLocal } from '#test/helpers/dynamodb-local';

const ddb = useDynamoLocal();
let store: StoreDeps;
const T0 = Date.parse('2026-11-30T02:00:00Z');
const DAY = '2026-11-30';
const job = { definition: 'sh' };

beforeAll(async () => {
  store = { doc: ddb.doc, table: await ddb.table(`engine-dependencies-${process.pid}`, 'all') };
});

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
    // Prepare: the chain of the memory-store test (test/unit/engine-dependencies.test.ts), on DynamoDB Local.
    const chain: [string, string, string] = ['a2', 'b2', 'c2'];
    const e = dependencyBench(retryChain(chain), dynamoStore(store), T0);
    // Act
    await playRetryChain(e, chain, T0);
    // Assess
    await assertRetryChain(e, chain, DAY);
  });
});
