/** EventBridge rule on `aws.batch` / `Batch Job State Change` → the job's facts → move the run forward. */
import { builtOnFirstCall, lambdaRuntime, type Runtime } from '#shared/runtime';
import { applyJobFacts, type DepsFor } from '#shared/engine/index';
import { runtimeDepsFor } from '#shared/engine/deps';
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
export const handlerFor = (runtime: Runtime) => createHandler(runtimeDepsFor(runtime));

export const handler = builtOnFirstCall(() => handlerFor(lambdaRuntime));
