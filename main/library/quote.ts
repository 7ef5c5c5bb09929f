import type { ShellDialect } from '../../contract/safety'

/**
 * Quoting one value so a shell reads it back as exactly that text, as one word, with nothing
 * expanded. The result goes into a terminal as typed input, so it never holds a raw control
 * character (a typed ^C, ^U or ESC would act on the line editor): those are written as escapes.
 *
 * Where the placeholder sits decides the form: bare, or inside the template's own '…', "…" or
 * $'…' quotes. Inside quotes the POSIX shells and fish close the quote, add the quoted value and
 * reopen it (adjacent quoted parts form one word); PowerShell escapes inside the string (its
 * argument parser may split `'a'b` into two arguments, so nothing is glued to a quote there).
 */
export type QuoteContext = 'bare' | 'single' | 'double' | 'ansi'

export type Quoted = { ok: true; text: string } | { ok: false; error: string }

/** Words any of the shells reads as themselves wherever they stand. */
const POSIX_PLAIN = /^[A-Za-z0-9_@%+:,./-]+$/
const FISH_PLAIN = /^[A-Za-z0-9_+:,./-]+$/
const PS_PLAIN = /^[A-Za-z0-9_+:./]+$/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

export function quoteValue(value: string, shell: ShellDialect, context: QuoteContext): Quoted {
  if (value.includes('\u0000')) return { ok: false, error: 'contains a NUL character' }
  switch (shell) {
    case 'bash':
    case 'zsh':
      return { ok: true, text: posix(value, context, true) }
    case 'sh':
      if (CONTROL.test(value))
        return {
          ok: false,
          error:
            'holds a control character (newline, tab, escape…), which sh cannot take in a ' +
            'typed command; run the pattern in bash or zsh',
        }
      return { ok: true, text: posix(value, context, false) }
    case 'fish':
      return { ok: true, text: fish(value, context) }
    case 'powershell':
      return powershell(value, context)
  }
}

function posix(value: string, context: QuoteContext, ansiC: boolean): string {
  // zsh reads a word that starts with `=` as a command path lookup.
  if (value !== '' && POSIX_PLAIN.test(value) && !value.startsWith('=')) return value
  const quoted = ansiC && CONTROL.test(value) ? ansiCQuote(value) : singleQuote(value)
  switch (context) {
    case 'bare':
      return quoted
    case 'single':
      return `'${quoted}'`
    case 'double':
      return `"${quoted}"`
    case 'ansi':
      return `'${quoted}$'`
  }
}

function singleQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}

const C_ESCAPES: Record<string, string> = {
  '\n': '\\n',
  '\t': '\\t',
  '\r': '\\r',
  '\u001b': '\\E',
  '\\': '\\\\',
  "'": "\\'",
  // History expansion never applies inside $'…', but an escape costs nothing.
  '!': '\\x21',
}

function ansiCQuote(value: string): string {
  let out = "$'"
  for (const ch of value) {
    const escaped = C_ESCAPES[ch]
    if (escaped) out += escaped
    else if (CONTROL.test(ch)) out += `\\x${hex2(ch)}`
    else out += ch
  }
  return out + "'"
}

function hex2(ch: string): string {
  return ch.charCodeAt(0).toString(16).padStart(2, '0')
}

const FISH_ESCAPES: Record<string, string> = {
  '\n': '\\n',
  '\t': '\\t',
  '\r': '\\r',
  '\u001b': '\\e',
}

function fish(value: string, context: QuoteContext): string {
  let quoted: string
  if (value !== '' && FISH_PLAIN.test(value)) quoted = value
  else {
    // Runs of ordinary characters in '…' (where only \\ and \' are escapes), control characters
    // as bare escapes between them: 'a'\n'b' is one word.
    quoted = ''
    let run = ''
    const flush = () => {
      if (run) quoted += `'${run.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
      run = ''
    }
    for (const ch of value) {
      if (CONTROL.test(ch)) {
        flush()
        quoted += FISH_ESCAPES[ch] ?? `\\x${hex2(ch)}`
      } else run += ch
    }
    flush()
    if (quoted === '') quoted = "''"
  }
  switch (context) {
    case 'bare':
    case 'ansi':
      return quoted
    case 'single':
      return `'${quoted}'`
    case 'double':
      return `"${quoted}"`
  }
}

const PS_ESCAPES: Record<string, string> = {
  '\n': '`n',
  '\t': '`t',
  '\r': '`r',
  '\u001b': '`e',
  '\u0007': '`a',
  '\u0008': '`b',
  '\u000c': '`f',
  '\u000b': '`v',
}
const PS_SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/g
const PS_DOUBLE_SPECIAL = new Set(['`', '"', '$', '\u201c', '\u201d', '\u201e'])

function powershell(value: string, context: QuoteContext): Quoted {
  if (context === 'single') {
    if (CONTROL.test(value))
      return {
        ok: false,
        error:
          "holds a control character, which PowerShell's '…' strings cannot carry; take the " +
          'quotes around the parameter out of the pattern',
      }
    return { ok: true, text: value.replace(PS_SINGLE_QUOTES, (q) => q + q) }
  }
  if (context === 'double') {
    let out = ''
    for (const ch of value) {
      if (PS_ESCAPES[ch]) out += PS_ESCAPES[ch]
      else if (CONTROL.test(ch)) out += `\`u{${ch.charCodeAt(0).toString(16)}}`
      else if (PS_DOUBLE_SPECIAL.has(ch)) out += '`' + ch
      else out += ch
    }
    return { ok: true, text: out }
  }
  if (value === '') return { ok: true, text: "''" }
  if (PS_PLAIN.test(value) && !value.startsWith('.')) return { ok: true, text: value }
  // A bare word with every character that could mean something escaped by a backtick: no quote
  // starts the word (see above), `-` cannot start a parameter name, `,` cannot make an array.
  let out = ''
  for (const ch of value) {
    if (PS_ESCAPES[ch]) out += PS_ESCAPES[ch]
    else if (CONTROL.test(ch)) out += `\`u{${ch.charCodeAt(0).toString(16)}}`
    else if (/[A-Za-z0-9]/.test(ch)) out += ch
    else out += '`' + ch
  }
  return { ok: true, text: out }
}
