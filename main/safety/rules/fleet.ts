import { wrapper, type CommandView, type Rule } from '../rule'
import { parseOptions } from '../options'
import type { Arg } from '../types'
import { DYN } from '../types'
import { rateDelete } from './files'
import { scriptFile } from './interpreters'

/**
 * Configuration management run ad hoc on many hosts: ansible and salt. The module or function
 * decides what runs; shell modules run their argument as a script on every host matched.
 */

/** `key=value key2="v w"` module arguments. */
function moduleArgs(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of text.matchAll(/([A-Za-z_]\w*)=("([^"]*)"|'([^']*)'|(\S*))/g))
    out.set(m[1]!, m[3] ?? m[4] ?? m[5] ?? '')
  return out
}

/** Runs words as if typed on the hosts (package managers, systemctl, userdel for modules). */
function runAs(c: CommandView, words: string[], at: Arg, via: string, remote: string): void {
  c.engine.runWords(
    words.map((value) => ({ ...at, value, raw: value })),
    c.cmd,
    c.ctx,
    via,
    { remote, cwd: '~' },
  )
}

const PACKAGE_MODULES =
  /^(ansible\.builtin\.)?(apt|yum|dnf|package|apk|pacman|zypper|homebrew|pip|snap)$/

const ansible: Rule = wrapper((c) => {
  const opts = parseOptions(c.args, {
    shortWithValue: 'imaeuMfBPtTkKclo',
    longWithValue: [
      'inventory',
      'module-name',
      'args',
      'extra-vars',
      'user',
      'forks',
      'limit',
      'become-user',
      'become-method',
      'connection',
      'timeout',
      'private-key',
    ],
  })
  c.engine.record(c)
  if (opts.short.has('C') || opts.long.has('check') || opts.long.has('list-hosts')) return
  const pattern = (opts.operands[0]?.value ?? 'hosts').replaceAll(DYN, '$HOSTS')
  const module = (opts.values.get('m') ?? opts.long.get('module-name') ?? 'command') as string
  const argText = (opts.values.get('a') ?? opts.long.get('args') ?? '') as string
  const at =
    c.args.find(
      (a, i) => /^(-a|--args)$/.test(c.args[i - 1]?.value ?? '') && a.value === argText,
    ) ?? c.nameArg
  const remote = `${pattern} (ansible)`
  const mod = module.replace(/^ansible\.(builtin|legacy)\./, '')
  const kv = moduleArgs(argText)
  if (/^(shell|command|raw|win_shell|win_command)$/.test(mod)) {
    // `command` takes `chdir=DIR creates=…` before the command itself.
    const script = argText.replace(
      /^(\s*(chdir|creates|removes|executable|warn|stdin)=\S+)+\s*/,
      '',
    )
    const chdir = kv.get('chdir')
    if (script.trim())
      c.engine.runInnerScript(script, 'bash', [at], c.ctx, `ansible -m ${mod}`, {
        remote,
        cwd: chdir ?? '~',
      })
    return
  }
  if (mod === 'script') {
    const file = argText.split(/\s+/)[0]
    if (file) scriptFile(c, { ...at, value: file })
    return
  }
  if (mod === 'file' && kv.get('state') === 'absent') {
    const path = kv.get('path') ?? kv.get('dest') ?? kv.get('name') ?? DYN
    rateDelete(
      c,
      { ...at, value: path, quoted: true },
      { recursive: true, verb: `Deletes on ${pattern}:`, ruleBase: 'fs.rm' },
    )
    return
  }
  if (PACKAGE_MODULES.test(mod)) {
    const names = (kv.get('name') ?? kv.get('pkg') ?? '').split(',').filter(Boolean)
    const absent = /^(absent|removed)$/.test(kv.get('state') ?? '')
    runAs(c, ['apt-get', absent ? 'remove' : 'install', ...names], at, `ansible -m ${mod}`, remote)
    return
  }
  if (mod === 'user' && kv.get('state') === 'absent') {
    runAs(c, ['userdel', kv.get('name') ?? ''], at, 'ansible -m user', remote)
    return
  }
  if (/^(service|systemd|systemd_service)$/.test(mod)) {
    const verbs = new Map([
      ['stopped', 'stop'],
      ['restarted', 'restart'],
      ['started', 'start'],
      ['reloaded', 'reload'],
    ])
    const verb = verbs.get(kv.get('state') ?? '')
    if (verb) runAs(c, ['systemctl', verb, kv.get('name') ?? ''], at, 'ansible -m service', remote)
    return
  }
  if (/^(reboot|win_reboot)$/.test(mod)) {
    c.emit('power.shutdown', 'high', `Restarts every host matched by ${pattern}`, at)
    return
  }
  if (
    /^(ping|setup|debug|gather_facts|stat|slurp|fetch|find|command_info|\w+_info|\w+_facts)$/.test(
      mod,
    )
  )
    return
  c.emit('fleet.change', 'moderate', `Runs the ${mod} module on ${pattern}`, at, { prod: true })
})

const ansiblePlaybook: Rule = (c) => {
  const dry = c.args.some((a) =>
    /^(-C|--check|--syntax-check|--list-tasks|--list-hosts|--list-tags)$/.test(a.value),
  )
  if (dry) return
  const book = c.opts({
    shortWithValue: 'iellutfMk',
    longWithValue: ['inventory', 'limit', 'extra-vars', 'tags', 'user'],
  }).operands[0]
  c.emit(
    'fleet.playbook',
    'moderate',
    `Runs the playbook ${book?.value ?? ''} on its hosts (its tasks are not checked)`.replace(
      '  ',
      ' ',
    ),
    book ?? c.nameArg,
    { prod: true },
  )
}

const salt: Rule = wrapper((c) => {
  c.engine.record(c)
  const opts = parseOptions(c.args, {
    shortWithValue: 'tcLGEN',
    longWithValue: ['timeout', 'config-dir', 'batch-size', 'out'],
  })
  const [target, fn, ...rest] = opts.operands
  if (!fn) return
  const remote = `${(target?.value ?? 'minions').replaceAll(DYN, '$HOSTS')} (salt)`
  const f = fn.value
  if (rest.some((a) => /^test=True$/i.test(a.value))) return
  if (/^cmd\.(run|shell|run_all|run_stdout|exec_code|script)$/.test(f)) {
    const script = rest.filter((a) => !/^\w+=/.test(a.value))
    if (f === 'cmd.script' && script[0]) return scriptFile(c, script[0])
    if (script.length)
      c.engine.runInnerScript(
        script.map((a) => a.value).join(' '),
        'bash',
        script,
        c.ctx,
        `salt ${f}`,
        {
          remote,
          cwd: '/',
        },
      )
    return
  }
  if (/^(file\.remove|file\.rmdir)$/.test(f) && rest[0])
    return rateDelete(c, rest[0], {
      recursive: true,
      verb: `Deletes on ${remote}:`,
      ruleBase: 'fs.rm',
    })
  if (/^pkg\.(remove|purge)$/.test(f))
    return runAs(c, ['apt-get', 'remove', ...rest.map((a) => a.value)], fn, `salt ${f}`, remote)
  if (/^system\.(reboot|poweroff|halt|shutdown)$/.test(f))
    return c.emit('power.shutdown', 'high', `Restarts or powers off ${remote}`, fn)
  if (
    /^(test\.|grains\.(items|get|item)|pillar\.(items|get)|\w+\.(list|get|info|status)\w*$)/.test(f)
  )
    return
  c.emit('fleet.change', 'moderate', `Runs ${f} on ${remote}`, fn, { prod: true })
})

export const fleetRules: Record<string, Rule> = {
  ansible,
  'ansible-playbook': ansiblePlaybook,
  salt,
  'salt-ssh': salt,
}
