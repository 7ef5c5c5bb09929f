import type { PatternDecision } from '../../contract/library'
import type { Policy } from '../../contract/policy'
import type { PolicyAction, SafetyLevel, ShellDialect, Verdict } from '../../contract/safety'
import type { Pattern } from '../../contract/sync'
import { analyzeCommand, explainCommand } from '../safety/analyze'
import { decideAction } from '../safety/policy'
import { templateForVerdict } from './template'

/**
 * The verdict on a pattern and what the app does with it. The safety engine rates the command;
 * the team's policy (for team libraries, with the member's role) and the user's own policy and
 * level each decide an action, and the stricter one applies. The pattern's own tags count as
 * tags for policy rules, so "patterns tagged production need an approval" is a rule matching
 * tag `production`.
 *
 * A command blocked by a policy rule may still run with an approval from the team; a critical
 * command (blocked by the engine's rating itself) never runs from a pattern.
 */
export interface DecideContext {
  shell: ShellDialect
  /** The user's safety level (settings). */
  level?: SafetyLevel
  /** The user's own policy (policy.json). */
  localPolicy?: Policy | null
  /** The team's policy document and the member's role, for team libraries. */
  teamPolicy?: Policy | null
  role?: string
  /** Whether the app can ask the team for approvals (a team is known). */
  canRequestApproval: boolean
}

const SEVERITY: Record<PolicyAction, number> = { allow: 0, confirm: 1, block: 2 }

/** The template's verdict, every parameter an unknown word. */
export function templateVerdict(pattern: Pattern, ctx: DecideContext): Verdict {
  return decide(pattern, templateForVerdict(pattern.command, ctx.shell), ctx).verdict
}

export function decide(
  pattern: Pattern,
  command: string,
  ctx: DecideContext,
  approvedId?: string,
): { verdict: Verdict; decision: PatternDecision } {
  const team = ctx.teamPolicy ?? undefined
  // The team's policy with the member's role (the user's level does not relax a role's level).
  const verdict = analyzeCommand(command, {
    shell: ctx.shell,
    ...(team
      ? { policy: team, role: ctx.role }
      : { level: ctx.level, policy: ctx.localPolicy ?? undefined }),
  })
  const parts = explainCommand(command, ctx.shell).parts
  const tags = [...new Set([...(verdict.tags ?? []), ...pattern.tags])].sort()
  const input = { risk: verdict.risk, reasons: verdict.reasons, parts, tags }
  const candidates = [
    decideAction({ ...input, level: ctx.level, policy: ctx.localPolicy ?? undefined }),
    ...(team ? [decideAction({ ...input, policy: team, role: ctx.role })] : []),
  ]
  const strictest = candidates.reduce((a, b) => (SEVERITY[b.action] > SEVERITY[a.action] ? b : a))
  const merged: Verdict = { ...verdict, action: strictest.action, policy: strictest.decision, tags }
  return { verdict: merged, decision: describe(merged, ctx, approvedId) }
}

function describe(v: Verdict, ctx: DecideContext, approvedId?: string): PatternDecision {
  const rule = v.policy?.source === 'rule' ? v.policy.ruleId : undefined
  const why = v.policy?.reason ? ` (${v.policy.reason})` : ''
  const ruleId = rule ?? `level:${v.policy?.level ?? 'moderate'}`
  if (v.action === 'block') {
    if (v.risk === 'critical' || !rule)
      return { action: 'block', ruleId, reason: `Blocked: ${v.risk} risk${top(v)}` }
    if (approvedId)
      return {
        action: v.risk === 'high' ? 'confirm' : 'allow',
        ruleId: rule,
        approvalId: approvedId,
        reason: `Approved by the team (approval ${approvedId}); policy rule ${rule}${why} otherwise blocks it`,
      }
    if (ctx.canRequestApproval)
      return {
        action: 'approval',
        ruleId: rule,
        reason: `Needs an approval: team policy rule ${rule}${why}`,
      }
    return { action: 'block', ruleId: rule, reason: `Blocked by policy rule ${rule}${why}` }
  }
  if (v.action === 'confirm')
    return {
      action: 'confirm',
      ruleId,
      reason: rule ? `Confirm: policy rule ${rule}${why}` : `Confirm: ${v.risk} risk${top(v)}`,
    }
  return {
    action: 'allow',
    ruleId,
    reason: rule ? `Allowed by policy rule ${rule}${why}` : `${v.risk} risk`,
  }
}

function top(v: Verdict): string {
  const first = v.reasons[0]
  return first ? ` — ${first.message}` : ''
}
