import { randomBytes } from 'node:crypto'
import { CmdaiError } from '../../contract/errors'
import type { TeamIdentity } from '../../contract/identity'
import { roomName } from '../../contract/sync'
import type { RequestContext, Router } from '../ipc/router'
import { endElevation, requestElevation, whoAmI } from './elevation-http'
import { normaliseServer } from './hub'
import type { Libraries } from './open'
import { revokeSession, ssoConfig, startLoopbackSignIn, type LoopbackSignIn } from './sso-client'

/**
 * The `identity:*` requests: signing in to a team server with its IdP (RFC 8252: the renderer
 * opens the URL in the system browser, or a new tab in browser mode; the browser comes back to a
 * loopback listener here), the effective role and elevation per team, asking for an elevation,
 * ending it and signing out. Over the control socket (local programs, coding agents) only the
 * status answers: nothing there may sign in, raise a role or sign out on the user's behalf.
 */
const MAX_FLOWS = 4

export function registerIdentityHandlers(
  router: Router,
  ready: () => Promise<Libraries>,
): () => void {
  const flows = new Map<string, { server: string; signIn: LoopbackSignIn }>()

  const userOnly = (ctx: RequestContext, what: string) => {
    if (ctx.transport === 'control')
      throw new CmdaiError('forbidden', `Only the app's own windows can ${what}`)
  }

  /** The server and a valid token of a team the app holds credentials for. */
  async function endpointOf(l: Libraries, team: string) {
    const cred = l.credentials.list().find((c) => c.team === team)
    if (!cred) throw new CmdaiError('not_found', `Not signed in to ${team}`)
    const token = await l.sessions.freshToken(cred.server, team)
    if (!token) throw new CmdaiError('forbidden', `The sign-in to ${team} has ended: sign in again`)
    return { server: cred.server, token }
  }

  router.handle('identity:signIn', async ({ server, team }, ctx) => {
    userOnly(ctx, 'sign in')
    const base = normaliseServer(server)
    const config = await ssoConfig(base)
    if (!config.enabled)
      throw new CmdaiError(
        'unavailable',
        'This team server does not sign in with an identity provider: join with a token',
      )
    if (flows.size >= MAX_FLOWS) {
      const [oldest] = flows.keys()
      flows.get(oldest!)?.signIn.cancel()
      flows.delete(oldest!)
    }
    const signIn = await startLoopbackSignIn(base, team ? { team } : {})
    const flow = randomBytes(16).toString('base64url')
    flows.set(flow, { server: base, signIn })
    void signIn.result
      .catch(() => {})
      .finally(() => {
        // Kept a minute after it settles so `signInWait` can still read it.
        setTimeout(() => flows.delete(flow), 60_000).unref()
      })
    return { flow, url: signIn.url }
  })

  router.handle('identity:signInWait', async ({ flow, library }, ctx) => {
    userOnly(ctx, 'sign in')
    const f = flows.get(flow)
    if (!f) throw new CmdaiError('not_found', 'No such sign-in (it ended or was cancelled)')
    const tokens = await f.signIn.result
    const l = await ready()
    let joined: string | null = null
    if (library) {
      // Joining stores the token as a hand-given one; the session (with its refresh) replaces it.
      await l.hub.join(f.server, tokens.access_token, library)
      joined = roomName(tokens.team, library)
    }
    l.credentials.setSession(f.server, tokens.team, tokens.access_token, tokens.refresh_token)
    l.sessions.schedule(f.server, tokens.team)
    l.hub.tokenChanged(f.server, tokens.team)
    flows.delete(flow)
    return { team: tokens.team, user: tokens.user, role: tokens.role, library: joined }
  })

  router.handle('identity:cancel', ({ flow }) => {
    flows.get(flow)?.signIn.cancel()
    flows.delete(flow)
    return null
  })

  router.handle('identity:status', async () => {
    const l = await ready()
    const seen = new Set<string>()
    const teams: TeamIdentity[] = []
    for (const c of l.credentials.list()) {
      const key = `${c.server}\u0000${c.team}`
      if (seen.has(key)) continue
      seen.add(key)
      const entry: TeamIdentity = { server: c.server, team: c.team, sso: !!c.refresh, view: null }
      try {
        const token = await l.sessions.freshToken(c.server, c.team)
        if (!token) throw new CmdaiError('forbidden', 'signed out: sign in again')
        entry.view = await whoAmI({ server: c.server, token })
      } catch (err) {
        entry.error = (err as Error).message
      }
      teams.push(entry)
    }
    return { teams }
  })

  router.handle('identity:elevate', async ({ team, ...request }, ctx) => {
    userOnly(ctx, 'ask for a higher role')
    const l = await ready()
    return requestElevation(await endpointOf(l, team), request)
  })

  router.handle('identity:endElevation', async ({ team, id }, ctx) => {
    userOnly(ctx, 'end an elevation')
    const l = await ready()
    return endElevation(await endpointOf(l, team), id)
  })

  router.handle('identity:signOut', async ({ team }, ctx) => {
    userOnly(ctx, 'sign out')
    const l = await ready()
    for (const c of l.credentials.list().filter((x) => x.team === team)) {
      if (c.refresh) await revokeSession(c.server, c.refresh).catch(() => {})
      l.credentials.remove(c.server, team)
      l.hub.signedOut(c.server, team, 'signed out')
    }
    return null
  })

  return () => {
    for (const f of flows.values()) f.signIn.cancel()
    flows.clear()
  }
}
