import type { CommandView, Rule } from '../rule'
import { hasFlag } from '../options'
import { classifyPath } from '../paths'
import { baseName } from '../static-output'
import { DYN, type Span } from '../types'

const dd: Rule = (c) => {
  const ops = new Map<string, (typeof c.args)[number]>()
  for (const a of c.args) {
    const m = /^(if|of)=(.*)$/s.exec(a.value)
    if (m) ops.set(m[1]!, { ...a, value: m[2]! })
  }
  const out = ops.get('of')
  if (!out) return
  const info = classifyPath(out.value)
  if (info.kind === 'disk')
    c.emit('disk.dd', 'critical', `Writes raw data over the disk device ${info.path}`, out)
  else if (info.kind === 'pseudo-device') return
  else if (['system', 'system-top', 'root'].includes(info.kind))
    c.emit('disk.dd.system', 'high', `Overwrites the system file ${info.path}`, out)
  else c.emit('disk.dd.file', 'moderate', `Writes ${out.value.replaceAll(DYN, '$VAR')}`, out)
}

/** Tools that write a whole device: mkfs and friends. */
const formatDevice =
  (what: string): Rule =>
  (c) => {
    const ext =
      /^(mke2fs|mkfs\.ext[234])$/.test(c.name) ||
      (c.name === 'mkfs' && /ext[234]/.test(c.args.map((a) => a.value).join(' ')))
    const opts = c.opts({
      shortWithValue: ext ? 'tLbcCgGiIjJmMNoOrsTUEeF' : 'tLLnbcCgGiIjJmMNoOrsTUEeF',
    })
    const devices = opts.operands.filter((o) => !/^\d+$/.test(o.value))
    if (opts.long.has('help') || (opts.short.has('V') && !devices.length)) return
    // mke2fs -n shows what it would do and writes nothing.
    if (ext && opts.short.has('n')) return
    const target = devices[0]
    const info = target ? c.path(target) : null
    if (info && info.kind !== 'disk' && info.kind !== 'dynamic' && info.kind !== 'dynamic-root') {
      c.emit(
        'disk.format.file',
        'moderate',
        `${what} the image file ${info.path}, replacing what it holds`,
        target,
      )
      return
    }
    c.emit(
      'disk.format',
      'critical',
      `${what} ${target ? target.value.replaceAll(DYN, '$VAR') : 'a device'}, destroying everything on it`,
      target ?? c.nameArg,
    )
  }

const wipefs: Rule = (c) => {
  const opts = c.opts({ shortWithValue: 'ot' })
  if (hasFlag(opts, 'ao', 'all', 'offset') && !hasFlag(opts, 'n', 'no-act')) {
    const files = opts.operands.every((o) => c.path(o).kind !== 'disk' && !o.value.includes(DYN))
    c.emit(
      files ? 'disk.wipefs.file' : 'disk.wipefs',
      files ? 'moderate' : 'critical',
      `Erases the file system signatures on ${opts.operands.map((o) => o.value).join(' ')}`,
      opts.operands[0] ?? c.nameArg,
    )
  }
}

/** Partition editors: listing is harmless, anything else rewrites the partition table. */
const partition: Rule = (c) => {
  const opts = c.opts()
  if (hasFlag(opts, 'lsV', 'list', 'help', 'version', 'show-size')) return
  // sgdisk -p / --print, -i, -v, sfdisk -d (dump): read only.
  if (
    (c.name === 'sgdisk' || c.name === 'gdisk') &&
    c.args.every(
      (a) =>
        /^(-[piv]+|--print|--info=?\d*|--verify|-P|--pretend)$/.test(a.value) ||
        !a.value.startsWith('-'),
    )
  )
    return
  if (c.name === 'sfdisk' && hasFlag(opts, 'dJg', 'dump', 'json', 'show-geometry', 'verify')) return
  if (
    c.name === 'parted' &&
    c.args.some((a) => a.value === 'print') &&
    !c.args.some((a) => /^(mklabel|rm|mkpart|resizepart)$/.test(a.value))
  )
    return
  const dev = opts.operands[0]
  const destroys = c.args.some((a) =>
    /^(mklabel|mktable|rm|--delete|-Z|--zap-all|-o|--clear|-z|--wipe)$/.test(a.value),
  )
  c.emit(
    'disk.partition',
    destroys ? 'critical' : 'high',
    `Rewrites the partition table of ${dev?.value ?? 'a disk'}`,
    dev ?? c.nameArg,
  )
}

const simple =
  (ruleId: string, risk: 'moderate' | 'high' | 'critical', message: string): Rule =>
  (c) =>
    c.emit(ruleId, risk, message, c.nameArg, { prod: true })

/** Signal 0 only tests whether a process exists; -l lists signal names. */
function testsOnly(c: CommandView): boolean {
  const a = c.args.map((x) => x.value)
  return (
    a.some(
      (v, i) =>
        v === '-0' ||
        /^-(SIG)?0$/.test(v) ||
        ((v === '-s' || v === '-n' || v === '--signal') && /^(0|SIG0)$/.test(a[i + 1] ?? '')),
    ) || a.some((v) => /^(-l|-L|--list|--table)$/.test(v))
  )
}

/** The process ids come from a listing of every process (`$(ps -e -o pid=)`, `ps ax | xargs`). */
function everyProcess(c: CommandView): boolean {
  const stdin = c.cmd.stdin
  const pipeline = 'pipeline' in stdin ? (stdin.pipeline ?? []) : []
  const all = (words: string[]) =>
    baseName(words[0] ?? '') === 'ps' &&
    words.slice(1).some((w) => /^(-e|-A|-ef|-eo|aux|ax|-ax|-aux|-e[a-z]*|a?x[a-z]*)$/.test(w))
  const filtered = (words: string[]) =>
    /^(grep|egrep|pgrep|head|awk|sed)$/.test(baseName(words[0] ?? '')) &&
    !(baseName(words[0] ?? '') === 'awk' && !/[/~=]/.test(words.slice(1).join(' ')))
  const viaPipe =
    pipeline.some((p) => all(p.words.map((w) => w.value))) &&
    !pipeline.some((p) => filtered(p.words.map((w) => w.value)))
  const viaSubst = c.args.some(
    (a) =>
      a.value.includes(DYN) &&
      /\$\(\s*ps\s+(-e|-A|aux|ax|-ef)\b[^|)]*\)|`\s*ps\s+(-e|-A|aux|ax|-ef)\b[^|`]*`/.test(a.raw),
  )
  return viaPipe || viaSubst
}

const kill: Rule = (c) => {
  const opts = c.opts({ shortWithValue: 'sn' })
  if (testsOnly(c)) return
  if (everyProcess(c)) {
    c.emit(
      'proc.kill.all',
      'critical',
      'Kills every process on the system, taking it down',
      c.nameArg,
    )
    return
  }
  const pids = opts.operands.map((o) => o.value)
  if (pids.some((p) => p === '1' || p === '-1') || c.args.some((a) => a.value === '-1')) {
    c.emit(
      'proc.kill.all',
      'critical',
      'Kills init or every process you can reach, taking the system down',
      c.args.find((a) => a.value === '1' || a.value === '-1') ?? c.nameArg,
    )
    return
  }
  c.emit('proc.kill', 'moderate', `Stops process ${pids.join(' ')}`.trim(), c.nameArg)
}

/**
 * pkill/killall narrowed to a few processes: the newest or oldest only, children of one parent,
 * one terminal or session, or `-f` with a whole command line (`pkill -f "python server.py"`).
 */
function narrowKill(c: CommandView, names: string[]): boolean {
  const narrowing =
    c.name === 'pkill'
      ? /^-[noPtsg]|^--(newest|oldest|parent|terminal|session|pgroup)\b/
      : /^-[oy]|^--(older-than|younger-than)\b/
  if (c.args.some((a) => narrowing.test(a.value))) return true
  const full =
    c.name === 'pkill' && c.args.some((a) => /^(-[a-zA-Z]*f[a-zA-Z]*|--full)$/.test(a.value))
  return full && names.length > 0 && names.every((n) => /[\s/]/.test(n.trim()))
}

const killByName: Rule = (c) => {
  if (testsOnly(c)) return
  const opts = c.opts({ shortWithValue: 'sugtUPGn' })
  const user = opts.values.get('u') ?? opts.values.get('U')
  if (user === 'root' || user === '0') {
    c.emit(
      'proc.kill.all',
      'critical',
      'Kills every process running as root, taking the system down',
      c.nameArg,
    )
    return
  }
  const names = opts.operands.map((o) => o.value)
  const broad =
    names.some((n) => /^(\.|\.\*|init|systemd|sshd|launchd|kernel_task|-?1)$/.test(n)) ||
    (hasFlag(opts, 'u') && names.length === 0)
  if (broad || c.args.some((a) => /^(-u|--user)$/.test(a.value)))
    c.emit(
      'proc.kill.broad',
      'high',
      `Kills processes matching ${names.join(' ') || 'a user'} broadly`,
      c.nameArg,
    )
  else if (narrowKill(c, names))
    c.emit(
      'proc.kill',
      'moderate',
      `Stops ${names.length ? `processes named ${names.join(' ')}` : 'the processes a filter picks'}`,
      c.nameArg,
    )
  else
    c.emit(
      'proc.kill.by-name',
      'high',
      `Kills every process named ${names.join(' ')}, in every session, not one chosen process`,
      c.nameArg,
    )
}

const power =
  (what: string): Rule =>
  (c) => {
    if (c.args.some((a) => /^(-c|--cancel|--help)$/.test(a.value))) return
    c.emit('power.shutdown', 'high', `${what} the machine`, c.nameArg, { prod: true })
  }

const SERVICE_SAFE = new Set([
  'status',
  'show',
  'list-units',
  'list-unit-files',
  'list-timers',
  'is-active',
  'is-enabled',
  'is-failed',
  'cat',
  'help',
  'list-dependencies',
  'list-sockets',
  'get-default',
  'list-jobs',
])
const systemctl: Rule = (c) => {
  const opts = c.opts({
    shortWithValue: 'tpMHno',
    longWithValue: ['type', 'property', 'host', 'machine'],
  })
  const [verb, ...units] = opts.operands
  if (!verb || SERVICE_SAFE.has(verb.value)) return
  const v = verb.value
  if (
    /^(poweroff|reboot|halt|kexec|rescue|emergency|suspend|hibernate|hybrid-sleep|isolate|default)$/.test(
      v,
    )
  ) {
    c.emit('power.systemctl', 'high', `Switches the machine state (${v})`, verb, { prod: true })
    return
  }
  const critical = units.some((u) =>
    /^(sshd?|systemd-.*|dbus|networking|network-manager|NetworkManager|firewalld|ufw|iptables|nftables|apparmor|auditd|fail2ban|crowdstrike.*|falcon-sensor)(\.service)?$/.test(
      u.value,
    ),
  )
  const risk = /^(stop|disable|mask|kill)$/.test(v) && critical ? 'high' : 'moderate'
  c.emit(
    'svc.systemctl',
    risk,
    `${v[0]!.toUpperCase() + v.slice(1)}s the service ${units.map((u) => u.value).join(' ')}`.trim(),
    verb,
    { prod: true },
  )
}

const service: Rule = (c) => {
  const [unit, verb] = c.opts().operands
  if (!verb || /^(status)$/.test(verb.value)) return
  c.emit('svc.service', 'moderate', `${verb.value} the service ${unit?.value ?? ''}`, verb, {
    prod: true,
  })
}

/** The commands of a cron table (user tables have 5 time fields, system ones a user too). */
export function cronCommands(table: string, system: boolean): string[] {
  const out: string[] = []
  for (const raw of table.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || /^[A-Za-z_]\w*\s*=/.test(line)) continue
    const m = system
      ? /^(@\w+|(\S+\s+){5})\s*\S+\s+(.+)$/.exec(line)
      : /^(@\w+|(\S+\s+){5})\s*(.+)$/.exec(line)
    const cmd = m?.[3]
    if (cmd) out.push(cmd)
  }
  return out
}

/** Rates the jobs a cron table installs; returns whether the table's text was known. */
export function rateCronTable(c: CommandView, table: string, system: boolean, at: Span): void {
  for (const job of cronCommands(table, system))
    c.engine.runInnerScript(
      job,
      'bash',
      [{ value: job, raw: '', span: at, quoted: true }],
      c.ctx,
      'cron job',
      { cwd: '~' },
    )
}

const crontab: Rule = (c) => {
  const opts = c.opts({ shortWithValue: 'u' })
  const stdin = c.cmd.stdin
  if (
    opts.operands[0]?.value === '-' ||
    (!opts.operands.length && stdin.kind !== 'none' && !hasFlag(opts, 'lre'))
  ) {
    const known =
      stdin.kind === 'literal' ? stdin.text : stdin.kind !== 'none' ? stdin.known?.text : undefined
    const span = stdin.kind === 'none' ? c.cmd.span : stdin.span
    const keepsTable =
      'pipeline' in stdin && (stdin.pipeline ?? []).some((p) => p.words[0]?.value === 'crontab')
    if (known === undefined && keepsTable) {
      c.emit('cron.edit', 'moderate', 'Rewrites the cron table from its current jobs', c.nameArg)
      return
    }
    if (known !== undefined) {
      // `(crontab -l; echo '…') | crontab -` adds jobs to the table it keeps.
      const keeps =
        'pipeline' in stdin && (stdin.pipeline ?? []).some((p) => p.words[0]?.value === 'crontab')
      c.emit(
        keeps ? 'cron.add' : 'cron.replace',
        keeps ? 'moderate' : 'high',
        keeps ? 'Adds jobs to the cron table' : 'Replaces the whole cron table',
        c.nameArg,
      )
      rateCronTable(c, known, false, span)
      return
    }
  }
  if (opts.short.has('r'))
    c.emit(
      'cron.remove',
      'high',
      'Deletes every cron job of the user, with no undo',
      c.args.find((a) => /r/.test(a.value)) ?? c.nameArg,
    )
  else if (opts.short.has('e')) c.emit('cron.edit', 'moderate', 'Edits the cron table', c.nameArg)
  else if (opts.short.has('l')) return
  else if (opts.operands.length)
    c.emit(
      'cron.replace',
      'high',
      `Replaces the whole cron table with ${opts.operands[0]!.value}`,
      opts.operands[0],
    )
}

const userdel: Rule = (c) => {
  const opts = c.opts({ shortWithValue: 'R' })
  const user = opts.operands[0]
  if (user?.value === 'root')
    c.emit('user.delete.root', 'critical', 'Deletes the root account', user)
  else
    c.emit(
      'user.delete',
      'high',
      `Deletes the account ${user?.value ?? ''}${hasFlag(opts, 'r', 'remove') ? ' and its home directory' : ''}`,
      user ?? c.nameArg,
    )
}

const usermod: Rule = (c) => {
  const opts = c.opts({
    shortWithValue: 'cdegGlLpsuU',
    longWithValue: ['groups', 'gid', 'shell', 'password', 'home'],
  })
  const groups = `${opts.values.get('G') ?? ''},${opts.values.get('g') ?? ''}`
  if (/(^|,)(sudo|wheel|admin|root|docker)(,|$)/.test(groups))
    c.emit(
      'user.privilege',
      'high',
      `Gives ${opts.operands[0]?.value ?? 'a user'} administrator rights`,
      c.nameArg,
    )
  else if (opts.short.has('L') || opts.values.has('e') || opts.values.has('p'))
    c.emit(
      'user.lock',
      'high',
      `Locks or changes the password of ${opts.operands[0]?.value ?? 'a user'}`,
      c.nameArg,
    )
  else
    c.emit(
      'user.modify',
      'moderate',
      `Changes the account ${opts.operands[0]?.value ?? ''}`,
      c.nameArg,
    )
}

const passwd: Rule = (c) => {
  const opts = c.opts()
  if (hasFlag(opts, 'S', 'status')) return
  if (hasFlag(opts, 'dle', 'delete', 'lock', 'expire'))
    c.emit(
      'user.password.remove',
      'high',
      'Removes, locks or expires an account password',
      c.nameArg,
    )
  else
    c.emit(
      'user.password',
      'moderate',
      `Changes the password of ${opts.operands[0]?.value ?? 'the current user'}`,
      c.nameArg,
    )
}

const iptables: Rule = (c) => {
  const opts = c.opts({
    shortWithValue: 'ADIRNXPEtjpsdiocmw',
    longWithValue: ['table', 'jump', 'policy'],
  })
  if (hasFlag(opts, 'LS', 'list', 'list-rules') && !hasFlag(opts, 'FXDPAI')) return
  if (hasFlag(opts, 'F', 'flush') || hasFlag(opts, 'X', 'delete-chain'))
    c.emit(
      'net.firewall.flush',
      'high',
      'Flushes the firewall rules, leaving the machine unprotected',
      c.nameArg,
      { prod: true },
    )
  else if (opts.values.has('P') || opts.long.has('policy')) {
    const policy = c.args.map((a) => a.value).join(' ')
    c.emit(
      'net.firewall.policy',
      /DROP|REJECT/.test(policy) ? 'high' : 'high',
      'Changes the default firewall policy (can lock you out or open everything)',
      c.nameArg,
      { prod: true },
    )
  } else
    c.emit('net.firewall.rule', 'moderate', 'Changes a firewall rule', c.nameArg, { prod: true })
}

const ufw: Rule = (c) => {
  const verb = c.opts().operands[0]?.value
  if (!verb || /^(status|app|show|version)$/.test(verb)) return
  if (/^(disable|reset)$/.test(verb))
    c.emit('net.firewall.disable', 'high', `Turns the firewall off (${verb})`, c.nameArg, {
      prod: true,
    })
  else if (
    verb === 'default' &&
    c.args.some((a) => a.value === 'allow') &&
    !c.args.some((a) => a.value === 'outgoing')
  )
    c.emit(
      'net.firewall.open',
      'high',
      'Lets every incoming connection through the firewall',
      c.nameArg,
      {
        prod: true,
      },
    )
  else c.emit('net.firewall.rule', 'moderate', `Changes the firewall (${verb})`, c.nameArg)
}

const nft: Rule = (c) => {
  const text = c.args.map((a) => a.value).join(' ')
  if (/^(list|-a list|--list)/.test(text) || /^-[ac]*\s*list/.test(text)) return
  if (/flush|delete/.test(text))
    c.emit('net.firewall.flush', 'high', 'Flushes or deletes firewall rules', c.nameArg, {
      prod: true,
    })
  else if (text) c.emit('net.firewall.rule', 'moderate', 'Changes the firewall rules', c.nameArg)
}

const ip: Rule = (c) => {
  const words = c.args.map((a) => a.value)
  if (
    /\b(down|del|delete|flush)\b/.test(words.join(' ')) &&
    /^(link|route|addr|address|r|a|l)$/.test(words[0] ?? '')
  ) {
    c.emit(
      'net.interface.down',
      'high',
      'Takes a network interface or route down (can cut off remote access)',
      c.nameArg,
      { prod: true },
    )
  } else if (/\b(add|set|change|replace)\b/.test(words.join(' ')))
    c.emit('net.interface', 'moderate', 'Changes the network configuration', c.nameArg)
}

const ifconfig: Rule = (c) => {
  if (c.args.some((a) => a.value === 'down'))
    c.emit(
      'net.interface.down',
      'high',
      'Takes a network interface down (can cut off remote access)',
      c.nameArg,
      { prod: true },
    )
  else if (c.args.length > 1)
    c.emit('net.interface', 'moderate', 'Changes a network interface', c.nameArg)
}

const mount: Rule = (c) => {
  if (c.args.length === 0 || c.args.every((a) => /^-(l|t)$/.test(a.value))) return
  c.emit(
    'disk.mount',
    'moderate',
    `${c.name === 'umount' ? 'Unmounts' : 'Mounts'} a file system`,
    c.nameArg,
  )
}

const volume =
  (what: string): Rule =>
  (c) => {
    if (c.args.some((a) => /^(-t|--test)$/.test(a.value))) return
    const opts = c.opts({ shortWithValue: 'S', longWithValue: ['select', 'config'] })
    if (opts.operands.length === 0 && !opts.short.has('a')) return
    c.emit(
      'disk.volume.destroy',
      'critical',
      `${what} ${opts.operands.map((o) => o.value).join(' ') || 'all volumes'}, destroying its data`,
      opts.operands[0] ?? c.nameArg,
    )
  }

export const systemRules: Record<string, Rule> = {
  dd,
  mkfs: formatDevice('Formats'),
  mke2fs: formatDevice('Formats'),
  mkswap: formatDevice('Turns into swap'),
  'cryptsetup-luksformat': formatDevice('Encrypts over'),
  mkntfs: formatDevice('Formats'),
  newfs: formatDevice('Formats'),
  blkdiscard: formatDevice('Discards every block of'),
  wipefs,
  fdisk: partition,
  sfdisk: partition,
  gdisk: partition,
  sgdisk: partition,
  parted: partition,
  cfdisk: partition,
  kill,
  pkill: killByName,
  killall: killByName,
  shutdown: power('Shuts down or restarts'),
  reboot: power('Restarts'),
  poweroff: power('Powers off'),
  halt: power('Halts'),
  init: (c) => {
    if (/^[06S1s]$/.test(c.args[0]?.value ?? '')) power('Changes the run level of')(c)
  },
  telinit: power('Changes the run level of'),
  systemctl,
  service,
  launchctl: (c) => {
    const verb = c.opts().operands[0]?.value ?? ''
    if (/^(unload|bootout|remove|disable|stop|kill)$/.test(verb))
      c.emit('svc.launchctl', 'moderate', `${verb} a launchd service`, c.nameArg)
  },
  crontab,
  userdel,
  deluser: userdel,
  groupdel: simple('user.group.delete', 'high', 'Deletes a group'),
  useradd: simple('user.add', 'moderate', 'Creates a user account'),
  adduser: simple('user.add', 'moderate', 'Creates a user account'),
  groupadd: simple('user.group.add', 'moderate', 'Creates a group'),
  usermod,
  passwd,
  chpasswd: simple('user.password', 'high', 'Changes passwords in bulk'),
  visudo: simple('priv.sudoers', 'high', 'Edits who may run commands as root'),
  iptables,
  ip6tables: iptables,
  ufw,
  nft,
  'firewall-cmd': (c) => {
    if (c.args.some((a) => /--(panic-on|remove|delete)/.test(a.value)))
      c.emit('net.firewall.rule', 'high', 'Removes firewall configuration', c.nameArg)
    else if (c.args.some((a) => /--(add|set|reload|permanent)/.test(a.value)))
      c.emit('net.firewall.rule', 'moderate', 'Changes the firewall configuration', c.nameArg)
  },
  ip,
  ifconfig,
  ifdown: simple(
    'net.interface.down',
    'high',
    'Takes a network interface down (can cut off remote access)',
  ),
  mount,
  umount: mount,
  swapoff: simple('disk.swapoff', 'moderate', 'Turns off swap space'),
  lvremove: volume('Removes the logical volume'),
  vgremove: volume('Removes the volume group'),
  pvremove: volume('Removes the physical volume'),
  zpool: (c) => {
    const verb = c.args[0]?.value
    if (verb === 'destroy')
      volume('Destroys the ZFS pool')({ ...c, args: c.args.slice(1), opts: () => c.opts() })
    else if (verb && /^(create|add|remove|offline|detach|labelclear)$/.test(verb))
      c.emit('disk.zpool', 'high', `Changes the ZFS pool layout (${verb})`, c.nameArg)
  },
  zfs: (c) => {
    const verb = c.args[0]?.value
    const rest = c.args.slice(1)
    if (verb === 'destroy') {
      if (rest.some((a) => /^-[a-zA-Z]*n/.test(a.value))) return
      const target = rest.find((a) => !a.value.startsWith('-'))
      const recursive = rest.some((a) => /^-[a-zA-Z]*[rR]/.test(a.value))
      const snapshot = target?.value.includes('@')
      if (recursive && !snapshot)
        c.emit(
          'disk.zfs.destroy',
          'critical',
          `Destroys the dataset ${target?.value ?? ''} with every child and snapshot`,
          target ?? c.nameArg,
        )
      else
        c.emit(
          'disk.zfs.destroy',
          'high',
          `Destroys the ZFS ${snapshot ? 'snapshot' : 'dataset'} ${target?.value ?? ''}`,
          target ?? c.nameArg,
        )
    } else if (verb && /^(rollback|rename|set|create)$/.test(verb))
      c.emit('disk.zfs', 'moderate', `Changes a ZFS dataset (${verb})`, c.nameArg)
  },
  cryptsetup: (c) => {
    if (c.args.some((a) => /^(luksFormat|erase|luksErase)$/.test(a.value)))
      c.emit(
        'disk.format',
        'critical',
        'Formats a device for encryption, destroying its data',
        c.nameArg,
      )
    else if (c.args.some((a) => /^(open|close|luksOpen|luksClose)$/.test(a.value)))
      c.emit('disk.crypt', 'moderate', 'Opens or closes an encrypted device', c.nameArg)
  },
  diskutil: (c) => {
    const verb = c.args[0]?.value ?? ''
    if (
      /^(eraseDisk|eraseVolume|reformat|zeroDisk|randomDisk|secureErase|partitionDisk|deleteVolume|apfs)$/.test(
        verb,
      )
    ) {
      const destroys = verb !== 'apfs' || c.args.some((a) => /delete/i.test(a.value))
      if (destroys)
        c.emit('disk.format', 'critical', `Erases a disk or volume (diskutil ${verb})`, c.nameArg)
    } else if (/^(unmount|unmountDisk|mount|eject)$/.test(verb))
      c.emit('disk.mount', 'moderate', `diskutil ${verb}`, c.nameArg)
  },
  hdparm: (c) => {
    if (
      c.args.some((a) =>
        /security-erase|--trim-sector|--write-sector|--make-bad-sector|--dco-restore/.test(a.value),
      )
    )
      c.emit('disk.erase', 'critical', 'Erases or damages a disk at the firmware level', c.nameArg)
  },
  nvme: (c) => {
    if (c.args.some((a) => /^(format|sanitize|delete-ns)$/.test(a.value)))
      c.emit('disk.format', 'critical', 'Formats or sanitises an NVMe disk', c.nameArg)
  },
  sysctl: (c) => {
    if (c.args.some((a) => a.value.includes('=') || a.value === '-w' || a.value === '-p'))
      c.emit('sys.sysctl', 'moderate', 'Changes kernel parameters', c.nameArg)
  },
  modprobe: (c) => {
    if (c.args.some((a) => a.value === '-r'))
      c.emit('sys.kernel-module', 'moderate', 'Unloads a kernel module', c.nameArg)
    else c.emit('sys.kernel-module', 'moderate', 'Loads a kernel module', c.nameArg)
  },
  rmmod: simple('sys.kernel-module', 'moderate', 'Unloads a kernel module'),
  insmod: simple('sys.kernel-module', 'moderate', 'Loads a kernel module'),
  setenforce: (c) => {
    if (/^(0|permissive)$/i.test(c.args[0]?.value ?? ''))
      c.emit('sec.selinux.off', 'high', 'Turns SELinux enforcement off', c.nameArg)
  },
  csrutil: (c) => {
    if (c.args[0]?.value === 'disable')
      c.emit('sec.sip.off', 'high', 'Turns off macOS System Integrity Protection', c.nameArg)
  },
  spctl: (c) => {
    if (c.args.some((a) => /--master-disable|--global-disable/.test(a.value)))
      c.emit('sec.gatekeeper.off', 'high', 'Turns off macOS Gatekeeper', c.nameArg)
  },
  make: (c) => {
    if (
      c.args.some((a) =>
        /^(-n|--dry-run|--just-print|--recon|-q|--question|-p|--print-data-base)$/.test(a.value),
      )
    )
      return
    const opts = c.opts({
      shortWithValue: 'CfIjlWo',
      longWithValue: ['directory', 'file', 'makefile', 'jobs'],
    })
    const target = opts.operands.find(
      (o) =>
        !o.value.includes('=') &&
        /^(install|uninstall|clean|distclean|mrproper|realclean|purge|deploy|release|publish)$/.test(
          o.value,
        ),
    )
    if (target)
      c.emit(
        'exec.make',
        'moderate',
        `Runs the Makefile's ${target.value} target (its commands are not checked)`,
        target,
        { prod: true },
      )
  },
  killall5: (c) => {
    if (testsOnly(c)) return
    c.emit('proc.kill.all', 'critical', 'Sends a signal to every process on the system', c.nameArg)
  },
  tmutil: (c) => {
    const verb = c.args[0]?.value ?? ''
    if (/^(delete|deletelocalsnapshots|thinlocalsnapshots|deleteinprogress)$/.test(verb))
      c.emit('backup.delete', 'high', `Deletes Time Machine backups (tmutil ${verb})`, c.nameArg)
    else if (/^(disable|removedestination|disablelocal)$/.test(verb))
      c.emit(
        'backup.disable',
        'moderate',
        `Turns off Time Machine backups (tmutil ${verb})`,
        c.nameArg,
      )
  },
  wbadmin: (c) => {
    const text = c.args.map((a) => a.value.toLowerCase()).join(' ')
    if (/^delete (catalog|systemstatebackup|backup)/.test(text))
      c.emit(
        'backup.delete-all',
        'critical',
        'Deletes the Windows backup catalog or backups (no restore possible)',
        c.nameArg,
      )
  },
  wmic: (c) => {
    const text = c.args.map((a) => a.value.toLowerCase()).join(' ')
    if (/shadowcopy\s+delete/.test(text))
      c.emit(
        'disk.shadow-delete',
        'critical',
        'Deletes volume shadow copies (the system restore points)',
        c.nameArg,
      )
    else if (/\b(delete|call\s+terminate|uninstall)\b/.test(text))
      c.emit('sys.wmic', 'high', 'Deletes or stops system objects through WMI', c.nameArg)
  },
  btrfs: (c) => {
    const w = c.args.map((a) => a.value)
    if (/^(subvolume|sub|su)$/.test(w[0] ?? '') && /^(delete|del|d)$/.test(w[1] ?? ''))
      c.emit('backup.delete', 'high', 'Deletes a btrfs subvolume or snapshot', c.nameArg)
  },
  restic: (c) => {
    const w = c.args.map((a) => a.value)
    if (w.includes('--dry-run') || w.includes('-n')) return
    if (w.some((v) => /^(forget|prune)$/.test(v)))
      c.emit('backup.delete', 'high', 'Deletes backup snapshots (restic forget/prune)', c.nameArg)
  },
  borg: (c) => {
    const w = c.args.map((a) => a.value)
    if (w.includes('--dry-run') || w.includes('-n')) return
    const verb = w.find((v) => !v.startsWith('-'))
    if (verb === 'delete') {
      const target = w[w.indexOf('delete') + 1] ?? ''
      const whole = target !== '' && !target.includes('::')
      c.emit(
        'backup.delete',
        whole ? 'critical' : 'high',
        whole ? `Deletes the whole backup repository ${target}` : 'Deletes a backup archive',
        c.nameArg,
      )
    } else if (verb === 'prune')
      c.emit('backup.delete', 'high', 'Deletes old backup archives (borg prune)', c.nameArg)
  },
  history: (c) => {
    if (c.args.some((a) => a.value === '-c'))
      c.emit('shell.history.clear', 'moderate', 'Clears the shell history', c.nameArg)
  },
}
