/**
 * The one wildcard match: `*` stands for any text (none included), every other character
 * matches itself, case-sensitively. Used for the engine's `retryOn.statusReasons` and the
 * local Batch's `evaluateOnExit` patterns (AWS Batch documents only a trailing `*`; a
 * pattern of that form matches the same here). Linear in the text for any pattern: no
 * regular expression is built from user text, so no pattern can backtrack.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  // The last `*` seen and the text position it is currently taken to end at.
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      // Let the last `*` take one more character and retry the rest of the pattern from there.
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
