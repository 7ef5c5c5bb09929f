import { execFile } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { platform, release } from 'node:os'
import { basename } from 'node:path'
import type { ShellContext } from '../../contract'

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 256 * 1024 }, (err, stdout) =>
      resolve(err ? null : stdout),
    )
  })
}

/** Summarises `git status --porcelain -b` into one line: "3 modified, 1 staged, 2 untracked". */
export function summariseGitStatus(porcelain: string): string {
  let staged = 0
  let modified = 0
  let untracked = 0
  let conflicted = 0
  for (const line of porcelain.split('\n')) {
    if (!line || line.startsWith('##')) continue
    const x = line[0]
    const y = line[1]
    if (x === '?') untracked++
    else if (x === 'U' || y === 'U') conflicted++
    else {
      if (x && x !== ' ') staged++
      if (y && y !== ' ') modified++
    }
  }
  const parts = [
    staged && `${staged} staged`,
    modified && `${modified} modified`,
    untracked && `${untracked} untracked`,
    conflicted && `${conflicted} conflicted`,
  ].filter(Boolean)
  return parts.length ? parts.join(', ') : 'clean'
}

/**
 * Fills in what the caller did not give: OS, shell, cwd, git branch and status, a few file names.
 * Everything is best-effort and time-bounded; a missing git or unreadable dir just leaves it out.
 */
export async function gatherContext(
  given: ShellContext = {},
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; maxFiles?: number } = {},
): Promise<ShellContext> {
  const env = options.env ?? process.env
  const timeoutMs = options.timeoutMs ?? 800
  const cwd = given.cwd ?? process.cwd()
  const out: ShellContext = {
    ...given,
    os: given.os ?? `${platform()} ${release()}`,
    shell:
      given.shell ??
      (env.SHELL ? basename(env.SHELL) : platform() === 'win32' ? 'powershell' : 'sh'),
    cwd,
  }
  const tasks: Promise<void>[] = []
  if (given.gitBranch === undefined || given.gitStatus === undefined) {
    tasks.push(
      run(
        'git',
        ['status', '--porcelain=v1', '-b', '--untracked-files=normal'],
        cwd,
        timeoutMs,
      ).then((status) => {
        if (status === null) return
        const head = /^## (?:No commits yet on )?([^.\s]+)/m.exec(status)
        if (head && out.gitBranch === undefined) out.gitBranch = head[1]
        if (out.gitStatus === undefined) out.gitStatus = summariseGitStatus(status)
      }),
    )
  }
  if (given.files === undefined) {
    tasks.push(
      readdir(cwd, { withFileTypes: true })
        .then((entries) => {
          out.files = entries
            .filter((e) => !e.name.startsWith('.') || e.name === '.git')
            .sort((a, b) => a.name.localeCompare(b.name))
            .slice(0, options.maxFiles ?? 20)
            .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
        })
        .catch(() => undefined),
    )
  }
  await Promise.all(tasks)
  return out
}
