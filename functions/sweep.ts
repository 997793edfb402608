/** Every few minutes: reconcile active runs with Batch, repair what was lost, alert on stuck runs. */
import { builtOnFirstCall, lambdaRuntime, type Runtime } from '#shared/runtime';
import { sweep, type DepsFor } from '#shared/engine/index';
import { runtimeDepsFor } from '#shared/engine/deps';
import { engineHandler } from '#shared/engine/handler';
import * as z from '#shared/zod';

// Scheduler and EventBridge send a scheduled event or nothing in particular; the sweep takes no input.
const SweepInputSchema = z.unknown();

/** The handler over the deps `depsFor` builds per invocation (a test passes wrapped ones). */
export function createHandler(depsFor: DepsFor) {
  return engineHandler('sweep', SweepInputSchema, (_input, context) => sweep(depsFor(context)));
}

/** The production handler over `runtime`'s environment (read once, here) and clock. */
export const handlerFor = (runtime: Runtime) => createHandler(runtimeDepsFor(runtime));

export const handler = builtOnFirstCall(() => handlerFor(lambdaRuntime));
