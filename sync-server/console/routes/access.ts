import {
  consoleInputs,
  type ConsoleSession,
  type SessionsView,
  type TokenView,
} from '../../../contract/console'
import { isHttps, parseInput } from '../http'
import { endSession, liveSessions, sessionCookie } from '../sessions'
import { notFound, type ConsoleServices, type Route } from '../services'

/** Who is signed in, sign-out; tokens and open sessions (sync connections, console sessions). */
export function accessRoutes(s: ConsoleServices): Route[] {
  return [
    {
      method: 'GET',
      path: '/session',
      area: 'session',
      handler: async ({ session, req }): Promise<ConsoleSession> => ({
        team: session.team,
        user: session.user,
        role: session.role,
        csrf: session.csrf,
        expiresAt: session.expiresAt,
        syncUrl: `${s.publicUrl(req).replace(/^http/, 'ws')}/sync`,
      }),
    },
    {
      method: 'POST',
      path: '/signout',
      area: 'session',
      handler: async ({ session, res, req }) => {
        await s.deps.commit({
          run: async (tx) =>
            (await endSession(tx, session.team, session.id, s.now()))
              ? [
                  {
                    team: session.team,
                    kind: 'console.signout',
                    actor: session.user,
                    role: session.role,
                    data: { session: session.id },
                  },
                ]
              : [],
        })
        res.setHeader('set-cookie', sessionCookie('', 0, isHttps(req)))
        return { signedOut: true }
      },
    },
    {
      method: 'GET',
      path: '/tokens',
      area: 'tokens',
      handler: async ({ session }): Promise<{ tokens: TokenView[] }> => {
        const open = new Map<string, number>()
        for (const c of s.deps.connections())
          if (!c.closed) open.set(c.principal.jti, (open.get(c.principal.jti) ?? 0) + 1)
        const rows = await s.admin(session.user).tokenList({ team: session.team })
        return {
          tokens: rows
            .map((t) => ({
              jti: t.jti,
              user: t.user,
              role: t.role,
              label: t.label,
              createdAt: t.createdAt,
              expiresAt: t.expiresAt,
              revokedAt: t.revokedAt,
              status: t.status,
              connections: open.get(t.jti) ?? 0,
            }))
            .reverse(),
        }
      },
    },
    {
      method: 'POST',
      path: '/tokens/revoke',
      area: 'tokens',
      handler: async ({ session, body }) => {
        const { jti } = parseInput(consoleInputs.tokenRevoke, body)
        const token = (await s.admin(session.user).tokenList({ team: session.team })).find(
          (t) => t.jti === jti,
        )
        if (!token) throw notFound('token')
        return s.admin(session.user).tokenRevoke({ jti })
      },
    },
    {
      method: 'GET',
      path: '/sessions',
      area: 'tokens',
      handler: async ({ session }): Promise<SessionsView> => ({
        connections: s.deps
          .connections()
          .filter((c) => !c.closed && c.principal.team === session.team)
          .map((c) => ({
            id: c.id,
            user: c.principal.user,
            role: c.principal.role,
            room: c.ref.name,
            ip: c.principal.ip,
            openedAt: c.openedAt,
            readOnly: !c.canWrite,
            jti: c.principal.jti,
          })),
        console: (await liveSessions(s.deps.storage.sql, session.team, s.now())).map((x) => ({
          id: x.id,
          user: x.user,
          createdAt: x.createdAt,
          expiresAt: x.expiresAt,
          ip: x.ip,
          current: x.id === session.id,
        })),
      }),
    },
    {
      method: 'POST',
      path: '/sessions/end',
      area: 'tokens',
      handler: async ({ session, body }) => {
        const input = parseInput(consoleInputs.sessionEnd, body)
        if (input.connection !== undefined) {
          const conn = s.deps
            .connections()
            .find((c) => c.id === input.connection && c.principal.team === session.team)
          if (!conn) throw notFound('connection')
          // A connection is as good as its token: revoking it closes every connection using it.
          return s.admin(session.user).tokenRevoke({ jti: conn.principal.jti })
        }
        let ended = false
        await s.deps.commit({
          run: async (tx) => {
            ended = await endSession(tx, session.team, input.consoleSession!, s.now())
            return ended
              ? [
                  {
                    team: session.team,
                    kind: 'console.signout',
                    actor: session.user,
                    role: session.role,
                    data: { session: input.consoleSession, endedBy: session.user },
                  },
                ]
              : []
          },
        })
        if (!ended) throw notFound('console session')
        return { ended: true }
      },
    },
  ]
}
