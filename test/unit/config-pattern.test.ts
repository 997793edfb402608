/**
 * Run parameter patterns (shared/config/pattern.ts): RE2 syntax, whole-value matches,
 * linear-time matching on inputs that make a backtracking engine run for minutes, and the
 * same engine behind config validation of a parameter's default.
 */
import { describe, expect, it } from 'vitest';
import { compilePattern, matchesPattern, PARAMETER_VALUE_MAX_LENGTH, PATTERN_MAX_LENGTH } from '#shared/config/pattern';
import { ConfigError, parseConfig } from '#shared/config/validate';

const job = { definition: 'batchron-dev-hello' };

function problems(parameters: unknown): string[] {
  try {
    parseConfig({ schedules: { x: { expression: 'rate(1 hour)', parameters, job } } });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

describe('compilePattern', () => {
  it.each([
    ['\\d{4}-\\d{2}-\\d{2}', '2026-11-23', true],
    ['\\d{4}', '20261', false], // the whole value must match
    ['\\d{4}', 'x2026', false],
    ['a|b', 'ab', false],
    ['[a-z]+(-[a-z]+)*', 'eu-west', true],
    ['(?i)prod', 'PROD', true],
    ['.*', 'two\nlines', false], // `.` does not match a newline, as in JavaScript
    ['(?s).*', 'two\nlines', true],
    ['\\p{Greek}+', 'αβγ', true],
  ])('/%s/ on %j matches: %s', (pattern, value, expected) => {
    const re = compilePattern(pattern);
    if (!('test' in re)) throw new Error(re.problem);
    expect(re.test(value)).toBe(expected);
  });

  // Classic catastrophic-backtracking patterns (OWASP "ReDoS") on the inputs that trigger them.
  it.each([
    ['(a+)+$', `${'a'.repeat(64)}!`],
    ['([a-zA-Z]+)*$', `${'a'.repeat(64)}1`],
    ['(a|aa)+$', `${'a'.repeat(64)}!`],
    ['(a|a?)+$', `${'a'.repeat(64)}!`],
    ['(.*a){20}', `${'a'.repeat(200)}!`],
    ['^(\\w+\\s?)*$', `${'word '.repeat(800)}!`],
  ])('answers /%s/ on its hostile input (would take a backtracking engine years)', (pattern, value) => {
    const re = compilePattern(pattern);
    if (!('test' in re)) throw new Error(re.problem);
    expect(re.test(value)).toBe(false);
  });

  it.each([
    ['an unclosed class', '([0-9', 'missing closing ]'],
    ['a lookahead', '(?=a)a', 'invalid or unsupported Perl syntax'],
    ['a lookbehind', '(?<=a)b', 'invalid named capture'],
    ['a backreference', '(a)\\1', 'invalid escape sequence'],
    ['a repeat count over 1000', 'a{1001}', 'invalid repeat count'],
    ['nested repeats too large to compile', '(?:x{0,1000}){0,1000}', 'expression too large'],
    ['a pattern over the length limit', 'a'.repeat(PATTERN_MAX_LENGTH + 1), `must be at most ${PATTERN_MAX_LENGTH} characters (got ${PATTERN_MAX_LENGTH + 1})`],
  ])('refuses %s and says why', (_what, pattern, reason) => {
    const re = compilePattern(pattern);
    expect(re).toEqual({ problem: expect.stringContaining(reason) });
  });

  it('matches nothing with a pattern that does not compile, or a value over the length limit', () => {
    expect(matchesPattern('(', '(')).toBe(false);
    expect(matchesPattern('a*', 'a'.repeat(PARAMETER_VALUE_MAX_LENGTH))).toBe(true);
    expect(matchesPattern('a*', 'a'.repeat(PARAMETER_VALUE_MAX_LENGTH + 1))).toBe(false);
  });
});

describe('config validation uses the same engine', () => {
  it('refuses a default that does not match (a+)+$, without backtracking', () => {
    expect(problems({ x: { pattern: '(a+)+$', default: `${'a'.repeat(40)}!` } })).toEqual([
      `schedules.x.parameters.x.default: "${'a'.repeat(40)}!" does not match its pattern /(a+)+$/`,
    ]);
  });

  it('refuses a pattern RE2 cannot compile, naming the field', () => {
    expect(problems({ day: { pattern: '(?!x)\\d+' } })).toEqual([
      expect.stringMatching(/^schedules\.x\.parameters\.day\.pattern: not a valid RE2 regular expression: .* \(got "\(\?!x\)\\\\d\+"\)$/),
    ]);
  });

  it('refuses a default over the value length limit', () => {
    expect(problems({ day: { default: 'x'.repeat(PARAMETER_VALUE_MAX_LENGTH + 1) } })).toEqual([
      `schedules.x.parameters.day.default: must be at most ${PARAMETER_VALUE_MAX_LENGTH} characters (got ${PARAMETER_VALUE_MAX_LENGTH + 1})`,
    ]);
  });

  it('accepts a default that matches', () => {
    expect(problems({ day: { pattern: '\\d{4}-\\d{2}-\\d{2}', default: '2026-11-23' } })).toEqual([]);
  });
});
