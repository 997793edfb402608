/**
 * Re-running a finished run as a new attempt of the same run: the whole run, or only its
 * failed and cancelled tasks (the succeeded ones keep their result). The attempt that ended
 * goes to the run's `history`; the new one is written over the version read (optimistic
 * concurrency) and driven like a new run. Under an idempotency key, the same key finds the
 * attempt it started instead of starting another.
 */
import { RunVersionConflictError } from '../errors.ts';
import type { RunItem } from '../store/schema.ts';
import { contextOf, type EngineDeps } from './deps.ts';
import { drive } from './drive.ts';
import { rerunRun, type RerunTasks } from './run-state.ts';
import { isTerminalRun } from './status.ts';

/** What a re-run request came to. */
export type RerunResult =
  | { outcome: 'rerun'; run: RunItem; created: boolean }
  | { outcome: 'not-found' }
  /** Still running, or its finishing steps are not done yet. */
  | { outcome: 'not-finished'; run: RunItem }
  /** `failed` asked of a run with no failed or cancelled task. */
  | { outcome: 'nothing-to-rerun'; run: RunItem };

/** Re-runs `runId` (see the module comment); retries a lost optimistic write a few times. */
export async function rerunRunById(runId: string, options: { tasks: RerunTasks; key?: string }, deps: EngineDeps): Promise<RerunResult> {
  let run = await deps.store.getRun(runId);
  for (let i = 0; i < 5; i++) {
    if (!run) return { outcome: 'not-found' };
    const key = options.key;
    if (key !== undefined && (run.rerunKey === key || run.history?.some((h) => h.rerunKey === key))) {
      return { outcome: 'rerun', run, created: false };
    }
    if (!isTerminalRun(run.status) || !run.finalized) return { outcome: 'not-finished', run };
    const main = run.definition.tasks.map((t) => run!.tasks[t.name]!);
    if (options.tasks === 'failed' && main.every((t) => t.status === 'SUCCEEDED')) return { outcome: 'nothing-to-rerun', run };
    const t = rerunRun(run, options.tasks, contextOf(deps), key);
    let saved: RunItem;
    try {
      saved = await deps.store.saveRun(t.run);
    } catch (error) {
      if (!(error instanceof RunVersionConflictError)) throw error;
      run = error.current ?? (await deps.store.getRun(runId));
      continue;
    }
    deps.metrics.count('RunsStarted');
    deps.log.info('run re-run', { schedule: run.schedule, runId, attempt: saved.attempt, tasks: options.tasks });
    return { outcome: 'rerun', run: await drive(saved, deps, t.claims), created: true };
  }
  throw new RunVersionConflictError(`run ${runId} kept changing while being re-run; retry`, undefined);
}
