/**
 * Crash points of the overlap policies and of the "recovered" message, each faulted after
 * every step on the real handlers in process (test/helpers/crash-world.ts):
 * - `fire` of a queue-one waiter while a run is active, the end of the active run that
 *   promotes the waiter, `fire` of a cancel-previous schedule (the previous run cancelled,
 *   its job terminated);
 * - a third fire of a queue-one schedule (one run active, one queued: the third is skipped
 *   and the queued one still starts exactly once), and `fire` of a cancel-previous schedule
 *   while the previous run's job is still RUNNING;
 * - a run succeeding after a failed one (notify.onRecovery): the SUCCEEDED event that records
 *   the outcome and sends "recovered".
 * Tables: test/helpers/crash-points.ts; docs/crash-points.md.
 */
import { defineOverlapSuite } from '#test/helpers/crash-points';

defineOverlapSuite('crash points of the queue-one and cancel-previous overlap policies', ['queue-one-fire', 'queue-one-promote', 'cancel-previous']);
defineOverlapSuite('crash points of fires while a run is still active', ['queue-one-second-waiter', 'cancel-previous-running']);
defineOverlapSuite('crash points of the "recovered" message', ['recovery']);
