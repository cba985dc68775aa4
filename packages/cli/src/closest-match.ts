/**
 * "Did you mean" for the CLI's files: the known word nearest to a mistyped one, by edit distance where swapping two
 * neighbouring letters counts as one edit (so `memroy` is one edit from `memory`, as a person would count it).
 */

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate nearest to `word`, when it is near enough to be a typo of it: at most one edit for words of up to four
 * letters, two up to eight, three beyond (so `type` never suggests `name`). Failing that, a candidate the word is the
 * start of, or that starts it (`syslog` for `syslog_url`), from four letters on. Case is ignored.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const allowed = w.length <= 4 ? 1 : w.length <= 8 ? 2 : 3;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(w, candidate.toLowerCase());
    if (distance <= allowed && (!best || distance < best.distance)) best = { candidate, distance };
  }
  if (best) return best.candidate;
  if (w.length < 4) return undefined;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    if (c.length >= 4 && (c.startsWith(w) || w.startsWith(c))) return candidate;
  }
  return undefined;
}

/** `; did you mean "x"?` when a candidate is near `word`, else the empty string. */
export function didYouMean(word: unknown, candidates: Iterable<string>): string {
  const match = typeof word === 'string' ? closestMatch(word, candidates) : undefined;
  return match ? `; did you mean "${match}"?` : '';
}
