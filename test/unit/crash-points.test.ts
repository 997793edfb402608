/**
 * Crash points of `fire`, `retry` and `job-events` (RUNNING, a successor, the retry wait, a
 * run's end under overlap allow and skip, a failure with its Slack message): for every step
 * (the port calls each invocation makes, in order), the invocation dies, throws or times out
 * right after it; Lambda's async retries, the retry schedules and the sweeper then finish
 * the run with exactly one Batch job per attempt and nothing lost. The real handlers on the
 * in-memory stores with in-process Batch, Scheduler, Lambda and Slack
 * (test/helpers/crash-world.ts); the tables are in test/helpers/crash-points.ts, written up
 * in docs/crash-points.md.
 */
import { defineCrashSuite } from '#test/helpers/crash-points';

defineCrashSuite('crash points of fire and retry', ['fire', 'retry']);
defineCrashSuite('crash points of job-events moving a run forward', ['running', 'successor', 'retry-wait']);
defineCrashSuite('crash points of job-events ending a run', ['end-allow', 'end-skip']);
defineCrashSuite('crash points of job-events failing a run', ['failure']);
