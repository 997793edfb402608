/**
 * The two escapers: Slack text (shared/notify/escape.ts) and terminal text
 * (cli/sanitize.ts), on hostile strings.
 */
import { describe, expect, it } from 'vitest';
import { slackText, stripControl } from '#shared/notify/escape';
import { sanitizeDeep, visible } from '#cli/sanitize';

describe('slackText', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<!here> <!everyone>', '&lt;!here&gt; &lt;!everyone&gt;'],
    ['<@U0123ABC>', '&lt;@U0123ABC&gt;'],
    ['<http://evil.example|your logs>', '&lt;http://evil.example|your logs&gt;'],
    ['already &amp; escaped', 'already &amp;amp; escaped'],
    ['\x1b[31mred\x1b[0m', 'red'],
    ['title\x1b]0;owned\x07 done', 'title done'],
    ['copy\x1b]52;c;ZXZpbA==\x1b\\ done', 'copy done'],
    ['a\u202Eevil\u202C b', 'aevil b'],
    ['bell\x07 nul\x00 del\x7f csi\x9b', 'bell nul del csi'],
    ['two\nlines\tand a tab', 'two\nlines\tand a tab'],
  ])('%j becomes %j', (input, expected) => {
    expect(slackText(input)).toBe(expected);
  });

  it('leaves no markup character and no control character in any string', () => {
    const all = Array.from({ length: 0x2070 }, (_, i) => String.fromCharCode(i)).join('');
    const out = slackText(all);
    expect(out).not.toMatch(/[<>]/);
    expect(out.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
    expect(stripControl(all)).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
  });
});

describe('visible (terminal)', () => {
  it.each([
    ['\x1b[2J\x1b[H', '\\x1b[2J\\x1b[H'],
    ['\x1b]52;c;ZXZpbA==\x07', '\\x1b]52;c;ZXZpbA==\\x07'],
    ['ok\rFAILED', 'ok\\x0dFAILED'],
    ['csi\x9b31m', 'csi\\x9b31m'],
    ['\u202Etxt.exe', '\\u202etxt.exe'],
    ['two\nlines', 'two\\x0alines'],
    ['plain text, ünïcødé and emoji 🚀', 'plain text, ünïcødé and emoji 🚀'],
  ])('%j shows as %j', (input, expected) => {
    expect(visible(input)).toBe(expected);
  });

  it('keeps newlines and tabs when asked (log lines), nothing else', () => {
    expect(visible('a\n\tb\x1b[1m', { keepLines: true })).toBe('a\n\tb\\x1b[1m');
  });

  it('makes every string of an API answer visible, keys included, leaving other values alone', () => {
    const answer = { runId: 'r\x1b[2J', tasks: [{ reason: '\x1b]0;x\x07', exitCode: 3, ok: true, none: null }], ['k\x1b']: 'v' };
    expect(sanitizeDeep(answer)).toEqual({ runId: 'r\\x1b[2J', tasks: [{ reason: '\\x1b]0;x\\x07', exitCode: 3, ok: true, none: null }], ['k\\x1b']: 'v' });
  });
});
