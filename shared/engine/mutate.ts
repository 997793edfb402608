/**
 * The read-modify-write every engine step uses to change a run (optimistic concurrency over
 * the run's version), and the engine's one way to wait (deps.sleep, or a timer).
 */
import { RunVersionConflictError, VersionConflictError } from '../errors.ts';
import type { RunItem } from '../store/schema.ts';
import { throttleDelayMs } from './backoff.ts';
import { contextOf, type EngineDeps } from './deps.ts';
import type { Transition, TransitionContext } from './run-state.ts';

const MAX_CONFLICT_RETRIES = 25;

/** The outcome of a read-modify-write of a run. */
export interface Mutation {
  /** The run as stored after the mutation (undefined when no such run exists). */
  run: RunItem | undefined;
  changed: boolean;
  transition: Transition | undefined;
}

/**
 * Read-modify-write of one run under optimistic concurrency: reads (strongly consistent),
 * applies `fn`, writes over the version read. On a first version conflict (two events of one
 * run at once: a job's RUNNING and SUCCEEDED, two tasks finishing) it re-applies `fn` at once
 * to the run the failed write returned, without reading; on later ones it backs off with
 * jitter and reads again. `beforeSave` runs effects that must exist before the state that
 * implies them is visible (the retry schedule).
 */
export async function mutateRun(
  deps: EngineDeps,
  runId: string,
  fn: (run: RunItem, ctx: TransitionContext) => Transition,
  beforeSave?: (t: Transition) => Promise<void>,
  known?: RunItem,
): Promise<Mutation> {
  // `known`: a run in hand, typically as this invocation itself just wrote it. Writing over
  // its version saves the read; if anyone wrote since, the version condition fails and
  // returns the newer run.
  let next = known;
  for (let i = 0; i < MAX_CONFLICT_RETRIES; i++) {
    const run = next ?? (await deps.store.getRun(runId));
    next = undefined;
    if (!run) return { run: undefined, changed: false, transition: undefined };
    const t = fn(run, contextOf(deps));
    if (t.run === run) return { run, changed: false, transition: t };
    if (beforeSave) await beforeSave(t);
    try {
      const saved = await deps.store.saveRun(t.run);
      return { run: saved, changed: true, transition: { ...t, run: saved } };
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      deps.metrics.count('VersionConflicts');
      if (i === 0 && error instanceof RunVersionConflictError && error.current) {
        next = error.current;
        continue;
      }
      await sleep(deps, throttleDelayMs(i, 10, 500, deps.random ?? Math.random));
    }
  }
  throw new VersionConflictError(`run ${runId}: gave up after ${MAX_CONFLICT_RETRIES} version conflicts`);
}

/** Waits `ms` on the injected sleep (tests pass an instant one), else on a timer. */
export function sleep(deps: EngineDeps, ms: number): Promise<void> {
  return deps.sleep ? deps.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
}
