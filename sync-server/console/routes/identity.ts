import { mappingSchema, type Elevation, type MappingRule } from '../../../contract/identity'
import type { ElevationActor } from '../../elevation'
import { ConsoleError, parseInput } from '../http'
import type { ConsoleServices, Route, RouteCall } from '../services'

/**
 * Single sign-on and elevation in the console (issue 13): whether the server signs in with an
 * IdP, the claim-to-role mapping (admins), elevations (admins see and decide the team's, others
 * their own, as on the bearer API) and the team's elevation rules. The services are the server's
 * own (`oidc/`, `elevation/`): the same checks and audit records whichever way a change comes.
 */
export function identityRoutes(s: ConsoleServices): Route[] {
  const sso = () => s.options.identity?.().sso ?? null
  const elevation = () => {
    const e = s.options.identity?.().elevation
    if (!e) throw new ConsoleError(503, 'unavailable', 'elevation is not enabled on this server')
    return e
  }
  // The session's role is the member's own (never an elevation): that decides here.
  const actor = (c: RouteCall): ElevationActor => ({
    team: c.session.team,
    user: c.session.user,
    memberRole: c.session.role,
  })
  return [
    {
      method: 'GET',
      path: '/identity/config',
      area: 'session',
      handler: async () => {
        const x = sso()
        return x ? { sso: true, issuer: x.idp.issuer } : { sso: false }
      },
    },
    {
      method: 'GET',
      path: '/identity/mapping',
      area: 'members',
      handler: async ({ session }): Promise<{ rules: MappingRule[] }> => {
        const x = sso()
        if (!x) throw new ConsoleError(503, 'unavailable', 'single sign-on is not configured')
        return { rules: await x.sessions.mapping(session.team) }
      },
    },
    {
      method: 'POST',
      path: '/identity/mapping',
      area: 'members',
      handler: async ({ session, body }): Promise<{ rules: MappingRule[] }> => {
        const x = sso()
        if (!x) throw new ConsoleError(503, 'unavailable', 'single sign-on is not configured')
        const { rules } = parseInput(mappingSchema, body)
        await x.sessions.saveMapping(session.team, rules, session.user)
        return { rules }
      },
    },
    {
      method: 'GET',
      path: '/identity/elevations',
      area: 'session',
      handler: async (c): Promise<{ elevations: Elevation[] }> => ({
        elevations: await elevation().list(actor(c)),
      }),
    },
    {
      method: 'POST',
      path: '/identity/elevations',
      area: 'session',
      handler: (c) => elevation().request(actor(c), c.body as never),
    },
    {
      method: 'POST',
      path: '/identity/elevations/:id/decision',
      area: 'session',
      handler: (c) => elevation().decide(actor(c), c.params.id!, c.body as never),
    },
    {
      method: 'POST',
      path: '/identity/elevations/:id/end',
      area: 'session',
      handler: (c) => {
        const comment = (c.body as { comment?: unknown } | null)?.comment
        return elevation().end(actor(c), c.params.id!, typeof comment === 'string' ? comment : '')
      },
    },
    {
      method: 'GET',
      path: '/identity/elevation-policy',
      area: 'session',
      handler: async ({ session }) => ({ rules: await elevation().policy(session.team) }),
    },
    {
      method: 'POST',
      path: '/identity/elevation-policy',
      area: 'members',
      handler: async (c) => ({ rules: await elevation().savePolicy(actor(c), c.body) }),
    },
  ]
}
