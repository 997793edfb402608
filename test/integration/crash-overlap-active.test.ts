/**
 * Crash points of fires that come while a run of the same schedule is still active: a third
 * fire of a queue-one schedule (one run active, one queued: the third is skipped and the
 * queued one still starts exactly once), and `fire` of a cancel-previous schedule while the
 * previous run's job is still RUNNING (its job is terminated, the run CANCELLED).
 * See crash-points.test.ts and docs/crash-points.md.
 */
import { defineOverlapSuite } from './crash-points.helpers.ts';

defineOverlapSuite('crash points of fires while a run is still active', ['queue-one-second-waiter', 'cancel-previous-running']);
