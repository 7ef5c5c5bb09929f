import { wrapper, type CommandView, type Rule } from '../rule'
import { parseOptions, type OptionSpec } from '../options'
import { classifyPath } from '../paths'
import { baseName, fanOutOf } from '../static-output'
import { DYN, type Arg, type SimpleCommand } from '../types'
import { exfiltration } from './exposure'

/** The operands after a wrapper's own options: the command it runs. */
function innerWords(c: CommandView, spec: OptionSpec): Arg[] {
  const opts = parseOptions(c.args, { ...spec, stopAtOperand: true })
  return opts.operands
}

function runOrRecord(c: CommandView, words: Arg[], via: string, extra = {}): void {
  if (words.length === 0) {
    c.engine.record(c)
    return
  }
  c.engine.runWords(words, c.cmd, c.ctx, via, extra)
}

/** Wrappers that run the rest of their words unchanged, with the option letters that take values. */
const PASS_THROUGH: Record<string, OptionSpec> = {
  nohup: {},
  setsid: {},
  builtin: {},
  time: {},
  unbuffer: {},
  caffeinate: { shortWithValue: 'tw' },
  torsocks: {},
  proxychains: { shortWithValue: 'f' },
  proxychains4: { shortWithValue: 'f' },
  stdbuf: { shortWithValue: 'ioe' },
  ionice: { shortWithValue: 'cnp' },
  strace: { shortWithValue: 'oepsuEIaAbPX' },
  ltrace: { shortWithValue: 'oepsuaAn' },
  catchsegv: {},
  exec: { shortWithValue: 'a' },
  npx: { shortWithValue: 'p', longWithValue: ['package', 'call'] },
  bunx: { shortWithValue: 'p', longWithValue: ['package'] },
  pnpx: {},
  then: {},
  do: {},
  // zsh precommand modifiers
  noglob: {},
  nocorrect: {},
}

const privilegeWrapper = (name: string, spec: OptionSpec): Rule =>
  wrapper((c) => {
    const opts = parseOptions(c.args, { ...spec, stopAtOperand: true })
    const inner = opts.operands
    if (inner.length === 0) {
      if (
        opts.short.has('i') ||
        opts.short.has('s') ||
        opts.long.has('login') ||
        opts.long.has('shell')
      ) {
        c.emit('priv.root-shell', 'moderate', `Opens a root shell through ${name}`, c.nameArg)
      } else if (opts.short.has('e') || opts.long.has('edit')) {
        c.emit('priv.edit', 'moderate', `Edits files as root through ${name}`, c.nameArg)
      }
      c.engine.record(c)
      return
    }
    // sudo is a tag policies can act on, not a risk by itself: what runs is rated.
    c.engine.runWords(inner, c.cmd, c.ctx, name, { privileged: true })
  })

export const wrapperRules: Record<string, Rule> = {
  sudo: privilegeWrapper('sudo', {
    shortWithValue: 'ugCDhprtUTa',
    longWithValue: ['user', 'group', 'chdir', 'prompt', 'role', 'type', 'other-user', 'host'],
  }),
  doas: privilegeWrapper('doas', { shortWithValue: 'uC' }),
  pkexec: privilegeWrapper('pkexec', { longWithValue: ['user'] }),
  su: wrapper((c) => suLike(c, 'su')),
  runuser: wrapper((c) => suLike(c, 'runuser')),
  env: wrapper((c) => {
    const opts = parseOptions(c.args, { shortWithValue: 'uCS', stopAtOperand: true })
    const split = opts.values.get('S')
    if (split !== undefined) {
      const from = c.args.find((a) => a.value === split) ?? c.nameArg
      c.engine.runInnerScript(split, 'bash', [from], c.ctx, 'env -S')
      return
    }
    const words = opts.operands.filter(
      (_, i, all) => !all.slice(0, i + 1).every((w) => /^[A-Za-z_]\w*=/.test(w.value)),
    )
    runOrRecord(c, words, 'env')
  }),
  command: wrapper((c) => {
    const opts = parseOptions(c.args, { stopAtOperand: true })
    if (opts.short.has('v') || opts.short.has('V')) {
      c.engine.record(c)
      return
    }
    runOrRecord(c, opts.operands, 'command')
  }),
  nice: wrapper((c) => {
    // `nice -10 cmd` is the old form of `-n 10`; only nice's own first word can be that, not
    // the wrapped command's arguments (`nice kill -9 -1`).
    const args = /^-\d+$/.test(c.args[0]?.value ?? '') ? c.args.slice(1) : c.args
    runOrRecord(
      c,
      parseOptions(args, { shortWithValue: 'n', stopAtOperand: true }).operands,
      'nice',
    )
  }),
  timeout: wrapper((c) => {
    const words = innerWords(c, { shortWithValue: 'sk', longWithValue: ['signal', 'kill-after'] })
    runOrRecord(c, words.slice(1), 'timeout')
  }),
  chrt: wrapper((c) => runOrRecord(c, innerWords(c, {}).slice(1), 'chrt')),
  taskset: wrapper((c) => runOrRecord(c, innerWords(c, {}).slice(1), 'taskset')),
  flock: wrapper((c) => {
    // flock [options] FILE (-c SCRIPT | COMMAND [ARGS...])
    const opts = parseOptions(c.args, { shortWithValue: 'wE', stopAtOperand: true })
    const rest = opts.operands.slice(1)
    const first = rest[0]
    if (first && (first.value === '-c' || first.value === '--command') && rest[1]) {
      c.engine.runInnerScript(rest[1].value, 'bash', [rest[1]], c.ctx, 'flock -c')
      return
    }
    const script = opts.values.get('c')
    if (script !== undefined) {
      const from = c.args.find((a) => a.value === script) ?? c.nameArg
      c.engine.runInnerScript(script, 'bash', [from], c.ctx, 'flock -c')
      return
    }
    runOrRecord(c, rest, 'flock')
  }),
  busybox: wrapper((c) => runOrRecord(c, c.args, 'busybox')),
  chroot: wrapper((c) => {
    const words = innerWords(c, { longWithValue: ['userspec', 'groups'] })
    const dir = words[0]
    if (!dir) return c.engine.record(c)
    const host = classifyPath(dir.value, c.ctx.container?.hostMounts ?? []).path
    const mounts = [{ host, inner: '/' }]
    const container = c.ctx.container
      ? {
          ...c.ctx.container,
          hostMounts: host === '/' || c.ctx.container.hostMounts.length ? mounts : [],
        }
      : null
    const rest = words.slice(1)
    const inner = rest.length ? rest : [{ ...dir, value: 'sh', raw: 'sh' }]
    if (host === '/' || container) {
      c.engine.runWords(inner, c.cmd, c.ctx, 'chroot', { container })
    } else {
      c.engine.runWords(inner, c.cmd, c.ctx, 'chroot', {
        container: { hostMounts: mounts, privileged: true },
      })
    }
  }),
  xargs: wrapper((c) => {
    const opts = parseOptions(c.args, {
      shortWithValue: 'ILndEsPa',
      longWithValue: ['replace', 'max-args', 'delimiter', 'max-procs', 'arg-file'],
      stopAtOperand: true,
    })
    const replace =
      opts.values.get('I') ??
      (typeof opts.long.get('replace') === 'string' ? String(opts.long.get('replace')) : null)
    const words = opts.operands.length
      ? opts.operands
      : [{ ...c.nameArg, value: 'echo', raw: 'echo' }]
    const fed = xargsInput(c, replace !== null)
    const pipeline = 'pipeline' in c.cmd.stdin ? c.cmd.stdin.pipeline : undefined
    const fanOut =
      opts.values.has('a') || opts.long.has('arg-file') ? undefined : fanOutOf(pipeline ?? [])
    const extra = fanOut ? { fanOut } : {}
    if (replace) {
      // One run per item; rate a few of them (the worst decides).
      for (const item of fed.slice(0, 8)) {
        const inner = words.map((w) =>
          w.value.includes(replace)
            ? {
                ...w,
                value: w.value.replaceAll(replace, item.value),
                ...(fanOut ? { fanOut } : {}),
              }
            : w,
        )
        c.engine.runWords(inner, c.cmd, c.ctx, 'xargs', extra)
      }
      return
    }
    const items = fed.map((f) => (fanOut ? { ...f, fanOut } : f))
    c.engine.runWords([...words, ...items], c.cmd, c.ctx, 'xargs', extra)
  }),
  watch: wrapper((c) => {
    const opts = parseOptions(c.args, {
      shortWithValue: 'nq',
      longWithValue: ['interval'],
      stopAtOperand: true,
    })
    const words = opts.operands
    if (!words.length) return c.engine.record(c)
    if (opts.short.has('x') || opts.long.has('exec')) return runOrRecord(c, words, 'watch')
    c.engine.runInnerScript(words.map((w) => w.value).join(' '), 'bash', words, c.ctx, 'watch')
  }),
  ssh: wrapper((c) => {
    exfiltration(c)
    const opts = parseOptions(c.args, {
      shortWithValue: 'bcDEeFIiJLlmOopQRSWwB',
      stopAtOperand: true,
    })
    const [host, ...words] = opts.operands
    if (!host || !words.length) return c.engine.record(c)
    const remote = host.value.replace(/^[^@]*@/, '').replaceAll(DYN, '$HOST')
    const text = words.map((w) => w.value).join(' ')
    // A remote command starts in the remote user's home directory.
    c.engine.runInnerScript(text, 'bash', words, c.ctx, `ssh ${remote}`, {
      remote,
      privileged: false,
      cwd: '~',
    })
  }),
  repeat: wrapper((c) => runOrRecord(c, c.args.slice(1), 'repeat')),
  parallel: wrapper((c) => gnuParallel(c)),
  pdsh: wrapper((c) => fanOutShell(c, 'pdsh', 'wxRlgu')),
  pssh: wrapper((c) => fanOutShell(c, 'pssh', 'hHlpotOxX')),
  'parallel-ssh': wrapper((c) => fanOutShell(c, 'parallel-ssh', 'hHlpotOxX')),
  clush: wrapper((c) => fanOutShell(c, 'clush', 'wxgXlf')),
}

/** The items xargs passes on: literal input split into words (lines with -I), else unknown. */
function xargsInput(c: CommandView, lines: boolean): Arg[] {
  const stdin = c.cmd.stdin
  const body = c.cmd.redirects.find((r) => r.body)?.body
  const text = stdin.kind === 'literal' ? stdin.text : body?.literal ? body.text : null
  const span = stdin.kind === 'literal' ? stdin.span : (body?.span ?? c.cmd.span)
  if (text !== null) {
    const items = (lines ? text.split('\n') : text.split(/\s+/))
      .map((s) => s.trim())
      .filter(Boolean)
    return items.map((value) => ({ value, raw: value, span, quoted: false }))
  }
  // `find DIR … | xargs rm`: the items are what find finds under DIR.
  const pipeline = 'pipeline' in stdin ? (stdin.pipeline ?? []) : []
  const found = findItem(pipeline)
  return [{ value: found ?? DYN, raw: '(stdin)', span: c.cmd.span, quoted: false }]
}

/** What `find START [tests]` lists, as one representative path. */
function findItem(pipeline: SimpleCommand[]): string | null {
  // `ls DIR | xargs rm`: the entries of DIR.
  const ls = pipeline.find((p) => baseName(p.words[0]?.value ?? '') === 'ls')
  if (ls && pipeline.length === 1) {
    const dir = ls.words.slice(1).find((w) => !w.value.startsWith('-'))?.value ?? '.'
    if (!dir.includes(DYN)) return `${dir === '/' ? '' : dir.replace(/\/$/, '')}/*`
  }
  const find = pipeline.find((p) => baseName(p.words[0]?.value ?? '') === 'find')
  if (!find) return null
  const args = find.words.slice(1).map((w) => w.value)
  const start = args.find((a) => !/^[-(!]/.test(a)) ?? '.'
  if (start.includes(DYN)) return null
  const narrowed = args.some((a) =>
    /^-(i?name|i?path|i?regex|mtime|mmin|atime|newer|size|user|group|empty|perm)$/.test(a),
  )
  const base = classifyPath(start).path
  return narrowed ? `${base === '/' ? '' : base}/<found>` : start
}

/** GNU parallel: `parallel CMD ::: a b` runs CMD once per argument (or per stdin line). */
function gnuParallel(c: CommandView): void {
  const sep = c.args.findIndex((a) => a.value === ':::' || a.value === '::::')
  const head = sep >= 0 ? c.args.slice(0, sep) : c.args
  const items = sep >= 0 ? c.args.slice(sep + 1).filter((a) => a.value !== ':::') : []
  const words = parseOptions(head, {
    shortWithValue: 'jSIaEd',
    longWithValue: ['jobs', 'sshlogin', 'delimiter', 'arg-file'],
    stopAtOperand: true,
  }).operands
  if (!words.length) return c.engine.record(c)
  const values = items.length ? items.slice(0, 8) : [{ ...c.nameArg, value: DYN, raw: '(stdin)' }]
  for (const item of values) {
    const hasBraces = words.some((w) => w.value.includes('{}'))
    const inner = hasBraces
      ? words.map((w) => ({ ...w, value: w.value.replaceAll('{}', item.value) }))
      : [...words, item]
    if (inner.length === 1 && /\s/.test(inner[0]!.value))
      c.engine.runInnerScript(inner[0]!.value, 'bash', inner, c.ctx, 'parallel')
    else c.engine.runWords(inner, c.cmd, c.ctx, 'parallel')
  }
}

/** pdsh, pssh, clush: run a shell command on many hosts at once. */
function fanOutShell(c: CommandView, name: string, valueLetters: string): void {
  const opts = parseOptions(c.args, { shortWithValue: valueLetters, stopAtOperand: true })
  const words = opts.operands
  if (!words.length) return c.engine.record(c)
  const hosts = opts.values.get('w') ?? opts.values.get('h') ?? opts.values.get('H') ?? 'many hosts'
  c.engine.runInnerScript(words.map((w) => w.value).join(' '), 'bash', words, c.ctx, name, {
    remote: hosts.replaceAll(DYN, '$HOSTS'),
    cwd: '~',
  })
}

for (const [name, spec] of Object.entries(PASS_THROUGH)) {
  wrapperRules[name] = wrapper((c) => runOrRecord(c, innerWords(c, spec), name))
}

function suLike(c: CommandView, name: string): void {
  const opts = parseOptions(c.args, {
    shortWithValue: 'cgGsuw',
    longWithValue: ['command', 'group', 'shell', 'user'],
  })
  const script =
    opts.values.get('c') ??
    (typeof opts.long.get('command') === 'string' ? String(opts.long.get('command')) : undefined)
  if (script !== undefined) {
    const from = c.args.find((a) => a.value === script) ?? c.nameArg
    c.emit('priv.escalate', 'moderate', `Runs a command as another user through ${name}`, c.nameArg)
    c.engine.runInnerScript(script, 'bash', [from], c.ctx, `${name} -c`, { privileged: true })
    return
  }
  const afterDash = c.args.findIndex((a) => a.value === '--')
  if (name === 'runuser' && afterDash >= 0 && afterDash < c.args.length - 1) {
    c.emit('priv.escalate', 'moderate', 'Runs a command as another user through runuser', c.nameArg)
    c.engine.runWords(c.args.slice(afterDash + 1), c.cmd, c.ctx, name, { privileged: true })
    return
  }
  c.emit('priv.root-shell', 'moderate', `Opens a shell as another user through ${name}`, c.nameArg)
  c.engine.record(c)
}
