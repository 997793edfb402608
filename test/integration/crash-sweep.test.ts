/**
 * Crash points of `sweep` itself: a run whose job events were all dropped (only the sweeper
 * can move it on), the sweep invocation faulted right after each of its steps, then the next
 * rate fire (a second sweep) completes the repair with exactly one Batch job per attempt.
 * See crash-points.test.ts and docs/crash-points.md.
 */
import { defineSweepSuite } from './crash-points.helpers.ts';

defineSweepSuite('crash points of sweep repairing a run whose events were dropped', ['sweep-end', 'sweep-successor']);
