import { LIMITS } from './limits'
import { DYN } from './types'

/**
 * Markers that word resolution leaves in a value so that the shell's later steps (field
 * splitting, brace expansion) can be done after quote removal, as the shell does them:
 * - FIELD separates fields that are always separate words (`"$@"`, arrays, brace expansion);
 * - SPLIT marks where an unquoted expansion is split by IFS (`$X` with `X="rm -rf /"`, `${IFS}`);
 * - BRACE_OPEN/COMMA/CLOSE are unquoted `{` `,` `}` (a quoted brace is not an expansion).
 */
export const FIELD = '\u0002'
export const SPLIT = '\u0003'
export const BRACE_OPEN = '\u0004'
export const BRACE_COMMA = '\u0005'
export const BRACE_CLOSE = '\u0006'

/** True when the text holds any of the markers above. */
function hasMarkers(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 2 && c <= 6) return true
  }
  return false
}

/** Marks unquoted brace characters of a plain word so brace expansion sees only those. */
export function markBraces(text: string): string {
  if (!text.includes('{')) return text
  return text.replace(/[{},]/g, (c) =>
    c === '{' ? BRACE_OPEN : c === '}' ? BRACE_CLOSE : BRACE_COMMA,
  )
}

/** Marks the IFS characters of an unquoted expansion's value as split points. */
export function markSplit(value: string, ifs: string): string {
  if (!ifs) return value
  let out = ''
  for (const c of value) out += ifs.includes(c) ? SPLIT : c
  return out
}

/** Restores marked braces that did not form an expansion to plain characters. */
export function unmark(text: string): string {
  return text.replaceAll(BRACE_OPEN, '{').replaceAll(BRACE_CLOSE, '}').replaceAll(BRACE_COMMA, ',')
}

/** The words a resolved value becomes after brace expansion and field splitting. */
export function finishWord(value: string): string[] {
  if (!hasMarkers(value)) return [value]
  const expanded = value.includes(BRACE_OPEN) ? braceExpand(value) : [value]
  const out: string[] = []
  for (const v of expanded) {
    const plain = unmark(v)
    if (!plain.includes(FIELD) && !plain.includes(SPLIT)) {
      out.push(plain)
      continue
    }
    for (const field of plain.split(FIELD)) {
      // Each field of `"$@"` or an array is a word as written; pieces split off inside one are not.
      let first = true
      for (const w of field.split(SPLIT)) {
        if (w === '') continue
        // Tilde expansion happens only at the start of a word as written, not after a split.
        out.push(!first && w.startsWith('~') ? `./${w}` : w)
        first = false
      }
    }
  }
  return out
}

/** Bash brace expansion over marked braces: `{a,b}c` and `{1..3}`, bounded in size. */
export function braceExpand(value: string): string[] {
  let results = [value]
  for (let round = 0; round < 16; round++) {
    let changed = false
    const next: string[] = []
    for (const v of results) {
      const group = findGroup(v)
      if (!group) {
        next.push(v)
        continue
      }
      changed = true
      for (const alt of group.alternatives)
        next.push(v.slice(0, group.start) + alt + v.slice(group.end))
      if (next.length > LIMITS.maxExpansion) return [value]
    }
    results = next
    if (!changed) break
  }
  return results
}

/** The first brace group with a top-level comma (or a `..` sequence), innermost first. */
function findGroup(v: string): { start: number; end: number; alternatives: string[] } | null {
  const opens: number[] = []
  for (let i = 0; i < v.length; i++) {
    const c = v[i]
    if (c === BRACE_OPEN) opens.push(i)
    else if (c === BRACE_CLOSE && opens.length) {
      const start = opens.pop()!
      const body = v.slice(start + 1, i)
      if (body.includes(BRACE_OPEN)) continue
      const parts = body.split(BRACE_COMMA)
      if (parts.length > 1) return { start, end: i + 1, alternatives: parts }
      const seq = /^(-?\d+|[a-zA-Z])\.\.(-?\d+|[a-zA-Z])(?:\.\.(-?\d+))?$/.exec(unmark(body))
      if (seq) {
        const alternatives = sequence(seq[1]!, seq[2]!, Number(seq[3] ?? 1))
        if (alternatives) return { start, end: i + 1, alternatives }
      }
    }
  }
  return null
}

function sequence(from: string, to: string, step: number): string[] | null {
  const numeric = /^-?\d+$/.test(from) && /^-?\d+$/.test(to)
  const a = numeric ? Number(from) : from.charCodeAt(0)
  const b = numeric ? Number(to) : to.charCodeAt(0)
  const s = Math.max(1, Math.abs(step || 1))
  if (Math.abs(b - a) / s > LIMITS.maxExpansion) return null
  const out: string[] = []
  for (let x = a; a <= b ? x <= b : x >= b; x += a <= b ? s : -s)
    out.push(numeric ? String(x) : String.fromCharCode(x))
  return out
}

/** Removes backslash escapes of unquoted text (`r\m` is `rm`; `\` newline joins lines). */
export function unescapeUnquoted(text: string): string {
  if (!text.includes('\\')) return text
  return text.replace(/\\\n/g, '').replace(/\\(.)/gs, '$1')
}

/** Removes the escapes double quotes honour: `\$`, `` \` ``, `\"`, `\\` and line joins. */
export function unescapeDouble(text: string): string {
  if (!text.includes('\\')) return text
  return text.replace(/\\\n/g, '').replace(/\\([$`"\\])/g, '$1')
}

/** True when the value still holds run-time parts or unexpanded markers. */
export function isDynamic(value: string): boolean {
  return value.includes(DYN)
}
