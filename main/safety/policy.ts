import {
  type CommandPart,
  type PolicyAction,
  type PolicyDecision,
  type Risk,
  type RiskReason,
  type SafetyLevel,
} from '../../contract/safety'
import { globMatch } from './glob'
import { classifyPath } from './paths'
import { RISK_ORDER } from './types'
import { type Policy, type PolicyRule } from '../../contract/policy'

// The policy schema lives in the contract (the app's policy.json and the team's synced policy
// document share it); re-exported here for the engine's existing importers.
export {
  parsePolicy,
  policyMatchSchema,
  policyRuleSchema,
  policySchema,
  type Policy,
  type PolicyRule,
} from '../../contract/policy'

/** The default mapping of risk to action for each level. critical is blocked at every level. */
export const LEVEL_ACTIONS: Record<SafetyLevel, Record<Risk, PolicyAction>> = {
  strict: { safe: 'allow', moderate: 'confirm', high: 'confirm', critical: 'block' },
  moderate: { safe: 'allow', moderate: 'allow', high: 'confirm', critical: 'block' },
  permissive: { safe: 'allow', moderate: 'allow', high: 'allow', critical: 'block' },
}

const SEVERITY: Record<PolicyAction, number> = { allow: 0, confirm: 1, block: 2 }

export interface PolicyInput {
  risk: Risk
  reasons: RiskReason[]
  parts: CommandPart[]
  tags: string[]
  level?: SafetyLevel
  policy?: Policy
  role?: string
}

export function decideAction(input: PolicyInput): {
  action: PolicyAction
  decision: PolicyDecision
} {
  const policy = input.policy
  const roleLevel = input.role ? policy?.roles?.[input.role]?.level : undefined
  const level: SafetyLevel = input.level ?? roleLevel ?? policy?.level ?? 'moderate'
  const base = LEVEL_ACTIONS[level][input.risk]
  let action = base
  let decision: PolicyDecision = { level, source: 'level' }
  if (!policy) return { action, decision }
  const applicable = policy.rules.filter(
    (r) =>
      (!r.roles || (input.role !== undefined && r.roles.includes(input.role))) && matches(r, input),
  )
  // The strictest matching block/confirm rule wins; an allow rule may relax the level's answer,
  // but a critical command can at most be relaxed to confirm.
  const restrictive = applicable
    .filter((r) => r.effect !== 'allow')
    .sort((a, b) => SEVERITY[b.effect] - SEVERITY[a.effect])[0]
  if (restrictive && SEVERITY[restrictive.effect] >= SEVERITY[action]) {
    action = restrictive.effect
    decision = describe(level, restrictive)
  } else if (!restrictive) {
    const allow = applicable.find((r) => r.effect === 'allow')
    if (allow) {
      action = input.risk === 'critical' ? 'confirm' : 'allow'
      decision = describe(level, allow)
    }
  }
  return { action, decision }
}

function describe(level: SafetyLevel, rule: PolicyRule): PolicyDecision {
  return { level, source: 'rule', ruleId: rule.id, ...(rule.reason ? { reason: rule.reason } : {}) }
}

function matches(rule: PolicyRule, input: PolicyInput): boolean {
  const m = rule.match
  if (m.minRisk && RISK_ORDER[input.risk] < RISK_ORDER[m.minRisk]) return false
  if (m.tag && !input.tags.includes(m.tag)) return false
  if (
    m.ruleId &&
    !input.reasons.some((r) => r.ruleId === m.ruleId || r.ruleId.startsWith(m.ruleId + '.'))
  )
    return false
  if (m.command || m.subcommand || m.flag || m.path) {
    const glob = m.path
    const hit = input.parts.some(
      (p) =>
        (!m.command || p.program === m.command) &&
        (!m.subcommand || p.subcommand === m.subcommand) &&
        (!m.flag || p.flags.some((f) => f === m.flag || f.startsWith(m.flag + '='))) &&
        (!glob ||
          p.targets.some((t) => globMatch(glob, t) || globMatch(glob, classifyPath(t).path))),
    )
    if (!hit) return false
  }
  return true
}
