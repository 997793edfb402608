/**
 * The one wildcard match: `*` stands for any text (none included), every other character
 * matches itself, case-sensitively. Used for the engine's `retryOn.statusReasons` and the
 * local Batch's `evaluateOnExit` patterns (AWS Batch documents only a trailing `*`; a
 * pattern of that form matches the same here). Linear in the text for any pattern: no
 * regular expression is built from user text, so no pattern can backtrack.
 */
export function globMatch(pattern: string, text: string): boolean {
  return matchTokens([...pattern].map((c) => (c === '*' ? ANY : c)), text);
}

/** A wildcard token: any text, none included. */
export const ANY = null;

/**
 * The walk behind every wildcard match here: `tokens` are literal characters or `ANY`, so a
 * caller with escapes (EventBridge's `\*`) tokenizes its own syntax and matches the same way.
 * At most text × tokens steps: the last `ANY` is the only resume point.
 */
export function matchTokens(tokens: readonly (string | null)[], text: string): boolean {
  let p = 0;
  let t = 0;
  // The last ANY seen and the text position it is currently taken to end at.
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < tokens.length && tokens[p] !== ANY && tokens[p] === text[t]) {
      p++;
      t++;
    } else if (p < tokens.length && tokens[p] === ANY) {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      // Let the last ANY take one more character and retry the rest of the tokens from there.
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < tokens.length && tokens[p] === ANY) p++;
  return p === tokens.length;
}
