/** EventBridge rule on `aws.batch` / `Batch Job State Change` → the job's facts → move the run forward. */
import { readEnv } from '#shared/env';
import { builtOnFirstCall, lambdaRuntime, type Runtime } from '#shared/runtime';
import { applyJobFacts, lambdaDeps, type DepsFor } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';
import { BatchJobStateChangeSchema, factsFromEvent } from '#shared/events/batch';

/** The handler over the deps `depsFor` builds per invocation (a test passes wrapped ones). */
export function createHandler(depsFor: DepsFor) {
  return engineHandler('job-events', BatchJobStateChangeSchema, async (event, context) => {
    const result = await applyJobFacts(factsFromEvent(event), depsFor(context));
    return { outcome: result.outcome, reason: result.reason, runId: result.run?.runId, status: result.run?.status };
  });
}

/** The production handler over `runtime`'s environment (read once, here) and clock. */
export function handlerFor(runtime: Runtime) {
  const env = readEnv(runtime.env);
  return createHandler((context) => lambdaDeps(env, context, runtime.now));
}

export const handler = builtOnFirstCall(() => handlerFor(lambdaRuntime));
