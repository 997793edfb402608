/** The Batch client, built once per cold start; endpoint from `AWS_ENDPOINT_URL[_BATCH]`. */
import { BatchClient } from '@aws-sdk/client-batch';

export const batch = new BatchClient({});
