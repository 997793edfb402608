/**
 * Property: a run's events delivered shuffled, duplicated and out of order end in the same
 * state as the same events delivered in order, once each. Runs the real engine on the
 * in-memory store (held to the DynamoDB store's contract by
 * test/integration/store-contract.test.ts; end to end on DynamoDB Local, the crash-point
 * suites deliver the same events to the real handlers); Batch is simulated in memory
 * (it is not what is under test here, and thousands of interleavings cannot each start
 * processes), emitting real-shaped Job State Change events parsed by the real schema.
 *
 * "In order" keeps the chaos run's order of *decisive* deliveries (the first terminal event
 * of each job, each retry firing): two independent branches racing (one fails while the
 * other's success would release a dependent) legitimately end differently depending on
 * which is first, in any scheduler; what must never matter is duplicates, a RUNNING after a
 * SUCCEEDED, stale attempts, or how the non-decisive events interleave.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '#shared/store/memory';
import { chaosPolicy, execute, orderedPick, project, scenario } from '#test/helpers/event-sim';

let counter = 0;

describe('event order independence', () => {
  it('ends a run in the same state whether its events come shuffled and duplicated or in order', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const id = ++counter;
        // Act: chaos first (random picks, duplicates), then the ordered replay of its decisions.
        const { pick, duplicate } = chaosPolicy(s);
        const store = memoryStore();
        const chaos = await execute(`chaos${id}`, s, pick, duplicate, { store });
        // RUNNING before anything decisive; decisive items in the chaos run's order.
        const ordered = await execute(`ordered${id}`, s, orderedPick(chaos.order), () => false, { store });
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
