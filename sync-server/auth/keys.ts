import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto'
import { calculateJwkThumbprint } from 'jose'
import type { SqlClient } from '../storage/sql-client'
import type { KeyRow, Storage } from '../storage/storage'

export type KeyPurpose = KeyRow['purpose']

export interface SigningKey {
  kid: string
  purpose: KeyPurpose
  privateKey: KeyObject
  publicJwk: JsonWebKey
  createdAt: number
}

/**
 * The server's Ed25519 key pairs, kept in its database (PGlite in the data dir, or the shared
 * Postgres so that every instance signs and verifies with the same keys). One purpose signs
 * access tokens, the other audit checkpoints. Rotation adds a newer key (the one used to sign from
 * then on); older keys stay for verification, identified by `kid` (the JWK thumbprint).
 */
export class KeyRing {
  private keys = new Map<string, SigningKey>()
  private publicKeys = new Map<string, KeyObject>()
  private lastReload = 0

  private constructor(private readonly storage: Storage) {}

  /** Loads the keys, creating one per purpose on first start. */
  static async open(storage: Storage): Promise<KeyRing> {
    const ring = new KeyRing(storage)
    await ring.reload()
    for (const purpose of ['token', 'audit'] as const)
      if (!ring.maybeActive(purpose)) await ring.rotate(purpose)
    return ring
  }

  /** The key that signs from now on (the newest of its purpose). */
  active(purpose: KeyPurpose): SigningKey {
    const key = this.maybeActive(purpose)
    if (!key) throw new Error(`No ${purpose} signing key`)
    return key
  }

  /** Public key by kid; re-reads the database (at most once a second) for a kid it does not know. */
  async publicKey(kid: string): Promise<KeyObject | null> {
    const known = this.publicKeys.get(kid)
    if (known) return known
    if (Date.now() - this.lastReload > 1_000) await this.reload()
    return this.publicKeys.get(kid) ?? null
  }

  /** Adds a new key for `purpose` and makes it the active one; returns its kid. */
  async rotate(purpose: KeyPurpose, tx?: SqlClient): Promise<string> {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519')
    const publicJwk = publicKey.export({ format: 'jwk' })
    const kid = await calculateJwkThumbprint(
      publicJwk as Parameters<typeof calculateJwkThumbprint>[0],
    )
    const row: KeyRow = {
      kid,
      purpose,
      publicJwk: JSON.stringify(publicJwk),
      privateJwk: JSON.stringify(privateKey.export({ format: 'jwk' })),
      // Strictly newer than any existing key, so "newest" is unambiguous even within a millisecond.
      createdAt: Math.max(Date.now(), ...[...this.keys.values()].map((k) => k.createdAt + 1)),
    }
    await this.storage.insertKey(row, tx)
    this.add(row)
    return kid
  }

  /** Public keys as a JWKS document (tokens and checkpoints), newest first. */
  jwks(): { keys: Array<JsonWebKey & { kid: string; use: string; alg: string }> } {
    return {
      keys: [...this.keys.values()]
        .sort((a, b) => b.createdAt - a.createdAt)
        .map((k) => ({ ...k.publicJwk, kid: k.kid, use: 'sig', alg: 'EdDSA', purpose: k.purpose })),
    }
  }

  list(): Array<{ kid: string; purpose: KeyPurpose; createdAt: number; active: boolean }> {
    return [...this.keys.values()]
      .sort((a, b) => a.createdAt - b.createdAt)
      .map((k) => ({
        kid: k.kid,
        purpose: k.purpose,
        createdAt: k.createdAt,
        active: this.maybeActive(k.purpose)?.kid === k.kid,
      }))
  }

  async reload(): Promise<void> {
    this.lastReload = Date.now()
    for (const row of await this.storage.listKeys()) if (!this.keys.has(row.kid)) this.add(row)
  }

  private add(row: KeyRow): void {
    const publicJwk = JSON.parse(row.publicJwk) as JsonWebKey
    const key: SigningKey = {
      kid: row.kid,
      purpose: row.purpose,
      privateKey: createPrivateKey({
        key: JSON.parse(row.privateJwk) as JsonWebKey,
        format: 'jwk',
      }),
      publicJwk,
      createdAt: row.createdAt,
    }
    this.keys.set(row.kid, key)
    this.publicKeys.set(row.kid, createPublicKey({ key: publicJwk, format: 'jwk' }))
  }

  private maybeActive(purpose: KeyPurpose): SigningKey | undefined {
    let best: SigningKey | undefined
    for (const k of this.keys.values())
      if (
        k.purpose === purpose &&
        (!best ||
          k.createdAt > best.createdAt ||
          (k.createdAt === best.createdAt && k.kid > best.kid))
      )
        best = k
    return best
  }
}
