import { Argument, Option, type Command } from 'commander'
import { join } from 'node:path'
import { readPackageVersion, resolveAppRoot, resolveDataDir } from '../../config/paths'
import {
  cannotJudge,
  decide,
  MAX_PAYLOAD_BYTES,
  parsePayload,
  type HookOutput,
} from '../../agent/claude-hook'

const AGENTS = ['claude-code'] as const

/** `cmdai hook claude-code` (the gate itself) and `cmdai hook install|uninstall claude-code`. */
export function registerHookCommands(program: Command): void {
  const hook = program
    .command('hook')
    .description("Gate a coding agent's shell commands through cmdai (agent hooks)")

  hook
    .command('claude-code')
    .description(
      'Claude Code PreToolUse hook: reads the event on stdin, answers allow / ask / deny on stdout\n' +
        '(policy allow, confirm, block); input it cannot read is answered with ask',
    )
    .action(async () => {
      const out = await gateClaudeCode()
      process.stdout.write(`${JSON.stringify(out.answer)}\n`)
      if (out.record) await out.record()
    })

  const scope = (command: Command) =>
    command
      .addArgument(new Argument('<agent>', 'the agent').choices(AGENTS))
      .addOption(
        new Option('--user', 'your user settings (~/.claude/settings.json; default)').conflicts(
          'project',
        ),
      )
      .option('--project <dir>', "a project's settings (<dir>/.claude/settings.json)")
      .option('--local', 'with --project: .claude/settings.local.json (not committed)')

  scope(hook.command('install').description("Add cmdai's hook to Claude Code's settings")).action(
    async (_agent: string, options: { project?: string; local?: boolean }) => {
      const { installClaudeHook, hookCommand, settingsFile } =
        await import('../../agent/hook-install')
      const bin = join(resolveAppRoot(), 'bin', 'cmdai.mjs')
      const file = settingsFile(scopeOf(options))
      const change = installClaudeHook(file, hookCommand(bin))
      if (!change.changed) console.log(`Already installed in ${change.file}`)
      else {
        console.log(`Installed cmdai's PreToolUse hook for Bash in ${change.file}`)
        if (change.backup) console.log(`Backup of the previous file: ${change.backup}`)
      }
      console.log(`Hook command: ${change.command}`)
      console.log(
        `For the other tools (run_command approvals in the app, history, patterns) add the MCP server:\n` +
          `  claude mcp add cmdai -- ${process.execPath} ${bin} mcp`,
      )
    },
  )

  scope(
    hook.command('uninstall').description("Remove cmdai's hook from Claude Code's settings"),
  ).action(async (_agent: string, options: { project?: string; local?: boolean }) => {
    const { uninstallClaudeHook, settingsFile } = await import('../../agent/hook-install')
    const change = uninstallClaudeHook(settingsFile(scopeOf(options)))
    if (!change.changed) console.log(`cmdai's hook is not in ${change.file}; nothing changed`)
    else {
      console.log(`Removed cmdai's hook from ${change.file}`)
      if (change.backup) console.log(`Backup of the previous file: ${change.backup}`)
    }
  })
}

function scopeOf(options: { project?: string; local?: boolean }) {
  if (options.local && !options.project) throw new Error('--local goes with --project <dir>')
  return options.project
    ? { kind: 'project' as const, dir: options.project, local: Boolean(options.local) }
    : { kind: 'user' as const }
}

/**
 * The hook itself. Fails closed: anything unexpected (bad input, a broken policy, an engine
 * error) answers `ask` with the reason, never `allow`. Recording in history runs after the
 * answer is written, and its failure changes nothing.
 */
async function gateClaudeCode(): Promise<{
  answer: HookOutput | Record<string, never>
  record?: () => Promise<void>
}> {
  const input = await readStdin(MAX_PAYLOAD_BYTES, 10_000)
  if (typeof input !== 'string') return { answer: cannotJudge(input.error) }
  const payload = parsePayload(input)
  if (payload.kind === 'other-tool') return { answer: {} }
  if (payload.kind === 'malformed') return { answer: cannotJudge(payload.reason) }
  const dataDir = resolveDataDir()
  let answer: HookOutput
  let verdict
  try {
    const { judge } = await import('../../agent/gate')
    verdict = await judge(payload.command, 'bash', dataDir)
    answer = decide(verdict)
  } catch (err) {
    return { answer: cannotJudge(err instanceof Error ? err.message : String(err)) }
  }
  const record = async () => {
    const [{ recordAgentEvent }, { connectToApp }] = await Promise.all([
      import('../../agent/recorder'),
      import('../../control/client'),
    ])
    const decision = { allow: 'allowed', ask: 'asked', deny: 'blocked' } as const
    let app = null
    try {
      app = await connectToApp(dataDir, {
        client: { name: 'cmdai-hook', version: readPackageVersion() },
        timeoutMs: 1_000,
      })
    } catch {
      // Unsafe control files: record in the spool instead.
    }
    try {
      await recordAgentEvent(
        dataDir,
        {
          client: { name: 'claude-code' },
          via: 'hook',
          tool: 'PreToolUse',
          command: verdict.command,
          ...(payload.cwd ? { cwd: payload.cwd } : {}),
          shell: 'bash',
          risk: verdict.risk,
          action: verdict.action,
          reasons: verdict.reasons.map((r) => ({
            ruleId: r.ruleId,
            risk: r.risk,
            message: r.message,
          })),
          ...(verdict.policy?.ruleId ? { policyRule: verdict.policy.ruleId } : {}),
          decision: decision[answer.hookSpecificOutput.permissionDecision],
          ...(payload.sessionId ? { agentSession: payload.sessionId } : {}),
          startedAt: Date.now(),
        },
        app,
      )
    } finally {
      app?.close()
    }
  }
  return { answer, record }
}

/** All of stdin, unless it is larger than `max` bytes or does not end in time. */
function readStdin(max: number, timeoutMs: number): Promise<string | { error: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = (value: string | { error: string }) => {
      clearTimeout(timer)
      process.stdin.removeAllListeners('data')
      process.stdin.pause()
      resolve(value)
    }
    const timer = setTimeout(() => done({ error: 'no complete input on stdin in time' }), timeoutMs)
    process.stdin.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > max) return done({ error: 'the hook input is larger than 1 MiB' })
      chunks.push(chunk)
    })
    process.stdin.once('end', () => done(Buffer.concat(chunks).toString('utf8')))
    process.stdin.once('error', () => done({ error: 'stdin could not be read' }))
  })
}
