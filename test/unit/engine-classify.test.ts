import { describe, expect, it } from 'vitest';
import { classifyFailure, globMatch, shouldRetry, TIMEOUT_REASON } from '#shared/engine/classify';
import type { RetryPolicyDefinition } from '#shared/config/definition';

const retryOn = (over: Partial<RetryPolicyDefinition['retryOn']> = {}): RetryPolicyDefinition['retryOn'] => ({
  exitCodes: [3, 75],
  statusReasons: ['Host EC2*', 'CannotPullContainerError*'],
  timeouts: false,
  ...over,
});

describe('retry classification', () => {
  it.each([
    ['a listed exit code', retryOn(), { exitCode: 3, statusReason: 'Essential container in task exited' }, 'exit-code'],
    ['an unlisted exit code', retryOn(), { exitCode: 1, statusReason: 'Essential container in task exited' }, 'not-retryable'],
    ['any non-zero exit code under `any`', retryOn({ exitCodes: 'any' }), { exitCode: 1 }, 'exit-code'],
    ['a host failure whatever the exit code', retryOn(), { exitCode: 1, statusReason: 'Host EC2 (instance i-0abc) terminated.' }, 'host'],
    ['a host failure with no exit code', retryOn(), { statusReason: 'CannotPullContainerError: pull access denied' }, 'host'],
    ['a timeout when timeouts are not retried', retryOn({ exitCodes: 'any' }), { exitCode: 137, statusReason: TIMEOUT_REASON }, 'not-retryable'],
    ['a timeout when timeouts are retried', retryOn({ timeouts: true }), { statusReason: TIMEOUT_REASON }, 'timeout'],
    ['a failure with neither exit code nor known reason', retryOn({ exitCodes: 'any' }), { statusReason: 'Terminated by user' }, 'not-retryable'],
    ['exit code 0 (a job killed after success)', retryOn({ exitCodes: 'any' }), { exitCode: 0 }, 'not-retryable'],
  ])('classifies %s', (_name, policy, facts, expected) => {
    expect(classifyFailure(policy, facts)).toBe(expected);
  });

  it('retries only while attempts are left', () => {
    const policy: RetryPolicyDefinition = {
      attempts: 3,
      backoff: { initialSeconds: 1, multiplier: 2, maxSeconds: 10, jitter: 'none' },
      retryOn: retryOn(),
    };
    expect(shouldRetry(policy, 1, { exitCode: 3 })).toBe(true);
    expect(shouldRetry(policy, 2, { exitCode: 3 })).toBe(true);
    expect(shouldRetry(policy, 3, { exitCode: 3 })).toBe(false);
  });

  it('matches status-reason globs as whole strings with * for any text', () => {
    expect(globMatch('Host EC2*', 'Host EC2 (instance i-1) terminated.')).toBe(true);
    expect(globMatch('Host EC2*', 'The Host EC2 died')).toBe(false);
    expect(globMatch('*timeout*', 'network timeout (x)')).toBe(true);
    expect(globMatch('a.b', 'axb')).toBe(false);
    expect(globMatch('a*b*c', 'a-b-b-c')).toBe(true);
    expect(globMatch('a*b*c', 'a-b-b-')).toBe(false);
    expect(globMatch('**', '')).toBe(true);
  });

  it('answers a pattern built to make a backtracking matcher explode at once', () => {
    // `*a*a*...*b` against a long run of `a`: exponential for a naive regex-based glob.
    const pattern = `${'*a'.repeat(30)}*b`;
    const text = 'a'.repeat(5_000);
    expect(globMatch(pattern, text)).toBe(false);
    expect(globMatch(pattern, `${text}b`)).toBe(true);
  });
});
