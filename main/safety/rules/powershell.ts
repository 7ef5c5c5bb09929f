import type { CommandView, Rule } from '../rule'
import type { Arg } from '../types'
import { DYN } from '../types'
import { emitSecretLeaves, holdsSecrets } from './exposure'
import { rateDelete } from './files'
import { noteDecoded } from './interpreters'
import { decodedPowershell } from './windows'

const SWITCHES = new Set([
  'recurse',
  'force',
  'whatif',
  'confirm',
  'verbose',
  'passthru',
  'nonewline',
  'append',
  'asjob',
  'wait',
  'noprofile',
  'noninteractive',
  'usebasicparsing',
])

interface PsParams {
  named: Map<string, string | true>
  positional: Arg[]
  argOf: Map<string, Arg>
}

/** PowerShell parameters: `-Name value`, `-Switch`, `-Switch:$false`, abbreviations allowed. */
function psParams(args: Arg[]): PsParams {
  const named = new Map<string, string | true>()
  const argOf = new Map<string, Arg>()
  const positional: Arg[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const m = /^-([A-Za-z][\w]*)(:(.*))?$/.exec(a.value)
    if (!m || a.quoted) {
      positional.push(a)
      continue
    }
    const name = m[1]!.toLowerCase()
    const isSwitch = [...SWITCHES].some((s) => s.startsWith(name))
    if (m[2] !== undefined) named.set(name, m[3]!)
    else if (isSwitch || i + 1 >= args.length || /^-[A-Za-z]/.test(args[i + 1]!.value))
      named.set(name, true)
    else {
      named.set(name, args[i + 1]!.value)
      argOf.set(name, args[i + 1]!)
      i++
    }
  }
  return { named, positional, argOf }
}

function param(p: PsParams, full: string, min = 1): string | true | undefined {
  for (const [k, v] of p.named) if (k.length >= min && full.startsWith(k)) return v
  return undefined
}

function isOn(v: string | true | undefined): boolean {
  return v === true || (typeof v === 'string' && !/^\$?false$/i.test(v))
}

const removeItem: Rule = (c) => {
  const p = psParams(c.args)
  if (isOn(param(p, 'whatif', 2))) return
  const recursive = isOn(param(p, 'recurse', 1))
  const paths = [...p.positional]
  for (const key of ['path', 'literalpath']) {
    const arg = [...p.argOf].find(([k]) => key.startsWith(k) && k.length >= 1)?.[1]
    if (arg) paths.push(arg)
  }
  const listed = listedPaths(c)
  if (!paths.length && listed) {
    // `Get-ChildItem C:\ -Recurse | Remove-Item`: deletes what the listing finds under C:\.
    for (const p of listed.paths)
      rateDelete(
        c,
        { ...c.nameArg, value: p, quoted: false },
        {
          recursive: recursive || listed.recurse,
          narrowed: listed.narrowed,
          verb: 'Deletes',
          ruleBase: 'fs.rm',
        },
      )
    return
  }
  if (!paths.length && c.cmd.stdin.kind !== 'none') {
    const all = c.cmd.stdin.kind !== 'literal'
    c.emit(
      'fs.rm.pipeline',
      all ? 'high' : 'moderate',
      `Deletes every item the pipeline gives it${recursive ? ', recursively' : ''}`,
      c.nameArg,
    )
    return
  }
  for (const t of paths) {
    if (
      /^(HKLM|HKEY_LOCAL_MACHINE):?\\?(SYSTEM|SOFTWARE|SAM|SECURITY)?\\?$/i.test(t.value) &&
      recursive
    ) {
      c.emit(
        'ps.registry.delete-hive',
        'critical',
        `Deletes the registry hive ${t.value}: Windows cannot start without it`,
        t,
      )
      continue
    }
    if (/^(HKLM|HKCU|HKEY_|Registry::)/i.test(t.value)) {
      c.emit(
        'ps.registry.delete',
        /^(HKLM|HKEY_LOCAL)/i.test(t.value) ? 'high' : 'moderate',
        `Deletes the registry key ${t.value}`,
        t,
      )
      continue
    }
    for (const part of t.value.split(','))
      rateDelete(c, { ...t, value: part.trim() }, { recursive, verb: 'Deletes', ruleBase: 'fs.rm' })
  }
}

/** The paths a `Get-ChildItem PATH [-Recurse] [-Filter x]` stage before this one lists. */
function listedPaths(
  c: CommandView,
): { paths: string[]; recurse: boolean; narrowed: boolean } | null {
  const stdin = c.cmd.stdin
  const pipeline = 'pipeline' in stdin ? (stdin.pipeline ?? []) : []
  const src = pipeline.find((p) =>
    /^(get-childitem|gci|ls|dir|get-item|gi)$/i.test(p.words[0]?.value ?? ''),
  )
  if (!src) return null
  const p = psParams(src.words.slice(1))
  const given = [...p.positional.map((a) => a.value)]
  for (const key of ['path', 'literalpath']) {
    const arg = [...p.argOf].find(([k]) => key.startsWith(k))?.[1]
    if (arg) given.push(arg.value)
  }
  const roots = given.length ? given : ['.']
  const narrowed = [...p.named.keys()].some(
    (k) => /^(filter|include|exclude|name)/.test(k) || ('filter'.startsWith(k) && k.length >= 2),
  )
  const recurse = isOn(param(p, 'recurse', 1))
  return { paths: roots.map((r) => (narrowed ? `${r}\\<found>` : `${r}\\*`)), recurse, narrowed }
}

const invokeExpression: Rule = (c) => {
  const decoded = decodedPowershell(c.args)
  if (decoded !== null) {
    noteDecoded(c, decoded, c.nameArg)
    c.engine.runInnerScript(decoded, 'powershell', c.args, c.ctx, 'Invoke-Expression')
    return
  }
  const code = c.args.map((a) => a.value).join(' ')
  const stdin = c.cmd.stdin
  if (
    stdin.kind === 'network' ||
    c.args.some((a) =>
      /downloadstring|invoke-webrequest|iwr|irm|invoke-restmethod|net\.webclient/i.test(a.raw),
    )
  ) {
    return c.emit(
      'exec.remote-code',
      'high',
      'Runs code downloaded from the network (Invoke-Expression)',
      c.nameArg,
    )
  }
  if (
    stdin.kind === 'decoded' ||
    c.args.some((a) => /frombase64string|::unicode\.getstring|-join|char\]/i.test(a.raw))
  ) {
    return c.emit(
      'exec.obfuscated',
      'high',
      'Runs decoded or obfuscated code (Invoke-Expression)',
      c.nameArg,
    )
  }
  if (!code || code.includes(DYN))
    return c.emit(
      'exec.eval-dynamic',
      'high',
      'Evaluates code only known at run time (Invoke-Expression)',
      c.nameArg,
    )
  c.engine.runInnerScript(code, 'powershell', c.args, c.ctx, 'Invoke-Expression')
}

const writeContent =
  (verb: string): Rule =>
  (c) => {
    const p = psParams(c.args)
    const target =
      [...p.argOf].find(
        ([k]) => 'path'.startsWith(k) || 'filepath'.startsWith(k) || 'literalpath'.startsWith(k),
      )?.[1] ?? p.positional[0]
    if (!target) return
    const info = c.path(target)
    if (['system', 'system-top', 'root'].includes(info.kind))
      c.emit('ps.write.system', 'high', `${verb} the system file ${info.path}`, target)
    else c.emit('ps.write', 'moderate', `${verb} ${info.path.replaceAll(DYN, '$VAR')}`, target)
  }

const simple =
  (ruleId: string, risk: 'moderate' | 'high' | 'critical', message: string): Rule =>
  (c) => {
    if (isOn(param(psParams(c.args), 'whatif', 2))) return
    c.emit(ruleId, risk, message, c.nameArg, { prod: true })
  }

/** Invoke-WebRequest / Invoke-RestMethod: reads unless it downloads to a file or changes data. */
const webRequest: Rule = (c) => {
  const i = c.args.findIndex((a) => /^-o(utfile|ut|utf|utfi|utfil)?$/i.test(a.value))
  const file = i >= 0 ? c.args[i + 1] : undefined
  if (file) {
    c.engine.noteDownload(c, file.value)
    c.emit('net.download', 'moderate', 'Downloads a file', c.nameArg)
  }
  const inAt = c.args.findIndex((a) => /^-infile$/i.test(a.value))
  const inFile = inAt >= 0 ? c.args[inAt + 1] : undefined
  if (inFile && holdsSecrets(c, inFile.value.replace(/\\/g, '/')))
    return emitSecretLeaves(c, inFile, 'Uploads', 'a server')
  const m = c.args.findIndex((a) => /^-(method|me|met|meth|metho)$/i.test(a.value))
  const method = (m >= 0 ? c.args[m + 1]?.value : '')?.toUpperCase() ?? ''
  if (/^(DELETE|PUT|PATCH|POST)$/.test(method))
    c.emit('net.http.write', 'moderate', `Sends an HTTP ${method} request`, c.nameArg, {
      prod: true,
    })
}

export const powershellRules: Record<string, Rule> = {
  'remove-item': removeItem,
  'invoke-expression': invokeExpression,
  'format-volume': simple(
    'disk.format',
    'critical',
    'Formats a volume, destroying everything on it',
  ),
  'clear-disk': simple('disk.format', 'critical', 'Erases a whole disk'),
  'initialize-disk': simple('disk.format', 'critical', 'Initialises a disk (new partition table)'),
  'remove-partition': simple('disk.partition', 'critical', 'Deletes a partition and its data'),
  'set-partition': simple('disk.partition', 'high', 'Changes a partition'),
  format: simple('disk.format', 'critical', 'Formats a drive, destroying everything on it'),
  diskpart: simple('disk.partition', 'high', 'Opens the disk partitioning tool'),
  'stop-computer': simple('power.shutdown', 'high', 'Shuts the machine down'),
  'restart-computer': simple('power.shutdown', 'high', 'Restarts the machine'),
  'stop-process': (c) => {
    const stdin = c.cmd.stdin
    const pipeline = 'pipeline' in stdin ? (stdin.pipeline ?? []) : []
    const source = pipeline.find((p) => /^(get-process|gps|ps)$/i.test(p.words[0]?.value ?? ''))
    const named =
      c.args.some((a) => /^-(name|id|n|i)/i.test(a.value)) && !c.args.some((a) => a.value === '*')
    if ((source && source.words.length === 1 && !named) || c.args.some((a) => a.value === '*')) {
      c.emit(
        'proc.kill.all',
        'critical',
        'Stops every process on the system, taking it down',
        c.nameArg,
      )
      return
    }
    const some = stdin.kind !== 'none' && !source && !c.args.length
    // `-Name node`, `Get-Process node | Stop-Process`: every process of that name, in every session.
    const nameAt = c.args.findIndex((a) => /^-(n|na|nam|name|processname)$/i.test(a.value))
    const byName =
      nameAt >= 0
        ? (c.args[nameAt + 1]?.value ?? 'a name')
        : source && source.words.length > 1 && !source.words.some((w) => /^-id?$/i.test(w.value))
          ? (source.words.slice(1).find((w) => !w.value.startsWith('-'))?.value ?? null)
          : null
    if (byName) {
      c.emit(
        'proc.kill.by-name',
        'high',
        `Stops every process named ${byName}, in every session, not one chosen process`,
        c.nameArg,
      )
      return
    }
    c.emit(
      some ? 'proc.kill.broad' : 'proc.kill',
      some ? 'high' : 'moderate',
      some ? 'Stops every process it is given' : 'Stops a process',
      c.nameArg,
    )
  },
  'set-executionpolicy': (c) => {
    const open = c.args.some((a) => /^(unrestricted|bypass)$/i.test(a.value))
    c.emit(
      'sec.execution-policy',
      open ? 'high' : 'moderate',
      open ? 'Lets any script run without signature checks' : 'Changes the script execution policy',
      c.nameArg,
    )
  },
  'set-mppreference': (c) => {
    if (c.args.some((a) => /^-disable/i.test(a.value)))
      c.emit('sec.defender.off', 'high', 'Turns off Microsoft Defender protection', c.nameArg)
  },
  'set-netfirewallprofile': (c) => {
    if (c.args.some((a) => /false/i.test(a.value)))
      c.emit('net.firewall.disable', 'high', 'Turns the Windows firewall off', c.nameArg)
    else c.emit('net.firewall.rule', 'moderate', 'Changes the Windows firewall profile', c.nameArg)
  },
  netsh: (c) => {
    const text = c.args.map((a) => a.value.toLowerCase()).join(' ')
    if (/advfirewall.*state off|firewall.*disable/.test(text))
      c.emit('net.firewall.disable', 'high', 'Turns the Windows firewall off', c.nameArg)
    else if (/\b(set|add|delete|reset)\b/.test(text))
      c.emit('net.config', 'moderate', 'Changes network settings', c.nameArg)
  },
  'clear-recyclebin': simple('fs.recycle-bin', 'high', 'Empties the recycle bin for good'),
  'clear-eventlog': simple('sec.logs.clear', 'high', 'Clears the Windows event logs'),
  wevtutil: (c) => {
    if (c.args.some((a) => /^(cl|clear-log)$/i.test(a.value)))
      c.emit('sec.logs.clear', 'high', 'Clears a Windows event log', c.nameArg)
  },
  vssadmin: (c) => {
    if (!c.args.some((a) => /^delete$/i.test(a.value))) return
    // `/oldest` or `/shadow={id}` deletes one restore point; the rest delete them all.
    if (c.args.some((a) => /^\/(oldest|shadow=)/i.test(a.value)))
      c.emit(
        'disk.shadow-delete',
        'high',
        'Deletes a volume shadow copy (a system restore point)',
        c.nameArg,
      )
    else
      c.emit(
        'disk.shadow-delete',
        'critical',
        'Deletes volume shadow copies (the system restore points)',
        c.nameArg,
      )
  },
  bcdedit: (c) => {
    if (
      c.args.some((a) => /^\/delete$/i.test(a.value)) &&
      // The raw word in PowerShell (`{current}` is a script block there); the value via cmd /c.
      c.args.some(
        (a) =>
          /^\{(current|default|bootmgr)\}$/i.test(a.raw) ||
          /^\{(current|default|bootmgr)\}$/i.test(a.value),
      )
    )
      c.emit('sys.boot-config', 'critical', 'Deletes the boot entry Windows starts from', c.nameArg)
    else if (c.args.some((a) => /^\/(set|delete|deletevalue)$/i.test(a.value)))
      c.emit('sys.boot-config', 'high', 'Changes the boot configuration', c.nameArg)
  },
  'remove-itemproperty': (c) =>
    c.emit(
      'ps.registry.delete',
      c.args.some((a) => /HKLM/i.test(a.value)) ? 'high' : 'moderate',
      'Deletes a registry value',
      c.nameArg,
    ),
  'set-itemproperty': (c) =>
    c.emit(
      'ps.registry.write',
      c.args.some((a) => /HKLM/i.test(a.value)) ? 'high' : 'moderate',
      'Changes a registry value',
      c.nameArg,
    ),
  'set-content': writeContent('Overwrites'),
  'out-file': writeContent('Writes'),
  'add-content': writeContent('Appends to'),
  'clear-content': writeContent('Empties'),
  'copy-item': writeContent('Copies onto'),
  'move-item': writeContent('Moves files onto'),
  'new-item': writeContent('Creates'),
  'invoke-webrequest': webRequest,
  'invoke-restmethod': webRequest,
  'stop-service': (c) => {
    const stdin = c.cmd.stdin
    const pipeline = 'pipeline' in stdin ? (stdin.pipeline ?? []) : []
    const all = pipeline.some(
      (p) => /^(get-service|gsv)$/i.test(p.words[0]?.value ?? '') && p.words.length === 1,
    )
    if (isOn(param(psParams(c.args), 'whatif', 2))) return
    c.emit(
      all ? 'svc.stop.all' : 'svc.stop',
      all ? 'critical' : 'moderate',
      all ? 'Stops every service on the system' : 'Stops a service',
      c.nameArg,
      { prod: true },
    )
  },
  'start-process': (c) => {
    const verb = c.args.find(
      (a, i) => /^-verb$/i.test(c.args[i - 1]?.value ?? '') && /^runas$/i.test(a.value),
    )
    if (verb) c.emit('priv.escalate', 'moderate', 'Starts a program as administrator', verb)
  },
  'foreach-object': () => {},
  'invoke-command': (c) => {
    if (c.args.some((a) => /^-computername$/i.test(a.value)))
      c.emit('exec.remote', 'moderate', 'Runs a script block on other computers', c.nameArg, {
        prod: true,
      })
  },
}

const GENERIC: Array<[RegExp, 'safe' | 'moderate' | 'high']> = [
  [
    /^(get|test|show|find|select|measure|compare|convertto|convertfrom|format|out-(host|string|null|gridview)|write|read|resolve|split|join|where|sort|group|tee|import-csv|import-module|start-sleep|wait|trace|debug|push-location|pop-location|set-location|clear-host)/,
    'safe',
  ],
  [/^(remove|uninstall|clear|disable|reset|unregister|revoke|dismount)-/, 'high'],
  [/^[a-z]+-/, 'moderate'],
]

/** Verb-Noun cmdlets without a specific rule: rated by their approved verb. */
export function genericCmdlet(c: CommandView): void {
  for (const [re, risk] of GENERIC) {
    if (!re.test(c.name)) continue
    if (risk === 'safe') return
    if (isOn(param(psParams(c.args), 'whatif', 2))) return
    c.emit(
      `ps.${c.name.split('-')[0]}`,
      risk,
      `${c.nameArg.value} changes${risk === 'high' ? ' or removes' : ''} system state`,
      c.nameArg,
      { prod: true },
    )
    return
  }
}
