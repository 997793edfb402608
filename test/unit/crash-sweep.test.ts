/**
 * Crash points of `sweep` itself: a run only the sweeper can move on (its job events all
 * dropped, its retry schedule lost, a queue-one waiter nobody started, a job RUNNING past its
 * stuck limit); the sweep invocation is faulted right after each of its steps, then the next
 * rate fire (a second sweep) must complete the repair with exactly one Batch job per attempt.
 * The real sweep handler in process (test/helpers/crash-world.ts); tables in
 * test/helpers/crash-points.ts, written up in docs/crash-points.md.
 */
import { defineSweepSuite } from '#test/helpers/crash-points';

defineSweepSuite('crash points of sweep repairing a run whose events were dropped', ['sweep-end', 'sweep-successor']);
defineSweepSuite('crash points of the sweeper\'s own repairs', ['sweep-retry', 'sweep-held', 'sweep-stuck']);
