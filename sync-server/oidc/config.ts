import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { isLoopbackHttp } from './idp'
import type { SsoOptions } from '.'

/**
 * Single sign-on settings: `cmdai-sync start --oidc-issuer URL --oidc-client-id ID
 * [--oidc-client-secret-file F]`, or the same in a YAML/JSON file (`--oidc-config F`, the flags
 * winning). The one reader of that file: validated, and refused with the reason when wrong.
 */
const CLAIM_NAME = /^[A-Za-z0-9_:.\-/]{1,100}$/
/** Parameters the server sets itself: a config cannot override them. */
const RESERVED_PARAMS = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
])

export const ssoFileSchema = z
  .object({
    issuer: z.string().url().max(2_000).optional(),
    clientId: z.string().min(1).max(500).optional(),
    /** A file holding the client secret (relative to the config file). */
    clientSecretFile: z.string().min(1).max(4_096).optional(),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,100}$/))
      .min(1)
      .max(20)
      .optional(),
    /** The claim with the user's groups (`groups`; Entra app roles: `roles`). */
    groupsClaim: z.string().regex(CLAIM_NAME).optional(),
    /** The claim naming the user: `email` (verified only), `preferred_username`, `sub`, … */
    userClaim: z.string().regex(CLAIM_NAME).optional(),
    /** More authorization request parameters (Google: `access_type: offline`, `prompt: consent`). */
    extraAuthParams: z
      .record(z.string().regex(/^[a-z_]{1,40}$/), z.string().max(200))
      .refine((p) => Object.keys(p).every((k) => !RESERVED_PARAMS.has(k)), {
        message: 'extraAuthParams cannot set what the server sets itself (state, nonce, scope, …)',
      })
      .optional(),
    accessTokenMinutes: z.number().int().min(1).max(60).optional(),
    sessionDays: z.number().int().min(1).max(90).optional(),
    clockToleranceSeconds: z.number().int().min(0).max(300).optional(),
  })
  .strict()

export type SsoSettings = Omit<SsoOptions, 'publicUrl' | 'now'>

export interface SsoFlags {
  oidcIssuer?: string
  oidcClientId?: string
  oidcClientSecretFile?: string
  oidcConfig?: string
}

/** The settings from flags and the config file; null when single sign-on is not configured. */
export function loadSsoSettings(flags: SsoFlags): SsoSettings | null {
  let file: z.output<typeof ssoFileSchema> = {}
  let base = process.cwd()
  if (flags.oidcConfig) {
    const path = resolve(flags.oidcConfig)
    base = dirname(path)
    const text = readSmallFile(path, 64 * 1024, 'the SSO config file')
    let raw: unknown
    try {
      raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 10 })
    } catch (err) {
      throw new Error(
        `${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
      )
    }
    const parsed = ssoFileSchema.safeParse(raw ?? {})
    if (!parsed.success) {
      const i = parsed.error.issues[0]
      throw new Error(`${path}: ${i?.path.join('.') || '(root)'}: ${i?.message ?? 'invalid'}`)
    }
    file = parsed.data
  }
  const issuer = flags.oidcIssuer ?? file.issuer
  const clientId = flags.oidcClientId ?? file.clientId
  if (!issuer && !clientId) return null
  if (!issuer || !clientId)
    throw new Error('single sign-on needs both --oidc-issuer and --oidc-client-id')
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw new Error(`--oidc-issuer: "${issuer}" is not a URL`)
  }
  if (url.protocol !== 'https:' && !isLoopbackHttp(issuer))
    throw new Error('--oidc-issuer must be an https URL (plain http only on loopback, for tests)')
  const secretFile = flags.oidcClientSecretFile
    ? resolve(flags.oidcClientSecretFile)
    : file.clientSecretFile
      ? resolve(base, file.clientSecretFile)
      : null
  const secret = secretFile ? readSmallFile(secretFile, 4_096, 'the client secret file').trim() : ''
  if (secretFile && (!secret || /\s/.test(secret)))
    throw new Error(`${secretFile} must hold the client secret on one line`)
  return {
    issuer: issuer.replace(/\/+$/, ''),
    clientId,
    ...(secret ? { clientSecret: secret } : {}),
    ...(file.scopes ? { scopes: file.scopes } : {}),
    ...(file.groupsClaim ? { groupsClaim: file.groupsClaim } : {}),
    ...(file.userClaim ? { userClaim: file.userClaim } : {}),
    ...(file.extraAuthParams ? { extraAuthParams: file.extraAuthParams } : {}),
    ...(file.accessTokenMinutes ? { accessTokenSeconds: file.accessTokenMinutes * 60 } : {}),
    ...(file.sessionDays ? { sessionDays: file.sessionDays } : {}),
    ...(file.clockToleranceSeconds !== undefined
      ? { clockToleranceSeconds: file.clockToleranceSeconds }
      : {}),
  }
}

/** A regular file (not a link, FIFO or device), at most `max` bytes. */
function readSmallFile(path: string, max: number, what: string): string {
  let fd: number
  try {
    fd = openSync(
      path,
      constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0),
    )
  } catch (err) {
    throw new Error(
      `cannot open ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    )
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw new Error(`${what} ${path} is not a regular file`)
    if (stat.size > max) throw new Error(`${what} ${path} is over ${max} bytes`)
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}
