/**
 * Word-level fuzzy matching for the in-memory index: pg_trgm's trigram similarity (same padding
 * and set semantics as `similarity()`), plus an edit distance for short words, where one
 * transposition ("gti" for "git") leaves no trigram in common.
 */

/** Trigrams of one word as pg_trgm forms them: two spaces before, one after. */
export function trigrams(word: string): Set<string> {
  const padded = `  ${word} `
  const out = new Set<string>()
  for (let i = 0; i + 3 <= padded.length; i++) out.add(padded.slice(i, i + 3))
  return out
}

/** |A ∩ B| / |A ∪ B|, like pg_trgm's similarity() on one word. */
export function trigramSimilarity(a: Set<string>, b: Set<string>): number {
  let common = 0
  for (const t of a) if (b.has(t)) common++
  const union = a.size + b.size - common
  return union ? common / union : 0
}

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions), giving up early
 * once it exceeds `max` (returns max + 1).
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1
  const n = b.length
  let prev2 = new Array<number>(n + 1).fill(0)
  let prev = Array.from({ length: n + 1 }, (_, j) => j)
  let cur = new Array<number>(n + 1).fill(0)
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i
    let rowMin = i
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, prev2[j - 2]! + 1)
      }
      cur[j] = v
      if (v < rowMin) rowMin = v
    }
    if (rowMin > max) return max + 1
    ;[prev2, prev, cur] = [prev, cur, prev2]
  }
  return prev[n]!
}

/** Trigram similarity at or above this makes a vocabulary word a candidate (pg_trgm's default). */
export const WORD_SIMILARITY_THRESHOLD = 0.3

/**
 * How similar a vocabulary word is to a (possibly mistyped, possibly unfinished) query word, in
 * [0, 1]; 0 when it is not a candidate. `isLast`: the word being typed also matches as a prefix.
 */
export function wordScore(
  query: string,
  queryTrigrams: Set<string>,
  word: string,
  wordTrigrams: Set<string>,
  isLast: boolean,
): number {
  if (word === query) return 1
  if (isLast && query.length >= 2 && word.startsWith(query)) return 0.9
  let best = 0
  const sim = trigramSimilarity(queryTrigrams, wordTrigrams)
  if (sim >= WORD_SIMILARITY_THRESHOLD) best = sim
  if (query.length >= 3) {
    const max = query.length <= 5 ? 1 : 2
    const d = editDistance(query, word, max)
    if (d <= max) best = Math.max(best, 1 - d / Math.max(query.length, word.length))
  }
  return best
}
