import { z } from 'zod'
import {
  ROLES,
  SERVER_AUDIT_CHAIN,
  roleAtLeast,
  teamNameSchema,
  type AuditCheckpoint,
  type Role,
} from '../../contract/sync'
import type { AuditLog, RetentionResult } from '../audit/audit-log'
import { verifyChain, type VerifyReport } from '../audit/chain'
import type { KeyPurpose, KeyRing } from '../auth/keys'
import { mintToken, parseDuration, userIdSchema } from '../auth/tokens'
import type { CommitEntry } from '../rooms/committer'
import type { Storage, TokenRow } from '../storage/storage'

export class AdminError extends Error {
  override name = 'AdminError'
}

export interface AdminDeps {
  storage: Storage
  keys: KeyRing
  audit: AuditLog
  /** Runs statements and audit records in one group commit (the server's, or a local one). */
  commit(entry: CommitEntry): Promise<void>
  /** Called after revocations, role changes and removals (the live server re-checks connections). */
  afterDirectoryChange?(): Promise<void>
}

const roleSchema = z.enum(ROLES)

export const adminInputs = {
  teamCreate: z.object({ team: teamNameSchema }).strict(),
  memberAdd: z.object({ team: teamNameSchema, user: userIdSchema, role: roleSchema }).strict(),
  memberSetRole: z.object({ team: teamNameSchema, user: userIdSchema, role: roleSchema }).strict(),
  memberRemove: z.object({ team: teamNameSchema, user: userIdSchema }).strict(),
  memberList: z.object({ team: teamNameSchema }).strict(),
  tokenCreate: z
    .object({
      team: teamNameSchema,
      user: userIdSchema,
      role: roleSchema,
      ttl: z.string().max(20).default('30d'),
      label: z.string().max(200).optional(),
    })
    .strict(),
  tokenList: z.object({ team: teamNameSchema.optional(), user: userIdSchema.optional() }).strict(),
  tokenRevoke: z
    .object({
      jti: z.string().min(8).max(64).optional(),
      team: teamNameSchema.optional(),
      user: userIdSchema.optional(),
    })
    .strict()
    .refine((v) => !!v.jti || (!!v.team && !!v.user), {
      message: 'give a token id, or --team and --user',
    }),
  keyRotate: z.object({ purpose: z.enum(['token', 'audit']) }).strict(),
  auditVerify: z
    .object({ team: z.string().max(100).optional(), checkpoint: z.unknown().optional() })
    .strict(),
  auditRetention: z
    .object({ team: teamNameSchema, days: z.number().int().min(1).max(36_500).nullable() })
    .strict(),
} as const

export type AdminInput<K extends keyof typeof adminInputs> = z.input<(typeof adminInputs)[K]>

/** A token row as listed (never the token itself: the server does not keep it). */
export type TokenInfo = TokenRow & { status: 'active' | 'revoked' | 'expired' }

/**
 * Team administration shared by the CLI (directly on a stopped data dir or a Postgres database)
 * and the running server (through its loopback control channel): every change is validated and
 * audited in the same commit as the change itself.
 */
export function createAdmin(deps: AdminDeps, actor: string) {
  const { storage, keys, audit } = deps
  const changed = () => deps.afterDirectoryChange?.() ?? Promise.resolve()

  const requireTeam = async (team: string) => {
    if (!(await storage.getTeam(team)))
      throw new AdminError(`No team "${team}": create it with \`team create\``)
  }

  const admin = {
    async teamCreate(input: AdminInput<'teamCreate'>) {
      const { team } = adminInputs.teamCreate.parse(input)
      let created = false
      await deps.commit({
        run: async (tx) => {
          created = await storage.createTeam(team, tx)
          return created ? [{ team, kind: 'team.create', actor, data: {} }] : []
        },
      })
      return { team, created }
    },

    async teamList() {
      return storage.listTeams()
    },

    async memberAdd(input: AdminInput<'memberAdd'>) {
      const { team, user, role } = adminInputs.memberAdd.parse(input)
      await requireTeam(team)
      if (await storage.getMember(team, user))
        throw new AdminError(`${user} is already a member of ${team}: use \`member set-role\``)
      await deps.commit({
        run: async (tx) => {
          await storage.upsertMember(team, user, role, tx)
          return [{ team, kind: 'member.add', actor, data: { user, role } }]
        },
      })
      return { team, user, role }
    },

    async memberSetRole(input: AdminInput<'memberSetRole'>) {
      const { team, user, role } = adminInputs.memberSetRole.parse(input)
      if (!(await storage.getMember(team, user)))
        throw new AdminError(`${user} is not a member of ${team}`)
      let previous: Role | null = null
      await deps.commit({
        run: async (tx) => {
          previous = await storage.upsertMember(team, user, role, tx)
          return [{ team, kind: 'member.set-role', actor, data: { user, role, previous } }]
        },
      })
      await changed()
      return { team, user, role, previous }
    },

    async memberRemove(input: AdminInput<'memberRemove'>) {
      const { team, user } = adminInputs.memberRemove.parse(input)
      let revoked: string[] = []
      await deps.commit({
        run: async (tx) => {
          if (!(await storage.removeMember(team, user, tx)))
            throw new AdminError(`${user} is not a member of ${team}`)
          const tokens = await storage.listTokens({ team, user }, tx)
          revoked = await storage.revokeTokens(
            tokens.map((t) => t.jti),
            Date.now(),
            tx,
          )
          return [{ team, kind: 'member.remove', actor, data: { user, revokedTokens: revoked } }]
        },
      })
      await changed()
      return { team, user, revokedTokens: revoked.length }
    },

    async memberList(input: AdminInput<'memberList'>) {
      const { team } = adminInputs.memberList.parse(input)
      await requireTeam(team)
      return storage.listMembers(team)
    },

    /**
     * Mints a token. A missing team or member is created on the way (audited), so a new server
     * needs one command to hand out its first token; an existing member's role is never raised
     * by a token request.
     */
    async tokenCreate(input: AdminInput<'tokenCreate'>) {
      const { team, user, role, ttl, label } = adminInputs.tokenCreate.parse(input)
      let ttlSeconds: number
      try {
        ttlSeconds = parseDuration(ttl)
      } catch (err) {
        throw new AdminError((err as Error).message)
      }
      const member = await storage.getMember(team, user)
      if (member && !roleAtLeast(member.role, role))
        throw new AdminError(
          `${user} is ${member.role} in ${team}; a ${role} token needs \`member set-role\` first`,
        )
      const notes: string[] = []
      let token = ''
      let row: TokenRow | null = null
      await deps.commit({
        run: async (tx) => {
          const drafts = []
          if (await storage.createTeam(team, tx)) {
            notes.push(`created team ${team}`)
            drafts.push({ team, kind: 'team.create' as const, actor, data: {} })
          }
          if (!(await storage.getMember(team, user, tx))) {
            await storage.upsertMember(team, user, role, tx)
            notes.push(`added ${user} to ${team} as ${role}`)
            drafts.push({ team, kind: 'member.add' as const, actor, data: { user, role } })
          }
          const minted = await mintToken(
            keys,
            storage,
            { team, user, role, ttlSeconds, label: label ?? null },
            tx,
          )
          token = minted.token
          row = minted.row
          drafts.push({
            team,
            kind: 'token.create' as const,
            actor,
            data: {
              jti: minted.row.jti,
              user,
              role,
              expiresAt: new Date(minted.row.expiresAt).toISOString(),
              kid: minted.row.kid,
            },
          })
          return drafts
        },
      })
      return { token, info: row! as TokenRow, notes }
    },

    async tokenList(input: AdminInput<'tokenList'>): Promise<TokenInfo[]> {
      const filter = adminInputs.tokenList.parse(input)
      const now = Date.now()
      return (await storage.listTokens(filter)).map((t) => ({
        ...t,
        status: t.revokedAt !== null ? 'revoked' : t.expiresAt <= now ? 'expired' : 'active',
      }))
    },

    async tokenRevoke(input: AdminInput<'tokenRevoke'>) {
      const { jti, team, user } = adminInputs.tokenRevoke.parse(input)
      const targets = jti
        ? [await storage.getToken(jti)].filter((t): t is TokenRow => !!t)
        : await storage.listTokens({ team, user })
      if (targets.length === 0)
        throw new AdminError(jti ? `No token ${jti}` : `No tokens for ${user} in ${team}`)
      let revoked: string[] = []
      await deps.commit({
        run: async (tx) => {
          revoked = await storage.revokeTokens(
            targets.map((t) => t.jti),
            Date.now(),
            tx,
          )
          const byJti = new Map(targets.map((t) => [t.jti, t]))
          return revoked.map((j) => ({
            team: byJti.get(j)!.team,
            kind: 'token.revoke' as const,
            actor,
            data: { jti: j, user: byJti.get(j)!.user },
          }))
        },
      })
      await changed()
      return { revoked }
    },

    async keyRotate(input: AdminInput<'keyRotate'>) {
      const { purpose } = adminInputs.keyRotate.parse(input)
      let kid = ''
      await deps.commit({
        run: async (tx) => {
          kid = await keys.rotate(purpose as KeyPurpose, tx)
          return [{ team: SERVER_AUDIT_CHAIN, kind: 'key.rotate', actor, data: { purpose, kid } }]
        },
      })
      return { purpose, kid }
    },

    async keyList() {
      await keys.reload()
      return keys.list()
    },

    /** Verifies one team's chain (or all), against stored checkpoints and one the caller kept. */
    async auditVerify(input: AdminInput<'auditVerify'>): Promise<VerifyReport[]> {
      const { team, checkpoint } = adminInputs.auditVerify.parse(input)
      const external = checkpoint as AuditCheckpoint | undefined
      const teams = team ? [team] : external ? [external.team] : await audit.teams()
      const reports: VerifyReport[] = []
      for (const t of teams) {
        let stored: AuditCheckpoint[]
        try {
          stored = await audit.checkpoints(t)
        } catch (err) {
          reports.push({
            team: t,
            ok: false,
            records: 0,
            firstSeq: null,
            head: null,
            checkpointsChecked: 0,
            problem: { where: 'checkpoints', reason: (err as Error).message },
          })
          continue
        }
        const cps = external && external.team === t ? [...stored, external] : stored
        reports.push(await verifyChain(t, audit.lines(t), cps, (kid) => keys.publicKey(kid)))
      }
      return reports
    },

    /** Sets a team's retention (days; null keeps everything) and applies it now. */
    async auditRetention(input: AdminInput<'auditRetention'>): Promise<RetentionResult> {
      const { team, days } = adminInputs.auditRetention.parse(input)
      await requireTeam(team)
      await storage.setRetention(team, days)
      if (days === null) return { team, removed: 0, segments: [], keptFromSeq: null }
      return audit.retain(team, Date.now() - days * 86_400_000, actor)
    },

    /** Applies every team's retention (the server runs this periodically). */
    async applyRetention(): Promise<RetentionResult[]> {
      const out: RetentionResult[] = []
      for (const t of await storage.listTeams())
        if (t.retentionDays)
          out.push(await audit.retain(t.name, Date.now() - t.retentionDays * 86_400_000, 'system'))
      return out
    },
  }
  return admin
}

export type Admin = ReturnType<typeof createAdmin>
