/**
 * Whether a failed attempt is worth another one. Status reasons that mean the host failed
 * (`Host EC2*`, `CannotPullContainerError*`, ...) retry whatever the exit code; a timeout
 * retries only if the policy says so; otherwise the exit code must be listed (or `any`).
 */
import type { RetryPolicyDefinition } from '../config/definition.ts';

/** What Batch tells us about a failed attempt. */
export interface FailureFacts {
  exitCode?: number;
  statusReason?: string;
}

export type FailureClass = 'host' | 'timeout' | 'exit-code' | 'not-retryable';

/** Batch's status reason for an attempt that ran past `timeout.attemptDurationSeconds`. */
export const TIMEOUT_REASON = 'Job attempt duration exceeded timeout';

/**
 * Matches a status-reason glob where `*` stands for any text (newlines included). Globs come
 * from whoever writes a retry policy, API callers included, so this is not a RegExp: on a
 * mismatch only the latest `*` takes one more character, which bounds the work by
 * pattern × text, where `^.*a.*a.*a.*a.*a.*a.*b$` made V8 backtrack for ~30 s over 60
 * characters and held `job-events`.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1; // index of the latest `*` seen in the pattern
  let resume = 0; // where in the text that `*` would next start matching from
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.length && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

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
