/**
 * The little of `oidc-provider` (a dev dependency without bundled types) the test IdP uses.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export interface ProviderAccount {
    accountId: string
    claims(): Promise<Record<string, unknown>> | Record<string, unknown>
  }

  export interface ProviderConfiguration {
    clients?: Array<Record<string, unknown>>
    jwks?: { keys: Array<Record<string, unknown>> }
    features?: Record<string, unknown>
    claims?: Record<string, string[]>
    scopes?: string[]
    conformIdTokenClaims?: boolean
    findAccount?(ctx: unknown, id: string): Promise<ProviderAccount | undefined>
    ttl?: Record<string, number>
    cookies?: { keys?: string[] }
    pkce?: { required?(ctx: unknown, client: unknown): boolean }
    rotateRefreshToken?: boolean
    [key: string]: unknown
  }

  export default class Provider {
    constructor(issuer: string, configuration?: ProviderConfiguration)
    callback(): (req: IncomingMessage, res: ServerResponse) => void
    proxy: boolean
    on(event: string, listener: (...args: unknown[]) => void): this
  }
}
