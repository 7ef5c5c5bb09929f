import type { Node } from './bash-parser'
import { firstSyntaxError, parseBash } from './bash-parser'
import { FIELD, finishWord } from './bash-words'
import { CwdTracker } from './cwd'
import { LIMITS, limitFinding, type LimitKind } from './limits'
import { BashWords, type WordState } from './bash-resolve'
import { fanOutOf, PipeAccumulator } from './static-output'
import {
  DYN,
  type Arg,
  type FanOut,
  type Finding,
  type Redirect,
  type SimpleCommand,
  type Span,
  type StdinSource,
} from './types'

export { baseName } from './static-output'

/** What the bash frontend extracts from one script. */
export interface BashScript {
  commands: SimpleCommand[]
  /** Findings that come from the structure rather than one command (fork bombs, bounds). */
  findings: Finding[]
  parseError: string | null
}

export interface BashOptions {
  /** Variables known before the script starts (an outer script's, for `eval`). */
  vars?: Map<string, string>
  /** The working directory the script starts in (null: wherever the line started). */
  cwd?: string | null
  dialect?: 'bash' | 'sh' | 'zsh'
  /** Nesting already used by the scripts around this one. */
  depth?: number
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

/** State shared by a script and the scripts the walk expands into it (aliases, functions). */
interface Shared {
  vars: Map<string, string>
  fanOutVars: Map<string, FanOut>
  decodedVars: Set<string>
  aliases: Map<string, string>
  functions: Map<string, { text: string; map: (s: Span) => Span; called: boolean }>
  expanding: Set<string>
  cwd: CwdTracker
  out: SimpleCommand[]
  findings: Finding[]
  limits: Set<LimitKind>
  dialect: 'bash' | 'sh' | 'zsh'
  depth: number
  parseErrors: string[]
}

/**
 * Walks a tree-sitter-bash tree and produces the simple commands that would execute, with
 * literal variables, arrays, positional parameters and `$(echo …)`-style substitutions resolved
 * where the text alone decides them; aliases and functions defined in the line are expanded where
 * they are called; `cd`/`pushd` move the working directory each command runs in. Lists are walked
 * iteratively and nesting is bounded, so no input can overflow the stack.
 */
export function extractBash(text: string, options: BashOptions = {}): BashScript {
  const shared: Shared = {
    vars: options.vars ?? new Map(),
    fanOutVars: new Map(),
    decodedVars: new Set(),
    aliases: new Map(),
    functions: new Map(),
    expanding: new Set(),
    cwd: new CwdTracker(options.cwd ?? null),
    out: [],
    findings: [],
    limits: new Set(),
    dialect: options.dialect ?? 'bash',
    depth: options.depth ?? 0,
    parseErrors: [],
  }
  const parseError = walkText(text, shared, (s) => s)
  // Functions defined but not called in the line may be called later: rate their bodies too.
  for (const [name, fn] of shared.functions) {
    if (fn.called) continue
    fn.called = true
    shared.expanding.add(name)
    walkText(fn.text, shared, fn.map)
  }
  for (const kind of shared.limits) shared.findings.push(limitFinding(kind))
  return {
    commands: shared.out,
    findings: shared.findings,
    parseError: parseError ?? shared.parseErrors[0] ?? null,
  }
}

/** Parses and walks one text into the shared state; returns its first syntax error. */
function walkText(text: string, shared: Shared, map: (s: Span) => Span): string | null {
  const tree = parseBash(text)
  try {
    new Walker(text, shared, map).statement(tree.rootNode, null)
    return firstSyntaxError(tree.rootNode)
  } finally {
    tree.delete()
  }
}

class Walker extends BashWords {
  private pipeIn: StdinSource | null = null

  constructor(
    text: string,
    private readonly shared: Shared,
    private readonly map: (s: Span) => Span,
  ) {
    super(text)
  }

  protected get dialect() {
    return this.shared.dialect
  }
  protected get vars() {
    return this.shared.vars
  }
  protected get fanOutVars() {
    return this.shared.fanOutVars
  }
  protected get decodedVars() {
    return this.shared.decodedVars
  }
  protected get cwd() {
    return this.shared.cwd
  }

  protected spanOf(node: Node): Span {
    return this.map({ start: node.startIndex, end: node.endIndex })
  }

  protected limit(kind: LimitKind): void {
    this.shared.limits.add(kind)
  }

  /** Enters one level of nesting; false (and the bound recorded) when too deep. */
  protected enter(): boolean {
    if (this.shared.depth >= LIMITS.maxNesting) {
      this.limit('nesting')
      return false
    }
    this.shared.depth++
    return true
  }

  protected leave(): void {
    this.shared.depth--
  }

  private emit(cmd: SimpleCommand): boolean {
    if (this.shared.out.length >= LIMITS.maxCommands) {
      this.limit('commands')
      return false
    }
    this.shared.out.push(cmd)
    return true
  }

  /** Walks any statement-level node; returns the simple commands it produced. */
  statement(node: Node, connector: string | null): SimpleCommand[] {
    if (!this.enter()) return []
    try {
      return this.statementInner(node, connector)
    } finally {
      this.leave()
    }
  }

  private statementInner(node: Node, connector: string | null): SimpleCommand[] {
    switch (node.type) {
      case 'command':
        return this.command(node, connector)
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
      case 'unset_command':
        for (const child of node.namedChildren) if (child) this.shared.vars.delete(child.text)
        return []
      case 'function_definition':
        this.functionDefinition(node)
        return []
      case 'subshell':
        return this.scoped(() => this.sequence(node, connector))
      case 'for_statement':
        return this.forLoop(node, connector)
      case 'list':
        return this.list(node, connector)
      case 'comment':
      case 'heredoc_body':
        return []
      default:
        return this.sequence(node, connector)
    }
  }

  /** Runs a walk in a subshell: directory changes inside do not outlive it. */
  protected scoped<T>(fn: () => T): T {
    const saved = this.shared.cwd.save()
    try {
      return fn()
    } finally {
      this.shared.cwd.restore(saved)
    }
  }

  /**
   * `a && b || c` is a left-nested tree in tree-sitter-bash (one level per command): walk it as
   * the flat chain it is, so 20,000 chained commands cost no stack.
   */
  private list(node: Node, connector: string | null): SimpleCommand[] {
    const chain: Array<{ op: string | null; node: Node }> = []
    let cur: Node | null = node
    while (cur && cur.type === 'list') {
      let left: Node | null = null
      let op: string | null = null
      let right: Node | null = null
      for (let i = 0; i < cur.childCount; i++) {
        const child = cur.child(i)
        if (!child) continue
        if (!child.isNamed) {
          if (CONNECTORS.has(child.type) && left) op = child.type
          continue
        }
        if (child.type === 'comment') continue
        if (!left) left = child
        else right ??= child
      }
      if (right) chain.push({ op, node: right })
      cur = left
    }
    if (cur) chain.push({ op: connector, node: cur })
    const produced: SimpleCommand[] = []
    for (let i = chain.length - 1; i >= 0; i--) {
      const link = chain[i]!
      for (const c of this.statement(link.node, link.op)) produced.push(c)
    }
    return produced
  }

  /** Lists, blocks, loops, conditionals: walk children in order, tracking connectors. */
  protected sequence(node: Node, connector: string | null): SimpleCommand[] {
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
      for (const c of this.statement(child, next)) produced.push(c)
      next = ';'
    }
    return produced
  }

  private pipeline(node: Node, connector: string | null): SimpleCommand[] {
    const produced: SimpleCommand[] = []
    const acc = new PipeAccumulator(this.shared.dialect)
    const children = node.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment')
    const isolated = children.length > 1
    for (const child of children) {
      const stdin = acc.empty ? null : acc.source()
      const outer = this.pipeIn
      this.pipeIn = stdin
      const cmds = isolated
        ? this.scoped(() => this.statement(child, acc.empty ? connector : '|'))
        : this.statement(child, connector)
      this.pipeIn = outer
      const head = cmds[0]
      if (stdin && head && head.stdin.kind === 'none') head.stdin = stdin
      for (const c of cmds) produced.push(c)
      acc.push(cmds)
    }
    return produced
  }

  private redirected(node: Node, connector: string | null): SimpleCommand[] {
    const body = node.childForFieldName('body')
    // `while read x; do …; done <<< 'a'`: the loop's input is the here-string or here-doc.
    const outer = this.pipeIn
    if (body && /^(while|until)_statement$/.test(body.type)) {
      const input = node.namedChildren.find(
        (c) => c && (c.type === 'herestring_redirect' || c.type === 'heredoc_redirect'),
      )
      const literal = input ? this.literalInput(input) : null
      if (literal !== null)
        this.pipeIn = { kind: 'literal', text: literal, span: this.spanOf(input!) }
    }
    const produced = body ? this.statement(body, connector) : []
    this.pipeIn = outer
    let target = produced[produced.length - 1]
    if (!target) {
      target = emptyCommand(this.spanOf(node), connector, this.shared.cwd.cwd)
      this.emit(target)
      produced.push(target)
    }
    for (const child of node.namedChildren) {
      if (child && REDIRECT_TYPES.has(child.type)) {
        for (const c of this.redirect(child, target)) produced.push(c)
      }
    }
    return produced
  }

  private command(node: Node, connector: string | null): SimpleCommand[] {
    const tracker = this.shared.cwd
    // After `cd x && …` the chain goes on only where the cd worked; after `;` it goes on anyway.
    if (connector === '&&') tracker.ifCdFailed = undefined
    const cmd: SimpleCommand = {
      words: [],
      redirects: [],
      span: this.spanOf(node),
      stdin: { kind: 'none' },
      connector,
      cwd: tracker.cwd,
    }
    if (tracker.ifCdFailed !== undefined) cmd.cwdIfCdFailed = tracker.ifCdFailed
    const redirectNodes: Node[] = []
    let nameNode: Node | null = null
    let previous: { node: Node; words: number } | null = null
    for (const child of node.namedChildren) {
      if (!child) continue
      const prev = previous
      const before = cmd.words.length
      // tree-sitter-bash splits `$IFS~` into `$` and a word `IFS~`: rejoin adjacent words.
      if (
        prev &&
        prev.node.endIndex === child.startIndex &&
        WORD_TYPES.has(child.type) &&
        /\$$/.test(prev.node.text)
      ) {
        const joined = this.joinedWord(prev.node.startIndex, child.endIndex)
        if (joined) {
          cmd.words.length -= prev.words
          for (const w of joined) cmd.words.push(w)
          previous = { node: child, words: joined.length }
          continue
        }
      }
      previous = null
      if (child.type === 'variable_assignment') {
        // `X=1 cmd`: the assignment is for cmd's environment; expansions in it still run.
        this.substitutionsIn(child)
        continue
      }
      if (child.type === 'command_name') {
        const word = child.namedChild(0)
        if (word) {
          nameNode = word
          for (const w of this.words(word)) cmd.words.push(w)
          previous = { node: child, words: cmd.words.length - before }
        }
        continue
      }
      if (REDIRECT_TYPES.has(child.type)) {
        redirectNodes.push(child)
        continue
      }
      if (WORD_TYPES.has(child.type)) {
        for (const w of this.words(child)) cmd.words.push(w)
        previous = { node: child, words: cmd.words.length - before }
      }
      // Anything else inside a command (e.g. `sudo (cmd)`, which tree-sitter accepts) may run.
      else if (child.type !== 'comment') this.statement(child, null)
    }
    const expanded = nameNode ? this.expandName(cmd, nameNode, node, connector) : null
    if (expanded) return expanded
    // Push before walking redirects so the order of `out` follows the text.
    if (!this.emit(cmd)) return []
    const produced = [cmd]
    for (const r of redirectNodes) for (const c of this.redirect(r, cmd)) produced.push(c)
    this.builtin(cmd)
    return produced
  }

  /** Aliases and functions defined earlier in the line run their own text where called. */
  private expandName(
    cmd: SimpleCommand,
    nameNode: Node,
    node: Node,
    connector: string | null,
  ): SimpleCommand[] | null {
    const name = cmd.words[0]
    if (!name || name.quoted || name.raw !== name.value) return null
    const alias = this.shared.aliases.get(name.value)
    const key = `alias:${name.value}`
    if (alias !== undefined && !this.shared.expanding.has(key)) {
      const rest = this.text.slice(nameNode.endIndex, node.endIndex)
      return this.expandText(key, alias + rest, () => cmd.span, connector)
    }
    const fn = this.shared.functions.get(name.value)
    const fkey = `function:${name.value}`
    if (fn && !this.shared.expanding.has(fkey)) {
      fn.called = true
      const saved = POSITIONAL.map((k) => [k, this.shared.vars.get(k)] as const)
      setPositional(
        this.shared.vars,
        cmd.words.slice(1).map((w) => w.value),
      )
      try {
        return this.expandText(fkey, fn.text, fn.map, connector)
      } finally {
        for (const [k, v] of saved) {
          if (v === undefined) this.shared.vars.delete(k)
          else this.shared.vars.set(k, v)
        }
      }
    }
    return null
  }

  private expandText(
    key: string,
    text: string,
    map: (s: Span) => Span,
    connector: string | null,
  ): SimpleCommand[] {
    if (!this.enter()) return []
    this.shared.expanding.add(key)
    const before = this.shared.out.length
    try {
      const error = walkText(text, this.shared, map)
      if (error) this.shared.parseErrors.push(`${error} (in ${key.replace(':', ' ')})`)
    } finally {
      this.shared.expanding.delete(key)
      this.leave()
    }
    const produced = this.shared.out.slice(before)
    const first = produced[0]
    if (first) first.connector = connector
    return produced
  }

  /** Builtins that change what later commands mean: aliases, positional parameters, `read`. */
  private builtin(cmd: SimpleCommand): void {
    const name = cmd.words[0]?.value
    const args = cmd.words.slice(1).map((w) => w.value)
    switch (name) {
      case 'alias':
        for (const a of args) {
          const eq = a.indexOf('=')
          if (eq > 0 && !a.startsWith('-')) this.shared.aliases.set(a.slice(0, eq), a.slice(eq + 1))
        }
        return
      case 'unalias':
        for (const a of args) this.shared.aliases.delete(a)
        return
      case 'set':
        if (args[0] === '--') setPositional(this.shared.vars, args.slice(1))
        else if (args.length && !/^[-+]/.test(args[0]!)) setPositional(this.shared.vars, args)
        return
      case 'read':
      case 'mapfile':
      case 'readarray': {
        const fan =
          this.pipeIn && 'pipeline' in this.pipeIn
            ? fanOutOf(this.pipeIn.pipeline ?? [])
            : undefined
        // `… <<< '/' `, `echo / | while read f`: the first line read is known.
        const line =
          this.pipeIn?.kind === 'literal' && name === 'read'
            ? this.pipeIn.text.split('\n')[0]
            : undefined
        const names = args.filter((a) => /^[A-Za-z_]\w*$/.test(a))
        const fields = line?.trim().split(/\s+/) ?? []
        names.forEach((v, i) => {
          const value =
            line === undefined
              ? DYN
              : i === names.length - 1
                ? fields.slice(i).join(' ')
                : (fields[i] ?? '')
          this.shared.vars.set(v, value)
          if (fan) this.shared.fanOutVars.set(v, fan)
        })
        return
      }
      default: {
        // `builtin cd /`, `command cd /` change the directory as `cd /` does.
        const [real, rest] =
          (name === 'builtin' || name === 'command') && args[0]
            ? [args[0], args.slice(1)]
            : [name, args]
        const operands = rest.filter((a) => !/^-[LPe@]+$/.test(a))
        if (real) this.shared.cwd.apply(real, operands)
      }
    }
  }

  /** The text of a literal here-string or here-doc, or null. */
  private literalInput(node: Node): string | null {
    const body = node.namedChildren.find((c) => c?.type === 'heredoc_body')
    if (body) return body.namedChildCount === 0 ? body.text : null
    const word = node.namedChildren.find((c) => c && WORD_TYPES.has(c.type))
    if (!word) return null
    const value = this.words(word, 'double')[0]?.value ?? ''
    return value.includes(DYN) ? null : value + '\n'
  }

  /** Adds a redirect to `cmd`; returns commands of a pipeline that trails a here-doc start. */
  private redirect(node: Node, cmd: SimpleCommand): SimpleCommand[] {
    const redirect: Redirect = { op: '', fd: null, target: null, span: this.spanOf(node) }
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
        redirect.target = this.plainWord(child, child.text.replace(/^['"]|['"]$/g, ''))
      } else if (child.type === 'heredoc_body') {
        const quotedDelimiter = /^['"\\]/.test(redirect.target?.raw ?? '')
        const literal = quotedDelimiter || child.namedChildCount === 0
        if (!quotedDelimiter) this.substitutionsIn(child)
        redirect.body = { text: child.text, span: this.spanOf(child), literal }
      } else if (child.type === 'pipeline' || child.type === 'command' || child.type === 'list') {
        // `cat <<EOF | sh`: tree-sitter-bash hangs the rest of the pipeline off the here-doc.
        pipelineNodes.push(child)
      } else if (REDIRECT_TYPES.has(child.type)) {
        // `cat <<EOF > file`: the file redirect hangs off the here-doc node.
        for (const c of this.redirect(child, cmd)) trailing.push(c)
      } else if (WORD_TYPES.has(child.type)) {
        const args = this.words(child, redirect.op === '<<<' ? 'double' : 'word')
        const arg = args[0] ?? this.plainWord(child, '')
        if (redirect.op === '<<<') {
          redirect.body = { text: arg.value, span: arg.span, literal: !arg.value.includes(DYN) }
          redirect.target = arg
        } else if (!redirect.target) redirect.target = arg
        // tree-sitter-bash attaches words written after a redirect to the redirect node.
        else for (const a of args) cmd.words.push(a)
      }
    }
    cmd.redirects.push(redirect)
    for (const child of pipelineNodes) {
      const acc = new PipeAccumulator(this.shared.dialect)
      acc.push([cmd])
      const cmds = this.scoped(() => this.statement(child, '|'))
      const head = cmds[0]
      if (head) head.stdin = acc.source() ?? head.stdin
      for (const c of cmds) trailing.push(c)
    }
    return trailing
  }

  private assignment(node: Node): void {
    const name = node.childForFieldName('name')?.text ?? node.namedChild(0)?.text
    const valueNode = node.childForFieldName('value')
    if (!name || /\[/.test(name)) {
      this.substitutionsIn(node)
      return
    }
    const state: WordState = { quoted: false, decoded: false }
    let value = ''
    if (valueNode?.type === 'array') {
      const items: string[] = []
      for (const el of valueNode.namedChildren) {
        if (!el) continue
        for (const v of finishWord(this.resolve(el, state, 'word'))) items.push(v)
      }
      value = items.join(FIELD)
    } else if (valueNode) value = this.resolve(valueNode, state, 'assign')
    const append = node.text.slice(name.length).startsWith('+=')
    const vars = this.shared.vars
    vars.set(name, append ? (vars.get(name) ?? '') + value : value)
    if (state.fanOut) this.shared.fanOutVars.set(name, state.fanOut)
    else this.shared.fanOutVars.delete(name)
    if (state.decoded) this.shared.decodedVars.add(name)
    else this.shared.decodedVars.delete(name)
  }

  private functionDefinition(node: Node): void {
    const nameNode = node.childForFieldName('name') ?? node.namedChild(0)
    const name = nameNode?.text ?? ''
    const body = node.childForFieldName('body')
    if (!body) return
    const offset = body.startIndex
    const outer = this.map
    this.shared.functions.set(name, {
      text: body.text,
      map: (s) => outer({ start: s.start + offset, end: s.end + offset }),
      called: false,
    })
    // A function that calls itself through a pipe or in the background multiplies processes.
    const selfCalls = body.descendantsOfType('command_name').filter((c) => c?.text === name)
    if (selfCalls.length > 0 && (selfCalls.length > 1 || /[|&]/.test(body.text))) {
      this.shared.findings.push({
        ruleId: 'proc.fork-bomb',
        risk: 'critical',
        message: `Fork bomb: function ${name} keeps starting copies of itself until the system stalls`,
        span: this.spanOf(node),
      })
    }
  }

  /** `for x in a b; do …; done`: the body runs once per literal value (a few of them at most). */
  private forLoop(node: Node, connector: string | null): SimpleCommand[] {
    const variable = node.childForFieldName('variable')?.text
    const body = node.childForFieldName('body')
    if (!variable || !body) return this.sequence(node, connector)
    const values: Arg[] = []
    let sawIn = false
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i)
      if (!child) continue
      if (child.type === 'in') sawIn = true
      else if (sawIn && child.isNamed && WORD_TYPES.has(child.type))
        for (const w of this.words(child)) values.push(w)
    }
    const positional = this.shared.vars.get('@')
    const items = sawIn
      ? values.map((v) => v.value)
      : positional !== undefined
        ? positional.split(FIELD)
        : [DYN]
    const fan = values.find((v) => v.fanOut)?.fanOut
    const literal =
      items.length > 0 &&
      items.length <= LIMITS.maxLoopValues &&
      items.every((v) => !v.includes(DYN))
    const produced: SimpleCommand[] = []
    for (const item of literal ? items : [DYN]) {
      this.shared.vars.set(variable, item)
      if (fan) this.shared.fanOutVars.set(variable, fan)
      for (const c of this.statement(body, produced.length ? ';' : connector)) produced.push(c)
    }
    return produced
  }
}

/** Names of the positional parameters a function call or `set --` replaces. */
const POSITIONAL = ['@', '*', '#', '1', '2', '3', '4', '5', '6', '7', '8', '9']

function setPositional(vars: Map<string, string>, args: string[]): void {
  vars.set('@', args.join(FIELD))
  vars.set('*', args.join(' '))
  vars.set('#', String(args.length))
  for (let i = 1; i <= 9; i++) {
    const v = args[i - 1]
    if (v === undefined) vars.set(String(i), '')
    else vars.set(String(i), v)
  }
}

function emptyCommand(span: Span, connector: string | null, cwd: string | null): SimpleCommand {
  return { words: [], redirects: [], span, stdin: { kind: 'none' }, connector, cwd }
}
