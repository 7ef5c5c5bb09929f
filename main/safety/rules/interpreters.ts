import { wrapper, type CommandView, type Rule } from '../engine'
import { parseOptions } from '../options'
import type { Arg, ShellDialect, Span } from '../types'
import { DYN } from '../types'
import { rateDelete } from './files'

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

/** Rates code a shell or interpreter reads from standard input or a here-doc. */
function stdinCode(c: CommandView, run: (text: string, from: Arg[] | Span) => void): boolean {
  const body = c.cmd.redirects.find((r) => r.body)?.body
  if (body) {
    if (body.literal || !body.text.includes('$(')) run(body.text, body.span)
    else c.emit('exec.generated-code', 'high', 'Runs code assembled at run time', body.span)
    return true
  }
  const from = c.cmd.redirects.find((r) => r.op === '<' && r.target)
  const stdin = c.cmd.stdin
  switch (stdin.kind) {
    case 'literal':
      run(stdin.text, stdin.span)
      return true
    case 'network':
      c.emit(
        'exec.remote-code',
        'high',
        `Runs code downloaded from the network with ${c.name} (unreviewed remote code)`,
        { start: stdin.span.start, end: c.nameArg.span.end },
      )
      return true
    case 'decoded':
      c.emit('exec.obfuscated', 'high', `Runs decoded or obfuscated code with ${c.name}`, {
        start: stdin.span.start,
        end: c.nameArg.span.end,
      })
      return true
    case 'generated':
      c.emit(
        'exec.generated-code',
        'high',
        `Runs code produced by another command with ${c.name}`,
        { start: stdin.span.start, end: c.nameArg.span.end },
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
      `Runs ${from.target.value} through ${c.name}`,
      from.target,
    )
    return true
  }
  return false
}

function processSubstitutionScript(c: CommandView, arg: Arg): boolean {
  if (!arg.raw.startsWith('<(')) return false
  if (/<\(\s*(curl|wget|fetch)\b/.test(arg.raw))
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
    c.engine.runInnerScript(arg.value, dialect, [arg], c.ctx, `${c.name} -c`)
    return
  }
  const file = opts.operands[0]
  if (file && processSubstitutionScript(c, file)) return c.engine.record(c)
  if (!file || opts.short.has('s')) {
    runStdinScript(c, dialect)
  }
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
      c.emit(
        'exec.encoded',
        'moderate',
        'Runs a base64-encoded PowerShell command (decoded and checked)',
        next,
      )
      c.engine.runInnerScript(text, 'powershell', [next], c.ctx, `${c.name} -EncodedCommand`)
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
  const text = c.args.map((a) => a.value).join(' ')
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
  c.engine.runInnerScript(text, c.ctx.dialect === 'fish' ? 'fish' : 'bash', c.args, c.ctx, 'eval')
})

const source: Rule = (c) => {
  const file = c.args[0]
  if (file && file.value !== '-' && file.value !== '/dev/stdin') {
    processSubstitutionScript(c, file)
    return
  }
  const dialect = c.ctx.dialect === 'powershell' ? 'bash' : c.ctx.dialect
  runStdinScript(c, dialect)
}

const SHELL_OUT =
  /(?:os\.system|os\.popen|subprocess\.(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)|commands\.getoutput|child_process\.(?:exec|execSync|spawn|spawnSync)|\bexecSync|\bspawnSync|\bsystem|\bexec|shell_exec|passthru|\bpopen|%x|do shell script)\s*\(?\s*(\[[^\]]*\]|(['"])((?:\\.|(?!\2).)*)\2)/g
const DELETE_API =
  /(shutil\.rmtree|os\.(?:remove|unlink|rmdir|removedirs)|fs\.(?:rmSync|rmdirSync|unlinkSync|rm|rmdir|unlink)|FileUtils\.rm_r?f?|File\.delete|Remove-Item|unlink|rmtree)\s*\(\s*(['"])((?:\\.|(?!\2).)*)\2([^)]*)\)/g

/** Looks inside inline code (`python -c`, `node -e`, `perl -e`) for shell-outs and deletions. */
export function rateInlineCode(c: CommandView, code: string, at: Arg | Span): void {
  const span = 'value' in at ? at.span : at
  const ctxFrom: Arg = { value: code, raw: '', span, quoted: true }
  let found = false
  for (const m of code.matchAll(SHELL_OUT)) {
    found = true
    const list = m[1]!.startsWith('[')
    const text = list
      ? [...m[1]!.matchAll(/(['"])((?:\\.|(?!\1).)*)\1/g)].map((x) => x[2]).join(' ')
      : (m[3] ?? '')
    c.engine.runInnerScript(text, 'bash', [ctxFrom], c.ctx, `${c.name} shell-out`)
  }
  for (const m of code.matchAll(DELETE_API)) {
    found = true
    const recursive =
      /rmtree|rm_rf|rm_r|rmSync|Remove-Item/.test(m[1]!) ||
      /recursive\s*[:=]\s*(true|True)/.test(m[4] ?? '')
    rateDelete(
      c,
      { value: m[3]!, raw: m[3]!, span, quoted: true },
      { recursive, verb: 'Deletes', ruleBase: 'fs.code-delete' },
    )
  }
  if (
    /\b(exec|eval)\s*\(.*(b64decode|base64|decode\(|fromCharCode|\\x[0-9a-f]{2}|compile\()/is.test(
      code,
    ) ||
    (/atob\(|Buffer\.from\([^)]*base64/.test(code) && /eval|Function\(/.test(code))
  ) {
    c.emit('exec.obfuscated', 'high', `Runs obfuscated code with ${c.name}`, span)
    found = true
  }
  if (
    /(urlopen|requests\.get|urllib|fetch\(|http\.get|LWP|Net::HTTP|open-uri).*\b(exec|eval)\s*\(/is.test(
      code,
    )
  ) {
    c.emit('exec.remote-code', 'high', `Downloads and runs code with ${c.name}`, span)
    found = true
  }
  if (
    !found &&
    /open\([^)]*['"][wa]b?\+?['"]|writeFile|write_text|write_bytes|File\.write|\.write\(|fs\.append|os\.rename|shutil\.(move|copy)|os\.chmod|os\.kill/.test(
      code,
    )
  ) {
    c.emit(
      'exec.code-writes',
      'moderate',
      `Inline ${c.name} code writes files or changes the system`,
      span,
    )
  }
}

const interpreter =
  (codeFlags: RegExp): Rule =>
  (c) => {
    for (let i = 0; i < c.args.length; i++) {
      const a = c.args[i]!
      if (codeFlags.test(a.value)) {
        const code = c.args[i + 1]
        if (!code) return
        if (code.value.includes(DYN))
          c.emit('exec.generated-code', 'high', `Runs code built at run time with ${c.name}`, code)
        else rateInlineCode(c, code.value, code)
        return
      }
      if (!a.value.startsWith('-')) {
        processSubstitutionScript(c, a)
        return
      }
    }
    stdinCode(c, (text, from) => rateInlineCode(c, text, Array.isArray(from) ? from[0]! : from))
  }

const python = interpreter(/^-c$/)
const node = interpreter(/^(-e|--eval|-p|--print)$/)
const perl = interpreter(/^-[a-zA-Z]*[eE]$/)
const ruby = interpreter(/^-e$/)
const php = interpreter(/^-r$/)

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
  deno: interpreter(/^eval$/),
  perl,
  ruby,
  php,
  lua: interpreter(/^-e$/),
  osascript: interpreter(/^-e$/),
  Rscript: interpreter(/^-e$/),
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
