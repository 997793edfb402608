/**
 * Crash points of `fire` and `retry`: for every step (the port calls each makes, in order),
 * the invocation dies, throws or times out right after it; Lambda's async retries and the
 * sweeper then finish the run with exactly one Batch job per attempt and nothing lost.
 * The table is data (crash-points.helpers.ts), written up in docs/crash-points.md;
 * job-events' steps are in crash-job-events*.test.ts (one stack per file, run in parallel).
 */
import { defineCrashSuite } from './crash-points.helpers.ts';

defineCrashSuite('crash points of fire and retry', ['fire', 'retry']);
