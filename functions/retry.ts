/** A one-time Scheduler schedule fired → start the task's next attempt (a retry), or submit a deferred one at its reserved slot. */
import { RetryInputSchema } from '#shared/config/definition';
import { getEnv } from '#shared/env';
import { lambdaDeps, resumeRetry } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';

const env = getEnv();

export const handler = engineHandler('retry', RetryInputSchema, async (input, context) => {
  const run = await resumeRetry(input, lambdaDeps(env, context));
  return { runId: input.runId, status: run?.status, taskStatus: run?.tasks[input.task]?.status };
});
