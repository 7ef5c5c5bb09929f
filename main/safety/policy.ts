import { z } from 'zod'
import {
  RISKS,
  SAFETY_LEVELS,
  type CommandPart,
  type PolicyAction,
  type PolicyDecision,
  type Risk,
  type RiskReason,
  type SafetyLevel,
} from '../../contract/safety'
import { classifyPath } from './paths'
import { RISK_ORDER } from './types'

/**
 * Team and user policy, as data: a default safety level, per-role levels, and rules that allow,
 * confirm or block commands by program, subcommand, flag, path, tag or engine rule id.
 * Validated with zod so a policy synced from a team server is checked before it is used.
 */
export const policyMatchSchema = z
  .object({
    /** Program name as it runs, e.g. `kubectl` (wrappers such as sudo are seen through). */
    command: z.string().min(1).max(200).optional(),
    /** First operand of tools with subcommands, e.g. `delete` for `kubectl delete`. */
    subcommand: z.string().min(1).max(200).optional(),
    /** A flag as written, e.g. `--force` or `-f`. */
    flag: z.string().min(1).max(200).optional(),
    /** A path glob over the normalised targets: `/etc/**`, `~/.ssh/*`, `**\/prod/**`. */
    path: z.string().min(1).max(500).optional(),
    /** An engine tag: `production`, `remote`, `privileged`, `container`. */
    tag: z.string().min(1).max(100).optional(),
    /** An engine rule id or prefix: `git.push`, `fs.rm.root`. */
    ruleId: z.string().min(1).max(200).optional(),
    /** Only when the verdict is at least this risky. */
    minRisk: z.enum(RISKS).optional(),
  })
  .strict()
  .refine((m) => Object.keys(m).length > 0, { message: 'a rule must match on something' })

export const policyRuleSchema = z
  .object({
    id: z.string().min(1).max(100),
    effect: z.enum(['allow', 'confirm', 'block']),
    match: policyMatchSchema,
    /** Roles the rule applies to; every role when absent. */
    roles: z.array(z.string().min(1).max(100)).max(50).optional(),
    /** Shown to the user when the rule applies. */
    reason: z.string().max(500).optional(),
  })
  .strict()

export const policySchema = z
  .object({
    version: z.literal(1),
    level: z.enum(SAFETY_LEVELS).optional(),
    roles: z
      .record(z.string().min(1).max(100), z.object({ level: z.enum(SAFETY_LEVELS) }).strict())
      .optional(),
    rules: z.array(policyRuleSchema).max(2000).default([]),
  })
  .strict()

export type Policy = z.output<typeof policySchema>
export type PolicyRule = z.output<typeof policyRuleSchema>

/** Parses and validates a policy (e.g. JSON from disk or the team server); throws a ZodError. */
export function parsePolicy(input: unknown): Policy {
  return policySchema.parse(input)
}

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
    const glob = m.path ? globToRegExp(m.path) : null
    const hit = input.parts.some(
      (p) =>
        (!m.command || p.program === m.command) &&
        (!m.subcommand || p.subcommand === m.subcommand) &&
        (!m.flag || p.flags.some((f) => f === m.flag || f.startsWith(m.flag + '='))) &&
        (!glob || p.targets.some((t) => glob.test(t) || glob.test(classifyPath(t).path))),
    )
    if (!hit) return false
  }
  return true
}

function globToRegExp(glob: string): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*'
      i++
      if (glob[i + 1] === '/') i++
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}
