/**
 * Retry policies' status-reason globs (`retryOn.statusReasons`) come from whoever writes a
 * schedule, API callers included, and `job-events` matches them against every failed
 * attempt's Batch status reason. They were compiled to a RegExp (`^a.*b.*…$`), which
 * backtracks: a glob with six `*` against sixty characters held the function ~30 s, and
 * each more `*` multiplies it. They must match in time bounded by pattern × text.
 */
import vm from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyFailure, globMatch } from '#shared/engine/classify';
import { HOST_FAILURE_REASONS } from '#shared/config/schema';

describe('status-reason globs', () => {
  it('classifies a failure against a hostile glob at once', () => {
    const hostile = `*${'a*'.repeat(40)}b`;
    const reason = 'a'.repeat(255);
    // A watchdog, so a backtracking matcher fails this test instead of hanging it: V8
    // interrupts even a RegExp in flight when a vm script's timeout passes.
    const outcome = vm.runInNewContext('classifyFailure(retryOn, facts)', {
      classifyFailure,
      retryOn: { exitCodes: [1], statusReasons: [hostile], timeouts: false },
      facts: { exitCode: 2, statusReason: reason },
    }, { timeout: 5000 });
    expect(outcome).toBe('not-retryable');
  });

  it('matches exactly what the glob means: * is any text, everything else itself', () => {
    // The RegExp it replaced is the reference on inputs too small to backtrack far.
    const reference = (pattern: string, text: string) =>
      new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's').test(text);
    const alphabet = fc.constantFrom('a', 'b', '*', '.', '\n', '(');
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 8 }), fc.string({ unit: fc.constantFrom('a', 'b', '.', '\n', '('), maxLength: 10 }), (pattern, text) => {
        expect(globMatch(pattern, text)).toBe(reference(pattern, text));
      }),
    );
  });

  it('still recognises the built-in host failure reasons', () => {
    for (const glob of HOST_FAILURE_REASONS) expect(globMatch(glob, `${glob.slice(0, -1)} (instance i-1) terminated.`)).toBe(true);
  });
});
