import {
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { CmdaiError } from '../../contract/errors'

/**
 * `cmdai hook install|uninstall claude-code`: adds cmdai's PreToolUse hook for the Bash tool to a
 * Claude Code settings file, or removes it, keeping every other setting and hook as it was. The
 * file is backed up before it changes and replaced atomically; a file that is not a JSON object
 * (or whose `hooks` are not what Claude Code expects) is refused and left untouched.
 */

export type SettingsScope = { kind: 'user' } | { kind: 'project'; dir: string; local?: boolean }

export interface HookChange {
  file: string
  /** The copy of the file as it was, when it existed. */
  backup: string | null
  /** False when there was nothing to do (already installed the same way, or not installed). */
  changed: boolean
  command: string
}

/** Claude Code's settings file for a scope (CLAUDE_CONFIG_DIR moves the user's). */
export function settingsFile(scope: SettingsScope, env: NodeJS.ProcessEnv = process.env): string {
  if (scope.kind === 'user') {
    const dir = env.CLAUDE_CONFIG_DIR ? resolve(env.CLAUDE_CONFIG_DIR) : join(homedir(), '.claude')
    return join(dir, 'settings.json')
  }
  return join(resolve(scope.dir), '.claude', scope.local ? 'settings.local.json' : 'settings.json')
}

/** The shell command Claude Code runs: this node and this cmdai, whatever PATH says. */
export function hookCommand(cmdaiBin: string, env: NodeJS.ProcessEnv = process.env): string {
  const dataDir = env.CMDAI_DATA_DIR
    ? `CMDAI_DATA_DIR=${shellQuote(resolve(env.CMDAI_DATA_DIR))} `
    : ''
  return `${dataDir}${shellQuote(process.execPath)} ${shellQuote(cmdaiBin)} hook claude-code`
}

const OURS = /\bhook claude-code\b/

interface HookEntry {
  type?: unknown
  command?: unknown
  [key: string]: unknown
}
interface MatcherGroup {
  matcher?: unknown
  hooks?: unknown
  [key: string]: unknown
}

export function installClaudeHook(file: string, command: string): HookChange {
  return edit(file, command, (groups) => {
    const kept = withoutOurs(groups)
    kept.push({ matcher: 'Bash', hooks: [{ type: 'command', command, timeout: 10 }] })
    return kept
  })
}

export function uninstallClaudeHook(file: string): HookChange {
  return edit(file, '', (groups) => withoutOurs(groups))
}

function edit(
  requested: string,
  command: string,
  change: (groups: MatcherGroup[]) => MatcherGroup[],
): HookChange {
  // A settings file that is a link (dotfiles) is edited where it points.
  const file = existsSync(requested) ? realpathSync(requested) : requested
  const exists = existsSync(file)
  const text = exists ? readFileSync(file, 'utf8') : ''
  let settings: Record<string, unknown> = {}
  if (exists && text.trim()) {
    try {
      const parsed: unknown = JSON.parse(text)
      if (!isObject(parsed)) throw new Error('not a JSON object')
      settings = parsed
    } catch (err) {
      throw new CmdaiError(
        'invalid_input',
        `${file} is not a JSON object (${(err as Error).message}); fix it first, nothing was changed`,
      )
    }
  }
  const hooks = settings.hooks ?? {}
  if (!isObject(hooks)) throw shapeError(file, '"hooks" is not an object')
  const pre = hooks.PreToolUse ?? []
  if (!Array.isArray(pre) || !pre.every(isObject)) {
    throw shapeError(file, '"hooks.PreToolUse" is not a list of matcher groups')
  }
  const before = JSON.stringify(pre)
  const next = change(pre as MatcherGroup[])
  if (JSON.stringify(next) === before) return { file, backup: null, changed: false, command }
  const nextHooks: Record<string, unknown> = { ...hooks, PreToolUse: next }
  if (next.length === 0) delete nextHooks.PreToolUse
  const nextSettings: Record<string, unknown> = { ...settings, hooks: nextHooks }
  if (Object.keys(nextHooks).length === 0) delete nextSettings.hooks
  const backup = exists ? backUp(file) : null
  writeAtomically(
    file,
    `${JSON.stringify(nextSettings, null, 2)}\n`,
    exists ? statSync(file).mode : 0o600,
  )
  return { file, backup, changed: true, command }
}

/** Every matcher group without cmdai's hooks; groups left empty by that are dropped. */
function withoutOurs(groups: MatcherGroup[]): MatcherGroup[] {
  const out: MatcherGroup[] = []
  for (const group of groups) {
    if (!Array.isArray(group.hooks)) {
      out.push(group)
      continue
    }
    const hooks = (group.hooks as HookEntry[]).filter(
      (h) =>
        !(
          isObject(h) &&
          typeof h.command === 'string' &&
          OURS.test(h.command) &&
          /cmdai/.test(h.command)
        ),
    )
    if (hooks.length === group.hooks.length) out.push(group)
    else if (hooks.length) out.push({ ...group, hooks })
  }
  return out
}

function backUp(file: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  for (let n = 0; ; n++) {
    const backup = `${file}.cmdai-backup-${stamp}${n ? `-${n}` : ''}`
    if (existsSync(backup)) continue
    copyFileSync(file, backup, constants.COPYFILE_EXCL)
    return backup
  }
}

function writeAtomically(file: string, text: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.cmdai-tmp-${process.pid}`
  const fd = openSync(tmp, 'wx', mode & 0o777)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
}

function shapeError(file: string, why: string): CmdaiError {
  return new CmdaiError('invalid_input', `${file}: ${why}; fix it first, nothing was changed`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Single-quotes a word for sh/bash (Claude Code runs hook commands through a shell). */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=-]+$/.test(word)) return word
  return `'${word.replace(/'/g, `'\\''`)}'`
}
