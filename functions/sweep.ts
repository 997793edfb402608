/** Every few minutes: reconcile active runs with Batch, repair what was lost, alert on stuck runs. */
import { readEnv } from '#shared/env';
import { builtOnFirstCall, lambdaRuntime, type Runtime } from '#shared/runtime';
import { lambdaDeps, sweep, type DepsFor } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';
import * as z from '#shared/zod';

// Scheduler and EventBridge send a scheduled event or nothing in particular; the sweep takes no input.
const SweepInputSchema = z.unknown();

/** The handler over the deps `depsFor` builds per invocation (a test passes wrapped ones). */
export function createHandler(depsFor: DepsFor) {
  return engineHandler('sweep', SweepInputSchema, (_input, context) => sweep(depsFor(context)));
}

/** The production handler over `runtime`'s environment (read once, here) and clock. */
export function handlerFor(runtime: Runtime) {
  const env = readEnv(runtime.env);
  return createHandler((context) => lambdaDeps(env, context, runtime.now));
}

export const handler = builtOnFirstCall(() => handlerFor(lambdaRuntime));
