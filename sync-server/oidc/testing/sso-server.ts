import { IDENTITY_PATHS, type MappingRule } from '../../../contract/identity'
import { createConsole } from '../../console'
import { createElevation, type ElevationService } from '../../elevation'
import type { ExtensionDeps } from '../../server'
import { freshDataDir, startTestServer, type TestServer } from '../../testing/harness'
import { createSso, type SsoExtension, type SsoOptions } from '..'
import type { TestIdp } from './test-idp'

/**
 * A team server with single sign-on and elevation on a fresh embedded data dir, signed in to a
 * test IdP, on a clock the test can move (`advance`).
 */
export interface SsoServer extends TestServer {
  base: string
  sso: SsoExtension
  elevation: ElevationService
  clock: { now(): number; advance(ms: number): void }
  /** Creates the team (if needed) and sets its claim mapping. */
  map(team: string, rules: MappingRule[]): Promise<void>
  /** POST form to the token endpoint. */
  grant(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }>
  /** A JSON call with a bearer token. */
  api(
    token: string,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>
}

export async function startSsoServer(
  root: string,
  name: string,
  idp: TestIdp,
  options: Partial<SsoOptions> & { dir?: string; startAt?: number; withConsole?: boolean } = {},
): Promise<SsoServer> {
  const { dir, startAt, withConsole, ...ssoOptions } = options
  let offset = (startAt ?? Date.now()) - Date.now()
  const clock = { now: () => Date.now() + offset, advance: (ms: number) => void (offset += ms) }
  let base = ''
  let sso: SsoExtension | null = null
  let elevation: ElevationService | null = null
  const server = await startTestServer({
    dir: dir ?? (await freshDataDir(root, name)),
    extensions: [
      (deps) =>
        (sso = createSso(deps, {
          issuer: idp.issuer,
          clientId: idp.clientId,
          clientSecret: idp.clientSecret,
          publicUrl: () => base,
          scopes: ['openid', 'email', 'profile', 'offline_access', 'groups'],
          // oidc-provider (like Google) grants offline access only with a consent prompt.
          extraAuthParams: { prompt: 'consent' },
          jwksCooldownMs: 0,
          now: clock.now,
          ...ssoOptions,
        })),
      (deps) => (elevation = createElevation(deps, { now: clock.now })),
      ...(withConsole
        ? [
            (deps: ExtensionDeps) =>
              createConsole(deps, { verifyEveryMs: 0, identity: () => ({ sso, elevation }) }),
          ]
        : []),
    ],
  })
  base = `http://127.0.0.1:${server.port}`
  await idp.configure({ redirectUris: [`${base}${IDENTITY_PATHS.callback}`] })
  const json = async (res: Response) => ({
    status: res.status,
    body: (await res.json().catch(() => ({}))) as Record<string, unknown>,
  })
  return {
    ...server,
    base,
    sso: sso!,
    elevation: elevation!,
    clock,
    async map(team, rules) {
      await server.admin.teamCreate({ team })
      await sso!.sessions.saveMapping(team, rules, 'test-admin')
    },
    grant: async (form) =>
      json(
        await fetch(`${base}${IDENTITY_PATHS.token}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(form).toString(),
        }),
      ),
    api: async (token, method, path, body) =>
      json(
        await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        }),
      ),
  }
}
