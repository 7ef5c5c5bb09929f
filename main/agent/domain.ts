import { randomUUID } from 'node:crypto'
import {
  agentEventInputSchema,
  type AgentApproval,
  type AgentApprovalOutcome,
} from '../../contract/agent'
import { CmdaiError } from '../../contract/errors'
import type { Domain, DomainDeps } from '../domain'
import { judge } from './gate'
import { drainSpool } from './spool'

/** More waiting approvals than this and new ones are refused (a runaway agent must not flood). */
const MAX_PENDING = 20
/** How often the spool of events recorded while the app was closed is checked. */
const DRAIN_EVERY_MS = 30_000

interface Waiting {
  approval: AgentApproval
  settle(outcome: Omit<AgentApprovalOutcome, 'id' | 'verdict'>): void
}

/**
 * Agents' commands that need the user: `cmdai mcp` asks over the control socket
 * (`agent:requestApproval`) and waits; the app shows a notice; the user approves or denies it in
 * one of the app's windows (`agent:decide`, refused from the control socket so an agent cannot
 * approve itself). The app judges the command itself with the user's level and policy: a command
 * it would block is denied without asking.
 *
 * Also moves agent events spooled while the app was closed into history.
 */
export function createAgentDomain(
  deps: DomainDeps,
  options: { drainEveryMs?: number } = {},
): Domain {
  const waiting = new Map<string, Waiting>()

  deps.router.handle('agent:requestApproval', async (args, ctx) => {
    const shell = args.shell ?? 'bash'
    const verdict = await judge(args.command, shell, deps.dataDir)
    const id = randomUUID()
    if (verdict.action === 'block') {
      return { id, decision: 'denied', reason: blockedReason(verdict.reasons), verdict }
    }
    if (waiting.size >= MAX_PENDING) {
      throw new CmdaiError('unavailable', 'Too many agent commands are waiting for approval')
    }
    if (ctx.signal?.aborted) throw new CmdaiError('cancelled', 'The agent stopped waiting')
    const now = Date.now()
    const approval: AgentApproval = {
      id,
      client: args.client,
      command: args.command,
      cwd: args.cwd ?? null,
      shell,
      verdict,
      requestedAt: now,
      expiresAt: now + args.timeoutMs,
    }
    return new Promise<AgentApprovalOutcome>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer)
        ctx.signal?.removeEventListener('abort', onAbort)
        waiting.delete(id)
      }
      const timer = setTimeout(() => {
        finish()
        deps.events.emit('agent:approvalSettled', { id, decision: 'expired' })
        resolve({ id, decision: 'expired', reason: 'Nobody approved it in time', verdict })
      }, args.timeoutMs)
      const onAbort = () => {
        finish()
        deps.events.emit('agent:approvalSettled', { id, decision: 'cancelled' })
        reject(new CmdaiError('cancelled', 'The agent stopped waiting'))
      }
      ctx.signal?.addEventListener('abort', onAbort, { once: true })
      waiting.set(id, {
        approval,
        settle(outcome) {
          finish()
          deps.events.emit('agent:approvalSettled', { id, decision: outcome.decision })
          resolve({ id, verdict, ...outcome })
        },
      })
      deps.events.emit('agent:approvalRequested', approval)
    })
  })

  deps.router.handle('agent:pending', () => ({
    approvals: [...waiting.values()].map((w) => w.approval),
  }))

  deps.router.handle('agent:decide', (args, ctx) => {
    if (ctx.transport === 'control') {
      throw new CmdaiError('forbidden', "Only the app's own windows can approve agents' commands")
    }
    const entry = waiting.get(args.id)
    if (!entry) throw new CmdaiError('not_found', 'That request is no longer waiting')
    const decision = args.decision === 'approve' ? 'approved' : 'denied'
    const reason = args.reason?.trim() || (decision === 'denied' ? 'Denied by the user' : null)
    entry.settle({ decision, reason })
    return { id: args.id, decision }
  })

  // Events spooled while the app was closed: into history once it is open, then now and then.
  let draining: Promise<unknown> | null = null
  const drain = () => {
    draining ??= drainSpool(
      deps.dataDir,
      (line) => {
        const parsed = agentEventInputSchema.safeParse(line)
        return parsed.success ? parsed.data : null
      },
      async (event) => {
        const result = await deps.router.dispatch('history:recordAgent', event, {
          clientId: 'agent-spool',
        })
        // A bad event is skipped; an unavailable history keeps it for the next round.
        if (!result.ok && result.error.code !== 'invalid_input') {
          throw new CmdaiError(result.error.code, result.error.message)
        }
      },
    )
      .catch((err: unknown) => {
        console.error('[cmdai] moving spooled agent events into history failed:', err)
      })
      .finally(() => {
        draining = null
      })
    return draining
  }
  const first = setTimeout(() => void drain(), 1_000)
  const every = setInterval(() => void drain(), options.drainEveryMs ?? DRAIN_EVERY_MS)
  first.unref()
  every.unref()

  return {
    name: 'agent',
    async dispose() {
      clearTimeout(first)
      clearInterval(every)
      for (const entry of [...waiting.values()]) {
        entry.settle({ decision: 'expired', reason: 'The app was closed' })
      }
      await draining
    },
  }
}

function blockedReason(reasons: { message: string }[]): string {
  const top = reasons
    .slice(0, 3)
    .map((r) => r.message)
    .join('; ')
  return `Blocked by the safety policy${top ? `: ${top}` : ''}`
}
