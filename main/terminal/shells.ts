import { accessSync, constants, statSync } from 'node:fs'
import { userInfo } from 'node:os'
import { basename, delimiter, isAbsolute, join } from 'node:path'

export type IntegratedShell = 'bash' | 'zsh' | 'fish'

/** The user's login shell: $SHELL, then the passwd entry, then bash, then sh. */
export function defaultShell(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.SHELL, safePasswdShell(), '/bin/bash', '/bin/sh']
  for (const candidate of candidates) {
    if (candidate && isExecutable(candidate)) return candidate
  }
  return '/bin/sh'
}

/** Finds a shell by absolute path or by name on PATH; null when it does not exist. */
export function resolveShell(shell: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (isAbsolute(shell)) return isExecutable(shell) ? shell : null
  if (shell.includes('/')) return null
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue
    const full = join(dir, shell)
    if (isExecutable(full)) return full
  }
  return null
}

/** Which of our integration scripts fits this shell binary, if any. */
export function integrationFor(shellPath: string): IntegratedShell | null {
  const name = basename(shellPath).replace(/\.exe$/, '')
  if (name === 'bash' || name === 'zsh' || name === 'fish') return name
  return null
}

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function safePasswdShell(): string | undefined {
  try {
    return userInfo().shell ?? undefined
  } catch {
    return undefined
  }
}
