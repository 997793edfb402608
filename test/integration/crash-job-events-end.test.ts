/**
 * Crash points of `job-events` ending a successful run: settle, release the overlap slot,
 * finalize (overlap allow and skip). See crash-points.test.ts.
 */
import { defineCrashSuite } from './crash-points.helpers.ts';

defineCrashSuite('crash points of job-events ending a run', ['end-allow', 'end-skip']);
