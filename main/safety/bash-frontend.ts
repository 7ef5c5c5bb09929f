import type { Node } from './bash-parser'
import { firstSyntaxError, parseBash } from './bash-parser'
import {
  DYN,
  type Arg,
  type Finding,
  type Redirect,
  type SimpleCommand,
  type Span,
  type StdinSource,
} from './types'

/** What the bash frontend extracts from one script. */
export interface BashScript {
  commands: SimpleCommand[]
  /** Findings that come from the structure rather than one command (fork bombs). */
  findings: Finding[]
  parseError: string | null
}

const WORD_TYPES = new Set([
  'word',
  'string',
  'raw_string',
  'ansi_c_string',
  'translated_string',
  'concatenation',
  'simple_expansion',
  'expansion',
  'command_substitution',
  'process_substitution',
  'number',
  'arithmetic_expansion',
  'brace_expression',
])
const REDIRECT_TYPES = new Set(['file_redirect', 'heredoc_redirect', 'herestring_redirect'])
const CONNECTORS = new Set([';', '&&', '||', '|', '|&', '&', '\n', ';;'])
/** Variables whose meaning is known without running anything. */
const KNOWN_VARS: Record<string, string> = { HOME: '~', PWD: '.', OLDPWD: DYN }
const PRODUCERS_NETWORK = new Set([
  'curl',
  'wget',
  'fetch',
  'http',
  'https',
  'aria2c',
  'nc',
  'ncat',
])

/**
 * Walks a tree-sitter-bash tree and produces the simple commands that would execute, with
 * literal variables and `$(echo ...)` substitutions resolved where the text alone decides them.
 */
export function extractBash(text: string, vars?: Map<string, string>): BashScript {
  const tree = parseBash(text)
  try {
    const walker = new Walker(text, vars ?? new Map())
    walker.statement(tree.rootNode, null)
    return {
      commands: walker.out,
      findings: walker.findings,
      parseError: firstSyntaxError(tree.rootNode),
    }
  } finally {
    tree.delete()
  }
}

class Walker {
  readonly out: SimpleCommand[] = []
  readonly findings: Finding[] = []
  private readonly functions = new Map<string, Span>()

  constructor(
    private readonly text: string,
    private readonly vars: Map<string, string>,
  ) {}

  /** Walks any statement-level node; returns the simple commands it produced. */
  statement(node: Node, connector: string | null): SimpleCommand[] {
    switch (node.type) {
      case 'command':
        return [this.command(node, connector, [])]
      case 'redirected_statement':
        return this.redirected(node, connector)
      case 'pipeline':
        return this.pipeline(node, connector)
      case 'variable_assignment':
        this.assignment(node)
        return []
      case 'variable_assignments':
      case 'declaration_command':
        for (const child of node.namedChildren) {
          if (child?.type === 'variable_assignment') this.assignment(child)
          else if (child) this.substitutionsIn(child)
        }
        return []
      case 'function_definition':
        return this.functionDefinition(node)
      case 'comment':
      case 'heredoc_body':
        return []
      default:
        return this.sequence(node, connector)
    }
  }

  /** Lists, blocks, loops, conditionals: walk children in order, tracking connectors. */
  private sequence(node: Node, connector: string | null): SimpleCommand[] {
    const produced: SimpleCommand[] = []
    let next = connector
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i)
      if (!child) continue
      if (!child.isNamed) {
        if (CONNECTORS.has(child.type)) next = child.type
        continue
      }
      if (WORD_TYPES.has(child.type)) {
        // Words in loop headers and case patterns: only substitutions in them execute.
        this.substitutionsIn(child)
        continue
      }
      if (REDIRECT_TYPES.has(child.type)) continue
      produced.push(...this.statement(child, next))
      next = ';'
    }
    return produced
  }

  private pipeline(node: Node, connector: string | null): SimpleCommand[] {
    const produced: SimpleCommand[] = []
    let previous: SimpleCommand[] = []
    let first = true
    for (const child of node.namedChildren) {
      if (!child) continue
      const stdin = first ? null : producerOf(previous)
      const cmds = this.statement(child, first ? connector : '|')
      const head = cmds[0]
      if (stdin && head && head.stdin.kind === 'none') head.stdin = stdin
      produced.push(...cmds)
      previous = cmds
      first = false
    }
    return produced
  }

  private redirected(node: Node, connector: string | null): SimpleCommand[] {
    const body = node.childForFieldName('body')
    const produced = body ? this.statement(body, connector) : []
    let target = produced[produced.length - 1]
    if (!target) {
      target = emptyCommand(spanOf(node), connector)
      this.out.push(target)
      produced.push(target)
    }
    for (const child of node.namedChildren) {
      if (child && REDIRECT_TYPES.has(child.type)) {
        const piped = this.redirect(child, target)
        produced.push(...piped)
      }
    }
    return produced
  }

  private command(node: Node, connector: string | null, _prefix: Arg[]): SimpleCommand {
    const cmd: SimpleCommand = {
      words: [],
      redirects: [],
      span: spanOf(node),
      stdin: { kind: 'none' },
      connector,
    }
    const redirectNodes: Node[] = []
    for (const child of node.namedChildren) {
      if (!child) continue
      if (child.type === 'variable_assignment') {
        this.substitutionsIn(child)
        continue
      }
      if (child.type === 'command_name') {
        const word = child.namedChild(0)
        if (word) cmd.words.push(this.word(word))
        continue
      }
      if (REDIRECT_TYPES.has(child.type)) {
        redirectNodes.push(child)
        continue
      }
      if (WORD_TYPES.has(child.type)) cmd.words.push(this.word(child))
      // Anything else inside a command (e.g. `sudo (cmd)`, which tree-sitter accepts) may run.
      else if (child.type !== 'comment') this.statement(child, null)
    }
    // Push before walking redirects so the order of `out` follows the text.
    this.out.push(cmd)
    for (const r of redirectNodes) this.redirect(r, cmd)
    return cmd
  }

  /** Adds a redirect to `cmd`; returns commands of a pipeline that trails a here-doc start. */
  private redirect(node: Node, cmd: SimpleCommand): SimpleCommand[] {
    const redirect: Redirect = { op: '', fd: null, target: null, span: spanOf(node) }
    const trailing: SimpleCommand[] = []
    const pipelineNodes: Node[] = []
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i)
      if (!child) continue
      if (!child.isNamed) {
        if (!redirect.op) redirect.op = child.type.trim()
        continue
      }
      if (child.type === 'file_descriptor') redirect.fd = child.text
      else if (child.type === 'heredoc_start') {
        redirect.target = this.word(child)
      } else if (child.type === 'heredoc_body') {
        const quotedDelimiter = /^['"\\]/.test(redirect.target?.raw ?? '')
        const literal = quotedDelimiter || child.namedChildCount === 0
        if (!quotedDelimiter) this.substitutionsIn(child)
        redirect.body = { text: child.text, span: spanOf(child), literal }
      } else if (child.type === 'pipeline' || child.type === 'command' || child.type === 'list') {
        // `cat <<EOF | sh`: tree-sitter-bash hangs the rest of the pipeline off the here-doc.
        pipelineNodes.push(child)
      } else if (REDIRECT_TYPES.has(child.type)) {
        // `cat <<EOF > file`: the file redirect hangs off the here-doc node.
        trailing.push(...this.redirect(child, cmd))
      } else if (WORD_TYPES.has(child.type)) {
        const arg = this.word(child)
        if (redirect.op === '<<<') {
          redirect.body = { text: arg.value, span: arg.span, literal: !arg.value.includes(DYN) }
          redirect.target = arg
        } else if (!redirect.target) redirect.target = arg
        // tree-sitter-bash attaches words written after a redirect to the redirect node.
        else cmd.words.push(arg)
      }
    }
    cmd.redirects.push(redirect)
    for (const child of pipelineNodes) {
      const cmds = this.statement(child, '|')
      const head = cmds[0]
      if (head) head.stdin = producerOf([cmd]) ?? head.stdin
      trailing.push(...cmds)
    }
    return trailing
  }

  private assignment(node: Node): void {
    const name = node.childForFieldName('name')?.text ?? node.namedChild(0)?.text
    const valueNode = node.childForFieldName('value')
    if (!name) return
    const value = valueNode ? this.word(valueNode).value : ''
    this.vars.set(name, value)
  }

  private functionDefinition(node: Node): SimpleCommand[] {
    const name = node.childForFieldName('name')?.text ?? node.namedChild(0)?.text ?? ''
    const body = node.childForFieldName('body')
    if (!body) return []
    this.functions.set(name, spanOf(node))
    const before = this.out.length
    const produced = this.statement(body, null)
    // A function that calls itself through a pipe or in the background multiplies processes.
    const selfCalls = this.out.slice(before).filter((c) => c.words[0]?.value === name)
    const bodyText = body.text
    if (selfCalls.length > 0 && (selfCalls.length > 1 || /[|&]/.test(bodyText))) {
      this.findings.push({
        ruleId: 'proc.fork-bomb',
        risk: 'critical',
        message: `Fork bomb: function ${name} keeps starting copies of itself until the system stalls`,
        span: spanOf(node),
      })
    }
    return produced
  }

  /** Walks command and process substitutions inside a word: they execute. */
  private substitutionsIn(node: Node): void {
    if (node.type === 'command_substitution' || node.type === 'process_substitution') {
      this.sequence(node, null)
      return
    }
    for (const child of node.namedChildren) if (child) this.substitutionsIn(child)
  }

  /** Resolves a word node: quote removal, escapes, known variables, `$(echo x)`. */
  word(node: Node): Arg {
    const state = { quoted: false }
    const value = this.resolve(node, state)
    return { value, raw: node.text, span: spanOf(node), quoted: state.quoted }
  }

  private resolve(node: Node, state: { quoted: boolean }): string {
    switch (node.type) {
      case 'word':
      case 'heredoc_start':
        if (node.type === 'heredoc_start') return node.text.replace(/^['"]|['"]$/g, '')
        return unescapeUnquoted(node.text)
      case 'number':
        return node.text
      case 'raw_string':
        state.quoted = true
        return node.text.slice(1, -1)
      case 'ansi_c_string':
        state.quoted = true
        return decodeAnsiC(node.text.slice(2, -1))
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
          out += child.isNamed ? this.resolve(child, state) : unescapeUnquoted(child.text)
          pos = child.endIndex
        }
        return out
      }
      case 'simple_expansion':
      case 'expansion':
        return this.expansion(node)
      case 'command_substitution':
        return this.commandSubstitution(node)
      case 'process_substitution':
        this.sequence(node, null)
        return DYN
      case 'brace_expression':
        return node.text
      default:
        this.substitutionsIn(node)
        return DYN
    }
  }

  private doubleQuoted(node: Node, state: { quoted: boolean }): string {
    const open = node.type === 'translated_string' ? 2 : 1
    let out = ''
    let pos = node.startIndex + open
    const end = node.endIndex - 1
    for (const child of node.namedChildren) {
      if (!child) continue
      if (child.startIndex > pos) out += unescapeDouble(this.text.slice(pos, child.startIndex))
      out +=
        child.type === 'string_content' ? unescapeDouble(child.text) : this.resolve(child, state)
      pos = child.endIndex
    }
    if (end > pos) out += unescapeDouble(this.text.slice(pos, end))
    return out
  }

  private expansion(node: Node): string {
    const name = node.descendantsOfType('variable_name')[0]?.text ?? node.namedChild(0)?.text ?? ''
    const known =
      this.vars.get(name) ?? (Object.hasOwn(KNOWN_VARS, name) ? KNOWN_VARS[name] : undefined)
    if (node.type === 'simple_expansion') return known ?? DYN
    // ${X:-default} / ${X-default}: when X is unknown the default is what the shell uses.
    const text = node.text
    const m = /^\$\{[#!]?[A-Za-z_][A-Za-z0-9_]*(:?[-=?+])(.*)\}$/s.exec(text)
    if (m && m[1] !== undefined && !m[1].includes('+')) {
      if (known !== undefined && known !== '') return known
      const defaultNode = node.namedChildren.find((c) => c && c.type !== 'variable_name')
      if (defaultNode) return this.resolve(defaultNode, { quoted: false })
      return unescapeUnquoted(m[2] ?? '')
    }
    if (/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(text)) return known ?? DYN
    this.substitutionsIn(node)
    return DYN
  }

  private commandSubstitution(node: Node): string {
    const produced = this.sequence(node, null)
    const only = produced.length === 1 ? produced[0] : undefined
    const name = only?.words[0]?.value
    if (only && (name === 'echo' || name === 'printf') && only.redirects.length === 0) {
      const args = only.words.slice(1).filter((w, i) => !(i === 0 && /^-[neE]+$/.test(w.value)))
      const joined = args.map((w) => w.value).join(' ')
      return name === 'printf' ? joined.replace(/\\n$/, '') : joined
    }
    return DYN
  }
}

function emptyCommand(span: Span, connector: string | null): SimpleCommand {
  return { words: [], redirects: [], span, stdin: { kind: 'none' }, connector }
}

/** What the last command of a pipeline stage feeds into the next one. */
export function producerOf(cmds: SimpleCommand[]): StdinSource | null {
  const last = cmds[cmds.length - 1]
  if (!last) return null
  const words = last.words
  const name = baseName(words[0]?.value ?? '')
  const span = last.span
  const heredoc = last.redirects.find((r) => r.body)
  if ((name === 'cat' || name === '') && heredoc?.body && words.length <= 1) {
    return heredoc.body.literal
      ? { kind: 'literal', text: heredoc.body.text, span: heredoc.body.span }
      : { kind: 'generated', span, words }
  }
  if ((name === 'echo' || name === 'printf') && words.length > 1) {
    const args = words.slice(1).filter((w, i) => !(i === 0 && /^-[neE]+$/.test(w.value)))
    const text = args.map((w) => w.value).join(' ')
    const first = args[0]
    const lastArg = args[args.length - 1]
    if (!text.includes(DYN) && first && lastArg) {
      return {
        kind: 'literal',
        text: name === 'printf' ? text.replace(/\\n/g, '\n') : text,
        span: { start: first.span.start, end: lastArg.span.end },
      }
    }
  }
  if (PRODUCERS_NETWORK.has(name)) return { kind: 'network', span }
  const decoding =
    (name === 'base64' && words.some((w) => /^(-d|--decode|-D)$/.test(w.value))) ||
    (name === 'xxd' && words.some((w) => w.value === '-r')) ||
    (name === 'openssl' && words.some((w) => w.value === '-d')) ||
    name === 'gunzip' ||
    name === 'zcat' ||
    name === 'rev' ||
    (name === 'tr' && words.length > 2)
  if (decoding) return { kind: 'decoded', span }
  if (name === 'cat' || name === 'head' || name === 'tail') return { kind: 'file', span }
  return { kind: 'generated', span, words }
}

export function baseName(name: string): string {
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'))
  const base = slash >= 0 ? name.slice(slash + 1) : name
  return base.replace(/\.exe$/i, '')
}

function spanOf(node: Node): Span {
  return { start: node.startIndex, end: node.endIndex }
}

function unescapeUnquoted(text: string): string {
  return text.replace(/\\\n/g, '').replace(/\\(.)/gs, '$1')
}

function unescapeDouble(text: string): string {
  return text.replace(/\\\n/g, '').replace(/\\([$`"\\])/g, '$1')
}

function decodeAnsiC(body: string): string {
  return body.replace(
    /\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/gs,
    (_m, esc: string) => {
      const c = esc[0]
      if (c === 'x' || c === 'u' || c === 'U') {
        return String.fromCodePoint(parseInt(esc.slice(1), 16) || 0)
      }
      if (c !== undefined && c >= '0' && c <= '7') return String.fromCharCode(parseInt(esc, 8))
      const simple: Record<string, string> = {
        n: '\n',
        t: '\t',
        r: '\r',
        a: '\x07',
        b: '\b',
        e: '\x1b',
        E: '\x1b',
        f: '\f',
        v: '\v',
      }
      return simple[esc] ?? esc
    },
  )
}
