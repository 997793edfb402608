/**
 * Status ordering. Every status only moves forward: an event that would move one back (a
 * late RUNNING after SUCCEEDED, a duplicate) changes nothing.
 *
 * Run:     QUEUED → SUBMITTED → RUNNING → SUCCEEDED | FAILED | CANCELLED   (or straight to SKIPPED)
 * Attempt: SUBMITTING → SUBMITTED → RUNNING → SUCCEEDED | FAILED
 */
import type { AttemptStatus, RunStatus, TaskStatus } from '../store/schema.ts';

const RUN_RANK: Record<RunStatus, number> = {
  QUEUED: 0,
  SUBMITTED: 1,
  RUNNING: 2,
  SUCCEEDED: 3,
  FAILED: 3,
  CANCELLED: 3,
  SKIPPED: 3,
};

const ATTEMPT_RANK: Record<AttemptStatus, number> = { SUBMITTING: 0, SUBMITTED: 1, RUNNING: 2, SUCCEEDED: 3, FAILED: 3 };

/** True when a run in `status` will never change status again. */
export const isTerminalRun = (status: RunStatus) => RUN_RANK[status] === 3;

/** True when an attempt in `status` is over. */
export const isTerminalAttempt = (status: AttemptStatus) => ATTEMPT_RANK[status] === 3;

/** True when a task in `status` is over. */
export const isTerminalTask = (status: TaskStatus) => status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED';

/** True when a task in `status` has (or is about to have) a job that may still be running. */
export const isLiveTask = (status: TaskStatus) => status === 'READY' || status === 'SUBMITTED' || status === 'RUNNING' || status === 'RETRY_WAIT';

/** True when moving an attempt from `from` to `to` is a step forward. */
export const attemptAdvances = (from: AttemptStatus, to: AttemptStatus) => ATTEMPT_RANK[to] > ATTEMPT_RANK[from];

/** True when moving a run from `from` to `to` is a step forward. */
export const runAdvances = (from: RunStatus, to: RunStatus) => RUN_RANK[to] > RUN_RANK[from];

/** Batch job status → the attempt status it means (PENDING/RUNNABLE/STARTING are still SUBMITTED). */
export function attemptStatusOf(batchStatus: string): AttemptStatus | undefined {
  switch (batchStatus) {
    case 'SUBMITTED':
    case 'PENDING':
    case 'RUNNABLE':
    case 'STARTING':
      return 'SUBMITTED';
    case 'RUNNING':
      return 'RUNNING';
    case 'SUCCEEDED':
      return 'SUCCEEDED';
    case 'FAILED':
      return 'FAILED';
    default:
      return undefined;
  }
}
