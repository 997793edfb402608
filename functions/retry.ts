/** A one-time Scheduler schedule fired → start the task's next attempt (a retry), or submit a deferred one at its reserved slot. */
import { RetryInputSchema } from '#shared/config/definition';
import { builtOnFirstCall, lambdaRuntime, type Runtime } from '#shared/runtime';
import { resumeRetry, type DepsFor } from '#shared/engine/index';
import { runtimeDepsFor } from '#shared/engine/deps';
import { engineHandler } from '#shared/engine/handler';

/** The handler over the deps `depsFor` builds per invocation (a test passes wrapped ones). */
export function createHandler(depsFor: DepsFor) {
  return engineHandler('retry', RetryInputSchema, async (input, context) => {
    const run = await resumeRetry(input, depsFor(context));
    return { runId: input.runId, status: run?.status, taskStatus: run?.tasks[input.task]?.status };
  });
}

/** The production handler over `runtime`'s environment (read once, here) and clock. */
export const handlerFor = (runtime: Runtime) => createHandler(runtimeDepsFor(runtime));

export const handler = builtOnFirstCall(() => handlerFor(lambdaRuntime));
