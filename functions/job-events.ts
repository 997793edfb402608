/** EventBridge rule on `aws.batch` / `Batch Job State Change` → the job's facts → move the run forward. */
import { getEnv } from '#shared/env';
import { applyJobFacts, lambdaDeps } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';
import { BatchJobStateChangeSchema, factsFromEvent } from '#shared/events/batch';

const env = getEnv();

export const handler = engineHandler('job-events', BatchJobStateChangeSchema, async (event, context) => {
  const result = await applyJobFacts(factsFromEvent(event), lambdaDeps(env, context));
  return { outcome: result.outcome, reason: result.reason, runId: result.run?.runId, status: result.run?.status };
});
