import type { PatternHit } from '../../contract/library'
import type { Pattern } from '../../contract/sync'
import { trigrams, wordScore } from '../history/fuzzy'

/**
 * Text and fuzzy search over patterns, as history's: every query word must match a word of the
 * title, tags, description or command exactly, as a prefix (the word being typed) or fuzzily
 * (trigrams, or an edit distance for short words). Title and tag matches weigh more.
 */
export interface Searchable {
  library: string
  pattern: Pattern
  risk: PatternHit['risk']
}

const WORD_RE = /[\p{L}\p{N}_]+/gu
const words = (text: string): string[] => (text.toLowerCase().match(WORD_RE) ?? []).slice(0, 400)

export function searchPatterns(
  items: readonly Searchable[],
  query: string,
  options: { tags?: readonly string[]; limit: number },
): PatternHit[] {
  const q = words(query).slice(0, 20)
  const wantTags = options.tags?.map((t) => t.toLowerCase()) ?? []
  const hits: PatternHit[] = []
  for (const item of items) {
    const p = item.pattern
    const tags = p.tags.map((t) => t.toLowerCase())
    if (wantTags.some((t) => !tags.includes(t))) continue
    if (q.length === 0) {
      hits.push({ ...item, score: 0 })
      continue
    }
    const fields: Array<[string[], number]> = [
      [words(p.title), 3],
      [tags.flatMap(words), 2],
      [words(p.command), 1.5],
      [words(p.description), 1],
    ]
    let score = 0
    let all = true
    q.forEach((qw, index) => {
      const qt = trigrams(qw)
      let best = 0
      for (const [list, weight] of fields)
        for (const w of list) {
          const s = wordScore(qw, qt, w, trigrams(w), index === q.length - 1) * weight
          if (s > best) best = s
        }
      if (best === 0) all = false
      score += best
    })
    if (!all) continue
    if (p.title.toLowerCase().includes(query.trim().toLowerCase())) score += 2
    hits.push({ ...item, score })
  }
  hits.sort(
    (a, b) =>
      b.score - a.score ||
      a.pattern.title.localeCompare(b.pattern.title) ||
      a.library.localeCompare(b.library),
  )
  return hits.slice(0, options.limit)
}
