import * as client from 'openid-client'
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose'
import { DEVICE_GRANT } from '../../contract/identity'
import { allowedAlgorithms, verifyIdToken, type IdTokenClaims } from './id-token'

/**
 * The server's client of the identity provider, through openid-client: discovery (cached, fetched
 * again after a day or after a failure), the authorization URL with PKCE, state and nonce, the
 * code exchange, the device authorization grant (relayed for the CLI), refreshes and revocation.
 * Every ID token that comes back is checked again by `verifyIdToken` with our own clock and the
 * IdP's JWKS (openid-client trusts the TLS channel for tokens from the token endpoint and checks
 * no signature there; we check it anyway, so a key rotation or a tampered token shows).
 */
export interface IdpOptions {
  issuer: string
  clientId: string
  clientSecret?: string
  scopes: readonly string[]
  /** Added to the authorization request (e.g. `prompt=consent`, Google's `access_type=offline`). */
  extraAuthParams: Readonly<Record<string, string>>
  clockToleranceSeconds: number
  /** Least time between two JWKS fetches for an unknown key id (jose's cooldown). */
  jwksCooldownMs: number
  timeoutMs: number
  now(): number
}

export class IdpError extends Error {
  override name = 'IdpError'
  constructor(
    /** `invalid_grant` and `access_denied` end a session; `unavailable` is transient. */
    readonly kind: 'invalid_grant' | 'access_denied' | 'unavailable' | 'invalid_token',
    message: string,
  ) {
    super(message)
  }
}

export interface IdpIdentity {
  subject: string
  /** ID token claims, with userinfo's added where the ID token lacks them. */
  claims: Record<string, unknown>
  /** The IdP's refresh token, when it gave one (offline access). */
  refreshToken: string | null
}

export type DevicePoll =
  | { status: 'done'; identity: IdpIdentity }
  | { status: 'pending'; slowDown: boolean }
  | { status: 'failed'; error: 'access_denied' | 'expired_token'; description: string }

interface Discovered {
  config: client.Configuration
  keys: JWTVerifyGetKey
  algorithms: string[]
  at: number
}

const REDISCOVER_MS = 24 * 3600_000

export class IdentityProvider {
  private discovered: Promise<Discovered> | null = null

  constructor(private readonly options: IdpOptions) {}

  get issuer(): string {
    return this.options.issuer
  }

  /** The discovered configuration (fetched on first use, again after a day or a failure). */
  private async discover(): Promise<Discovered> {
    const cached = this.discovered
    if (cached) {
      const d = await cached.catch(() => null)
      if (d && Date.now() - d.at < REDISCOVER_MS) return d
    }
    const attempt = this.fetchDiscovery()
    this.discovered = attempt
    attempt.catch(() => {
      if (this.discovered === attempt) this.discovered = null
    })
    return attempt
  }

  private async fetchDiscovery(): Promise<Discovered> {
    const o = this.options
    const insecure = isLoopbackHttp(o.issuer)
    let config: client.Configuration
    try {
      // openid-client checks ID token claims with its clock; ours (injectable) is checked after.
      const metadata: Partial<client.ClientMetadata> = {
        ...(o.clientSecret ? { client_secret: o.clientSecret } : {}),
        [client.clockTolerance]: o.clockToleranceSeconds,
      }
      config = await client.discovery(
        new URL(o.issuer),
        o.clientId,
        metadata,
        o.clientSecret ? client.ClientSecretBasic(o.clientSecret) : client.None(),
        {
          timeout: o.timeoutMs / 1000,
          ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
        },
      )
    } catch (err) {
      throw new IdpError('unavailable', `discovery at ${o.issuer} failed: ${message(err)}`)
    }
    const meta = config.serverMetadata()
    if (!meta.jwks_uri) throw new IdpError('unavailable', 'the IdP announces no jwks_uri')
    const jwksUrl = new URL(meta.jwks_uri)
    if (jwksUrl.protocol !== 'https:' && !isLoopbackHttp(meta.jwks_uri))
      throw new IdpError('unavailable', 'the IdP’s jwks_uri is not https')
    return {
      config,
      keys: createRemoteJWKSet(jwksUrl, {
        cooldownDuration: o.jwksCooldownMs,
        cacheMaxAge: 10 * 60_000,
        timeoutDuration: o.timeoutMs,
      }),
      algorithms: allowedAlgorithms(meta.id_token_signing_alg_values_supported),
      at: Date.now(),
    }
  }

  async deviceFlowSupported(): Promise<boolean> {
    const d = await this.discover().catch(() => null)
    return !!d?.config.serverMetadata().device_authorization_endpoint
  }

  async authorizationUrl(input: {
    redirectUri: string
    state: string
    nonce: string
    verifier: string
  }): Promise<URL> {
    const { config } = await this.discover()
    return client.buildAuthorizationUrl(config, {
      ...this.options.extraAuthParams,
      redirect_uri: input.redirectUri,
      scope: this.options.scopes.join(' '),
      response_type: 'code',
      state: input.state,
      nonce: input.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(input.verifier),
      code_challenge_method: 'S256',
    })
  }

  /** Trades the code in the callback URL (state, PKCE verifier and nonce checked). */
  async exchangeCode(
    callback: URL,
    checks: { state: string; nonce: string; verifier: string },
  ): Promise<IdpIdentity> {
    const d = await this.discover()
    let tokens: client.TokenEndpointResponse
    try {
      tokens = await client.authorizationCodeGrant(d.config, callback, {
        expectedState: checks.state,
        expectedNonce: checks.nonce,
        pkceCodeVerifier: checks.verifier,
        idTokenExpected: true,
      })
    } catch (err) {
      throw classify(err)
    }
    return this.identity(d, tokens, { nonce: checks.nonce })
  }

  async startDevice(): Promise<client.DeviceAuthorizationResponse> {
    const d = await this.discover()
    if (!d.config.serverMetadata().device_authorization_endpoint)
      throw new IdpError('access_denied', 'the IdP does not offer the device authorization grant')
    try {
      return await client.initiateDeviceAuthorization(d.config, {
        scope: this.options.scopes.join(' '),
      })
    } catch (err) {
      throw classify(err)
    }
  }

  /** One poll of the IdP's token endpoint for a device code (the CLI polls us; we poll it). */
  async pollDevice(deviceCode: string): Promise<DevicePoll> {
    const d = await this.discover()
    let tokens: client.TokenEndpointResponse
    try {
      tokens = await client.genericGrantRequest(d.config, DEVICE_GRANT, { device_code: deviceCode })
    } catch (err) {
      if (err instanceof client.ResponseBodyError) {
        if (err.error === 'authorization_pending') return { status: 'pending', slowDown: false }
        if (err.error === 'slow_down') return { status: 'pending', slowDown: true }
        if (err.error === 'access_denied' || err.error === 'expired_token')
          return {
            status: 'failed',
            error: err.error,
            description: err.error_description ?? err.error,
          }
      }
      throw classify(err)
    }
    return { status: 'done', identity: await this.identity(d, tokens, {}) }
  }

  /** Asks the IdP again (its refresh token), for the claims as they are now. */
  async refresh(refreshToken: string, subject: string): Promise<IdpIdentity> {
    const d = await this.discover()
    let tokens: client.TokenEndpointResponse
    try {
      tokens = await client.refreshTokenGrant(d.config, refreshToken)
    } catch (err) {
      throw classify(err)
    }
    const identity = await this.identity(d, tokens, { subject, idTokenOptional: true })
    return { ...identity, refreshToken: identity.refreshToken ?? refreshToken }
  }

  /** Revokes the IdP's refresh token where the IdP has a revocation endpoint (best effort). */
  async revoke(refreshToken: string): Promise<boolean> {
    const d = await this.discover()
    if (!d.config.serverMetadata().revocation_endpoint) return false
    try {
      await client.tokenRevocation(d.config, refreshToken, { token_type_hint: 'refresh_token' })
      return true
    } catch {
      return false
    }
  }

  private async identity(
    d: Discovered,
    tokens: client.TokenEndpointResponse,
    want: { nonce?: string; subject?: string; idTokenOptional?: boolean },
  ): Promise<IdpIdentity> {
    let claims: Record<string, unknown> | null = null
    let subject = want.subject
    if (typeof tokens.id_token === 'string') {
      const verified: IdTokenClaims = await verifyIdToken(tokens.id_token, {
        issuer: this.options.issuer,
        clientId: this.options.clientId,
        keys: d.keys,
        algorithms: d.algorithms,
        nonce: want.nonce,
        now: this.options.now(),
        clockToleranceSeconds: this.options.clockToleranceSeconds,
        subject: want.subject,
      }).catch((err: Error) => {
        throw new IdpError('invalid_token', err.message)
      })
      claims = { ...verified }
      subject = verified.sub
    } else if (!want.idTokenOptional) {
      throw new IdpError('invalid_token', 'the IdP answered without an ID token')
    }
    if (!subject) throw new IdpError('invalid_token', 'no subject')
    // Userinfo for what the ID token left out (or, on a refresh without one, for everything).
    if (d.config.serverMetadata().userinfo_endpoint && tokens.access_token) {
      try {
        const info = await client.fetchUserInfo(d.config, tokens.access_token, subject)
        claims = { ...info, ...(claims ?? {}) }
      } catch (err) {
        if (!claims) throw classify(err)
      }
    }
    if (!claims) throw new IdpError('invalid_token', 'the IdP gave no claims')
    return {
      subject,
      claims,
      refreshToken: typeof tokens.refresh_token === 'string' ? tokens.refresh_token : null,
    }
  }
}

/** http://127.0.0.1, [::1] or localhost: the only plain-HTTP issuers accepted (tests, labs). */
export function isLoopbackHttp(url: string): boolean {
  try {
    const u = new URL(url)
    return (
      u.protocol === 'http:' &&
      (u.hostname === '127.0.0.1' || u.hostname === '[::1]' || u.hostname === 'localhost')
    )
  } catch {
    return false
  }
}

function message(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } }
  return `${e.message ?? String(err)}${e.cause?.message ? ` (${e.cause.message})` : ''}`.slice(
    0,
    300,
  )
}

function classify(err: unknown): IdpError {
  if (err instanceof IdpError) return err
  if (err instanceof client.ResponseBodyError) {
    const text = `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`
    if (err.error === 'invalid_grant') return new IdpError('invalid_grant', text.slice(0, 300))
    if (err.error === 'access_denied') return new IdpError('access_denied', text.slice(0, 300))
    if (err.status >= 500) return new IdpError('unavailable', text.slice(0, 300))
    return new IdpError('invalid_grant', text.slice(0, 300))
  }
  if (err instanceof client.AuthorizationResponseError)
    return new IdpError(
      'access_denied',
      `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`.slice(0, 300),
    )
  const e = err as { code?: string; name?: string }
  // oauth4webapi's checks (state, nonce, claims, PKCE): the response is not acceptable.
  if (typeof e.code === 'string' && e.code.startsWith('OAUTH_'))
    return new IdpError('invalid_token', message(err))
  return new IdpError('unavailable', `the IdP cannot be reached: ${message(err)}`)
}
