/**
 * Crash points of the sweeper's own repair paths: the sweep starts an overdue retry whose
 * schedule was lost, releases a queue-one waiter nobody started, and sends a stuck alert.
 * Each sweep is faulted after each of its steps (from the first run read), then the next
 * rate fire (a second sweep) must complete the repair. See crash-sweep.test.ts and
 * docs/crash-points.md.
 */
import { defineSweepSuite } from './crash-points.helpers.ts';

defineSweepSuite('crash points of the sweeper\'s own repairs', ['sweep-retry', 'sweep-held', 'sweep-stuck']);
