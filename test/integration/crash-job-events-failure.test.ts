/**
 * Crash points of `job-events` failing a run: the failure message to Slack (claim, send,
 * record), overlap release and finalization. See crash-points.test.ts.
 */
import { defineCrashSuite } from './crash-points.helpers.ts';

defineCrashSuite('crash points of job-events failing a run', ['failure']);
