/**
 * Crash points of `job-events` that move a run forward: a RUNNING event, a success that
 * submits the successor, a failure that schedules the retry. See crash-points.test.ts.
 */
import { defineCrashSuite } from './crash-points.helpers.ts';

defineCrashSuite('crash points of job-events moving a run forward', ['running', 'successor', 'retry-wait']);
