/**
 * Text for Slack. Everything a message quotes from a job or a user (schedule and task
 * names, run ids, status reasons, log stream names) goes through `slackText`, so that a
 * status reason like `<!channel>` or `<http://evil|click>` reaches Slack as the words it is
 * and cannot ping a channel or dress up a link.
 *
 * Slack's rule ("Formatting text for app surfaces", Escaping text): `&`, `<` and `>` are
 * control characters of its markup and are sent as `&amp;`, `&lt;` and `&gt;`; nothing
 * else needs escaping. Control characters (C0 but tab and newline, DEL, C1, whole ESC
 * sequences) and the Unicode bidirectional overrides (which make text read other than it
 * is) are removed first: they mean nothing in a chat message.
 */

/** ESC sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL|ST`, and two-character ones), whole. */
const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])/g;

/** C0 controls but tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates and marks. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Removes terminal escape sequences and control characters, keeping tab and newline. */
export function stripControl(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL, '');
}

/** Text from a job or a user, made safe to put in a Slack message. */
export function slackText(value: string | number | undefined | null): string {
  return stripControl(String(value ?? ''))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}
