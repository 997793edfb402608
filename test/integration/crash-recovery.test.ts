/**
 * Crash points of the "recovered" Slack message: a run succeeds after a failed one
 * (notify.onRecovery); the SUCCEEDED event that records the outcome and sends the message
 * is faulted after each of its steps. See crash-points.test.ts and docs/crash-points.md.
 */
import { defineOverlapSuite } from './crash-points.helpers.ts';

defineOverlapSuite('crash points of the "recovered" message', ['recovery']);
