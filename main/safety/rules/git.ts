import type { CommandView, Rule } from '../rule'
import { hasFlag, parseOptions } from '../options'

const READ_ONLY =
  /^(status|log|diff|show|blame|shortlog|describe|grep|ls-files|ls-tree|ls-remote|rev-parse|rev-list|cat-file|fetch|remote|config|branch|tag|stash|reflog|help|version|whatchanged|bisect|worktree|submodule|archive|bundle|count-objects|fsck|name-rev|show-ref|for-each-ref|check-ignore|range-diff|notes|var)$/
const LOCAL_CHANGE =
  /^(add|commit|checkout|switch|merge|pull|cherry-pick|revert|rebase|init|clone|mv|rm|am|apply|restore|stage|tag|gc|prune|repack|sparse-checkout|maintenance)$/

/** Options of git itself that take a value (`git -C dir`, `git -c k=v`). */
function gitSubcommand(c: CommandView): { verb: string; rest: CommandView['args'] } {
  let i = 0
  while (i < c.args.length && c.args[i]!.value.startsWith('-'))
    i += /^-(C|c)$|^--(git-dir|work-tree|namespace)$/.test(c.args[i]!.value) ? 2 : 1
  return { verb: c.args[i]?.value ?? '', rest: c.args.slice(i + 1) }
}

const git: Rule = (c) => {
  // `git -c alias.x='!cmd' x` runs cmd through the shell.
  for (let i = 0; i < c.args.length - 1; i++) {
    const m = c.args[i]!.value === '-c' ? /^alias\.[^=]+=!(.*)$/s.exec(c.args[i + 1]!.value) : null
    if (m) c.engine.runInnerScript(m[1]!, 'bash', [c.args[i + 1]!], c.ctx, 'git alias')
  }
  const { verb, rest } = gitSubcommand(c)
  const opts = parseOptions(rest, {
    shortWithValue: 'mCcFoSbBuX',
    longWithValue: ['message', 'exec', 'index-filter', 'tree-filter', 'env-filter', 'msg-filter'],
  })
  const at = c.args.find((a) => a.value === verb) ?? c.nameArg
  const words = rest.map((a) => a.value)
  const dryRun = hasFlag(opts, 'n', 'dry-run')
  switch (verb) {
    case 'reset':
      if (opts.long.has('hard') || opts.long.has('merge') || opts.long.has('keep'))
        c.emit(
          'git.reset.hard',
          'high',
          'Discards uncommitted changes for good (git reset --hard)',
          at,
        )
      else c.emit('git.reset', 'moderate', 'Moves the branch or unstages changes', at)
      return
    case 'clean':
      if (dryRun || !hasFlag(opts, 'fi', 'force', 'interactive')) return
      c.emit(
        'git.clean',
        'high',
        `Deletes untracked files${hasFlag(opts, 'x') ? ' including ignored ones' : ''}${hasFlag(opts, 'd') ? ' and directories' : ''}, with no undo`,
        at,
      )
      return
    case 'push': {
      if (dryRun) return
      const force =
        hasFlag(opts, 'f', 'force', 'force-with-lease', 'force-if-includes', 'mirror') ||
        words.some((w) => /^\+/.test(w))
      const del = hasFlag(opts, 'd', 'delete', 'prune') || words.some((w) => /^:/.test(w))
      if (force) {
        const lease = opts.long.has('force-with-lease') && !hasFlag(opts, 'f', 'force')
        c.emit(
          'git.push.force',
          lease ? 'moderate' : 'high',
          `Rewrites the remote branch history${lease ? ' (with lease)' : ' (force push)'}`,
          at,
          { prod: true },
        )
      } else if (del)
        c.emit('git.push.delete', 'high', 'Deletes branches or tags on the remote', at, {
          prod: true,
        })
      else c.emit('git.push', 'moderate', 'Publishes commits to the remote', at, { prod: true })
      return
    }
    case 'filter-branch':
    case 'filter-repo':
      c.emit(
        'git.history-rewrite',
        'high',
        `Rewrites the whole repository history (git ${verb})`,
        at,
      )
      return
    case 'checkout':
    case 'restore': {
      const staged = words.includes('--staged') && !words.includes('--worktree')
      const dd = words.indexOf('--')
      const paths =
        verb === 'restore' ? opts.operands.map((o) => o.value) : dd >= 0 ? words.slice(dd + 1) : []
      const everything =
        paths.includes('.') || paths.includes(':/') || opts.operands.some((o) => o.value === '.')
      if (!staged && (everything || (verb === 'checkout' && hasFlag(opts, 'f', 'force')))) {
        return c.emit(
          'git.discard',
          'high',
          'Discards every uncommitted change in the working tree',
          at,
        )
      }
      if (!staged && paths.length) {
        return c.emit(
          'git.discard.file',
          'moderate',
          `Discards uncommitted changes to ${paths.join(' ')}`,
          at,
        )
      }
      break
    }
    case 'stash':
      if (words[0] === 'clear')
        return c.emit('git.stash.clear', 'high', 'Deletes every stash for good', at)
      if (words[0] === 'drop') return c.emit('git.stash.drop', 'moderate', 'Deletes a stash', at)
      if (words[0] && !/^(list|show)$/.test(words[0]))
        return c.emit('git.stash', 'moderate', 'Changes the stash', at)
      if (!words[0]) return c.emit('git.stash', 'moderate', 'Stashes uncommitted changes', at)
      return
    case 'branch':
      if (hasFlag(opts, 'D') || (opts.short.has('d') && opts.short.has('f')))
        return c.emit(
          'git.branch.force-delete',
          'moderate',
          'Force-deletes a branch, dropping unmerged commits',
          at,
        )
      if (
        hasFlag(opts, 'dmMcC', 'delete', 'move', 'copy', 'set-upstream-to', 'unset-upstream') ||
        opts.operands.length
      )
        return c.emit('git.branch', 'moderate', 'Changes branches', at)
      return
    case 'tag':
      if (hasFlag(opts, 'd', 'delete'))
        return c.emit('git.tag.delete', 'moderate', 'Deletes a tag', at)
      if (opts.operands.length) return c.emit('git.tag', 'moderate', 'Creates a tag', at)
      return
    case 'reflog':
      if (words[0] === 'expire' || words[0] === 'delete')
        return c.emit(
          'git.reflog.expire',
          'high',
          'Expires the reflog, the safety net for lost commits',
          at,
        )
      return
    case 'gc':
      if (words.some((w) => /^--prune=(now|all)/.test(w)))
        return c.emit('git.gc.prune', 'high', 'Prunes unreachable commits now, for good', at)
      return c.emit('git.gc', 'moderate', 'Repacks the repository', at)
    case 'update-ref':
      if (hasFlag(opts, 'd'))
        return c.emit('git.update-ref.delete', 'high', 'Deletes a ref directly', at)
      return c.emit('git.update-ref', 'moderate', 'Moves a ref directly', at)
    case 'commit':
      if (opts.long.has('amend'))
        return c.emit('git.commit.amend', 'moderate', 'Rewrites the last commit', at)
      break
    case 'rebase':
      return c.emit('git.rebase', 'moderate', 'Rewrites local history (rebase)', at)
    case 'remote':
      if (/^(remove|rm|set-url|rename|prune)$/.test(words[0] ?? ''))
        return c.emit('git.remote', 'moderate', `Changes remotes (${words[0]})`, at)
      if (words[0] === 'add') return c.emit('git.remote', 'moderate', 'Adds a remote', at)
      return
    case 'config':
      if (
        opts.operands.length >= 2 ||
        hasFlag(
          opts,
          '',
          'unset',
          'unset-all',
          'add',
          'replace-all',
          'remove-section',
          'rename-section',
          'edit',
        )
      )
        return c.emit('git.config', 'moderate', 'Changes git configuration', at)
      return
    case 'worktree':
    case 'submodule':
      if (/^(add|remove|prune|update|deinit|move|init|sync)$/.test(words[0] ?? ''))
        return c.emit(
          `git.${verb}`,
          words[0] === 'deinit' || words[0] === 'remove' ? 'moderate' : 'moderate',
          `git ${verb} ${words[0]}`,
          at,
        )
      return
    case 'rm':
      if (opts.short.has('r') && words.includes('--cached'))
        return c.emit('git.rm', 'moderate', 'Untracks files', at)
      return c.emit(
        'git.rm',
        opts.short.has('r') && !words.includes('--cached') ? 'high' : 'moderate',
        'Deletes tracked files from the working tree',
        at,
      )
  }
  if (READ_ONLY.test(verb)) return
  if (LOCAL_CHANGE.test(verb))
    c.emit(`git.${verb}`, 'moderate', `Changes the repository (git ${verb})`, at)
}

/** GitHub's CLI: publishing a private repository, deleting one. */
const gh: Rule = (c) => {
  const [group, verb] = c.args.filter((a) => !a.value.startsWith('-'))
  if (group?.value !== 'repo' || !verb) return
  const values = c.args.map((a) => a.value)
  const i = values.findIndex((v) => v === '--visibility' || v.startsWith('--visibility='))
  const visibility = i < 0 ? undefined : (values[i]!.split('=')[1] ?? values[i + 1])
  if (verb.value === 'edit' && visibility === 'public')
    c.emit(
      'git.repo.public',
      'high',
      'Makes the repository public: its code and whole history, secrets committed in it included, to everyone',
      c.args[i] ?? verb,
    )
  else if (verb.value === 'edit' && visibility)
    c.emit(
      'git.repo.visibility',
      'moderate',
      `Makes the repository ${visibility}`,
      c.args[i] ?? verb,
    )
  else if (verb.value === 'delete')
    c.emit('git.repo.delete', 'high', 'Deletes the repository on GitHub, issues and all', verb, {
      prod: true,
    })
}

export const gitRules: Record<string, Rule> = { git, gh }
