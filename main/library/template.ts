import type { ShellDialect } from '../../contract/safety'
import type { PatternParameter } from '../../contract/sync'
import { quoteValue, type QuoteContext } from './quote'

/**
 * Filling a pattern's `{{name}}` template for one shell. The template is scanned with the shell's
 * quoting rules so each placeholder knows its context (bare, inside '…', inside "…"); every value
 * is then quoted for that context (see `quote.ts`) so it stays exactly one word whatever it
 * holds. A value that would be read as an option (`-rf`, `--output=/etc/passwd`) where the
 * pattern did not end options with `--` is refused, as are NUL bytes and values outside the
 * parameter's allowed list.
 */

export interface Placeholder {
  name: string
  /** Offsets of `{{ … }}` in the template. */
  start: number
  end: number
  context: QuoteContext
  /** Nothing but quote characters since the word began: the value starts the word. */
  startsWord: boolean
  /** A `--` word came earlier in the same simple command (options have ended). */
  afterDoubleDash: boolean
  /** Inside backticks, where no quoting is safe. */
  inBackticks: boolean
}

const PLACEHOLDER_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}/y
const SEPARATORS = new Set([' ', '\t', '\n', ';', '|', '&', '(', ')', '<', '>'])
/** Characters PowerShell reads as a dash at the start of a parameter name. */
const DASHES = new Set(['-', '\u2013', '\u2014', '\u2015'])
const COMMAND_BREAKS = new Set([';', '|', '&', '\n', '(', ')'])

/** Finds the placeholders of a template with the quoting context of each. */
export function scanTemplate(template: string, shell: ShellDialect): Placeholder[] {
  const out: Placeholder[] = []
  const ps = shell === 'powershell'
  const fish = shell === 'fish'
  // A stack of contexts: `$(…)` / `(…)` inside double quotes opens a bare context again.
  const stack: Array<{ ctx: QuoteContext; parenDepth: number }> = []
  let ctx: QuoteContext = 'bare'
  let parenDepth = 0
  let backticks = false
  let wordHasText = false
  let word = ''
  let afterDoubleDash = false
  const endWord = () => {
    if (word === '--') afterDoubleDash = true
    word = ''
    wordHasText = false
  }
  let i = 0
  while (i < template.length) {
    PLACEHOLDER_RE.lastIndex = i
    const m = PLACEHOLDER_RE.exec(template)
    if (m) {
      out.push({
        name: m[1]!,
        start: i,
        end: i + m[0].length,
        context: ctx,
        startsWord: !wordHasText,
        afterDoubleDash,
        inBackticks: backticks,
      })
      wordHasText = true
      word += '\u0000'
      i += m[0].length
      continue
    }
    const c = template[i]!
    const next = template[i + 1]
    if (ctx === 'single') {
      if (fish && c === '\\' && (next === "'" || next === '\\')) {
        word += next
        i += 2
        continue
      }
      if (ps && isPsSingleQuote(c)) {
        if (next !== undefined && isPsSingleQuote(next)) {
          word += c
          i += 2
          continue
        }
        ctx = 'bare'
      } else if (!ps && c === "'") ctx = 'bare'
      else {
        word += c
        wordHasText = true
      }
      i++
      continue
    }
    if (ctx === 'ansi') {
      if (c === '\\' && next !== undefined) {
        word += next
        wordHasText = true
        i += 2
        continue
      }
      if (c === "'") ctx = 'bare'
      else {
        word += c
        wordHasText = true
      }
      i++
      continue
    }
    if (ctx === 'double') {
      const esc = ps ? '`' : '\\'
      if (c === esc && next !== undefined) {
        word += next
        wordHasText = true
        i += 2
        continue
      }
      if ((!ps && c === '$' && next === '(') || (fish && c === '$' && next === '(')) {
        stack.push({ ctx, parenDepth })
        ctx = 'bare'
        parenDepth = 1
        endWord()
        i += 2
        continue
      }
      if (ps && c === '$' && next === '(') {
        stack.push({ ctx, parenDepth })
        ctx = 'bare'
        parenDepth = 1
        endWord()
        i += 2
        continue
      }
      if ((ps && isPsDoubleQuote(c)) || (!ps && c === '"')) ctx = 'bare'
      else {
        word += c
        wordHasText = true
      }
      i++
      continue
    }
    // Bare context.
    if (!ps && c === '\\' && next !== undefined) {
      if (next === '\n') {
        i += 2
        continue
      }
      word += next
      wordHasText = true
      i += 2
      continue
    }
    if (ps && c === '`' && next !== undefined) {
      word += next
      wordHasText = true
      i += 2
      continue
    }
    if (!ps && !fish && c === '$' && next === "'") {
      ctx = 'ansi'
      i += 2
      continue
    }
    if ((ps && isPsSingleQuote(c)) || (!ps && c === "'")) {
      ctx = 'single'
      i++
      continue
    }
    if ((ps && isPsDoubleQuote(c)) || (!ps && c === '"')) {
      ctx = 'double'
      i++
      continue
    }
    if (!ps && !fish && c === '`') {
      backticks = !backticks
      endWord()
      i++
      continue
    }
    if (c === '(') parenDepth++
    if (c === ')') {
      parenDepth--
      if (parenDepth <= 0 && stack.length > 0) {
        const top = stack.pop()!
        ctx = top.ctx
        parenDepth = top.parenDepth
        endWord()
        i++
        continue
      }
    }
    if (SEPARATORS.has(c)) {
      endWord()
      if (COMMAND_BREAKS.has(c)) afterDoubleDash = false
      i++
      continue
    }
    word += c
    wordHasText = true
    i++
  }
  return out
}

function isPsSingleQuote(c: string): boolean {
  return c === "'" || c === '\u2018' || c === '\u2019' || c === '\u201a' || c === '\u201b'
}

function isPsDoubleQuote(c: string): boolean {
  return c === '"' || c === '\u201c' || c === '\u201d' || c === '\u201e'
}

export interface FillResult {
  command: string | null
  errors: Record<string, string>
}

/**
 * Fills a template for a shell. Missing values take the parameter's default; a parameter the
 * template uses but does not declare is filled like a declared one with no constraints.
 */
export function fillTemplate(
  template: string,
  parameters: readonly PatternParameter[],
  values: Readonly<Record<string, string>>,
  shell: ShellDialect,
): FillResult {
  const placeholders = scanTemplate(template, shell)
  const declared = new Map(parameters.map((p) => [p.name, p]))
  const errors: Record<string, string> = {}
  const resolved = new Map<string, string>()
  for (const ph of placeholders) {
    if (resolved.has(ph.name) || errors[ph.name]) continue
    const param = declared.get(ph.name)
    const value = Object.hasOwn(values, ph.name) ? values[ph.name] : param?.default
    if (value === undefined) {
      errors[ph.name] = 'needs a value'
      continue
    }
    const problem = checkValue(value, param)
    if (problem) errors[ph.name] = problem
    else resolved.set(ph.name, value)
  }
  let out = ''
  let last = 0
  for (const ph of placeholders) {
    out += template.slice(last, ph.start)
    last = ph.end
    const value = resolved.get(ph.name)
    if (value === undefined) continue
    if (ph.inBackticks) {
      errors[ph.name] ??= 'sits inside `…` backticks, where no value can be quoted safely: use $(…)'
      continue
    }
    const param = declared.get(ph.name)
    const listed = value === param?.default || (param?.allowed?.includes(value) ?? false)
    if (ph.startsWord && !ph.afterDoubleDash && !listed && startsWithDash(value, shell)) {
      errors[ph.name] ??=
        `starts with "-", so the program would read it as an option; ` +
        `the pattern can put -- before {{${ph.name}}} to allow such values`
      continue
    }
    const quoted = quoteValue(value, shell, ph.context)
    if (!quoted.ok) {
      errors[ph.name] ??= quoted.error
      continue
    }
    out += quoted.text
  }
  out += template.slice(last)
  if (Object.keys(errors).length > 0) return { command: null, errors }
  return { command: out, errors }
}

function checkValue(value: string, param: PatternParameter | undefined): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character, which no shell argument can hold'
  if (param?.allowed && param.allowed.length > 0 && !param.allowed.includes(value))
    return `must be one of: ${param.allowed.slice(0, 10).join(', ')}${param.allowed.length > 10 ? ', …' : ''}`
  return null
}

function startsWithDash(value: string, shell: ShellDialect): boolean {
  const first = value[0]
  if (first === undefined) return false
  return shell === 'powershell' ? DASHES.has(first) : first === '-'
}

/**
 * The template as the safety engine should see it before values are known: each placeholder
 * becomes a variable expansion, a word whose value the engine cannot know.
 */
export function templateForVerdict(template: string, shell: ShellDialect): string {
  const placeholders = scanTemplate(template, shell)
  let out = ''
  let last = 0
  for (const ph of placeholders) {
    out += template.slice(last, ph.start)
    last = ph.end
    // A variable in every dialect; inside single quotes it is literal text, as a value would be.
    out += shell === 'fish' && ph.context === 'double' ? `{$${ph.name}}` : `$${ph.name}`
  }
  return out + template.slice(last)
}
