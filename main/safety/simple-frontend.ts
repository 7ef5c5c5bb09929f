import { producerOf } from './bash-frontend'
import { DYN, type Arg, type Redirect, type SimpleCommand, type Span } from './types'

/**
 * A tokenizer-level frontend for shells without a grammar here (fish, PowerShell): splits
 * statements and pipelines, removes quotes with each shell's own rules, and walks command
 * substitutions, PowerShell sub-expressions and script blocks recursively.
 */
export interface SimpleDialect {
  escape: '\\' | '`'
  /** PowerShell: `'it''s'`; fish: `'it\'s'`. */
  singleQuoteDoubling: boolean
  /** Characters that open a nested script whose commands run: `(` in fish and PowerShell, `{` in PowerShell. */
  nestedOpeners: string
  comment: RegExp
  /** Words dropped at the start of a statement (keywords), then the statement continues. */
  keywords: Set<string>
  /** Keywords whose whole statement header is data (`for x in a b`, `function f`). */
  headerKeywords: Set<string>
  caseInsensitive: boolean
}

export interface SimpleScript {
  commands: SimpleCommand[]
  parseError: string | null
  vars: Map<string, string>
}

const CLOSERS: Record<string, string> = { '(': ')', '{': '}', '[': ']' }

export function extractSimple(text: string, d: SimpleDialect): SimpleScript {
  const state: SimpleScript = {
    commands: [],
    parseError: null,
    vars: new Map([
      ['HOME', '~'],
      ['env:USERPROFILE', '~'],
      ['env:HOME', '~'],
    ]),
  }
  scan(text, 0, text.length, d, state)
  return state
}

function scan(text: string, start: number, end: number, d: SimpleDialect, st: SimpleScript): void {
  let words: Arg[] = []
  let redirects: Redirect[] = []
  let connector: string | null = null
  let cmdStart = start
  let stdinFrom: SimpleCommand[] = []
  let piped = false
  let i = start
  const finish = (next: string | null, at: number) => {
    if (words.length || redirects.length) {
      const cmd = statement(words, redirects, { start: cmdStart, end: at }, connector, d, st)
      if (cmd) {
        if (piped) cmd.stdin = producerOf(stdinFrom.map(normalisePsProducer)) ?? cmd.stdin
        st.commands.push(cmd)
        stdinFrom = [cmd]
      } else stdinFrom = []
    }
    piped = next === '|'
    words = []
    redirects = []
    connector = next
  }
  while (i < end) {
    const c = text[i]!
    if (c === ' ' || c === '\t' || c === '\r') {
      i++
      continue
    }
    if (c === '\\' && text[i + 1] === '\n' && d.escape === '\\') {
      i += 2
      continue
    }
    if (c === '`' && text[i + 1] === '\n' && d.escape === '`') {
      i += 2
      continue
    }
    if (!words.length && !redirects.length) cmdStart = i
    if (c === '\n' || c === ';') {
      finish(';', i)
      i++
      continue
    }
    if (c === '#' || (c === '<' && text[i + 1] === '#')) {
      const close = c === '<' ? text.indexOf('#>', i) : -1
      const nl = text.indexOf('\n', i)
      i = c === '<' ? (close < 0 ? end : close + 2) : nl < 0 || nl > end ? end : nl
      continue
    }
    if (c === '|' || (c === '&' && text[i + 1] === '&')) {
      const op =
        text.slice(i, i + 2) === '||' || text.slice(i, i + 2) === '&&' ? text.slice(i, i + 2) : '|'
      finish(op, i)
      i += op.length
      continue
    }
    if (c === '&' && !d.caseInsensitive) {
      finish('&', i)
      i++
      continue
    }
    const redirect = /^(\d?>>|\d?>|&>>|&>|\*>|<)(?!\()/.exec(text.slice(i, i + 4))
    if (redirect && !(c === '<' && d.caseInsensitive)) {
      i += redirect[0].length
      while (text[i] === ' ') i++
      const target = readWord(text, i, end, d, st)
      if (target) {
        redirects.push({
          op: redirect[0].replace(/^\d|\*/, ''),
          fd: /^\d/.test(redirect[0]) ? redirect[0][0]! : null,
          target: target.arg,
          span: { start: i - redirect[0].length, end: target.end },
        })
        i = target.end
      }
      continue
    }
    const w = readWord(text, i, end, d, st)
    if (!w) {
      st.parseError ??= `unexpected ${JSON.stringify(c)} at offset ${i}`
      i++
      continue
    }
    words.push(w.arg)
    i = w.end
  }
  finish(null, end)
}

function normalisePsProducer(cmd: SimpleCommand): SimpleCommand {
  const name = cmd.words[0]?.value.toLowerCase() ?? ''
  if (
    /^(iwr|irm|invoke-webrequest|invoke-restmethod)$/.test(name) ||
    /downloadstring|downloadfile/i.test(cmd.words.map((w) => w.raw).join(' '))
  ) {
    return { ...cmd, words: [{ ...cmd.words[0]!, value: 'curl' }] }
  }
  return cmd
}

function statement(
  words: Arg[],
  redirects: Redirect[],
  span: Span,
  connector: string | null,
  d: SimpleDialect,
  st: SimpleScript,
): SimpleCommand | null {
  let w = words
  const key = (a: Arg | undefined) =>
    a ? (d.caseInsensitive ? a.value.toLowerCase() : a.value) : ''
  while (w.length && d.keywords.has(key(w[0]))) w = w.slice(1)
  if (w.length && d.headerKeywords.has(key(w[0]))) return null
  // fish `set [-x] NAME value`, PowerShell `$x = value`: remember literal values.
  if (key(w[0]) === 'set' && !d.caseInsensitive) {
    const rest = w.slice(1).filter((a) => !a.value.startsWith('-'))
    if (rest[0])
      st.vars.set(
        rest[0].value,
        rest
          .slice(1)
          .map((a) => a.value)
          .join(' '),
      )
    return null
  }
  if (w[0]?.raw.startsWith('$') && w[1]?.value === '=') {
    st.vars.set(
      w[0].raw.slice(1).toLowerCase(),
      w
        .slice(2)
        .map((a) => a.value)
        .join(' '),
    )
    if (w.length <= 3) return null
    w = w.slice(2)
  }
  if (d.caseInsensitive) {
    // PowerShell: `& cmd` / `. script` invoke; a statement starting with `$x`, a literal or
    // `(...)` is an expression, not a command (its sub-expressions were already scanned).
    const invoked = (w[0]?.value === '&' || w[0]?.value === '.') && w.length > 1
    if (invoked) w = w.slice(1)
    else if (w[0] && /^[$'"([\d@-]/.test(w[0].raw)) return null
  }
  if (!w.length && !redirects.length) return null
  return { words: w, redirects, span, stdin: { kind: 'none' }, connector }
}

/** Reads one word starting at `i`; nested scripts inside it are scanned into `st.commands`. */
function readWord(
  text: string,
  i: number,
  end: number,
  d: SimpleDialect,
  st: SimpleScript,
): { arg: Arg; end: number } | null {
  const start = i
  let value = ''
  let quoted = false
  while (i < end) {
    const c = text[i]!
    if (/[\s;|]/.test(c) || (c === '&' && (text[i + 1] === '&' || !d.caseInsensitive))) break
    if (
      (c === '>' || (c === '<' && !d.caseInsensitive)) &&
      i > start &&
      /^\d?$/.test(value) === false
    )
      break
    if ((c === '>' || c === '<') && i === start) break
    if (c === d.escape && i + 1 < end) {
      value += d.escape === '`' ? psEscape(text[i + 1]!) : text[i + 1]!
      i += 2
      continue
    }
    if (c === "'") {
      quoted = true
      i++
      while (i < end) {
        if (text[i] === "'") {
          if (d.singleQuoteDoubling && text[i + 1] === "'") {
            value += "'"
            i += 2
            continue
          }
          break
        }
        if (
          !d.singleQuoteDoubling &&
          text[i] === '\\' &&
          (text[i + 1] === "'" || text[i + 1] === '\\')
        ) {
          value += text[i + 1]
          i += 2
          continue
        }
        value += text[i++]
      }
      if (i >= end) st.parseError ??= `unterminated quote at offset ${start}`
      i = Math.min(i + 1, end)
      continue
    }
    if (c === '"') {
      quoted = true
      i++
      while (i < end && text[i] !== '"') {
        const ch = text[i]!
        if (ch === d.escape && i + 1 < end) {
          value +=
            d.escape === '`'
              ? psEscape(text[i + 1]!)
              : /["$\\]/.test(text[i + 1]!)
                ? text[i + 1]!
                : ch + text[i + 1]!
          i += 2
        } else if (ch === '$') {
          const v = readVariable(text, i, end, d, st)
          value += v.value
          i = v.end
        } else value += text[i++]
      }
      if (i >= end) st.parseError ??= `unterminated quote at offset ${start}`
      i = Math.min(i + 1, end)
      continue
    }
    if (c === '$') {
      const v = readVariable(text, i, end, d, st)
      value += v.value
      i = v.end
      continue
    }
    if (d.nestedOpeners.includes(c) && !(c === '{' && value === '' && text[i + 1] === '}')) {
      const close = matching(text, i, end, c, d)
      if (close < 0) {
        st.parseError ??= `missing ${JSON.stringify(CLOSERS[c])} for the one at offset ${i}`
        value += DYN
        i = end
        continue
      }
      const before = st.commands.length
      scan(text, i + 1, close, d, st)
      const only = st.commands.length === before + 1 ? st.commands[before] : undefined
      const name = only?.words[0]?.value.toLowerCase()
      value +=
        only && (name === 'echo' || name === 'write-output')
          ? only.words
              .slice(1)
              .map((a) => a.value)
              .join(' ')
          : DYN
      i = close + 1
      continue
    }
    if (c === '[' && d.caseInsensitive) {
      const close = matching(text, i, end, c, d)
      value += text.slice(i, close < 0 ? end : close + 1)
      i = close < 0 ? end : close + 1
      continue
    }
    value += c
    i++
  }
  if (i === start) return null
  return { arg: { value, raw: text.slice(start, i), span: { start, end: i }, quoted }, end: i }
}

function readVariable(
  text: string,
  i: number,
  end: number,
  d: SimpleDialect,
  st: SimpleScript,
): { value: string; end: number } {
  if (text[i + 1] === '(' && d.nestedOpeners.includes('(')) {
    const close = matching(text, i + 1, end, '(', d)
    if (close < 0) {
      st.parseError ??= `missing ")" for the one at offset ${i + 1}`
      return { value: DYN, end }
    }
    scan(text, i + 2, close, d, st)
    return { value: DYN, end: close + 1 }
  }
  const m = /^\$(\{[^}]*\}|env:[A-Za-z_][\w]*|[A-Za-z_][\w]*|[?_$^])/i.exec(
    text.slice(i, Math.min(end, i + 120)),
  )
  if (!m) return { value: '$', end: i + 1 }
  const name = m[1]!.replace(/^\{|\}$/g, '')
  const known = st.vars.get(d.caseInsensitive ? name.toLowerCase() : name) ?? st.vars.get(name)
  return { value: known ?? DYN, end: i + m[0].length }
}

function matching(
  text: string,
  open: number,
  end: number,
  opener: string,
  d: SimpleDialect,
): number {
  const closer = CLOSERS[opener]!
  let depth = 0
  let quote: string | null = null
  for (let i = open; i < end; i++) {
    const c = text[i]!
    if (quote) {
      if (c === d.escape && quote === '"') i++
      else if (c === quote) quote = null
      continue
    }
    if (c === d.escape) {
      i++
      continue
    }
    if (c === "'" || c === '"') quote = c
    else if (c === opener) depth++
    else if (c === closer && --depth === 0) return i
  }
  return -1
}

function psEscape(c: string): string {
  return ({ n: '\n', t: '\t', r: '\r', '0': '\0', a: '\x07' } as Record<string, string>)[c] ?? c
}
