import { createHash, randomBytes } from 'node:crypto'
import { IDENTITY_PATHS } from '../../../contract/identity'
import { UserAgent, type Page } from './user-agent'

/**
 * Sign-in journeys through the test IdP's own pages (login, then consent), as a person in a
 * browser would go: used by the server's tests and the app's and the CLI's.
 */

/** Goes through whatever IdP pages come (login with `user`, consent, device confirmation). */
export async function throughIdp(
  ua: UserAgent,
  first: Page,
  user: string,
  stop?: (url: URL) => boolean,
): Promise<Page> {
  let page = first
  for (let i = 0; i < 8 && page.location === null && /<form\b/i.test(page.html); i++) {
    if (page.html.includes('name="login"'))
      page = await ua.submit(page, { login: user, password: 'any password' }, stop)
    else if (page.html.includes('op.deviceConfirmForm'))
      page = await ua.submit(page, {}, stop, 'op.deviceConfirmForm')
    else page = await ua.submit(page, {}, stop)
  }
  return page
}

export interface PkcePair {
  verifier: string
  challenge: string
}

export function pkcePair(): PkcePair {
  const verifier = randomBytes(48).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/**
 * An app-style sign-in: the authorize URL with PKCE and a loopback redirect, through the IdP,
 * stopping where the browser would reach the loopback address. Returns that address.
 */
export async function appSignIn(
  base: string,
  user: string,
  options: { redirect?: string; team?: string; ua?: UserAgent; state?: string } = {},
): Promise<{ landing: URL; pkce: PkcePair; redirect: string; state: string; page: Page }> {
  const redirect = options.redirect ?? 'http://127.0.0.1:9/callback'
  const pkce = pkcePair()
  const state = options.state ?? randomBytes(16).toString('base64url')
  const url = new URL(`${base}${IDENTITY_PATHS.authorize}`)
  url.searchParams.set('redirect_uri', redirect)
  url.searchParams.set('state', state)
  url.searchParams.set('code_challenge', pkce.challenge)
  url.searchParams.set('code_challenge_method', 'S256')
  if (options.team) url.searchParams.set('team', options.team)
  const ua = options.ua ?? new UserAgent()
  const stop = (u: URL) => u.href.startsWith(redirect)
  const page = await throughIdp(ua, await ua.open(url.href, {}, stop), user, stop)
  if (!page.location?.startsWith(redirect))
    throw new Error(
      `sign-in did not come back to the app: ${page.status} ${page.html.slice(0, 300)}`,
    )
  return { landing: new URL(page.location), pkce, redirect, state, page }
}
