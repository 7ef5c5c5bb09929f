import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { gitBranchOf } from './git-branch'

const root = mkdtempSync(join(tmpdir(), 'cmdai-git-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function git(cwd: string, ...args: string[]) {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  })
}

describe('gitBranchOf', () => {
  it('reads the branch of a real repository from any subdirectory, and detached HEADs', () => {
    const repo = join(root, 'repo')
    mkdirSync(join(repo, 'src', 'deep'), { recursive: true })
    git(repo, 'init', '-q', '-b', 'feature/x')
    expect(gitBranchOf(join(repo, 'src', 'deep'))).toBe('feature/x')
    writeFileSync(join(repo, 'a'), 'a')
    git(repo, 'add', 'a')
    git(repo, 'commit', '-qm', 'a')
    const sha = git(repo, 'rev-parse', 'HEAD').trim()
    git(repo, 'checkout', '-q', '--detach')
    expect(gitBranchOf(repo)).toBe(sha.slice(0, 8))
  })

  it('follows a worktree .git file', () => {
    const repo = join(root, 'main-repo')
    mkdirSync(repo)
    git(repo, 'init', '-q', '-b', 'main')
    writeFileSync(join(repo, 'f'), 'f')
    git(repo, 'add', 'f')
    git(repo, 'commit', '-qm', 'f')
    git(repo, 'worktree', 'add', '-q', '-b', 'wt-branch', join(root, 'wt'))
    expect(gitBranchOf(join(root, 'wt'))).toBe('wt-branch')
  })

  it('returns null outside a repository', () => {
    const plain = join(root, 'plain')
    mkdirSync(plain)
    expect(gitBranchOf(plain)).toBeNull()
  })
})
