/** EventBridge rule on `aws.batch` / `Batch Job State Change` → the job's facts → move the run forward. */
import { getEnv } from '#shared/env';
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

const env = getEnv();

export const handler = createHandler((context) => lambdaDeps(env, context));
