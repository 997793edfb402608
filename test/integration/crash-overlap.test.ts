/**
 * Crash points of the overlap policies that involve two runs: `fire` of a queue-one waiter
 * while a run is active, the end of the active run that promotes the waiter, and `fire` of a
 * cancel-previous schedule (the previous run cancelled, its job terminated). See
 * crash-points.test.ts and docs/crash-points.md.
 */
import { defineOverlapSuite } from './crash-points.helpers.ts';

defineOverlapSuite('crash points of the queue-one and cancel-previous overlap policies', ['queue-one-fire', 'queue-one-promote', 'cancel-previous']);
