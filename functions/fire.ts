/**
 * EventBridge Scheduler → start the run for one scheduled time (also the ad hoc/backfill
 * path when invoked with `trigger` set). Duplicate deliveries continue the same run.
 */
import { FireInputSchema } from '#shared/config/definition';
import { builtOnFirstCall, lambdaRuntime, type Runtime } from '#shared/runtime';
import { startRun, type DepsFor } from '#shared/engine/index';
import { runtimeDepsFor } from '#shared/engine/deps';
import { engineHandler } from '#shared/engine/handler';

/** The handler over the deps `depsFor` builds per invocation (a test passes wrapped ones). */
export function createHandler(depsFor: DepsFor) {
  return engineHandler('fire', FireInputSchema, (input, context) => startRun(input, depsFor(context)));
}

/** The production handler over `runtime`'s environment (read once, here) and clock. */
export const handlerFor = (runtime: Runtime) => createHandler(runtimeDepsFor(runtime));

export const handler = builtOnFirstCall(() => handlerFor(lambdaRuntime));
