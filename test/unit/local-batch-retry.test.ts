/**
 * Batch's retry rules as the local Batch evaluates them: attempts cap, first matching
 * evaluateOnExit rule wins, all of a rule's conditions must match, no match retries.
 */
import { describe, expect, it } from 'vitest';
import { patternMatches, retryDecision } from '#local/batch/index';

describe('retryDecision', () => {
  it('exits once the attempts are used up, whatever the rules say', () => {
    // Prepare
    const strategy = { attempts: 2, evaluateOnExit: [{ onExitCode: '*', action: 'RETRY' }] };

    // Act
    const decision = retryDecision(strategy, { exitCode: 1 }, 2);

    // Assess
    expect(decision).toBe('EXIT');
  });

  it('applies the first rule whose conditions all match, reading the action case-insensitively', () => {
    // Prepare
    const strategy = {
      attempts: 5,
      evaluateOnExit: [
        { onExitCode: '1', onReason: 'OutOfMemory*', action: 'exit' },
        { onExitCode: '1', action: 'retry' },
        { onExitCode: '*', action: 'EXIT' },
      ],
    };

    // Act
    const oom = retryDecision(strategy, { exitCode: 1, reason: 'OutOfMemoryError: Container killed' }, 1);
    const plain = retryDecision(strategy, { exitCode: 1 }, 1);
    const other = retryDecision(strategy, { exitCode: 2 }, 1);

    // Assess
    expect([oom, plain, other]).toEqual(['EXIT', 'RETRY', 'EXIT']);
  });

  it('retries when no rule matches, and a lost host (no exit code) is not caught by onExitCode "*"', () => {
    // Prepare
    const strategy = { attempts: 3, evaluateOnExit: [{ onExitCode: '*', action: 'EXIT' }] };

    // Act
    const decision = retryDecision(strategy, { statusReason: 'Host EC2 (instance i-0123456789abcdef0) terminated.' }, 1);

    // Assess
    expect(decision).toBe('RETRY');
  });

  it('never retries without a retryStrategy, since Batch allows one attempt by default', () => {
    expect(retryDecision(undefined, { exitCode: 1 }, 1)).toBe('EXIT');
  });
});

describe('patternMatches', () => {
  it('matches exactly, or by prefix when the pattern ends in *', () => {
    expect(patternMatches('Host EC2*', 'Host EC2 (instance i-1) terminated.')).toBe(true);
    expect(patternMatches('137', '137')).toBe(true);
    expect(patternMatches('13', '137')).toBe(false);
    expect(patternMatches('*', undefined)).toBe(false);
  });
});
