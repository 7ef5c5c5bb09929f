import { scanCode, type Language } from '../code-scan'
import { wrapper, type CommandView, type Rule } from '../rule'
import { parseOptions } from '../options'
import { FIELD } from '../bash-words'
import type { Arg, ShellDialect, Span } from '../types'
import { DYN } from '../types'
import { rateDelete } from './files'
import { serveDirectory } from './exposure'

const SHELL_DIALECT: Record<string, ShellDialect> = {
  sh: 'sh',
  bash: 'bash',
  zsh: 'zsh',
  dash: 'sh',
  ksh: 'bash',
  mksh: 'bash',
  ash: 'sh',
  fish: 'fish',
  pwsh: 'powershell',
  powershell: 'powershell',
}

/** Files that set up a shell session (rc files, virtualenv activation): sourcing them is routine. */
const ROUTINE_SOURCE =
  /(^|\/)(\.?(bash|zsh|fish)rc|\.profile|\.bash_profile|\.zprofile|\.zshenv|config\.fish|activate(\.fish|\.csh)?|\.env|\.envrc|nvm\.sh|env\.sh)$/

const shorten = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}…` : s).replace(/\s+/g, ' ')

function isShell(lang: Language | ShellDialect): lang is ShellDialect {
  return ['bash', 'sh', 'zsh', 'fish', 'powershell'].includes(lang)
}

/** Decoded text about to run: say so (it was hidden from a reader), then rate what it does. */
export function noteDecoded(c: CommandView, text: string, at: Arg | Span): void {
  c.emit(
    'exec.decoded',
    'moderate',
    `Runs an encoded payload, decoded and checked: ${shorten(text.replaceAll(DYN, '$VAR'))}`,
    at,
  )
}

/** Rates code a shell or interpreter reads from standard input or a here-doc. */
function stdinCode(c: CommandView, run: (text: string, from: Arg[] | Span) => void): boolean {
  const body = c.cmd.redirects.find((r) => r.body)?.body
  if (body) {
    if (body.literal || !body.text.includes('$(')) run(body.text, body.span)
    else c.emit('exec.generated-code', 'high', 'Runs code assembled at run time', body.span)
    return true
  }
  const from = c.cmd.redirects.find((r) => r.op === '<' && r.target)
  if (from?.target?.produced) {
    const produced = from.target.produced
    if (produced.decoded) noteDecoded(c, produced.text, from.target)
    run(produced.text, from.target.span)
    return true
  }
  const stdin = c.cmd.stdin
  const piped = { start: stdin.kind === 'none' ? 0 : stdin.span.start, end: c.nameArg.span.end }
  if (stdin.kind !== 'none' && stdin.kind !== 'literal' && stdin.known) {
    // Part of the input is known (`(curl …; echo 'rm -rf /') | sh`): rate that part too.
    if (stdin.known.decoded) noteDecoded(c, stdin.known.text, piped)
    run(stdin.known.text, stdin.span)
  }
  switch (stdin.kind) {
    case 'literal':
      if (stdin.decoded) noteDecoded(c, stdin.text, piped)
      run(stdin.text, stdin.span)
      return true
    case 'network':
      c.emit(
        'exec.remote-code',
        'high',
        `Runs code downloaded from the network with ${c.name} (unreviewed remote code)`,
        piped,
      )
      return true
    case 'decoded':
      c.emit('exec.obfuscated', 'high', `Runs decoded or obfuscated code with ${c.name}`, piped)
      return true
    case 'generated':
      c.emit(
        'exec.generated-code',
        'high',
        `Runs code produced by another command with ${c.name}`,
        piped,
      )
      return true
    case 'file':
      c.emit('exec.script-stdin', 'moderate', `Runs a script file through ${c.name}`, c.nameArg)
      return true
  }
  if (from?.target) {
    c.emit(
      'exec.script-file',
      'moderate',
      `Runs ${from.target.value.replaceAll(DYN, '$VAR')} through ${c.name}`,
      from.target,
    )
    return true
  }
  return false
}

/** `bash <(…)`, `source <(…)`, fish `source (… | psub)`: runs what the substitution prints. */
function substitutedScript(c: CommandView, arg: Arg, dialect: ShellDialect): boolean {
  if (arg.produced) {
    if (arg.produced.decoded) noteDecoded(c, arg.produced.text, arg)
    c.engine.runInnerScript(arg.produced.text, dialect, [arg], c.ctx, `${c.name} <(…)`)
    return true
  }
  const fishPsub = /^\(.*\bpsub\b.*\)$/s.test(arg.raw)
  if (!arg.raw.startsWith('<(') && !fishPsub) return false
  if (/^(<)?\(\s*(curl|wget|fetch|iwr|irm)\b/.test(arg.raw))
    c.emit('exec.remote-code', 'high', `Runs code downloaded from the network with ${c.name}`, arg)
  else
    c.emit(
      'exec.generated-code',
      'high',
      `Runs code produced by another command with ${c.name}`,
      arg,
    )
  return true
}

/** Running a script file: code the engine cannot see (remote code when downloaded in the line). */
export function scriptFile(
  c: CommandView,
  file: Arg,
  lang: Language | ShellDialect = 'bash',
): void {
  const shown = file.value.replaceAll(DYN, '$VAR')
  const written = c.engine.writtenText(c, file.value)
  if (written !== undefined) {
    if (isShell(lang))
      c.engine.runInnerScript(written, lang, [file], c.ctx, `${shown} (written in this line)`)
    else rateInlineCode(c, written, file, lang)
    return
  }
  if (c.engine.wasDownloaded(c, file.value)) {
    c.emit(
      'exec.downloaded',
      'high',
      `Runs ${shown}, downloaded from the network earlier in this line (unreviewed remote code)`,
      file,
    )
    return
  }
  c.emit(
    'exec.script-file',
    'moderate',
    `Runs the script ${shown}, whose code the engine cannot see`,
    file,
  )
}

function positional(words: string[]): Map<string, string> {
  const vars = new Map<string, string>([['0', words[0] ?? c0]])
  const rest = words.slice(1)
  rest.forEach((w, i) => vars.set(String(i + 1), w))
  vars.set('@', rest.join(FIELD))
  vars.set('*', rest.join(' '))
  vars.set('#', String(rest.length))
  return vars
}
const c0 = 'sh'

const shell: Rule = wrapper((c) => {
  const dialect = SHELL_DIALECT[c.name] ?? 'bash'
  if (dialect === 'powershell') return powershellHost(c)
  const opts = parseOptions(c.args, {
    shortWithValue: 'oO',
    longWithValue: ['rcfile', 'init-file', 'command'],
    stopAtOperand: true,
  })
  const script = opts.short.has('c') ? opts.operands[0] : undefined
  const command = opts.long.get('command')
  if (script || typeof command === 'string') {
    const arg = script ?? c.args.find((a) => a.value === command)!
    if (arg.value.includes(DYN)) {
      const remote = /\$\(\s*(curl|wget)\b|`\s*(curl|wget)\b/.test(arg.raw)
      c.emit(
        remote ? 'exec.remote-code' : 'exec.generated-code',
        'high',
        remote
          ? `Runs code downloaded from the network with ${c.name}`
          : `Runs code built at run time with ${c.name}`,
        arg,
      )
      c.engine.record(c)
      return
    }
    if (arg.decoded) noteDecoded(c, arg.value, arg)
    // `sh -c 'script' NAME ARG…`: the words after the script are $0, $1…
    const after = opts.operands.slice(opts.operands.indexOf(arg) + 1).map((a) => a.value)
    const vars = after.length ? positional(after) : undefined
    c.engine.runInnerScript(arg.value, dialect, [arg], c.ctx, `${c.name} -c`, {}, vars)
    return
  }
  const file = opts.operands[0]
  // -n reads the script without running it (a syntax check).
  if (opts.short.has('n') && !opts.short.has('c')) return c.engine.record(c)
  if (file && substitutedScript(c, file, dialect)) return c.engine.record(c)
  if (!file || opts.short.has('s') || file.value === '-') runStdinScript(c, dialect)
  else if (file.value === '/dev/stdin') runStdinScript(c, dialect)
  else scriptFile(c, file, dialect)
  c.engine.record(c)
})

function powershellHost(c: CommandView): void {
  for (let i = 0; i < c.args.length; i++) {
    const flag = c.args[i]!.value.toLowerCase()
    const next = c.args[i + 1]
    if (!next) continue
    if (/^-(c|command|co|com)$/.test(flag)) {
      const text = c.args
        .slice(i + 1)
        .map((a) => a.value)
        .join(' ')
      c.engine.runInnerScript(text, 'powershell', c.args.slice(i + 1), c.ctx, `${c.name} -Command`)
      return c.engine.record(c)
    }
    if (
      /^-(e|ec|enc|encodedcommand|en|encoded)/.test(flag) &&
      flag !== '-executionpolicy' &&
      flag !== '-ex' &&
      flag !== '-exec'
    ) {
      const text = Buffer.from(next.value, 'base64').toString('utf16le')
      noteDecoded(c, text, next)
      c.engine.runInnerScript(text, 'powershell', [next], c.ctx, `${c.name} -EncodedCommand`)
      return c.engine.record(c)
    }
    if (/^-(f|file)$/.test(flag)) {
      scriptFile(c, next)
      return c.engine.record(c)
    }
  }
  stdinCode(c, (text, from) =>
    c.engine.runInnerScript(
      text,
      'powershell',
      Array.isArray(from) ? from : [{ value: text, raw: '', span: from, quoted: true }],
      c.ctx,
      `${c.name} (stdin)`,
    ),
  )
  c.engine.record(c)
}

const evalRule: Rule = wrapper((c) => {
  if (!c.args.length) return c.engine.record(c)
  // eval re-parses its words: a literal `~` that came from an expansion is a tilde again.
  const text = c.args
    .map((a) => (a.raw.includes('./~') ? a.value : a.value.replace(/^\.\/~/, '~')))
    .join(' ')
  if (text.includes(DYN)) {
    const remote = c.args.some((a) => /\$\(\s*(curl|wget)\b|`\s*(curl|wget)\b/.test(a.raw))
    c.emit(
      remote ? 'exec.remote-code' : 'exec.eval-dynamic',
      'high',
      remote
        ? 'Evaluates code downloaded from the network'
        : 'Evaluates code that is only known at run time',
      { start: c.args[0]!.span.start, end: c.args[c.args.length - 1]!.span.end },
    )
    return c.engine.record(c)
  }
  if (c.args.some((a) => a.decoded))
    noteDecoded(c, text, { start: c.args[0]!.span.start, end: c.args[c.args.length - 1]!.span.end })
  c.engine.runInnerScript(text, c.ctx.dialect === 'fish' ? 'fish' : 'bash', c.args, c.ctx, 'eval')
})

const source: Rule = (c) => {
  const dialect = c.ctx.dialect === 'powershell' ? 'bash' : c.ctx.dialect
  const file = c.args[0]
  if (file && file.value !== '-' && file.value !== '/dev/stdin') {
    if (substitutedScript(c, file, dialect)) return
    if (!ROUTINE_SOURCE.test(file.value) || c.engine.writtenText(c, file.value) !== undefined)
      scriptFile(c, file, dialect)
    return
  }
  runStdinScript(c, dialect)
}

/** Looks inside inline code (`python -c`, `node -e`, `perl -e`) for shell-outs and deletions. */
export function rateInlineCode(
  c: CommandView,
  code: string,
  at: Arg | Span,
  lang: Language,
  argv: string[] = [],
): void {
  const span = 'value' in at ? at.span : at
  const ctxFrom: Arg = { value: code, raw: '', span, quoted: true }
  for (const a of scanCode(code, lang, 0, argv)) {
    switch (a.kind) {
      case 'shell':
        if (a.decoded) noteDecoded(c, a.text, span)
        if (a.text.trim())
          c.engine.runInnerScript(a.text, 'bash', [ctxFrom], c.ctx, `${c.name} shell-out`)
        break
      case 'code':
        if (a.decoded) noteDecoded(c, a.text, span)
        // PowerShell script blocks run as PowerShell; other languages' code was scanned above.
        if (lang === 'powershell')
          c.engine.runInnerScript(a.text, 'powershell', [ctxFrom], c.ctx, 'script block')
        break
      case 'delete':
        rateDelete(
          c,
          { value: a.path, raw: a.path, span, quoted: !/[*?]/.test(a.path) },
          {
            recursive: a.recursive,
            narrowed: a.narrowed,
            verb: 'Deletes',
            ruleBase: 'fs.code-delete',
          },
        )
        break
      case 'obfuscated':
        c.emit('exec.obfuscated', 'high', `Runs obfuscated code with ${c.name}`, span)
        break
      case 'remote-code':
        c.emit('exec.remote-code', 'high', `Downloads and runs code with ${c.name}`, span)
        break
      case 'write': {
        const info = c.pathOf(a.path)
        const system = ['system', 'system-top', 'root'].includes(info.kind)
        const keys = info.kind === 'home-sensitive'
        c.emit(
          system ? 'fs.code-write.system' : keys ? 'fs.code-write.credentials' : 'exec.code-writes',
          system || keys ? 'high' : 'moderate',
          `Inline ${c.name} code writes ${info.path.replaceAll(DYN, '$VAR')}`,
          span,
        )
        break
      }
      case 'fork-bomb':
        c.emit(
          'proc.fork-bomb',
          'critical',
          `Fork bomb: inline ${c.name} code starts processes in an endless loop until the system stalls`,
          span,
        )
        break
      case 'power':
        c.emit('power.shutdown', 'high', 'Shuts down, restarts or logs out the machine', span)
        break
      case 'empty-trash':
        c.emit('fs.trash.empty', 'high', 'Empties the trash: its files are deleted for good', span)
        break
      case 'writes':
        c.emit(
          'exec.code-writes',
          'moderate',
          `Inline ${c.name} code writes files or changes the system`,
          span,
        )
        break
    }
  }
}

/** Options of each interpreter that take a value (so the script file is found after them). */
const VALUE_FLAGS: Record<Language, RegExp> = {
  python: /^-[WXQ]$/,
  node: /^(-r|--require|--import|--loader|--env-file|-C|--conditions|--input-type)$/,
  perl: /^-[IMmx]$/,
  ruby: /^-[IrCx]$/,
  php: /^-[cdz]$/,
  lua: /^-[l]$/,
  r: /^--file$/,
  osascript: /^-[l]$/,
  awk: /^-[fvF]$/,
  powershell: /^$/,
}

const interpreter =
  (lang: Language, codeFlags: RegExp): Rule =>
  (c) => {
    for (let i = 0; i < c.args.length; i++) {
      const a = c.args[i]!
      if (codeFlags.test(a.value)) {
        const code = c.args[i + 1]
        if (!code) return
        if (code.value.includes(DYN))
          c.emit('exec.generated-code', 'high', `Runs code built at run time with ${c.name}`, code)
        else
          rateInlineCode(
            c,
            code.value,
            code,
            lang,
            c.args.slice(i + 2).map((x) => x.value),
          )
        // perl -i / -pi edits files in place.
        if (lang === 'perl' && c.args.some((x) => /^-[a-zA-Z]*i/.test(x.value)))
          c.emit('fs.edit-in-place', 'moderate', `Edits files in place with ${c.name}`, c.nameArg)
        return
      }
      if (lang === 'python' && a.value === '-m') return pythonModule(c, c.args.slice(i + 1))
      if (lang === 'ruby' && /^-run$/.test(a.value)) return rubyUn(c, c.args.slice(i + 1))
      if (lang === 'php' && a.value === '-S') return serveDirectory(c, phpDocRoot(c), a, c.args)
      if (c.name === 'deno' && /^(run|test|bench|serve|task|repl)$/.test(a.value) && i === 0)
        continue
      if (VALUE_FLAGS[lang].test(a.value)) {
        i++
        continue
      }
      if (!a.value.startsWith('-')) {
        if (!substitutedScript(c, a, 'bash')) scriptFile(c, a, lang)
        return
      }
    }
    stdinCode(c, (text, from) =>
      rateInlineCode(c, text, Array.isArray(from) ? from[0]! : from, lang),
    )
  }

function phpDocRoot(c: CommandView): string {
  const t = c.args.findIndex((a) => a.value === '-t')
  return t >= 0 ? (c.args[t + 1]?.value ?? '.') : '.'
}

/** `python -m MODULE`: pip is pip, http.server serves a directory, others run installed code. */
function pythonModule(c: CommandView, rest: Arg[]): void {
  const [module, ...args] = rest
  if (!module) return
  const m = module.value
  if (m === 'http.server' || m === 'SimpleHTTPServer' || m === 'uploadserver') {
    const opts = parseOptions(args, {
      shortWithValue: 'bdp',
      longWithValue: ['bind', 'directory', 'port', 'protocol'],
    })
    const dir = opts.values.get('d') ?? opts.long.get('directory')
    const bind = opts.values.get('b') ?? opts.long.get('bind')
    serveDirectory(
      c,
      typeof dir === 'string' ? dir : '.',
      module,
      args,
      typeof bind === 'string' ? bind : undefined,
    )
    return
  }
  if (m === 'pip' || m === 'pip3') {
    const pip = c.engine
    pip.runWords([{ ...module, value: 'pip' }, ...args], c.cmd, c.ctx, 'python -m')
  }
}

/** `ruby -run -e httpd DIR`: un.rb's web server. */
function rubyUn(c: CommandView, rest: Arg[]): void {
  const e = rest.findIndex((a) => a.value === '-e')
  if (rest[e + 1]?.value !== 'httpd') return
  const dir = rest.slice(e + 2).find((a) => !a.value.startsWith('-') && !/^\d+$/.test(a.value))
  serveDirectory(c, dir?.value ?? '.', rest[e + 1]!, rest)
}

/** awk programs: `system("…")`, `print | "sh"`, `"cmd" | getline`. */
const awk: Rule = (c) => {
  const opts = parseOptions(c.args, { shortWithValue: 'fvF' })
  const program = opts.values.has('f') ? undefined : opts.operands[0]
  if (!program) return
  if (program.value.includes(DYN)) return
  rateInlineCode(c, program.value, program, 'awk')
  if (/\|\s*"(ba|z|da)?sh"|\|\s*"\s*(ba|z)?sh\s*"/.test(program.value))
    c.emit('exec.generated-code', 'high', 'Pipes generated text into a shell from awk', program)
}

const python = interpreter('python', /^-c$/)
const node = interpreter('node', /^(-e|--eval|-p|--print)$/)
const perl = interpreter('perl', /^-[a-zA-Z]*[eE]$/)
const ruby = interpreter('ruby', /^-[a-zA-Z]*e$/)
const php = interpreter('php', /^-r$/)

export const interpreterRules: Record<string, Rule> = {
  ...Object.fromEntries(Object.keys(SHELL_DIALECT).map((n) => [n, shell])),
  eval: evalRule,
  source,
  '.': source,
  python,
  python2: python,
  python3: python,
  pypy: python,
  pypy3: python,
  node,
  nodejs: node,
  deno: interpreter('node', /^eval$/),
  tsx: interpreter('node', /^(-e|--eval)$/),
  'ts-node': interpreter('node', /^(-e|--eval)$/),
  perl,
  ruby,
  php,
  lua: interpreter('lua', /^-e$/),
  luajit: interpreter('lua', /^-e$/),
  osascript: interpreter('osascript', /^-e$/),
  Rscript: interpreter('r', /^-e$/),
  awk,
  gawk: awk,
  mawk: awk,
  nawk: awk,
}

/** Script text that reaches an interpreter on stdin runs as a script of that dialect. */
function runStdinScript(c: CommandView, dialect: ShellDialect): void {
  stdinCode(c, (text, from) =>
    c.engine.runInnerScript(
      text,
      dialect,
      Array.isArray(from) ? from : [{ value: text, raw: '', span: from, quoted: true }],
      c.ctx,
      `${c.name} (stdin)`,
    ),
  )
}
