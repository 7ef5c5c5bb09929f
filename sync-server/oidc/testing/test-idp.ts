import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import Provider from 'oidc-provider'
import { DEVICE_GRANT } from '../../../contract/identity'

/**
 * A real OpenID provider for tests (`oidc-provider`, with its own login and consent pages) on
 * 127.0.0.1. Users sign in with any name and password; their email is `<name>@example.com` and
 * their groups are what the test sets (`setGroups`), read again at every token and refresh, so a
 * group change shows at the next refresh. `rotateKeys` starts signing with a new key, keeping the
 * old one in the JWKS (or not), as a real IdP rotates.
 */
export interface TestIdp {
  issuer: string
  clientId: string
  clientSecret: string
  /** Registers the relying party's redirect URIs (the provider is rebuilt with them). */
  configure(options: { redirectUris: string[]; deviceFlow?: boolean }): Promise<void>
  setGroups(user: string, groups: string[]): void
  /** A new signing key; the old one stays published unless `dropOld`. */
  rotateKeys(options?: { dropOld?: boolean }): Promise<void>
  /** The current signing key (tests forge tokens with it). */
  signingKey(): { privateJwk: JWK; kid: string }
  close(): Promise<void>
}

interface KeyPair {
  privateJwk: JWK
  kid: string
}

async function newKey(n: number): Promise<KeyPair> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const privateJwk = await exportJWK(privateKey)
  const kid = `test-key-${n}-${Date.now()}`
  return { privateJwk: { ...privateJwk, kid, alg: 'RS256', use: 'sig' }, kid }
}

export async function startTestIdp(): Promise<TestIdp> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | null = null
  const server: Server = createServer((req, res) => {
    if (handler) handler(req, res)
    else res.writeHead(503).end('not configured')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const issuer = `http://127.0.0.1:${port}`
  const clientId = 'cmdai-sync'
  const clientSecret = 'test-client-secret-that-is-long-enough'
  const groups = new Map<string, string[]>()
  let keys: KeyPair[] = [await newKey(1)]
  let redirectUris: string[] = []
  let deviceFlow = true

  const build = () => {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: redirectUris,
          grant_types: [
            'authorization_code',
            'refresh_token',
            ...(deviceFlow ? [DEVICE_GRANT] : []),
          ],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
          client_name: 'cmdai team server',
        },
      ],
      jwks: { keys: keys.map((k) => k.privateJwk as Record<string, unknown>) },
      features: {
        devInteractions: { enabled: true },
        deviceFlow: { enabled: deviceFlow },
        revocation: { enabled: true },
      },
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['preferred_username', 'name'],
        groups: ['groups'],
      },
      scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
      // The groups claim in the ID token itself (as Okta's and Keycloak's group mappers do).
      conformIdTokenClaims: false,
      findAccount: async (_ctx: unknown, id: string) => ({
        accountId: id,
        claims: () => ({
          sub: id,
          email: `${id}@example.com`,
          email_verified: true,
          preferred_username: id,
          name: id,
          groups: groups.get(id) ?? [],
        }),
      }),
      ttl: {
        AccessToken: 3600,
        AuthorizationCode: 60,
        IdToken: 3600,
        RefreshToken: 86_400,
        DeviceCode: 600,
        Interaction: 600,
        Session: 3600,
        Grant: 86_400,
      },
      cookies: { keys: ['test-cookie-key-0123456789'] },
      rotateRefreshToken: true,
    })
    handler = provider.callback()
  }

  return {
    issuer,
    clientId,
    clientSecret,
    async configure(o) {
      redirectUris = o.redirectUris
      deviceFlow = o.deviceFlow ?? true
      build()
    },
    setGroups(user, g) {
      groups.set(user, g)
    },
    async rotateKeys(o = {}) {
      const next = await newKey(keys.length + 1)
      keys = o.dropOld ? [next] : [next, ...keys]
      build()
    },
    signingKey: () => keys[0]!,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
