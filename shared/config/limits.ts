/** AWS limits a config is checked against, the built-in retry policy, and the placeholders AWS substitutes in target inputs. */
import type { RetryPolicyDefinition } from './definition.ts';
import { HOST_FAILURE_REASONS } from './schema.ts';

/** EventBridge Scheduler's limit on a target's `Input` (Scheduler API reference, `Target.Input`). */
export const SCHEDULER_INPUT_LIMIT = 8192;

/** AWS Batch's limit on job and job definition names ([A-Za-z0-9_-], up to 128). */
export const BATCH_NAME_LIMIT = 128;

/**
 * Characters of a Batch job name the engine appends after `${deployment}-${schedule}-${task}`
 * (run key and attempt). Kept as a budget so a schedule that would produce too long a job
 * name is refused at package time rather than failing SubmitJob at its first fire.
 */
export const JOB_NAME_SUFFIX_RESERVE = 40;

/** Built-in retry policy: one attempt; when retries are enabled, host failures are always retryable. */
export const BUILT_IN_RETRY: RetryPolicyDefinition = {
  attempts: 1,
  backoff: { initialSeconds: 30, multiplier: 2, maxSeconds: 900, jitter: 'full' },
  retryOn: {
    exitCodes: 'any',
    statusReasons: [...HOST_FAILURE_REASONS],
    timeouts: false,
  },
};

/** The Scheduler placeholders `fire` receives substituted (Scheduler's context attributes). */
export const SCHEDULED_TIME_PLACEHOLDER = '<aws.scheduler.scheduled-time>';
export const EXECUTION_ID_PLACEHOLDER = '<aws.scheduler.execution-id>';

/** EventBridge's limit on a target's InputTransformer `InputTemplate`. */
export const TRIGGER_INPUT_LIMIT = 8192;

/** EventBridge's InputTransformer variable for the whole event. */
export const EVENT_JSON_PLACEHOLDER = '<aws.events.event.json>';
