import type { ParameterSuggestion } from '../../contract/library'
import type { PatternParameter } from '../../contract/sync'

/**
 * Proposes a template from commands picked in history: words that differ between similar
 * entries become parameters (their values as the allowed list's seed and the latest as default);
 * with a single command, words that look like paths, hosts, URLs, numbers or versions do. Names
 * come from the option before the word (`-n prod` → `n`, `--namespace prod` → `namespace`) or
 * from what the word looks like.
 */

interface Word {
  text: string
  start: number
  end: number
}

/** Splits at unquoted whitespace; quotes stay part of the word. */
function split(command: string): Word[] {
  const out: Word[] = []
  let i = 0
  while (i < command.length) {
    while (i < command.length && /\s/.test(command[i]!)) i++
    if (i >= command.length) break
    const start = i
    let quote: string | null = null
    while (i < command.length && (quote || !/\s/.test(command[i]!))) {
      const c = command[i]!
      if (quote) {
        if (c === quote) quote = null
        else if (c === '\\' && quote === '"') i++
      } else if (c === '"' || c === "'") quote = c
      else if (c === '\\') i++
      i++
    }
    out.push({ text: command.slice(start, i), start, end: i })
  }
  return out
}

const KINDS: Array<[RegExp, string]> = [
  [/^[a-z][a-z0-9+.-]*:\/\/\S+$/i, 'url'],
  // scp/rsync targets: user@host:path
  [/^([\w.-]+@)?[\w.-]+:\S*$/, 'host'],
  [/^(\d{1,3}\.){3}\d{1,3}(:\d+)?$/, 'host'],
  [/^[\w.-]+@[\w.-]+$/, 'host'],
  [/^(~|\.{1,2})?\/\S*$|^\S+\/\S+$/, 'path'],
  [/^\S+\.(txt|log|json|ya?ml|csv|tar|gz|zip|pdf|md|conf|sh|py|js|ts)$/i, 'file'],
  [/^v?\d+\.\d+(\.\d+)?([-+]\S*)?$/, 'version'],
  [/^\d+$/, 'number'],
  [/^([a-z0-9-]+\.)+[a-z]{2,}$/i, 'host'],
]

function kindOf(word: string): string | null {
  const bare = word.replace(/^['"]|['"]$/g, '')
  for (const [re, kind] of KINDS) if (re.test(bare)) return kind
  return null
}

function nameFrom(prev: Word | undefined, kind: string | null, used: Set<string>): string {
  let base = kind ?? 'value'
  const opt = prev && /^--?([A-Za-z][\w-]*)$/.exec(prev.text)
  if (opt) base = opt[1]!.replace(/-/g, '_')
  base =
    base
      .replace(/[^A-Za-z0-9_]/g, '_')
      .replace(/^[^A-Za-z_]/, '_')
      .slice(0, 60) || 'value'
  let name = base
  for (let n = 2; used.has(name); n++) name = `${base}${n}`
  used.add(name)
  return name
}

export function suggestTemplate(commands: readonly string[]): ParameterSuggestion {
  const latest = commands[0]!
  const words = split(latest)
  const others = commands
    .slice(1)
    .map(split)
    .filter((w) => w.length === words.length)
  const notes: string[] = []
  const params: PatternParameter[] = []
  const used = new Set<string>()
  const chosen = new Map<number, string>()
  words.forEach((w, i) => {
    if (i === 0) return // the program stays
    const values = [w.text, ...others.map((o) => o[i]!.text)]
    const distinct = [...new Set(values)]
    const varies = distinct.length > 1
    const kind = kindOf(w.text)
    if (!varies && !kind) return
    if (/^-/.test(w.text) && !kind) return
    const name = nameFrom(words[i - 1], kind, used)
    chosen.set(i, name)
    const unquoted = (v: string) =>
      v.replace(/^'(.*)'$|^"(.*)"$/s, (_m, a?: string, b?: string) => a ?? b ?? '')
    params.push({
      name,
      description: varies
        ? `seen as: ${distinct.slice(0, 5).map(unquoted).join(', ')}`
        : `looks like a ${kind}`,
      default: unquoted(w.text),
    })
    notes.push(
      varies
        ? `{{${name}}}: differs across ${values.length} similar commands`
        : `{{${name}}}: looks like a ${kind}`,
    )
  })
  let template = ''
  let last = 0
  words.forEach((w, i) => {
    const name = chosen.get(i)
    if (!name) return
    template += latest.slice(last, w.start) + `{{${name}}}`
    last = w.end
  })
  template += latest.slice(last)
  if (others.length < commands.length - 1)
    notes.push(
      `${commands.length - 1 - others.length} command(s) had another shape and were only kept as examples`,
    )
  return { command: template, parameters: params, notes }
}
