import { wrapper, type CommandView, type Rule } from '../engine'
import { parseOptions, type OptionSpec } from '../options'
import { classifyPath } from '../paths'
import { DYN, type Arg } from '../types'

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
    c.emit('priv.escalate', 'moderate', `Runs the command as root (${name})`, c.nameArg)
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
    const stdin = c.cmd.stdin
    const fed: Arg[] =
      stdin.kind === 'literal'
        ? stdin.text
            .split(/\s+/)
            .filter(Boolean)
            .map((value) => ({ value, raw: value, span: stdin.span, quoted: false }))
        : [{ value: DYN, raw: '(stdin)', span: c.cmd.span, quoted: false }]
    let words = opts.operands.length
      ? opts.operands
      : [{ ...c.nameArg, value: 'echo', raw: 'echo' }]
    if (replace) {
      const item = fed[0]?.value ?? DYN
      words = words.map((w) =>
        w.value.includes(replace) ? { ...w, value: w.value.replaceAll(replace, item) } : w,
      )
    } else {
      words = [...words, ...fed]
    }
    c.engine.runWords(words, c.cmd, c.ctx, 'xargs')
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
    const opts = parseOptions(c.args, {
      shortWithValue: 'bcDEeFIiJLlmOopQRSWwB',
      stopAtOperand: true,
    })
    const [host, ...words] = opts.operands
    if (!host || !words.length) return c.engine.record(c)
    const remote = host.value.replace(/^[^@]*@/, '').replaceAll(DYN, '$HOST')
    const text = words.map((w) => w.value).join(' ')
    c.engine.runInnerScript(text, 'bash', words, c.ctx, `ssh ${remote}`, {
      remote,
      privileged: false,
    })
  }),
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
