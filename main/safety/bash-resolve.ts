import type { Node } from './bash-parser'
import {
  FIELD,
  finishWord,
  markBraces,
  markSplit,
  unescapeDouble,
  unescapeUnquoted,
} from './bash-words'
import type { CwdTracker } from './cwd'
import { decodeEscapes } from './decode'
import { textMatch } from './glob'
import type { LimitKind } from './limits'
import { baseName, commandOutput, fanOutOf, type StaticText } from './static-output'
import { DYN, type Arg, type FanOut, type SimpleCommand, type Span } from './types'

/** What resolving a word learnt besides its value. */
export interface WordState {
  quoted: boolean
  decoded: boolean
  fanOut?: FanOut
  produced?: StaticText
}

/** `word`: field splitting and brace expansion apply; `double`/`assign`: neither does. */
export type WordMode = 'word' | 'double' | 'assign'

/** Values the shell itself gives these variables, where the text alone decides them. */
const KNOWN_VARS: Record<string, string> = {
  HOME: '~',
  IFS: ' \t\n',
  PATH: '/usr/local/bin:/usr/bin:/bin',
  SHELL: '/bin/sh',
  '0': 'bash',
  OLDPWD: DYN,
  _: DYN,
}
/** Programs whose output is the path of the program they are given: `$(which rm)` is rm. */
const LOOKUP = /^(which|whence|where|type|command)$/

/**
 * Word resolution for the bash frontend: quote removal, escapes, `$'…'`, known variables (with
 * `${X:-default}`, substrings, array elements and zsh modifiers), `$(…)` whose output the text
 * decides (echo, printf, decoders, `which`), process substitutions, and the markers field
 * splitting and brace expansion need (see bash-words.ts).
 */
export abstract class BashWords {
  constructor(protected readonly text: string) {}

  protected abstract get dialect(): 'bash' | 'sh' | 'zsh'
  protected abstract get vars(): Map<string, string>
  protected abstract get fanOutVars(): Map<string, FanOut>
  protected abstract get decodedVars(): Set<string>
  protected abstract get cwd(): CwdTracker
  protected abstract spanOf(node: Node): Span
  protected abstract enter(): boolean
  protected abstract leave(): void
  protected abstract limit(kind: LimitKind): void
  protected abstract sequence(node: Node, connector: string | null): SimpleCommand[]
  protected abstract scoped<T>(fn: () => T): T

  /** A word node as the arguments it becomes (splitting and brace expansion can make several). */
  words(node: Node, mode: WordMode = 'word'): Arg[] {
    const state: WordState = { quoted: false, decoded: false }
    const value = this.resolve(node, state, mode)
    const span = this.spanOf(node)
    const base: Arg = { value, raw: node.text, span, quoted: state.quoted }
    if (state.decoded) base.decoded = true
    if (state.fanOut) base.fanOut = state.fanOut
    if (state.produced) base.produced = state.produced
    if (mode !== 'word') return [{ ...base, value: finishWord(value).join(' ') }]
    const parts = finishWord(value)
    if (parts.length === 1) return [{ ...base, value: parts[0]! }]
    return parts.map((v) => ({ ...base, value: v }))
  }

  /** Text tree-sitter split into two adjacent words, resolved as the one word it is. */
  protected joinedWord(start: number, end: number): Arg[] | null {
    const raw = this.text.slice(start, end)
    if (/['"\\`]|\$\(/.test(raw)) return null
    const state: WordState = { quoted: false, decoded: false }
    const value = this.inlineExpansions(raw, state, 'word')
    const span = this.spanOf({ startIndex: start, endIndex: end } as Node)
    return finishWord(value).map((v) => ({ value: v, raw, span, quoted: false }))
  }

  /** A node taken as one plain word with a given value. */
  protected plainWord(node: Node, value: string): Arg {
    return { value, raw: node.text, span: this.spanOf(node), quoted: false }
  }

  /** Resolves a word node to its value with markers for the later expansion steps. */
  protected resolve(node: Node, state: WordState, mode: WordMode): string {
    if (!this.enter()) return DYN
    try {
      return this.resolveInner(node, state, mode)
    } finally {
      this.leave()
    }
  }

  private resolveInner(node: Node, state: WordState, mode: WordMode): string {
    switch (node.type) {
      case 'word': {
        // tree-sitter-bash sometimes leaves `$NAME` inside a word (`$IFS~`): expand it here.
        if (/\$[A-Za-z_{]/.test(node.text) && !node.text.includes('\\'))
          return this.inlineExpansions(node.text, state, mode)
        const text = unescapeUnquoted(node.text)
        return mode === 'word' && !node.text.includes('\\') ? markBraces(text) : text
      }
      case 'number':
        return node.text
      case 'raw_string':
        state.quoted = true
        return node.text.slice(1, -1)
      case 'ansi_c_string': {
        state.quoted = true
        const body = node.text.slice(2, -1)
        if (/\\[0-7xuUc]/.test(body)) state.decoded = true
        return decodeEscapes(body, 'ansi')
      }
      case 'string':
      case 'translated_string':
        state.quoted = true
        return this.doubleQuoted(node, state)
      case 'concatenation': {
        let out = ''
        let pos = node.startIndex
        for (const child of node.children) {
          if (!child) continue
          if (child.startIndex > pos)
            out += unescapeUnquoted(this.text.slice(pos, child.startIndex))
          out += child.isNamed
            ? this.resolve(child, state, mode)
            : mode === 'word'
              ? markBraces(unescapeUnquoted(child.text))
              : unescapeUnquoted(child.text)
          pos = child.endIndex
        }
        return out
      }
      case 'simple_expansion':
      case 'expansion': {
        const value = this.expansion(node, state)
        return mode === 'word' ? this.split(value) : value.replaceAll(FIELD, ' ')
      }
      case 'command_substitution': {
        const value = this.substitution(node, state)
        return mode === 'word' ? this.split(value) : value
      }
      case 'process_substitution': {
        const output = this.scoped(() => this.outputOf(node))
        if (output) state.produced = output
        return DYN
      }
      case 'brace_expression':
        return mode === 'word' ? markBraces(node.text) : node.text
      default:
        this.substitutionsIn(node)
        return DYN
    }
  }

  private inlineExpansions(text: string, state: WordState, mode: WordMode): string {
    return text.replace(/\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)|[^$]+|\$/g, (m, braced, plain) => {
      const name = (braced ?? plain) as string | undefined
      if (!name) return mode === 'word' ? markBraces(m) : m
      if (this.fanOutVars.get(name)) state.fanOut = this.fanOutVars.get(name)
      const value = this.element(this.lookup(name), name) ?? DYN
      return mode === 'word' ? this.split(value) : value
    })
  }

  /** An unquoted expansion is split on IFS; run-time values stay one unknown word. */
  private split(value: string): string {
    if (value.includes(DYN)) return value
    return markSplit(value, this.vars.get('IFS') ?? ' \t\n')
  }

  private doubleQuoted(node: Node, state: WordState): string {
    const open = node.type === 'translated_string' ? 2 : 1
    let out = ''
    let pos = node.startIndex + open
    const end = node.endIndex - 1
    for (const child of node.namedChildren) {
      if (!child) continue
      if (child.startIndex > pos) out += unescapeDouble(this.text.slice(pos, child.startIndex))
      out +=
        child.type === 'string_content' ? unescapeDouble(child.text) : this.quotedPart(child, state)
      pos = child.endIndex
    }
    if (end > pos) out += unescapeDouble(this.text.slice(pos, end))
    return out
  }

  /** `"$@"` and `"${a[@]}"` keep their fields apart inside quotes; everything else joins. */
  private quotedPart(child: Node, state: WordState): string {
    const value = this.resolve(child, state, 'double')
    if (/^\$(\{[#!]?\w+\[@\]\}|@|\{@\})$/.test(child.text)) {
      const name =
        child.text === '$@' || child.text === '${@}'
          ? '@'
          : child.text.replace(/^\$\{|\[@\]\}$/g, '')
      const raw = this.lookup(name)
      if (raw !== undefined && !raw.includes(DYN)) return raw
    }
    return value
  }

  /** `$a` of an array: its first element in bash and sh, all of them in zsh. */
  private element(value: string | undefined, name: string): string | undefined {
    return this.dialect === 'zsh' ? value : firstElement(value, name)
  }

  private lookup(name: string): string | undefined {
    if (name === 'PWD') {
      const cwd = this.cwd.cwd
      return cwd === null ? '.' : cwd
    }
    return this.vars.get(name) ?? (Object.hasOwn(KNOWN_VARS, name) ? KNOWN_VARS[name] : undefined)
  }

  private expansion(node: Node, state: WordState): string {
    const text = node.text
    const nameNode =
      node.descendantsOfType(['variable_name', 'special_variable_name'])[0] ?? node.namedChild(0)
    const name = nameNode?.text ?? ''
    const fan = this.fanOutVars.get(name)
    if (fan) state.fanOut = fan
    if (this.decodedVars.has(name)) state.decoded = true
    const known = this.lookup(name)
    if (node.type === 'simple_expansion') return this.element(known, name) ?? DYN
    // ${X:-default} / ${X-default}: when X is unknown the default is what the shell uses.
    const m = /^\$\{[#!]?[A-Za-z_][A-Za-z0-9_]*(:?[-=?+])(.*)\}$/s.exec(text)
    if (m && m[1] !== undefined && !m[1].includes('+')) {
      if (known !== undefined && known !== '' && !known.includes(DYN)) return known
      const defaultNode = node.namedChildren.find(
        (c) => c && c.type !== 'variable_name' && c.type !== 'special_variable_name',
      )
      if (defaultNode) return this.resolve(defaultNode, state, 'double')
      return unescapeUnquoted(m[2] ?? '')
    }
    if (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$|^\$\{[@*#?0-9]\}$/.test(text))
      return this.element(known, name) ?? DYN
    // ${a[@]} ${a[*]} ${a[N]}
    const sub = /^\$\{([A-Za-z_]\w*)\[(@|\*|\d+)\]\}$/.exec(text)
    if (sub) {
      if (known === undefined || known.includes(DYN)) return DYN
      const items = known.split(FIELD)
      if (sub[2] === '@') return known
      if (sub[2] === '*') return items.join(' ')
      return items[Number(sub[2])] ?? ''
    }
    // ${X:offset} ${X:offset:length} on a known value (`${PATH:0:1}` is `/`).
    const slice = /^\$\{([A-Za-z_]\w*):(\d+)(?::(\d+))?\}$/.exec(text)
    if (slice && known !== undefined && !known.includes(DYN)) {
      const from = Number(slice[2])
      return known.slice(from, slice[3] === undefined ? undefined : from + Number(slice[3]))
    }
    // ${X%pat} ${X%%pat} ${X#pat} ${X##pat} on a known value.
    const trim = /^\$\{([A-Za-z_]\w*)(%%|%|##|#)([^}]*)\}$/.exec(text)
    if (trim && known !== undefined && !known.includes(DYN) && trim[3]!.length <= 64)
      return trimPattern(known, trim[2]!, trim[3]!)
    // zsh modifiers: ${X:a} ${X:h} ${X:t} (absolute, head, tail).
    const mods = /^\$\{([A-Za-z_]\w*)((?::[aAPhtrelu])+)\}$/.exec(text)
    if (mods && known !== undefined && !known.includes(DYN)) return zshModifiers(known, mods[2]!)
    this.substitutionsIn(node)
    return DYN
  }

  /** `$(…)`: runs (in a subshell); its value is its output when the text decides it. */
  private substitution(node: Node, state: WordState): string {
    const output = this.scoped(() => this.outputOf(node, state))
    if (!output) return DYN
    if (output.decoded) state.decoded = true
    return output.text.replace(/\n+$/, '')
  }

  /** Walks the commands of a substitution and computes what they print, if the text decides it. */
  protected outputOf(node: Node, state?: WordState): StaticText | null {
    const produced = this.sequence(node, null)
    if (state) {
      const fan = fanOutOf(produced)
      if (fan) state.fanOut = fan
    }
    let text = ''
    let decoded = false
    for (let i = 0; i < produced.length; i++) {
      const cmd = produced[i]!
      // Only the last command of each pipeline writes to the substitution's output.
      if (produced[i + 1]?.connector === '|') continue
      const name = baseName(cmd.words[0]?.value ?? '')
      const args = cmd.words.slice(1).filter((w) => !w.value.startsWith('-'))
      if (LOOKUP.test(name) && args.length === 1 && !args[0]!.value.includes(DYN)) {
        if (name !== 'command' || cmd.words.some((w) => /^-[vV]$/.test(w.value))) {
          text += args[0]!.value + '\n'
          continue
        }
      }
      if (name === 'mktemp') {
        text += '/tmp/tmp.XXXXXXXXXX\n'
        continue
      }
      if (name === 'pwd') {
        text += (this.cwd.cwd ?? '.') + '\n'
        continue
      }
      const input =
        cmd.stdin.kind === 'literal'
          ? { text: cmd.stdin.text, decoded: cmd.stdin.decoded ?? false }
          : cmd.stdin.kind === 'none'
            ? undefined
            : null
      const o = commandOutput(cmd, input, this.dialect)
      if (!o) return null
      text += o.text
      decoded ||= o.decoded
    }
    return produced.length ? { text, decoded } : null
  }

  /** Walks command and process substitutions inside any node (iteratively): they execute. */
  protected substitutionsIn(root: Node): void {
    const stack: Node[] = [root]
    while (stack.length) {
      const node = stack.pop()!
      if (node.type === 'command_substitution' || node.type === 'process_substitution') {
        this.scoped(() => this.sequence(node, null))
        continue
      }
      for (let i = node.namedChildCount - 1; i >= 0; i--) {
        const child = node.namedChild(i)
        if (child) stack.push(child)
      }
    }
  }
}

/** `${X%pat}` and friends: the shortest or longest match of a glob removed from one end. */
function trimPattern(value: string, op: string, pattern: string): string {
  if (value.length > 512) return DYN
  const glob = pattern.replace(/^["']|["']$/g, '')
  const longest = op.length === 2
  const n = value.length
  if (op[0] === '%') {
    for (let k = 0; k <= n; k++) {
      const i = longest ? k : n - k
      if (textMatch(glob, value.slice(i))) return value.slice(0, i)
    }
    return value
  }
  for (let k = 0; k <= n; k++) {
    const i = longest ? n - k : k
    if (textMatch(glob, value.slice(0, i))) return value.slice(i)
  }
  return value
}

/** `$a` of an array is its first element. */
function firstElement(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined
  if (name === '@') return value
  const i = value.indexOf(FIELD)
  return i < 0 ? value : value.slice(0, i)
}

function zshModifiers(value: string, mods: string): string {
  let v = value
  for (const m of mods.split(':').filter(Boolean)) {
    if (m === 'h') v = v.replace(/\/[^/]*\/?$/, '') || (v.startsWith('/') ? '/' : '.')
    else if (m === 't') v = v.replace(/\/+$/, '').replace(/^.*\//, '')
    else if (m === 'r') v = v.replace(/\.[^./]*$/, '')
    else if (m === 'e') v = /\.([^./]*)$/.exec(v)?.[1] ?? ''
    else if (m === 'l') v = v.toLowerCase()
    else if (m === 'u') v = v.toUpperCase()
  }
  return v
}
