/**
 * Whether a failed attempt is worth another one. Status reasons that mean the host failed
 * (`Host EC2*`, `CannotPullContainerError*`, ...) retry whatever the exit code; a timeout
 * retries only if the policy says so; otherwise the exit code must be listed (or `any`).
 */
import type { RetryPolicyDefinition } from '../config/definition.ts';
import { globMatch } from '../glob.ts';

export { globMatch };

/** What Batch tells us about a failed attempt. */
export interface FailureFacts {
  exitCode?: number;
  statusReason?: string;
}

export type FailureClass = 'host' | 'timeout' | 'exit-code' | 'not-retryable';

/** Batch's status reason for an attempt that ran past `timeout.attemptDurationSeconds`. */
export const TIMEOUT_REASON = 'Job attempt duration exceeded timeout';

/** Classifies one failed attempt under `retryOn`. */
export function classifyFailure(retryOn: RetryPolicyDefinition['retryOn'], facts: FailureFacts): FailureClass {
  const reason = facts.statusReason ?? '';
  if (reason.startsWith(TIMEOUT_REASON)) return retryOn.timeouts ? 'timeout' : 'not-retryable';
  if (reason && retryOn.statusReasons.some((glob) => globMatch(glob, reason))) return 'host';
  if (facts.exitCode !== undefined && facts.exitCode !== 0) {
    if (retryOn.exitCodes === 'any' || retryOn.exitCodes.includes(facts.exitCode)) return 'exit-code';
  }
  return 'not-retryable';
}

/** True when a failed attempt `attempt` should be followed by attempt `attempt + 1`. */
export function shouldRetry(policy: RetryPolicyDefinition, attempt: number, facts: FailureFacts): boolean {
  return attempt < policy.attempts && classifyFailure(policy.retryOn, facts) !== 'not-retryable';
}
