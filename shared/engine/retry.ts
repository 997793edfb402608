/**
 * A one-time schedule fired: a retry's (start the next attempt) or a deferred submission's
 * (the attempt exists, READY with its reserved slot: driving the run submits it). Idempotent:
 * if the attempt is already started (a duplicate fire, or the sweeper got there first) the
 * run is only driven.
 */
import type { RetryInput } from '../config/definition.ts';
import { RetryableError } from '../errors.ts';
import type { RunItem } from '../store/schema.ts';
import type { EngineDeps } from './deps.ts';
import { drive, mutateRun } from './drive.ts';
import { startRetry } from './run-state.ts';
import { isTerminalTask } from './status.ts';

/** Starts attempt `input.attempt` of `input.task`; returns the run, or undefined if it is gone. */
export async function resumeRetry(input: RetryInput, deps: EngineDeps): Promise<RunItem | undefined> {
  const m = await mutateRun(deps, input.runId, (run, ctx) => startRetry(run, input.task, input.attempt, ctx));
  const log = { runId: input.runId, task: input.task, attempt: input.attempt };
  if (!m.run) {
    deps.log.info('retry ignored: no such run', log);
    return undefined;
  }
  if (!m.changed) {
    const task = m.run.tasks[input.task];
    if (task && !isTerminalTask(task.status) && task.status !== 'RETRY_WAIT' && task.attempts.length < input.attempt) {
      // The failure that scheduled this retry is not visible yet: try again shortly.
      throw new RetryableError(`retry of ${input.task} attempt ${input.attempt} arrived before its failure was recorded`);
    }
    deps.log.info('attempt already started (a deferred submission, a duplicate) or no longer wanted; driving the run', { ...log, schedule: m.run.schedule, taskStatus: task?.status });
    return drive(m.run, deps);
  }
  deps.log.info('retry started', { ...log, schedule: m.run.schedule });
  return drive(m.run, deps, m.transition?.claims ?? []);
}
