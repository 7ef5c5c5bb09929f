import type { z } from 'zod'
import { CmdaiError } from '../../contract/errors'
import type { Verdict } from '../../contract/safety'
import { formatVerdict } from '../safety/format'
import { redactSecrets } from '../safety/secrets'
import { judge } from './gate'
import { verdictForAgent, type RunOutput, type runInput } from './mcp-schemas'
import {
  agentEvent,
  record,
  resolveCwd,
  type McpContext,
  type ToolCall,
  type ToolResult,
} from './mcp-context'
import { checkCwd, runCommand } from './runner'

const PROGRESS_EVERY_MS = 10_000

/**
 * `run_command`: judge, then run (allow), ask the user in the app and run once approved
 * (confirm), or refuse (block, or confirm with no app to ask). A refused command never spawns.
 */
export async function runCommandTool(
  args: z.output<typeof runInput>,
  ctx: McpContext,
  call: ToolCall,
): Promise<ToolResult> {
  const shell = args.shell ?? 'bash'
  const cwd = resolveCwd(ctx, args.cwd)
  const verdict = await judge(args.command, shell, ctx.dataDir)
  const refuse = async (
    status: RunOutput['status'],
    reason: string,
    decision: 'blocked' | 'refused' | 'denied' | 'expired',
  ): Promise<ToolResult> => {
    await record(ctx, agentEvent(ctx, 'run_command', verdict, decision, { cwd, note: reason }))
    const structured: RunOutput = { status, reason, verdict: verdictForAgent(verdict) }
    return {
      structured,
      isError: true,
      text: `Not run: ${reason}\n\n${formatVerdict(verdict, { color: false })}`,
    }
  }

  if (verdict.action === 'block') {
    return refuse('blocked', blockedReason(verdict), 'blocked')
  }
  const badCwd = checkCwd(cwd)
  if (badCwd) throw new CmdaiError('invalid_input', `cwd: ${badCwd}`)

  let approvedBy: 'policy' | 'user' = 'policy'
  if (verdict.action === 'confirm') {
    const app = await ctx.app.get()
    if (!app) {
      return refuse(
        'refused',
        `it needs the user's confirmation (${verdict.risk} risk) and no cmdai app is running to ask them. Ask the user to run it themselves, or to start cmdai (the app or \`cmdai serve\`) so you can ask again.`,
        'refused',
      )
    }
    call.progress('Waiting for the user to approve the command in cmdai')
    const ticker = setInterval(
      () => call.progress('Still waiting for the user to approve the command in cmdai'),
      PROGRESS_EVERY_MS,
    )
    let outcome
    try {
      outcome = await app.call(
        'agent:requestApproval',
        {
          client: ctx.client(),
          command: args.command,
          cwd,
          shell,
          timeoutMs: ctx.approvalTimeoutMs,
        },
        { signal: call.signal },
      )
    } catch (err) {
      if (err instanceof CmdaiError && err.code === 'cancelled') {
        return refuse('expired', 'the request was cancelled before the user decided', 'expired')
      }
      throw err
    } finally {
      clearInterval(ticker)
    }
    if (outcome.decision === 'denied') {
      return refuse(
        'denied',
        `the user denied it: ${outcome.reason ?? 'no reason given'}`,
        'denied',
      )
    }
    if (outcome.decision === 'expired') {
      return refuse('expired', outcome.reason ?? 'nobody approved it in time', 'expired')
    }
    approvedBy = 'user'
  }

  const result = await runCommand({
    command: args.command,
    shell,
    cwd,
    timeoutMs: args.timeoutMs ?? 120_000,
    maxOutputBytes: args.maxOutputBytes ?? 65_536,
    signal: call.signal,
    env: { ...process.env, CMDAI_AGENT: ctx.client().name },
  })
  const stdout = redactSecrets(result.stdout)
  const stderr = redactSecrets(result.stderr)
  await record(
    ctx,
    agentEvent(ctx, 'run_command', verdict, approvedBy === 'user' ? 'approved' : 'allowed', {
      cwd,
      exitCode: result.exitCode,
      durationMs: result.durationMs,
      ...(result.timedOut ? { note: 'timed out' } : {}),
    }),
  )
  const structured: RunOutput = {
    status: 'ran',
    approvedBy,
    exitCode: result.exitCode,
    signal: result.signal,
    timedOut: result.timedOut,
    durationMs: result.durationMs,
    stdout: stdout.text,
    stderr: stderr.text,
    truncated: result.truncated,
    redactions: stdout.findings.length + stderr.findings.length,
    verdict: verdictForAgent(verdict),
  }
  const status = result.timedOut
    ? `timed out after ${result.durationMs} ms (killed)`
    : result.signal
      ? `killed by ${result.signal}`
      : `exit ${result.exitCode}`
  return {
    structured,
    // A command that ran is a tool success even when it failed: the agent reads its exit status.
    text: [
      `${status}${approvedBy === 'user' ? ' (approved by the user in cmdai)' : ''}`,
      stdout.text && `stdout:\n${stdout.text}`,
      stderr.text && `stderr:\n${stderr.text}`,
    ]
      .filter(Boolean)
      .join('\n'),
  }
}

function blockedReason(verdict: Verdict): string {
  const why = verdict.reasons
    .filter((r) => r.risk === verdict.risk)
    .slice(0, 3)
    .map((r) => r.message)
    .join('; ')
  const rule = verdict.policy?.source === 'rule' ? ` (policy rule ${verdict.policy.ruleId})` : ''
  return `cmdai blocks this ${verdict.risk}-risk command${rule}${why ? `: ${why}` : ''}`
}
