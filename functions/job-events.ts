/** EventBridge rule on `aws.batch` / `Batch Job State Change` → move the run forward. */
import { getEnv } from '#shared/env';
import { applyJobEvent, BatchJobStateChangeSchema, lambdaDeps } from '#shared/engine/index';
import { engineHandler } from '#shared/engine/handler';

const env = getEnv();

export const handler = engineHandler('job-events', BatchJobStateChangeSchema, async (event, context) => {
  const result = await applyJobEvent(event, lambdaDeps(env, context));
  return { outcome: result.outcome, reason: result.reason, runId: result.run?.runId, status: result.run?.status };
});
