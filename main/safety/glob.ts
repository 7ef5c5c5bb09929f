/**
 * Path globs for policy rules, matched without backtracking regexes: `*` and `?` within a path
 * segment, `[a-z]` / `[!x]` classes, `**` for any number of segments, `{a,b}` alternatives.
 *
 * Hand-rolled on purpose: glob libraries (picomatch, minimatch) compile to regular expressions
 * that backtrack, and a policy is data from a team server. Measured here, picomatch needs more
 * than two minutes for `*a*a*a*a*a*a*a*a*a*a*b` against 5,000 `a`s. This matcher is the classic
 * two-pointer wildcard algorithm, once within segments and once over segments for `**`, so a
 * match costs at most (pattern length) × (path length) steps.
 */

/** Alternatives one pattern may expand to (`{a,b}{c,d}` is 4); beyond that it never matches. */
const MAX_ALTERNATIVES = 64

type Token =
  | { kind: 'char'; c: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'class'; negate: boolean; ranges: Array<[number, number]> }

interface Compiled {
  /** One entry per brace alternative; each a list of segments (null for `**`). */
  alternatives: Array<Array<Token[] | null>>
}

const cache = new Map<string, Compiled>()

export function globMatch(pattern: string, path: string): boolean {
  let compiled = cache.get(pattern)
  if (!compiled) {
    compiled = compile(pattern)
    if (cache.size > 4096) cache.clear()
    cache.set(pattern, compiled)
  }
  const segments = path.split('/')
  return compiled.alternatives.some((alt) => matchSegments(alt, segments))
}

function compile(pattern: string): Compiled {
  const expanded = expandBraces(pattern)
  return {
    alternatives: expanded.map((p) =>
      p.split('/').map((seg) => (seg === '**' ? null : tokenize(seg))),
    ),
  }
}

/** `{a,b}` alternatives, expanded left to right, bounded in number. */
function expandBraces(pattern: string): string[] {
  let out = [pattern]
  for (let round = 0; round < 16; round++) {
    const next: string[] = []
    let changed = false
    for (const p of out) {
      const open = findUnescaped(p, '{', 0)
      const close = open < 0 ? -1 : matchingBrace(p, open)
      if (open < 0 || close < 0) {
        next.push(p)
        continue
      }
      changed = true
      for (const alt of splitTopLevel(p.slice(open + 1, close)))
        next.push(p.slice(0, open) + alt + p.slice(close + 1))
      if (next.length > MAX_ALTERNATIVES) return []
    }
    out = next
    if (!changed) break
  }
  return out
}

function findUnescaped(s: string, ch: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\') i++
    else if (s[i] === ch) return i
  }
  return -1
}

function matchingBrace(s: string, open: number): number {
  let depth = 0
  for (let i = open; i < s.length; i++) {
    if (s[i] === '\\') i++
    else if (s[i] === '{') depth++
    else if (s[i] === '}' && --depth === 0) return i
  }
  return -1
}

function splitTopLevel(body: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < body.length; i++) {
    const c = body[i]
    if (c === '\\') i++
    else if (c === '{') depth++
    else if (c === '}') depth--
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i))
      start = i + 1
    }
  }
  parts.push(body.slice(start))
  return parts
}

function tokenize(seg: string): Token[] {
  const out: Token[] = []
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!
    if (c === '\\' && i + 1 < seg.length) out.push({ kind: 'char', c: seg[++i]! })
    else if (c === '*') {
      if (out[out.length - 1]?.kind !== 'star') out.push({ kind: 'star' })
    } else if (c === '?') out.push({ kind: 'any' })
    else if (c === '[') {
      const close = seg.indexOf(']', i + 2)
      if (close < 0) {
        out.push({ kind: 'char', c })
        continue
      }
      let body = seg.slice(i + 1, close)
      const negate = body.startsWith('!') || body.startsWith('^')
      if (negate) body = body.slice(1)
      const ranges: Array<[number, number]> = []
      for (let j = 0; j < body.length; j++) {
        const a = body.charCodeAt(j)
        if (body[j + 1] === '-' && j + 2 < body.length) {
          ranges.push([a, body.charCodeAt(j + 2)])
          j += 2
        } else ranges.push([a, a])
      }
      out.push({ kind: 'class', negate, ranges })
      i = close
    } else out.push({ kind: 'char', c })
  }
  return out
}

function tokenMatches(t: Token, c: string): boolean {
  switch (t.kind) {
    case 'char':
      return t.c === c
    case 'any':
      return true
    case 'class': {
      const code = c.charCodeAt(0)
      const hit = t.ranges.some(([a, b]) => code >= a && code <= b)
      return t.negate ? !hit : hit
    }
    default:
      return false
  }
}

/**
 * The two-pointer wildcard algorithm: a star backtracks only to the last star seen, so a match
 * costs at most (pattern length) × (input length) steps. Used within a segment (tokens against
 * characters) and over segments (`**` against path segments).
 */
function wildcard<P, I>(
  pattern: readonly P[],
  input: readonly I[],
  isStar: (p: P) => boolean,
  matches: (p: P, i: I) => boolean,
): boolean {
  let pi = 0
  let ii = 0
  let starP = -1
  let starI = 0
  while (ii < input.length) {
    const p = pattern[pi]
    if (p !== undefined && !isStar(p) && matches(p, input[ii]!)) {
      pi++
      ii++
    } else if (p !== undefined && isStar(p)) {
      starP = pi++
      starI = ii
    } else if (starP >= 0) {
      pi = starP + 1
      ii = ++starI
    } else return false
  }
  while (pi < pattern.length && isStar(pattern[pi]!)) pi++
  return pi === pattern.length
}

/** A glob (`*`, `?`, classes) against a whole text, `/` included: `${X%pat}` patterns. */
export function textMatch(pattern: string, text: string): boolean {
  return matchSegment(tokenize(pattern), text)
}

function matchSegment(tokens: Token[], s: string): boolean {
  return wildcard(tokens, [...s], (t) => t.kind === 'star', tokenMatches)
}

function matchSegments(pattern: Array<Token[] | null>, segments: string[]): boolean {
  return wildcard(
    pattern,
    segments,
    (p) => p === null,
    (p, seg) => matchSegment(p!, seg),
  )
}
