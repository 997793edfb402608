/**
 * Run parameter patterns: the one place a user's regular expression is compiled.
 *
 * A pattern comes from whoever writes serverless.yml or calls the API (dynamic schedules),
 * so it is compiled with RE2 (`re2js`, the pure-JS port of Google's RE2): matching takes
 * time linear in the value's length whatever the pattern, where a backtracking engine
 * (JavaScript's RegExp) takes exponential time on `(a+)+$` and holds the process for
 * seconds to minutes. RE2 syntax is Perl's without backreferences and lookaround; a
 * pattern RE2 cannot compile is refused, with RE2's reason.
 *
 * Lengths are bounded too: a pattern at most PATTERN_MAX_LENGTH characters (RE2 also
 * refuses a program that would be too large, e.g. nested counted repeats), a value at most
 * PARAMETER_VALUE_MAX_LENGTH characters. config validation (./validate.ts, which the API
 * runs for dynamic schedules and `batchron validate` runs on serverless.yml) and the API's
 * check of a run's parameters (../api/runs.ts) all call this module.
 */
import { RE2JS } from 're2js';

/** Longest parameter pattern accepted, in characters. */
export const PATTERN_MAX_LENGTH = 512;

/** Longest run parameter value (and default) accepted, in characters. */
export const PARAMETER_VALUE_MAX_LENGTH = 4096;

/** A compiled pattern: `test` answers whether a whole value matches. */
export interface CompiledPattern {
  source: string;
  test(value: string): boolean;
}

/** Compiles a pattern, or says in words why it cannot be used. */
export function compilePattern(source: string): CompiledPattern | { problem: string } {
  if (source.length > PATTERN_MAX_LENGTH) {
    return { problem: `must be at most ${PATTERN_MAX_LENGTH} characters (got ${source.length})` };
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
    return {
      problem: `not a valid RE2 regular expression: ${reason} (RE2 syntax: no backreferences or lookaround; repeat counts up to 1000)`,
    };
  }
  // `matches` anchors at both ends: a pattern matches the whole value, as documented.
  return { source, test: (value) => re.matches(value) };
}

/** Whether `value` matches `pattern` in full; a pattern that does not compile matches nothing. */
export function matchesPattern(pattern: string, value: string): boolean {
  const compiled = compilePattern(pattern);
  return 'test' in compiled && value.length <= PARAMETER_VALUE_MAX_LENGTH && compiled.test(value);
}
