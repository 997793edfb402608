/** The Batch clients, built once per cold start; endpoint from `AWS_ENDPOINT_URL[_BATCH]`. */
import { BatchClient } from '@aws-sdk/client-batch';
import { credentials } from './credentials.ts';

export const batch = new BatchClient({ credentials });

/**
 * SubmitJob's own client, without the SDK's retries. SubmitJob is not idempotent: a blind
 * retry after a timeout or a 5xx whose request did reach Batch creates a second job; and a
 * blind retry of a throttled call bypasses the deployment's pacer and, at the quota, lands in
 * a second that is already full, taking a paced call's place. The engine owns both cases: it
 * paces SubmitJob and backs off a throttled one (shared/engine/drive.ts), and after any other
 * failure the next driver looks the job up by name before submitting again.
 */
export const batchSubmit = new BatchClient({ maxAttempts: 1, credentials });
