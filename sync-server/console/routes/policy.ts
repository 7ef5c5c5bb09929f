import { z } from 'zod'
import {
  consoleInputs,
  type PolicyView,
  type RoleVerdict,
  type SettingsView,
  type TryResult,
} from '../../../contract/console'
import { parsePolicy, type Policy } from '../../../contract/policy'
import {
  POLICY_ROOM,
  ROLES,
  readPolicyDocument,
  roomName,
  writePolicyDocument,
} from '../../../contract/sync'
import { readTeamTelemetry, writeTeamTelemetry } from '../../../contract/telemetry'
import { decide } from '../../../main/library/decide'
import { initSafety } from '../../../main/safety/analyze'
import { ConsoleError, parseInput } from '../http'
import type { ConsoleServices, Route, RouteCall } from '../services'
import { loadStoredDoc, selfSyncUrl, writeThroughSync } from '../sync-write'

/** The team policy (read, edit through sync, try a command per role) and team settings. */
export function policyRoutes(s: ConsoleServices): Route[] {
  const policyRoom = (team: string) => roomName(team, POLICY_ROOM)

  const readDoc = async <T>(team: string, fn: (doc: import('yjs').Doc) => T): Promise<T> => {
    const doc = await loadStoredDoc(s.deps.storage, policyRoom(team))
    try {
      return fn(doc)
    } finally {
      doc.destroy()
    }
  }

  const writeDoc = (call: RouteCall, change: (doc: import('yjs').Doc) => void) =>
    writeThroughSync({
      storage: s.deps.storage,
      admin: s.admin(call.session.user),
      syncUrl: selfSyncUrl(call.req),
      team: call.session.team,
      user: call.session.user,
      room: policyRoom(call.session.team),
      change,
    })

  const currentPolicy = (team: string): Promise<PolicyView> =>
    readDoc(team, (doc) => {
      const read = readPolicyDocument(doc)
      if (!read.ok) return { policy: null, updatedBy: null, updatedAt: null, error: read.error }
      return {
        policy: read.value.policy,
        updatedBy: read.value.updatedBy ?? null,
        updatedAt: read.value.updatedAt ?? null,
        error: null,
      }
    })

  return [
    {
      method: 'GET',
      path: '/policy',
      area: 'policyView',
      handler: ({ session }) => currentPolicy(session.team),
    },
    {
      method: 'POST',
      path: '/policy',
      area: 'policyEdit',
      handler: async (call) => {
        const { policy } = parseInput(consoleInputs.policySave, call.body)
        const parsed = validPolicy(policy)
        await writeDoc(call, (doc) => writePolicyDocument(doc, parsed, call.session.user))
        return currentPolicy(call.session.team)
      },
    },
    {
      method: 'POST',
      path: '/policy/try',
      area: 'policyView',
      handler: async ({ session, body }): Promise<TryResult> => {
        const input = parseInput(consoleInputs.policyTry, body)
        const policy =
          input.policy !== undefined
            ? validPolicy(input.policy)
            : (await currentPolicy(session.team)).policy
        await initSafety()
        const pattern = {
          id: 'console-try',
          title: 'try',
          description: '',
          command: input.command,
          parameters: [],
          tags: input.tags,
          author: session.user,
          createdAt: 0,
          updatedAt: 0,
        }
        let first: TryResult | null = null
        const roles: RoleVerdict[] = []
        for (const role of ROLES) {
          // The same decision the app makes for a team pattern: the engine, the team policy
          // with the member's role, pattern tags counting for rules.
          const { verdict, decision } = decide(pattern, input.command, {
            shell: input.shell,
            teamPolicy: policy ?? { version: 1, rules: [] },
            role,
            canRequestApproval: true,
          })
          first ??= {
            command: input.command,
            risk: verdict.risk,
            reasons: verdict.reasons.slice(0, 8).map((r) => ({
              ruleId: r.ruleId,
              risk: r.risk,
              message: r.message,
            })),
            roles,
          }
          roles.push({
            role,
            risk: verdict.risk,
            action: decision.action,
            ruleId: decision.ruleId ?? '',
            reason: decision.reason,
          })
        }
        return first!
      },
    },
    {
      method: 'GET',
      path: '/settings',
      area: 'settingsView',
      handler: async ({ session }): Promise<SettingsView> => ({
        telemetry: await readDoc(session.team, (doc) => readTeamTelemetry(doc)),
        retentionDays: (await s.deps.storage.getTeam(session.team))?.retentionDays ?? null,
      }),
    },
    {
      method: 'POST',
      path: '/settings/telemetry',
      area: 'settingsEdit',
      handler: async (call) => {
        const setting = parseInput(consoleInputs.telemetry, call.body)
        await writeDoc(call, (doc) => writeTeamTelemetry(doc, setting, call.session.user, s.now()))
        return readDoc(call.session.team, (doc) => readTeamTelemetry(doc))
      },
    },
    {
      method: 'POST',
      path: '/settings/retention',
      area: 'settingsEdit',
      handler: async ({ session, body }) => {
        const { days } = parseInput(consoleInputs.retention, body)
        const before = (await s.deps.storage.getTeam(session.team))?.retentionDays ?? null
        const result = await s.admin(session.user).auditRetention({ team: session.team, days })
        await s.record([
          {
            team: session.team,
            kind: 'settings.change',
            actor: session.user,
            role: session.role,
            data: {
              setting: 'audit.retentionDays',
              from: before,
              to: days,
              removed: result.removed,
            },
          },
        ])
        return result
      },
    },
  ]
}

function validPolicy(input: unknown): Policy {
  try {
    return parsePolicy(input)
  } catch (err) {
    const issues =
      err instanceof z.ZodError
        ? err.issues
            .slice(0, 5)
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ')
        : 'invalid'
    throw new ConsoleError(400, 'invalid_input', `invalid policy: ${issues}`)
  }
}
