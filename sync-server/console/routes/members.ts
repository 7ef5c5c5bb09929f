import { createHash, randomBytes } from 'node:crypto'
import {
  consoleInputs,
  type InviteCreated,
  type InviteRedeemed,
  type InviteView,
  type MemberView,
} from '../../../contract/console'
import type { Role } from '../../../contract/sync'
import { AdminError } from '../../admin/admin'
import { mintToken } from '../../auth/tokens'
import { ConsoleError, parseInput } from '../http'
import { notFound, type ConsoleServices, type Route } from '../services'

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

/** Members and their roles, and invite links (a role and an expiry; one use). */
export function memberRoutes(s: ConsoleServices): Route[] {
  const admins = async (team: string) =>
    (await s.deps.storage.listMembers(team)).filter((m) => m.role === 'admin').map((m) => m.user)

  return [
    {
      method: 'GET',
      path: '/members',
      area: 'members',
      handler: async ({ session }): Promise<{ members: MemberView[] }> => {
        const now = s.now()
        const tokens = await s.deps.storage.listTokens({ team: session.team })
        const online = new Map<string, number>()
        for (const c of s.deps.connections())
          if (!c.closed && c.principal.team === session.team)
            online.set(c.principal.user, (online.get(c.principal.user) ?? 0) + 1)
        return {
          members: (await s.deps.storage.listMembers(session.team)).map((m) => ({
            user: m.user,
            role: m.role,
            createdAt: m.createdAt,
            updatedAt: m.updatedAt,
            activeTokens: tokens.filter(
              (t) => t.user === m.user && t.revokedAt === null && t.expiresAt > now,
            ).length,
            online: online.get(m.user) ?? 0,
          })),
        }
      },
    },
    {
      method: 'POST',
      path: '/members/role',
      area: 'members',
      handler: async ({ session, body }) => {
        const { user, role } = parseInput(consoleInputs.memberRole, body)
        if (!(await s.deps.storage.getMember(session.team, user))) throw notFound('member')
        const list = await admins(session.team)
        if (role !== 'admin' && list.length === 1 && list[0] === user)
          throw new ConsoleError(409, 'conflict', `${user} is the team's only admin`)
        return guard(() => s.admin(session.user).memberSetRole({ team: session.team, user, role }))
      },
    },
    {
      method: 'POST',
      path: '/members/remove',
      area: 'members',
      handler: async ({ session, body }) => {
        const { user } = parseInput(consoleInputs.memberRemove, body)
        if (!(await s.deps.storage.getMember(session.team, user))) throw notFound('member')
        const list = await admins(session.team)
        if (list.length === 1 && list[0] === user)
          throw new ConsoleError(409, 'conflict', `${user} is the team's only admin`)
        return guard(() => s.admin(session.user).memberRemove({ team: session.team, user }))
      },
    },
    {
      method: 'GET',
      path: '/invites',
      area: 'members',
      handler: async ({ session }): Promise<{ invites: InviteView[] }> => {
        const r = await s.deps.storage.sql.query<Record<string, unknown>>(
          'SELECT * FROM console_invites WHERE team = $1 ORDER BY created_at DESC LIMIT 500',
          [session.team],
        )
        return { invites: r.rows.map((row) => inviteView(row, s.now())) }
      },
    },
    {
      method: 'POST',
      path: '/invites',
      area: 'members',
      handler: async ({ session, body, req }): Promise<InviteCreated> => {
        const input = parseInput(consoleInputs.inviteCreate, body)
        const code = randomBytes(32).toString('base64url')
        const id = randomBytes(9).toString('base64url')
        const now = s.now()
        const expiresAt = now + input.hours * 3600_000
        await s.deps.commit({
          run: async (tx) => {
            await tx.query(
              `INSERT INTO console_invites (id, code_hash, team, role, token_days, note, created_by, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
              [
                id,
                sha256(code),
                session.team,
                input.role,
                input.tokenDays,
                s.deps.redact(input.note),
                session.user,
                now,
                expiresAt,
              ],
            )
            return [
              {
                team: session.team,
                kind: 'invite.create',
                actor: session.user,
                role: session.role,
                data: {
                  invite: id,
                  role: input.role,
                  expiresAt: new Date(expiresAt).toISOString(),
                  tokenDays: input.tokenDays,
                },
              },
            ]
          },
        })
        const row = await s.deps.storage.sql.query<Record<string, unknown>>(
          'SELECT * FROM console_invites WHERE id = $1',
          [id],
        )
        return {
          invite: inviteView(row.rows[0]!, s.now()),
          // The code rides in the fragment: browsers never send it to a server or a log.
          link: `${s.publicUrl(req)}/admin/#/join/${code}`,
        }
      },
    },
    {
      method: 'POST',
      path: '/invites/revoke',
      area: 'members',
      handler: async ({ session, body }) => {
        const { id } = parseInput(consoleInputs.inviteRevoke, body)
        let done = false
        await s.deps.commit({
          run: async (tx) => {
            const r = await tx.query(
              `UPDATE console_invites SET revoked_at = $3
               WHERE id = $1 AND team = $2 AND revoked_at IS NULL AND used_at IS NULL RETURNING id`,
              [id, session.team, s.now()],
            )
            done = r.rows.length === 1
            return done
              ? [
                  {
                    team: session.team,
                    kind: 'invite.revoke',
                    actor: session.user,
                    role: session.role,
                    data: { invite: id },
                  },
                ]
              : []
          },
        })
        if (!done) throw notFound('open invite')
        return { revoked: true }
      },
    },
  ]
}

/**
 * Public: the invitee trades an invite code for membership and a token, choosing a user id that
 * is not yet taken in the team. The invite is spent, the member added and the token minted in
 * one commit, with their audit records.
 */
export async function redeemInvite(
  s: ConsoleServices,
  body: unknown,
  base: string,
): Promise<InviteRedeemed> {
  const { code, user } = parseInput(consoleInputs.inviteRedeem, body)
  const now = s.now()
  let outcome: InviteRedeemed | 'taken' | null = null
  const keys = s.deps.keys
  await s.deps.commit({
    run: async (tx) => {
      const r = await tx.query<Record<string, unknown>>(
        `SELECT * FROM console_invites WHERE code_hash = $1 AND used_at IS NULL
           AND revoked_at IS NULL AND expires_at > $2 FOR UPDATE`,
        [sha256(code), now],
      )
      const invite = r.rows[0]
      if (!invite) return []
      const team = String(invite.team)
      const role = String(invite.role) as Role
      if (await s.deps.storage.getMember(team, user, tx)) {
        outcome = 'taken'
        return []
      }
      await tx.query('UPDATE console_invites SET used_at = $2, used_by = $3 WHERE id = $1', [
        invite.id,
        now,
        user,
      ])
      await s.deps.storage.upsertMember(team, user, role, tx)
      const minted = await mintToken(
        keys,
        s.deps.storage,
        {
          team,
          user,
          role,
          ttlSeconds: Number(invite.token_days) * 86_400,
          label: `invite ${String(invite.id)}`,
        },
        tx,
      )
      outcome = {
        team,
        user,
        role,
        token: minted.token,
        expiresAt: minted.row.expiresAt,
        server: base,
      }
      const actor = user
      return [
        { team, kind: 'invite.redeem', actor, role, data: { invite: invite.id, user, role } },
        { team, kind: 'member.add', actor, data: { user, role, invite: invite.id } },
        {
          team,
          kind: 'token.create',
          actor,
          data: {
            jti: minted.row.jti,
            user,
            role,
            expiresAt: new Date(minted.row.expiresAt).toISOString(),
            kid: minted.row.kid,
          },
        },
      ]
    },
  })
  if (outcome === 'taken')
    throw new ConsoleError(409, 'conflict', `"${user}" is taken in this team: choose another id`)
  if (!outcome) throw new ConsoleError(404, 'not_found', 'this invite is unknown, used or expired')
  return outcome
}

function inviteView(r: Record<string, unknown>, now: number): InviteView {
  const usedAt = r.used_at === null ? null : Number(r.used_at)
  const status =
    r.revoked_at !== null
      ? 'revoked'
      : usedAt !== null
        ? 'used'
        : Number(r.expires_at) <= now
          ? 'expired'
          : 'open'
  return {
    id: String(r.id),
    role: String(r.role) as Role,
    note: String(r.note),
    createdBy: String(r.created_by),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    status,
    usedBy: r.used_by === null ? null : String(r.used_by),
    usedAt,
  }
}

/** Admin errors (not a member, …) as 400s with their message. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof AdminError) throw new ConsoleError(400, 'invalid_input', err.message)
    if (err instanceof Error && err.name === 'ZodError')
      throw new ConsoleError(400, 'invalid_input', 'invalid input')
    throw err
  }
}

export { guard as adminGuard }
