/**
 * Batch's retry decision for a failed attempt: `retryStrategy.attempts` caps the tries,
 * and `evaluateOnExit` rules (first match wins, all given conditions must match) pick
 * RETRY or EXIT. When no rule matches, Batch retries; so do we.
 */
import { globMatch } from '#shared/glob';
import type { RetryStrategy } from './types.ts';

/** What an attempt ended with, as the rules see it. */
export interface AttemptOutcome {
  exitCode?: number;
  /** The container's `reason` (e.g. `OutOfMemoryError: ...`). */
  reason?: string;
  /** The attempt's `statusReason` (e.g. `Host EC2 (instance i-...) terminated.`). */
  statusReason?: string;
}

export type RetryAction = 'RETRY' | 'EXIT';

/**
 * Decides whether a failed attempt is retried.
 * @param strategy the job's retry strategy (submit override, else definition)
 * @param attemptsMade attempts that have run so far, including the one that just ended
 */
export function retryDecision(
  strategy: RetryStrategy | undefined,
  outcome: AttemptOutcome,
  attemptsMade: number,
): RetryAction {
  const allowed = strategy?.attempts ?? 1;
  if (attemptsMade >= allowed) return 'EXIT';
  for (const rule of strategy?.evaluateOnExit ?? []) {
    if (ruleMatches(rule, outcome)) return rule.action.toUpperCase() === 'EXIT' ? 'EXIT' : 'RETRY';
  }
  return 'RETRY';
}

function ruleMatches(
  rule: { onExitCode?: string; onReason?: string; onStatusReason?: string },
  outcome: AttemptOutcome,
): boolean {
  if (rule.onExitCode !== undefined && !patternMatches(rule.onExitCode, outcome.exitCode?.toString())) return false;
  if (rule.onReason !== undefined && !patternMatches(rule.onReason, outcome.reason)) return false;
  if (rule.onStatusReason !== undefined && !patternMatches(rule.onStatusReason, outcome.statusReason)) return false;
  return true;
}

/**
 * A Batch pattern against what the attempt produced: exact, or a prefix ending in `*`
 * (shared/glob.ts, the engine's match too). A value the attempt did not produce (no exit
 * code after a lost host) matches nothing, so `onExitCode: "*"` does not catch host failures.
 */
export function patternMatches(pattern: string, value: string | undefined): boolean {
  return value !== undefined && globMatch(pattern, value);
}
