import {
  DEFAULT_ELEVATION_MAX_MS,
  type Elevation,
  type ElevationRule,
} from '../../contract/identity'
import { roleAtLeast, type Role } from '../../contract/sync'

/**
 * What an elevation request needs under the team's rules: the first rule for this move (member
 * role → requested role) that is in force decides the longest duration and the approvals; with
 * none, one admin's approval and at most `DEFAULT_ELEVATION_MAX_MS`. A production request never
 * goes without a second person, whatever the rule says.
 */
export interface Requirement {
  rule: string
  maxMs: number
  approvalsNeeded: number
}

export function requirementFor(
  rules: readonly ElevationRule[],
  from: Role,
  to: Role,
  production: boolean,
  now: number,
): Requirement {
  const rule = rules.find(
    (r) => r.from === from && r.to === to && (r.until === undefined || r.until > now),
  )
  if (!rule) return { rule: 'default', maxMs: DEFAULT_ELEVATION_MAX_MS, approvalsNeeded: 1 }
  return {
    rule: `${rule.from}→${rule.to}${rule.note ? ` (${rule.note})` : ''}`.slice(0, 100),
    maxMs: rule.maxMinutes * 60_000,
    approvalsNeeded: production
      ? Math.max(rule.productionApprovals, rule.approvals, 1)
      : rule.approvals,
  }
}

/** Why a member may not ask for this role, or null. */
export function requestProblem(base: Role, wanted: Role): string | null {
  if (roleAtLeast(base, wanted)) return `you are ${base} already; ask for a higher role`
  return null
}

/** Why `approver` (with this member role) may not decide `e`, or null. */
export function decisionProblem(e: Elevation, approver: string, approverRole: Role): string | null {
  if (approverRole !== 'admin')
    return 'only admins of the team (by their own role) decide elevations'
  if (approver === e.user) return 'nobody approves their own elevation'
  if (e.approvals.some((a) => a.by === approver)) return 'you approved this request already'
  return null
}
