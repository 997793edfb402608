/**
 * Property: a run whose events are dropped, delayed past sweeps, shuffled and duplicated,
 * with lost retry schedules too, ends (once the sweeper has repaired what was lost) in the
 * same state as the same run delivered in order, losslessly, once each. The sweeper learns
 * what the events did not say from DescribeJobs, answered by the simulated Batch
 * (test/helpers/event-sim.ts, shared with engine-events-property.test.ts), on the in-memory
 * store (the DynamoDB store's contract: test/integration/store-contract.test.ts).
 *
 * "In order" replays the chaos run's decisive facts (first terminal fact of each job, from
 * an event or from the sweeper; each retry start, from its schedule or from the sweeper) in
 * the order they happened, for the reason engine-events-property.test.ts gives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '#shared/store/memory';
import { chaosPolicy, execute, orderedPick, project, scenario } from '#test/helpers/event-sim';

const orderedStore = memoryStore();

// Out of reach of the sweeper's clock jumps: a stuck alert is not what is compared here.
const NO_STUCK = {
  notify: { onFailure: true, onRecovery: true, stuckAfterMinutes: { queued: 100_000, submitted: 100_000, running: 100_000 } },
};

const chaos = fc.record({
  run: scenario,
  dropRate: fc.constantFrom(0.2, 0.5, 1),
  sweepRate: fc.constantFrom(0, 0.1, 0.3),
});

let counter = 0;

describe('event chaos repaired by the sweeper', () => {
  it('ends a run whose events were dropped, delayed, shuffled and duplicated in the state an ordered lossless stream gives', async () => {
    await fc.assert(
      fc.asyncProperty(chaos, async ({ run: s, dropRate, sweepRate }) => {
        // Prepare: the chaos run gets a store of its own, so its sweeps see no other run.
        const id = ++counter;
        const { random, pick, duplicate } = chaosPolicy(s);
        // Act
        const lossy = await execute(
          `chaos${id}`,
          s,
          pick,
          duplicate,
          { store: memoryStore(), drop: () => random() < dropRate, sweepNow: () => random() < sweepRate, definition: NO_STUCK },
        );
        const ordered = await execute(`ordered${id}`, s, orderedPick(lossy.order), () => false, { store: orderedStore, definition: NO_STUCK });
        // Assess
        expect(lossy.run.finalized).toBe(true);
        expect(project(lossy.run)).toEqual(project(ordered.run));
        expect(lossy.jobs.length).toBe(ordered.jobs.length);
        expect(new Set(lossy.jobs).size).toBe(lossy.jobs.length);
        expect(lossy.notifier.sent.map((m) => m.kind).sort()).toEqual(ordered.notifier.sent.map((m) => m.kind).sort());
        expect(lossy.notifier.sent.filter((m) => m.kind === 'failure').length).toBe(lossy.run.status === 'FAILED' ? 1 : 0);
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
