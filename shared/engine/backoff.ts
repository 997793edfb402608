/**
 * Retry delays: exponential (initial × multiplier^(n-1)), capped, then jittered. The jitter
 * is drawn from a generator seeded by run, task and attempt, so the delay of a given retry is
 * the same however often the failure event is delivered: the retry schedule's name and time
 * agree across duplicates, and a replayed event stream reaches the same state.
 */
import { createHash } from 'node:crypto';
import type { RetryPolicyDefinition } from '../config/definition.ts';

type Backoff = RetryPolicyDefinition['backoff'];

/** The un-jittered delay in ms before attempt `nextAttempt` (≥ 2), after the cap. */
export function baseDelayMs(backoff: Backoff, nextAttempt: number): number {
  const exponent = Math.max(0, nextAttempt - 2);
  const seconds = Math.min(backoff.maxSeconds, backoff.initialSeconds * backoff.multiplier ** exponent);
  return Math.round(seconds * 1000);
}

/** Applies the jitter mode to a base delay with a uniform `u` in [0, 1). */
export function jittered(mode: Backoff['jitter'], delayMs: number, u: number): number {
  switch (mode) {
    case 'none':
      return delayMs;
    case 'full':
      return Math.floor(u * delayMs);
    case 'equal':
      return Math.floor(delayMs / 2 + (u * delayMs) / 2);
  }
}

/** A deterministic uniform number in [0, 1) from `seed`. */
export function seededUniform(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

/** The delay in ms before attempt `nextAttempt` of `task` in `runId`. */
export function retryDelayMs(backoff: Backoff, nextAttempt: number, seed: string): number {
  return jittered(backoff.jitter, baseDelayMs(backoff, nextAttempt), seededUniform(`${seed}#${nextAttempt}`));
}

/** Jittered exponential backoff for in-process retries (throttling, version conflicts). */
export function throttleDelayMs(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  // Full jitter: spreads a top-of-the-hour burst instead of retrying it in lockstep.
  return Math.floor(random() * ceiling);
}
