import { accessSync, constants, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import type { Settings, SettingsPatch } from '../../contract'
import { SHORTCUT_LABELS, shortcutProblem, type ShortcutAction } from '../../contract/shortcuts'
import { resolveShell } from '../terminal/shells'

/** One refused value of a patch: the dotted field and why, in words for the person who typed it. */
export interface SettingsProblem {
  field: string
  message: string
}

export interface CheckResult {
  /** The patch to store: the same, with `~` in a start directory expanded. */
  patch: SettingsPatch
  problems: SettingsProblem[]
}

/**
 * What the schema cannot see: whether the shell and the start directory exist on this machine, and
 * whether a shortcut would take a key the terminal needs or one another action already has. Only
 * the values in `patch` are checked, so a setting saved before these checks cannot block others.
 */
export function checkSettingsPatch(
  patch: SettingsPatch,
  current: Settings,
  env: NodeJS.ProcessEnv,
): CheckResult {
  const problems: SettingsProblem[] = []
  const next: SettingsPatch = { ...patch }
  const terminal = patch.terminal
  if (terminal?.shell !== undefined && terminal.shell.trim() !== '') {
    const message = shellProblem(terminal.shell.trim(), env)
    if (message) problems.push({ field: 'terminal.shell', message })
  }
  if (terminal?.startDirectory !== undefined && terminal.startDirectory.trim() !== '') {
    const dir = expandHome(terminal.startDirectory.trim(), env)
    const message = directoryProblem(dir)
    if (message) problems.push({ field: 'terminal.startDirectory', message })
    else next.terminal = { ...terminal, startDirectory: dir }
  }
  if (patch.shortcuts) {
    const merged = { ...current.shortcuts, ...patch.shortcuts }
    for (const action of Object.keys(patch.shortcuts) as ShortcutAction[]) {
      const value = merged[action]
      if (!(action in SHORTCUT_LABELS) || !value) continue
      const message = shortcutProblem(action, value, merged)
      if (message) problems.push({ field: `shortcuts.${action}`, message })
    }
  }
  return { patch: next, problems }
}

function hasControl(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(text)
}

function shellProblem(shell: string, env: NodeJS.ProcessEnv): string | null {
  if (hasControl(shell)) return 'A shell path cannot contain control characters'
  if (!isAbsolute(shell) && shell.includes('/'))
    return `Give the shell as an absolute path (/bin/zsh) or a name on PATH (zsh), not “${shell}”`
  if (resolveShell(shell, env)) return null
  if (!isAbsolute(shell)) return `There is no program named “${shell}” on this machine's PATH`
  try {
    const info = statSync(shell)
    if (info.isDirectory()) return `${shell} is a folder, not a shell`
    return `${shell} is not an executable program`
  } catch {
    return `There is no shell at ${shell}`
  }
}

function directoryProblem(dir: string): string | null {
  if (hasControl(dir)) return 'A folder path cannot contain control characters'
  if (!isAbsolute(dir)) return `Give the folder as an absolute path (/home/me/code or ~/code)`
  let isDirectory: boolean
  try {
    isDirectory = statSync(dir).isDirectory()
  } catch {
    return `There is no folder ${dir}`
  }
  if (!isDirectory) return `${dir} is a file, not a folder`
  try {
    accessSync(dir, constants.X_OK)
  } catch {
    return `cmdai may not open the folder ${dir} (permission denied)`
  }
  return null
}

/** `~` and `~/…` are the home directory, as in a shell. */
function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  if (path !== '~' && !path.startsWith('~/')) return path
  return join(env.HOME || homedir(), path.slice(1))
}
