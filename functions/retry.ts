/** A one-time Scheduler schedule fired → start the task's next attempt (a retry), or submit a deferred one at its reserved slot. */
import { RetryInputSchema } from '#shared/config/definition';
import { getEnv } from '#shared/env';
import { lambdaDeps, resumeRetry, type DepsFor } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';

/** The handler over the deps `depsFor` builds per invocation (a test passes wrapped ones). */
export function createHandler(depsFor: DepsFor) {
  return engineHandler('retry', RetryInputSchema, async (input, context) => {
    const run = await resumeRetry(input, depsFor(context));
    return { runId: input.runId, status: run?.status, taskStatus: run?.tasks[input.task]?.status };
  });
}

const env = getEnv();

export const handler = createHandler((context) => lambdaDeps(env, context));
