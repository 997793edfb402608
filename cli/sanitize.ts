/**
 * Text from jobs and API callers, made safe for a terminal. A status reason, a schedule's
 * description or a job's log line may carry escape sequences that clear the screen, move
 * the cursor to rewrite what was printed, set the window title or write the clipboard
 * (OSC 52), or bidirectional overrides that make a line read other than it is. The CLI
 * shows such characters instead of sending them: ESC as `\x1b`, other controls as
 * `\xNN`/`\uNNNN`, so `\x1b[2J` prints as the eight characters `\x1b[2J`.
 *
 * Everything the CLI receives from the API passes through `sanitizeDeep` (cli/api-client.ts)
 * and the live view of `npm start` (cli/start.ts) quotes run records through `visible`.
 * Colours the CLI adds itself (picocolors) are added after, so they still work.
 */

/** C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates and marks. */
const CONTROL = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function show(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character made visible. `keepLines` keeps newline and tab
 * (log lines, multi-line cells); without it the text stays on one line.
 */
export function visible(text: string, options: { keepLines?: boolean } = {}): string {
  return text.replace(CONTROL, (ch) => (options.keepLines && (ch === '\n' || ch === '\t') ? ch : show(ch)));
}

/** Every string in a JSON value (keys too) made visible, keeping newlines and tabs. */
export function sanitizeDeep<T>(value: T): T {
  if (typeof value === 'string') return visible(value, { keepLines: true }) as T;
  if (Array.isArray(value)) return value.map((v) => sanitizeDeep(v)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [visible(k, { keepLines: true }), sanitizeDeep(v)])) as T;
  }
  return value;
}
