/**
 * The local AWS Batch emulator: restJson1 API, capacity scheduling, real processes,
 * retries, and `Batch Job State Change` events. See local-batch.ts for the lifecycle.
 */
export { LocalBatch, type LocalBatchOptions } from './local-batch.ts';
export { REASONS, type JobDetail, type JobStatus, type AttemptDetail } from './types.ts';
export { retryDecision, patternMatches, type AttemptOutcome, type RetryAction } from './retry.ts';
