import { braceExpand, markBraces, unmark } from './bash-words'
import { LIMITS } from './limits'
import type { Span } from './types'

/**
 * A zsh-aware pass before tree-sitter-bash: rewrites zsh's own syntax into bash that means the
 * same for the engine (or worse, never better), and maps spans back to the zsh text.
 *
 * - glob qualifiers `*(.)`, `*(N)`, `*(/om[1,5])` are dropped (they only narrow a match); an
 *   `e:…:` or `+cmd` qualifier runs code and becomes `$(eval '…')`;
 * - glob groups and flags `*.(jpg|png)`, `(#i)readme*`, numeric ranges `<1-10>`, negation
 *   `^pat` and exclusion `*~pat` become `*` (they match at most what `*` matches);
 * - parameter flags `${(s.:.)PATH}` are dropped; `${=X}`, `${~X}`, `$=X` lose their flag (the
 *   engine splits unquoted expansions anyway); nested `${${X}…}` become one unknown value that
 *   keeps any `$(…)` inside it;
 * - `=cmd` (the path of cmd) becomes `cmd`, `=(…)` becomes `<(…)`, `&!` and `&|` become `&`;
 * - short loops `for x (a b) cmd` become `for x in a b; do cmd; done`; anonymous functions
 *   `() { … } args` become a function defined and called with args.
 * Anything it does not recognise is left as it is, so tree-sitter reports what is truly
 * unparseable and the engine fails closed on that.
 */
export interface Prepassed {
  text: string
  mapSpan: (span: Span) => Span
}

interface Edit {
  start: number
  end: number
  text: string
}

const WORD_END = /[\s;&|<>()]/
const GLOB_CHARS = /[*?\]]/

export function zshToBash(text: string): Prepassed {
  const edits: Edit[] = []
  new Scanner(text, edits, true).commands(0, text.length, 0)
  return apply(text, edits)
}

/**
 * bash: brace expansion in the command name (`{rm,-rf,/}` is `rm -rf /`), which tree-sitter-bash
 * takes for the start of a group and cannot parse.
 */
export function bashBracePrepass(text: string): Prepassed {
  if (!/\{[^\s{}]*,/.test(text)) return { text, mapSpan: (s) => s }
  const edits: Edit[] = []
  new Scanner(text, edits, false).commands(0, text.length, 0)
  return apply(text, edits)
}

function apply(text: string, edits: Edit[]): Prepassed {
  if (!edits.length) return { text, mapSpan: (s) => s }
  edits.sort((a, b) => a.start - b.start)
  let out = ''
  let pos = 0
  // Output offset where each edit's replacement starts, for mapping back.
  const marks: Array<{ outStart: number; outEnd: number; edit: Edit }> = []
  let previous: Edit | null = null
  for (const e of edits) {
    if (
      previous &&
      e.start === previous.start &&
      e.end === previous.end &&
      e.text === previous.text
    )
      continue
    previous = e
    if (e.start < pos) continue // overlapping: the outer edit already covers it
    out += text.slice(pos, e.start)
    const outStart = out.length
    out += e.text
    marks.push({ outStart, outEnd: out.length, edit: e })
    pos = e.end
  }
  out += text.slice(pos)
  const toInput = (o: number, isEnd: boolean): number => {
    let shift = 0
    for (const m of marks) {
      if (o < m.outStart || (isEnd && o === m.outStart)) break
      if (o < m.outEnd || (isEnd && o === m.outEnd)) return isEnd ? m.edit.end : m.edit.start
      shift = m.edit.end - m.outEnd
    }
    return Math.min(text.length, Math.max(0, o + shift))
  }
  return {
    text: out,
    mapSpan: (s) => ({ start: toInput(s.start, false), end: toInput(s.end, true) }),
  }
}

class Scanner {
  private depth = 0

  constructor(
    private readonly t: string,
    private readonly edits: Edit[],
    private readonly zsh: boolean,
  ) {}

  private edit(start: number, end: number, text: string): void {
    this.edits.push({ start, end, text })
  }

  /** Scans a command list from `i` to `end`; returns where it stopped (a closer or `end`). */
  commands(i: number, end: number, closer: number): number {
    if (++this.depth > LIMITS.maxNesting) {
      this.depth--
      return end
    }
    try {
      return this.commandsInner(i, end, closer)
    } finally {
      this.depth--
    }
  }

  private commandsInner(start: number, end: number, closer: number): number {
    const t = this.t
    let i = start
    let atCommand = true
    let words: string[] = []
    while (i < end) {
      const c = t[i]!
      if (closer && t.charCodeAt(i) === closer) return i
      if (c === ' ' || c === '\t') {
        i++
        continue
      }
      if (c === '\\') {
        i += 2
        continue
      }
      if (c === '#' && (i === 0 || /\s/.test(t[i - 1]!))) {
        const nl = t.indexOf('\n', i)
        i = nl < 0 ? end : nl
        continue
      }
      if (c === '\n' || c === ';' || c === '|' || c === '&') {
        if (
          this.zsh &&
          c === '&' &&
          (t[i + 1] === '!' || t[i + 1] === '|') &&
          !/[&|]/.test(t[i - 1] ?? '')
        ) {
          this.edit(i + 1, i + 2, '') // `cmd &!` / `cmd &|`: background and disown
          i += 2
        } else i += t[i + 1] === c || (c === '|' && t[i + 1] === '&') ? 2 : 1
        atCommand = true
        words = []
        continue
      }
      if (c === '(' && t[i + 1] === ')' && words.length === 1 && !atCommand) {
        i += 2 // `name() { … }`: a function definition
        atCommand = true
        continue
      }
      if (c === '(' && atCommand) {
        if (t[i + 1] === '(') {
          i = this.skipArithmetic(i + 2, end)
          continue
        }
        if (t[i + 1] === ')' && this.zsh) {
          i = this.anonymousFunction(i, end)
          atCommand = true
          continue
        }
        const close = this.commands(i + 1, end, 0x29)
        i = close + 1
        atCommand = false
        continue
      }
      if (c === '{' && atCommand && /\s/.test(t[i + 1] ?? '')) {
        i = this.group(i, end) + 1
        atCommand = false
        continue
      }
      if (c === ')' || c === '}') {
        i++
        atCommand = false
        continue
      }
      if ((c === '<' || c === '>') && !/^<\d*-\d*>/.test(t.slice(i, i + 24))) {
        if (t[i + 1] === '(') {
          i = this.commands(i + 2, end, 0x29) + 1
          continue
        }
        i++
        while (t[i] === '>' || t[i] === '<' || t[i] === '&' || t[i] === '|' || t[i] === '!') i++
        continue
      }
      if (c === '{' && atCommand) {
        const stop = this.wordEnd(i, end)
        const expanded = braceExpand(markBraces(t.slice(i, stop)))
        if (expanded.length > 1 || expanded[0] !== markBraces(t.slice(i, stop))) {
          this.edit(i, stop, expanded.map(unmark).join(' '))
          words.push(t.slice(i, stop))
          i = stop
          atCommand = false
          continue
        }
      }
      if (this.zsh && atCommand && /^(if|elif|while|until)\s/.test(t.slice(i, i + 6))) {
        const handled = this.braceBody(i, end)
        if (handled > i) {
          i = handled
          atCommand = true
          words = []
          continue
        }
      }
      // A word.
      const wordStart = i
      if (
        this.zsh &&
        atCommand &&
        !words.length &&
        t.startsWith('for', i) &&
        this.shortFor(i, end)
      ) {
        i += 3
        continue
      }
      i = this.word(i, end, atCommand, words)
      if (i === wordStart) i++
      const w = t.slice(wordStart, i)
      words.push(w)
      if (
        atCommand &&
        !/^(!|then|do|else|elif|if|while|until|time|noglob|nocorrect|builtin|command|exec|sudo|nohup|repeat|\d+)$/.test(
          w,
        ) &&
        !/^[A-Za-z_]\w*=/.test(w)
      )
        atCommand = false
      if (/^(then|do|else|elif|if|while|until|!|\{)$/.test(w)) atCommand = true
    }
    return end
  }

  /** Reads one word from `i`; rewrites its zsh-only parts; returns where it ends. */
  private word(start: number, end: number, atCommand: boolean, before: string[]): number {
    if (!this.zsh) return Math.max(start + 1, this.wordEnd(start, end))
    const t = this.t
    let i = start
    const prev = before[before.length - 1] ?? ''
    if (t[i] === '=' && /[A-Za-z_]/.test(t[i + 1] ?? ''))
      this.edit(i, i + 1, '') // `=cmd`
    else if (t[i] === '=' && t[i + 1] === '(') {
      this.edit(i, i + 1, '<')
      return this.commands(i + 2, end, 0x29) + 1
    } else if (t[i] === '^' && !atCommand && /[^\s;&|]/.test(t[i + 1] ?? '')) {
      // extendedglob `^pat`: everything except pat.
      const stop = this.wordEnd(i, end)
      this.edit(i, stop, '*')
      return stop
    }
    let sawGlob = false
    while (i < end) {
      const c = t[i]!
      if (c === '<' && /^<\d*-\d*>/.test(t.slice(i, i + 24))) {
        const m = /^<\d*-\d*>/.exec(t.slice(i, i + 24))!
        this.edit(i, i + m[0].length, '*')
        i += m[0].length
        continue
      }
      if (WORD_END.test(c)) {
        if (
          c === '(' &&
          i > start &&
          !atCommand &&
          !/^(function|in)$/.test(prev) &&
          t[i - 1] !== '=' &&
          t[i - 1] !== '$'
        ) {
          i = this.globGroup(i, end)
          sawGlob = true
          continue
        }
        if (
          c === '(' &&
          i === start &&
          !atCommand &&
          !/^(in|function)$/.test(prev) &&
          t[i - 1] !== '='
        ) {
          i = this.globGroup(i, end)
          sawGlob = true
          continue
        }
        break
      }
      if (c === '\\') {
        i += 2
        continue
      }
      if (c === "'") {
        const close = t.indexOf("'", i + 1)
        i = close < 0 ? end : close + 1
        continue
      }
      if (c === '"') {
        i = this.doubleQuoted(i + 1, end)
        continue
      }
      if (c === '`') {
        const close = t.indexOf('`', i + 1)
        i = close < 0 ? end : close + 1
        continue
      }
      if (c === '$') {
        i = this.dollar(i, end)
        continue
      }
      if (c === '~' && i > start && GLOB_CHARS.test(t[i - 1]!) && sawGlob !== undefined) {
        // `*~pat`: exclusion; the match is at most `*`.
        const stop = this.wordEnd(i, end)
        this.edit(i, stop, '')
        i = stop
        continue
      }
      if (GLOB_CHARS.test(c)) sawGlob = true
      i++
    }
    return i
  }

  /** Where the word at `i` ends, with quotes and `$(…)` taken whole. */
  private wordEnd(i: number, end: number): number {
    const t = this.t
    while (i < end && !WORD_END.test(t[i]!)) {
      const c = t[i]
      if (c === '\\') i += 2
      else if (c === "'") {
        const close = t.indexOf("'", i + 1)
        i = close < 0 ? end : close + 1
      } else if (c === '"') i = this.doubleQuoted(i + 1, end)
      else if (c === '$' && t[i + 1] === '(') i = this.dollar(i, end)
      else i++
    }
    return Math.min(i, end)
  }

  /** `(…)` inside or at the start of an argument: a glob qualifier or an alternation group. */
  private globGroup(open: number, end: number): number {
    const close = this.matching(open, end, '(', ')')
    if (close < 0) return end
    const body = this.t.slice(open + 1, close)
    const after = this.t[close + 1]
    const attachedAfter = after !== undefined && !WORD_END.test(after)
    if (attachedAfter || body.includes('|') || body.startsWith('#')) {
      this.edit(open, close + 1, '*')
      return close + 1
    }
    // A qualifier list: `e:code:` / `e'code'` / `+func` run code for every file.
    const code = qualifierCode(body)
    this.edit(open, close + 1, code === null ? '' : `$(eval ${quote(code)})`)
    return close + 1
  }

  private doubleQuoted(i: number, end: number): number {
    const t = this.t
    while (i < end && t[i] !== '"') {
      if (t[i] === '\\') i += 2
      else if (t[i] === '$') i = this.dollar(i, end)
      else if (t[i] === '`') {
        const close = t.indexOf('`', i + 1)
        i = close < 0 ? end : close + 1
      } else i++
    }
    return Math.min(i + 1, end)
  }

  /** `$…` forms: `$(…)`, `$((…))`, `${…}`, `$=X`, `$~X`, `$^X`, `$+X`, plain `$X`. */
  private dollar(i: number, end: number): number {
    const t = this.t
    const n = t[i + 1]
    if (n === '(') {
      if (t[i + 2] === '(') return this.skipArithmetic(i + 3, end)
      return this.commands(i + 2, end, 0x29) + 1
    }
    if (!this.zsh) return i + 1
    if (n === '{') return this.braced(i, end)
    if (n === '=' || n === '~' || n === '^' || n === '+') {
      if (/[A-Za-z_]/.test(t[i + 2] ?? '')) this.edit(i + 1, i + 2, '')
      return i + 2
    }
    if (n === "'") {
      let j = i + 2
      while (j < end && t[j] !== "'") j += t[j] === '\\' ? 2 : 1
      return j + 1
    }
    return i + 1
  }

  /** `${…}`: drops zsh flags and prefixes; nested or zsh-only forms become one unknown value. */
  private braced(i: number, end: number): number {
    const t = this.t
    const close = this.matching(i + 1, end, '{', '}')
    if (close < 0) return end
    let body = t.slice(i + 2, close)
    let bodyStart = i + 2
    const flags = /^\([^)]*\)/.exec(body)
    if (flags) {
      body = body.slice(flags[0].length)
      bodyStart += flags[0].length
    }
    const prefix = /^[=~^+]+/.exec(body)
    if (prefix) {
      body = body.slice(prefix[0].length)
      bodyStart += prefix[0].length
    }
    const bashShaped =
      /^#?[A-Za-z_]\w*(\[[^\]$`(]*\])?$/.test(body) ||
      /^[A-Za-z_]\w*((?::[aAPhtrelu])+|:[-=?+][^{}]*|:\d+(:\d+)?|[#%/^,][^{}]*)$/.test(body) ||
      /^[@*#?$!0-9-]$/.test(body)
    if (bashShaped) {
      if (bodyStart !== i + 2) this.edit(i + 2, bodyStart, '')
      return close + 1
    }
    // `${(f)"$(cmd)"}`: flags that split or join the output of one substitution: its output.
    const only = /^"?(\$\((?:[^()]|\([^()]*\))*\))"?$/.exec(body)
    if (only) {
      this.edit(i, close + 1, `"${zshToBash(only[1]!).text}"`)
      return close + 1
    }
    // Keep what runs inside, as substitutions after an unknown value.
    const inner: string[] = []
    for (const m of body.matchAll(/\$\((?:[^()]|\([^()]*\))*\)|`[^`]*`/g)) {
      inner.push(zshToBash(m[0]).text)
    }
    this.edit(i, close + 1, `\${__zsh_expansion}${inner.join('')}`)
    return close + 1
  }

  private skipArithmetic(i: number, end: number): number {
    let depth = 2
    const t = this.t
    while (i < end && depth > 0) {
      if (t[i] === '(') depth++
      else if (t[i] === ')') depth--
      i++
    }
    return i
  }

  /** `for x (a b) cmd` → `for x in a b; do cmd; done` (zsh's short loop). */
  private shortFor(i: number, end: number): boolean {
    const t = this.t
    const m = /^for\s+([A-Za-z_]\w*)\s*\(/.exec(t.slice(i, i + 120))
    if (!m) return false
    const open = i + m[0].length - 1
    const close = this.matching(open, end, '(', ')')
    if (close < 0) return false
    // `for x (a b) { body }`: the body in braces.
    let brace = close + 1
    while (t[brace] === ' ' || t[brace] === '\t') brace++
    if (t[brace] === '{') {
      const closeBrace = this.matching(brace, end, '{', '}')
      if (closeBrace < 0) return false
      this.edit(open, open + 1, 'in ')
      this.edit(close, close + 1, ';')
      this.edit(brace, brace + 1, 'do')
      const bodyEndsCleanly = /[;\n&]\s*$/.test(t.slice(brace + 1, closeBrace))
      this.edit(closeBrace, closeBrace + 1, bodyEndsCleanly ? 'done' : '; done')
      return true
    }
    let bodyEnd = close + 1
    while (
      bodyEnd < end &&
      !/[\n;]/.test(t[bodyEnd]!) &&
      !(t[bodyEnd] === '&' && t[bodyEnd + 1] === '&') &&
      !(t[bodyEnd] === '|' && t[bodyEnd + 1] === '|')
    ) {
      if (t[bodyEnd] === "'" || t[bodyEnd] === '"') {
        const q = t.indexOf(t[bodyEnd]!, bodyEnd + 1)
        bodyEnd = q < 0 ? end : q + 1
        continue
      }
      bodyEnd++
    }
    if (!t.slice(close + 1, bodyEnd).trim() || /^\s*(do|\{)\b/.test(t.slice(close + 1, bodyEnd))) {
      this.edit(open, open + 1, 'in ')
      this.edit(close, close + 1, ';')
      return true
    }
    this.edit(open, open + 1, 'in ')
    this.edit(close, close + 1, '; do')
    this.edit(bodyEnd, bodyEnd, '; done')
    return true
  }

  /**
   * zsh's `if [[ … ]] { … } elif (( … )) { … } else { … }` and `while (( … )) { … }`: rewritten
   * to `then`/`do` bodies. Only `[[ ]]` and `(( ))` conditions; returns where it stopped (or `i`).
   */
  private braceBody(i: number, end: number): number {
    const t = this.t
    const kw = /^(if|elif|while|until)\s+/.exec(t.slice(i, i + 8))
    if (!kw) return i
    let j = i + kw[0].length
    const open = t.slice(j, j + 2)
    if (open !== '[[' && open !== '((') return i
    const close = t.indexOf(open === '[[' ? ']]' : '))', j + 2)
    if (close < 0) return i
    j = close + 2
    while (t[j] === ' ' || t[j] === '\t') j++
    if (t[j] !== '{') return i
    const loop = kw[1] === 'while' || kw[1] === 'until'
    const body = this.matching(j, end, '{', '}')
    if (body < 0) return i
    this.edit(j, j + 1, loop ? '; do ' : '; then ')
    this.commands(j + 1, body, 0)
    if (!loop) {
      let s = body + 1
      while (t[s] === ' ' || t[s] === '\t') s++
      if (/^elif\s/.test(t.slice(s, s + 5))) {
        // `} elif …`: the chain goes on; its last body closes it with `fi`.
        this.edit(body, body + 1, '; ')
        const next = this.braceBody(s, end)
        return next > s ? next : body + 1
      }
      const m = /^else\s*\{/.exec(t.slice(s, s + 12))
      if (m) {
        const brace = s + m[0].length - 1
        const closeElse = this.matching(brace, end, '{', '}')
        if (closeElse < 0) return body + 1
        this.edit(body, body + 1, '; ')
        this.edit(brace, brace + 1, ' ')
        this.commands(brace + 1, closeElse, 0)
        this.edit(closeElse, closeElse + 1, '; fi')
        return closeElse + 1
      }
    }
    this.edit(body, body + 1, loop ? '; done' : '; fi')
    return body + 1
  }

  /** `{ … }`: zsh lets the closing brace follow a command directly; bash wants a `;` first. */
  private group(open: number, end: number): number {
    const close = this.commands(open + 1, end, 0x7d)
    if (close < end && this.t[close] === '}' && !/[;\n&]\s*$/.test(this.t.slice(open + 1, close)))
      this.edit(close, close, '; ')
    return close
  }

  /** `() { body } args`: an anonymous function, defined and called at once. */
  private anonymousFunction(i: number, end: number): number {
    const t = this.t
    let j = i + 2
    while (t[j] === ' ' || t[j] === '\t') j++
    if (t[j] !== '{') return i + 2
    const close = this.group(j, end)
    if (close >= end) return end
    this.edit(i, i + 2, '__zsh_anonymous()')
    this.edit(close + 1, close + 1, '; __zsh_anonymous')
    return close + 1
  }

  /** The index of the closer matching the opener at `open`, skipping quotes; -1 when none. */
  private matching(open: number, end: number, opener: string, closer: string): number {
    const t = this.t
    let depth = 0
    for (let i = open; i < end; i++) {
      const c = t[i]!
      if (c === '\\') {
        i++
        continue
      }
      if (c === "'") {
        const q = t.indexOf("'", i + 1)
        if (q < 0) return -1
        i = q
        continue
      }
      if (c === '"') {
        let j = i + 1
        while (j < end && t[j] !== '"') j += t[j] === '\\' ? 2 : 1
        i = j
        continue
      }
      if (c === opener) depth++
      else if (c === closer && --depth === 0) return i
    }
    return -1
  }
}

/** The code of an `e` or `+` glob qualifier, or null when the qualifiers run none. */
function qualifierCode(body: string): string | null {
  const plus = /(?:^|[^\\])\+([A-Za-z_][\w-]*)/.exec(body)
  const e = /(?:^|[^\\])e(.)/.exec(body)
  if (e) {
    const d = e[1]!
    const closeCh = ({ '(': ')', '[': ']', '{': '}', '<': '>' } as Record<string, string>)[d] ?? d
    const start = e.index + e[0].length
    const stop = body.indexOf(closeCh, start)
    const code = body.slice(start, stop < 0 ? undefined : stop)
    return code.replace(/^'(.*)'$/s, '$1').replace(/^"(.*)"$/s, '$1')
  }
  if (plus) return plus[1]!
  return null
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}
