import { readFileSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'

/**
 * The git branch of a directory, read from `.git/HEAD` without spawning git (this runs on every
 * `cd`). Worktrees and submodules (`.git` files pointing elsewhere) are followed. Null outside a
 * repository; a short commit id when HEAD is detached.
 */
export function gitBranchOf(cwd: string): string | null {
  let dir = resolve(cwd)
  for (let depth = 0; depth < 64; depth++) {
    const gitDir = resolveGitDir(join(dir, '.git'))
    if (gitDir) return readHead(gitDir)
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
  return null
}

function resolveGitDir(dotGit: string): string | null {
  try {
    const stat = statSync(dotGit)
    if (stat.isDirectory()) return dotGit
    if (!stat.isFile()) return null
    const match = /^gitdir:\s*(.+)\s*$/m.exec(readFileSync(dotGit, 'utf8'))
    if (!match) return null
    const target = match[1]!.trim()
    return isAbsolute(target) ? target : resolve(dirname(dotGit), target)
  } catch {
    return null
  }
}

function readHead(gitDir: string): string | null {
  try {
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim()
    const ref = /^ref:\s*refs\/heads\/(.+)$/.exec(head)
    if (ref) return ref[1]!
    return /^[0-9a-f]{40,64}$/.test(head) ? head.slice(0, 8) : null
  } catch {
    return null
  }
}
