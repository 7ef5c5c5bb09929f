import { CwdTracker } from './cwd'
import { LIMITS, limitFinding, type LimitKind } from './limits'
import { baseName, commandOutput, PipeAccumulator, type StaticText } from './static-output'
import { DYN, type Arg, type Finding, type Redirect, type SimpleCommand, type Span } from './types'

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
  cwd: CwdTracker
  /** fish: the items of list variables set earlier in the line (`set cmd rm -rf /`). */
  lists: Map<string, string[]>
  /** fish `alias name 'value'` and `alias name=value` defined earlier in the line. */
  aliases: Map<string, string>
  depth: number
  limits: Set<LimitKind>
  expanding: Set<string>
  /** PowerShell: what `$_` stands for in the script block of a `ForEach-Object` being read. */
  pipelineItem: string | null
}

export interface SimpleOptions {
  cwd?: string | null
  /** Extra variables the dialect knows (PowerShell's `$env:SystemRoot`). */
  vars?: Record<string, string>
}

/** The findings for bounds a simple-frontend scan ran into. */
export function limitFindings(st: SimpleScript): Finding[] {
  return [...st.limits].map(limitFinding)
}

const CLOSERS: Record<string, string> = { '(': ')', '{': '}', '[': ']' }

export function extractSimple(
  text: string,
  d: SimpleDialect,
  options: SimpleOptions = {},
): SimpleScript {
  const state: SimpleScript = {
    commands: [],
    parseError: null,
    vars: new Map([
      ['HOME', '~'],
      ['env:USERPROFILE', '~'],
      ['env:HOME', '~'],
      ...Object.entries(options.vars ?? {}),
    ]),
    cwd: new CwdTracker(options.cwd ?? null),
    lists: new Map(),
    aliases: new Map(),
    depth: 0,
    limits: new Set(),
    expanding: new Set(),
    pipelineItem: null,
  }
  scan(text, 0, text.length, d, state)
  return state
}

function scan(text: string, start: number, end: number, d: SimpleDialect, st: SimpleScript): void {
  if (st.depth >= LIMITS.maxNesting) {
    st.limits.add('nesting')
    return
  }
  st.depth++
  try {
    scanInner(text, start, end, d, st)
  } finally {
    st.depth--
  }
}

function scanInner(
  text: string,
  start: number,
  end: number,
  d: SimpleDialect,
  st: SimpleScript,
): void {
  let words: Arg[] = []
  let redirects: Redirect[] = []
  let connector: string | null = null
  let cmdStart = start
  let pipe = new PipeAccumulator(d.caseInsensitive ? 'powershell' : 'fish')
  let piped = false
  let i = start
  const finish = (next: string | null, at: number) => {
    if (words.length || redirects.length) {
      const span = { start: cmdStart, end: at }
      const cmds = statement(words, redirects, span, connector, d, st, text)
      const head = cmds[0]
      if (head && piped && !pipe.empty) head.stdin = pipe.source() ?? head.stdin
      if (!piped) pipe = new PipeAccumulator(d.caseInsensitive ? 'powershell' : 'fish')
      for (const cmd of cmds) {
        if (st.commands.length >= LIMITS.maxCommands) {
          st.limits.add('commands')
          break
        }
        st.commands.push(cmd)
      }
      if (cmds.length) pipe.push(cmds.map(normalisePsProducer))
    }
    if (next !== '|') pipe = new PipeAccumulator(d.caseInsensitive ? 'powershell' : 'fish')
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
    st.pipelineItem =
      d.caseInsensitive &&
      piped &&
      words.length &&
      /^(%|foreach|foreach-object|where-object|\?)$/i.test(words[0]!.value)
        ? listedItem(pipe)
        : null
    const w = readWord(text, i, end, d, st)
    st.pipelineItem = null
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
  text: string,
): SimpleCommand[] {
  let w = words
  const key = (a: Arg | undefined) =>
    a ? (d.caseInsensitive ? a.value.toLowerCase() : a.value) : ''
  // fish `cd x; and rm …` goes on only where the cd worked, as `cd x && rm …` does.
  const chained = connector === '&&' || key(w[0]) === 'and'
  while (w.length && d.keywords.has(key(w[0]))) w = w.slice(1)
  // `param($x)` reads as one word: its keyword is what comes before the parenthesis.
  const head = w[0] ? /^[A-Za-z]+/.exec(w[0].raw)?.[0] : undefined
  if (
    w.length &&
    (d.headerKeywords.has(key(w[0])) ||
      (head &&
        d.headerKeywords.has(d.caseInsensitive ? head.toLowerCase() : head) &&
        w[0]!.raw.slice(head.length).startsWith('(')))
  )
    return []
  // fish `set [-x] NAME value`, PowerShell `$x = value`: remember literal values.
  if (key(w[0]) === 'set' && !d.caseInsensitive) {
    // Options come before the name; after it every word is a value (`set cmd rm -rf /`).
    const at = w.findIndex((a, i) => i > 0 && !a.value.startsWith('-'))
    const rest = at > 0 ? w.slice(at) : []
    if (rest[0]) {
      const items = rest.slice(1).map((a) => a.value)
      st.vars.set(rest[0].value, items.join(' '))
      st.lists.set(rest[0].value, items)
    }
    return []
  }
  // fish: `$cmd` holding a list is one word per item (`set cmd rm -rf /; $cmd` runs rm).
  if (!d.caseInsensitive && st.lists.size) w = w.flatMap((a) => listItems(a, st) ?? [a])
  if (w[0]?.raw.startsWith('$') && w[1]?.value === '=') {
    st.vars.set(
      w[0].raw.slice(1).toLowerCase(),
      w
        .slice(2)
        .map((a) => a.value)
        .join(' '),
    )
    if (w.length <= 3) return []
    w = w.slice(2)
  }
  if (d.caseInsensitive) {
    // PowerShell: `& cmd` / `. script` invoke; a statement starting with `$x`, a literal or
    // `(...)` is an expression, not a command (its sub-expressions were already scanned).
    const invoked = (w[0]?.value === '&' || w[0]?.value === '.') && w.length > 1
    if (invoked) w = w.slice(1)
    else if (w[0] && /^\[/.test(w[0].raw)) {
      // `[IO.Directory]::Delete(…)`: an expression calling .NET, rated by what it calls.
      const raw = text.slice(span.start, span.end)
      const expr: Arg = { value: '(expression)', raw: '', span, quoted: false }
      const body: Arg = { value: raw, raw, span, quoted: true }
      return [
        {
          words: [expr, body],
          redirects,
          span,
          stdin: { kind: 'none' },
          connector,
          cwd: st.cwd.cwd,
        },
      ]
    } else if (w[0] && /^[$'"([{\d@-]/.test(w[0].raw)) return []
  }
  if (!w.length && !redirects.length) return []
  const name = key(w[0])
  if (defineAlias(name, w.slice(1), st)) return []
  const alias = w[0] && !w[0].quoted ? st.aliases.get(name) : undefined
  if (alias !== undefined && w[0] && !st.expanding.has(name)) {
    expandAlias(name, alias + text.slice(w[0].span.end, span.end), w[0].span, d, st)
    return []
  }
  if (chained) st.cwd.ifCdFailed = undefined
  const cmd: SimpleCommand = {
    words: w,
    redirects,
    span,
    stdin: { kind: 'none' },
    connector,
    cwd: st.cwd.cwd,
  }
  if (st.cwd.ifCdFailed !== undefined) cmd.cwdIfCdFailed = st.cwd.ifCdFailed
  st.cwd.apply(
    name,
    w
      .slice(1)
      .map((a) => a.value)
      .filter((v) => !/^-/.test(v) || v === '-'),
  )
  return [cmd]
}

/** fish: the items of a list variable a bare unquoted `$name` word expands to. */
function listItems(a: Arg, st: SimpleScript): Arg[] | null {
  const m = /^\$([A-Za-z_]\w*)$/.exec(a.raw)
  const items = m ? st.lists.get(m[1]!) : undefined
  if (!items || items.length < 2) return null
  return items.map((value) => ({ value, raw: a.raw, span: a.span, quoted: false }))
}

/** fish `alias x 'cmd'` / `alias x=cmd`, PowerShell `Set-Alias x Cmdlet`: returns true if one. */
function defineAlias(name: string, args: Arg[], st: SimpleScript): boolean {
  const operands = args.map((a) => a.value).filter((v) => !/^-/.test(v))
  if (name === 'alias') {
    const [first, ...rest] = operands
    if (!first) return false
    const eq = first.indexOf('=')
    if (eq > 0) st.aliases.set(first.slice(0, eq), first.slice(eq + 1))
    else if (rest.length) st.aliases.set(first, rest.join(' '))
    return true
  }
  if (/^(set-alias|new-alias|sal|nal)$/.test(name)) {
    const named = (p: string) => {
      const i = args.findIndex((a) => new RegExp(`^-${p}`, 'i').test(a.value))
      return i >= 0 ? args[i + 1]?.value : undefined
    }
    const aliasName = named('n') ?? operands[0]
    const value = named('v') ?? operands[operands.length > 1 ? 1 : 0]
    if (aliasName && value && aliasName !== value) st.aliases.set(aliasName.toLowerCase(), value)
    return true
  }
  return false
}

/** Runs an alias's text where it is called; its commands point at the alias name. */
function expandAlias(
  name: string,
  script: string,
  at: Span,
  d: SimpleDialect,
  st: SimpleScript,
): void {
  st.expanding.add(name)
  const before = st.commands.length
  try {
    scan(script, 0, script.length, d, st)
  } finally {
    st.expanding.delete(name)
  }
  for (const cmd of st.commands.slice(before)) {
    cmd.span = at
    cmd.words = cmd.words.map((a) => ({ ...a, span: at }))
    cmd.redirects = cmd.redirects.map((r) => ({ ...r, span: at }))
  }
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
  let decoded = false
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
      const item = c === '{' ? st.pipelineItem : null
      const saved = [st.vars.get('_'), st.vars.get('psitem')] as const
      if (item !== null) {
        st.vars.set('_', item)
        st.vars.set('psitem', item)
      }
      st.pipelineItem = null
      scan(text, i + 1, close, d, st)
      if (item !== null) {
        for (const [k, v] of [
          ['_', saved[0]],
          ['psitem', saved[1]],
        ] as const) {
          if (v === undefined) st.vars.delete(k)
          else st.vars.set(k, v)
        }
      }
      const only = st.commands.length === before + 1 ? st.commands[before] : undefined
      const name = only?.words[0]?.value.toLowerCase()
      // What a command substitution prints, when the text decides it (`(echo x)`, `(printf …)`,
      // `(echo … | base64 -d)`).
      const piped = only ? undefined : pipelineOutput(st.commands.slice(before), d)
      if (piped?.decoded) decoded = true
      const printed =
        only && (name === 'echo' || name === 'write-output')
          ? only.words
              .slice(1)
              .map((a) => a.value)
              .join(' ')
          : only
            ? commandOutput(
                only,
                undefined,
                d.caseInsensitive ? 'powershell' : 'fish',
              )?.text.replace(/\n+$/, '')
            : piped?.text.replace(/\n+$/, '')
      value += printed ?? DYN
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
  const arg: Arg = { value, raw: text.slice(start, i), span: { start, end: i }, quoted }
  if (decoded) arg.decoded = true
  return { arg, end: i }
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
  let stop = i + m[0].length
  // `$_.FullName`: the path of the pipeline item.
  const prop = /^\.(FullName|FullPath|PSPath|Path|Name)\b/i.exec(text.slice(stop, stop + 12))
  if (prop && d.caseInsensitive && /^(_|psitem)$/i.test(name)) stop += prop[0].length
  return { value: known ?? DYN, end: stop }
}

/** What the last stage of a one-pipeline substitution prints, when the text decides it. */
function pipelineOutput(cmds: SimpleCommand[], d: SimpleDialect): StaticText | null {
  const last = cmds[cmds.length - 1]
  if (!last || cmds.length < 2 || !cmds.slice(1).every((c) => c.connector === '|')) return null
  const stdin = last.stdin
  const input =
    stdin.kind === 'literal'
      ? { text: stdin.text, decoded: stdin.decoded ?? false }
      : stdin.kind !== 'none' && stdin.known
        ? stdin.known
        : null
  if (!input) return null
  return commandOutput(last, input, d.caseInsensitive ? 'powershell' : 'fish')
}

/** PowerShell: the items a listing stage (`Get-ChildItem PATH`) puts in the pipeline. */
function listedItem(pipe: PipeAccumulator): string | null {
  const source = pipe.source()
  const last =
    source && 'pipeline' in source ? source.pipeline?.[source.pipeline.length - 1] : undefined
  const name = baseName(last?.words[0]?.value.toLowerCase() ?? '')
  if (!last || !/^(get-childitem|gci|ls|dir|get-item|gi)$/.test(name)) return null
  const args = last.words.slice(1)
  const pathAt = args.findIndex((a) => /^-(path|literalpath|lp)$/i.test(a.value))
  const path =
    pathAt >= 0 ? args[pathAt + 1]?.value : args.find((a) => !a.value.startsWith('-'))?.value
  return `${path ?? '.'}\\*`
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
