/** "Did you mean" suggestions: the nearest name by edit distance. */

/** The candidate nearest to `word` by edit distance, if within `max`. */
export function closest(word: string, candidates: readonly string[], max: number, ignoreCase = false): string | undefined {
  let best: string | undefined;
  let bestDistance = max + 1;
  const w = ignoreCase ? word.toLowerCase() : word;
  for (const c of candidates) {
    const d = editDistance(w, ignoreCase ? c.toLowerCase() : c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** What is wrong with a time zone name, with the nearest IANA name as the suggestion. */
export function timezoneProblem(tz: string): string {
  const zones = Intl.supportedValuesOf('timeZone');
  const near = closest(tz, [...zones, 'UTC'], 4, true);
  return `unknown time zone "${tz}" (use an IANA name such as "${near ?? 'Asia/Tokyo'}")`;
}
