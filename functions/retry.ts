/** A one-time Scheduler schedule fired → start the task's next attempt (a retry), or submit a deferred one at its reserved slot. */
import { RetryInputSchema } from '#shared/config/definition';
import { readEnv } from '#shared/env';
import { builtOnFirstCall, lambdaRuntime, type Runtime } from '#shared/runtime';
import { lambdaDeps, resumeRetry, type DepsFor } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';

/** The handler over the deps `depsFor` builds per invocation (a test passes wrapped ones). */
export function createHandler(depsFor: DepsFor) {
  return engineHandler('retry', RetryInputSchema, async (input, context) => {
    const run = await resumeRetry(input, depsFor(context));
    return { runId: input.runId, status: run?.status, taskStatus: run?.tasks[input.task]?.status };
  });
}

/** The production handler over `runtime`'s environment (read once, here) and clock. */
export function handlerFor(runtime: Runtime) {
  const env = readEnv(runtime.env);
  return createHandler((context) => lambdaDeps(env, context, runtime.now));
}

export const handler = builtOnFirstCall(() => handlerFor(lambdaRuntime));
