import { evalString } from '../code-scan'
import type { Rule } from '../rule'
import type { Arg } from '../types'
import { DYN } from '../types'
import { rateDelete, rateOwnership } from './files'
import { rateInlineCode } from './interpreters'

/**
 * Windows programs reached from PowerShell (or any shell): cmd.exe and its built-ins (`rd /s`,
 * `del /s`, `format`), icacls/takeown, reg, Start-Process, and PowerShell expression statements
 * that call .NET directly (`[IO.Directory]::Delete(…)`, `[scriptblock]::Create(…)`).
 */

/** Splits a cmd.exe command line into statements of words (quotes kept together). */
function cmdStatements(text: string): string[][] {
  const out: string[][] = []
  let words: string[] = []
  let word = ''
  let quoted = false
  const push = () => {
    if (word) words.push(word)
    word = ''
  }
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '"') {
      quoted = !quoted
      continue
    }
    if (!quoted && (c === '&' || c === '|')) {
      push()
      if (words.length) out.push(words)
      words = []
      if (text[i + 1] === c) i++
      continue
    }
    if (!quoted && /\s/.test(c)) {
      push()
      continue
    }
    if (c === '^' && !quoted && i + 1 < text.length) {
      word += text[++i]
      continue
    }
    word += c
  }
  push()
  if (words.length) out.push(words)
  return out
}

/** cmd.exe variables whose meaning is fixed. */
const CMD_VARS: Record<string, string> = {
  userprofile: '~',
  homepath: '~',
  systemroot: 'C:\\Windows',
  windir: 'C:\\Windows',
  systemdrive: 'C:',
  programfiles: 'C:\\Program Files',
  programdata: 'C:\\ProgramData',
  appdata: '~\\AppData\\Roaming',
  localappdata: '~\\AppData\\Local',
}

const cmdExe: Rule = (c) => {
  const i = c.args.findIndex((a) => /^\/[ckCK]$/.test(a.value))
  if (i < 0) return
  const rest = c.args.slice(i + 1)
  // PowerShell reads `{current}` as a script block; cmd gets the text as written (bcdedit ids).
  const text = rest
    .map((a) => (c.ctx.dialect === 'powershell' && /^\{[\w-]+\}$/.test(a.raw) ? a.raw : a.value))
    .join(' ')
  const at: Arg = rest.length
    ? { ...rest[0]!, span: { start: rest[0]!.span.start, end: rest[rest.length - 1]!.span.end } }
    : c.nameArg
  for (const words of cmdStatements(text)) {
    const name = (words[0] ?? '').toLowerCase().replace(/\.exe$/, '')
    const flags = words
      .slice(1)
      .filter((w) => /^\/\w/.test(w))
      .map((w) => w.toLowerCase())
    const targets = words
      .slice(1)
      .filter((w) => !/^\/\w/.test(w))
      .map((w) =>
        w.replace(/%(\w+)%/g, (m, v: string) =>
          Object.hasOwn(CMD_VARS, v.toLowerCase()) ? CMD_VARS[v.toLowerCase()]! : m,
        ),
      )
    const arg = (value: string): Arg => ({ ...at, value, quoted: true })
    if (name === 'rd' || name === 'rmdir') {
      for (const t of targets)
        rateDelete(c, arg(t), {
          recursive: flags.includes('/s'),
          verb: 'Deletes',
          ruleBase: 'fs.rm',
        })
    } else if (name === 'del' || name === 'erase') {
      for (const t of targets)
        rateDelete(c, arg(t), {
          recursive: flags.includes('/s'),
          verb: 'Deletes',
          ruleBase: 'fs.rm',
        })
    } else if (name === 'format') {
      c.emit(
        'disk.format',
        'critical',
        `Formats the drive ${targets[0] ?? ''}, destroying everything on it`,
        at,
      )
    } else if (name) {
      c.engine.runWords(
        words.map((w) => arg(w)),
        c.cmd,
        { ...c.ctx, dialect: 'powershell' },
        'cmd /c',
      )
    }
  }
}

const icacls: Rule = (c) => {
  const [target, ...rest] = c.args
  if (!target) return
  const opts = rest.map((a) => a.value.toLowerCase())
  if (opts.length === 0 || opts.every((o) => /^\/(q|c|l)$/.test(o))) return
  const recursive = opts.includes('/t')
  const grant = rest.find((a, i) => /^\/grant(:r)?$/i.test(rest[i - 1]?.value ?? ''))?.value ?? ''
  const open = /^(everyone|\*s-1-1-0|users|authenticated users|\*s-1-5-11):\(?[\w,()]*[fmw]/i.test(
    grant,
  )
  rateOwnership(c, target, 'icacls', recursive, {
    open,
    setuid: false,
    none: false,
    what: 'permissions',
  })
}

const takeown: Rule = (c) => {
  const i = c.args.findIndex((a) => /^\/f$/i.test(a.value))
  const target = c.args[i + 1]
  if (!target) return
  const recursive = c.args.some((a) => /^\/r$/i.test(a.value))
  rateOwnership(c, target, 'takeown', recursive, {
    open: false,
    setuid: false,
    none: false,
    what: 'ownership',
  })
}

const reg: Rule = (c) => {
  const verb = c.args[0]?.value.toLowerCase()
  const key = c.args[1]?.value ?? ''
  if (!verb || /^(query|export|compare)$/.test(verb)) return
  const machine = /^(HKLM|HKEY_LOCAL_MACHINE)/i.test(key)
  if (verb === 'delete')
    c.emit(
      'ps.registry.delete',
      machine ? 'high' : 'moderate',
      `Deletes the registry key ${key}`,
      c.args[1] ?? c.nameArg,
    )
  else
    c.emit(
      'ps.registry.write',
      machine ? 'high' : 'moderate',
      `Changes the registry key ${key}`,
      c.args[1] ?? c.nameArg,
    )
}

/** `Start-Process FILE -ArgumentList ARGS [-Verb RunAs]`: runs FILE with ARGS. */
const startProcess: Rule = (c) => {
  const verb = c.args.find(
    (a, i) => /^-verb$/i.test(c.args[i - 1]?.value ?? '') && /^runas$/i.test(a.value),
  )
  if (verb) c.emit('priv.escalate', 'moderate', 'Starts a program as administrator', verb)
  const named = (re: RegExp) => {
    const i = c.args.findIndex((a) => re.test(a.value))
    return i >= 0 ? c.args[i + 1] : undefined
  }
  const file =
    named(/^-(filepath|file|f)$/i) ??
    c.args.find(
      (a, i) => !a.value.startsWith('-') && (i === 0 || !c.args[i - 1]!.value.startsWith('-')),
    )
  if (!file) return
  const argList = named(/^-(argumentlist|args|arguments|a)$/i)
  const words = [
    file,
    ...(argList
      ? argList.value
          .split(/\s+/)
          .filter(Boolean)
          .map((v) => ({ ...argList, value: v }))
      : []),
  ]
  c.engine.runWords(words, c.cmd, c.ctx, 'Start-Process')
}

/** A PowerShell statement that is an expression: .NET calls can delete or run code. */
const expression: Rule = (c) => {
  const code = c.args.map((a) => a.value).join(' ')
  if (code && !code.includes(DYN)) rateInlineCode(c, code, c.cmd.span, 'powershell')
}

/** iex's argument decoded statically when it is (`[Text.Encoding]::…GetString([Convert]::FromBase64String('…'))`). */
export function decodedPowershell(args: Arg[]): string | null {
  const raw = args.map((a) => a.raw).join(' ')
  if (!/frombase64string/i.test(raw)) return null
  const v = evalString(raw.replace(/^\(|\)$/g, ''), 'powershell')
  return v && v.decoded && !v.text.includes(DYN) ? v.text : null
}

/** net user / net localgroup: accounts and administrator rights. */
const net: Rule = (c) => {
  const w = c.args.map((a) => a.value.toLowerCase())
  if (w[0] === 'user' && w.some((v) => v === '/delete'))
    c.emit('user.delete', 'high', `Deletes the account ${c.args[1]?.value ?? ''}`, c.nameArg)
  else if (
    w[0] === 'user' &&
    w.some((v) => v === '/active:yes') &&
    /^(guest|administrator)$/.test(w[1] ?? '')
  )
    c.emit('user.enable-builtin', 'high', `Enables the built-in ${w[1]} account`, c.nameArg)
  else if (w[0] === 'localgroup' && /^administrators$/.test(w[1] ?? '') && w.includes('/add'))
    c.emit('user.privilege', 'high', 'Gives an account administrator rights', c.nameArg)
  else if (w[0] === 'user' && w.length > 2)
    c.emit('user.modify', 'moderate', `Changes the account ${c.args[1]?.value ?? ''}`, c.nameArg)
  else if (/^(stop|pause)$/.test(w[0] ?? ''))
    c.emit('svc.stop', 'moderate', `Stops the service ${c.args[1]?.value ?? ''}`, c.nameArg)
}

/** taskkill /IM name: every process of that image name; /PID one process; /FI filters. */
const taskkill: Rule = (c) => {
  const w = c.args.map((a) => a.value)
  const image = w.findIndex((v) => /^[/-]im$/i.test(v))
  const name = image >= 0 ? (w[image + 1] ?? '') : null
  if (
    name === '*' ||
    (name !== null && /^(csrss|wininit|winlogon|lsass|smss|svchost)(\.exe)?$/i.test(name))
  ) {
    c.emit(
      'proc.kill.all',
      'critical',
      `Kills ${name === '*' ? 'every process' : name}, taking Windows down`,
      c.nameArg,
    )
    return
  }
  if (name !== null)
    c.emit(
      'proc.kill.by-name',
      'high',
      `Kills every process named ${name}, in every session, not one chosen process`,
      c.nameArg,
    )
  else if (w.some((v) => /^[/-](pid|fi)$/i.test(v)))
    c.emit('proc.kill', 'moderate', 'Stops a process', c.nameArg)
}

export const windowsRules: Record<string, Rule> = {
  net,
  taskkill,
  cmd: cmdExe,
  icacls,
  takeown,
  reg,
  'start-process': startProcess,
  '(expression)': expression,
}
