import { randomBytes } from 'node:crypto'
import { lstatSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { writePrivateFile } from '../config/private-fs'

/**
 * `<dataDir>/serve.json` (0600): the token and port `cmdai serve` uses, kept across restarts so
 * that a bookmarked URL, and a page that is still open, keep working. `--new-token` rotates it.
 * One reader and writer of the file. A file that exists but cannot be read or parsed is never
 * overwritten: serve refuses with a message saying how to fix it.
 */
export interface ServeIdentity {
  token: string
  /** The port the last run listened on (null before the first run). */
  port: number | null
}

const identitySchema = z
  .object({
    token: z.string().regex(/^[0-9a-f]{48}$/),
    port: z.number().int().min(1).max(65535).nullable(),
  })
  .strict()

export class ServeIdentityError extends Error {}

export function serveIdentityPath(dataDir: string): string {
  return join(dataDir, 'serve.json')
}

export function newToken(): string {
  return randomBytes(24).toString('hex')
}

/** Reads the saved identity, creating one on first use or when `rotate` asks for a new token. */
export function loadServeIdentity(dataDir: string, rotate = false): ServeIdentity {
  const path = serveIdentityPath(dataDir)
  const existing = readIdentity(path, rotate)
  if (existing && !rotate) return existing
  const identity: ServeIdentity = { token: newToken(), port: existing?.port ?? null }
  writeIdentity(path, identity)
  return identity
}

/** Remembers the port this run listens on, so that the next run takes the same address. */
export function rememberPort(dataDir: string, identity: ServeIdentity, port: number): void {
  if (identity.port === port) return
  writeIdentity(serveIdentityPath(dataDir), { ...identity, port })
}

function readIdentity(path: string, rotating: boolean): ServeIdentity | null {
  let raw: string
  try {
    const stat = lstatSync(path)
    if (!stat.isFile() || stat.size > 4096) throw new Error('not a small regular file')
    raw = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new ServeIdentityError(
      `Cannot read ${path} (${reason(err)}). Fix its permissions, or move it away and start ` +
        '`cmdai serve` again (pages then need the new URL).',
    )
  }
  try {
    return identitySchema.parse(JSON.parse(raw))
  } catch {
    if (rotating) {
      // Asked for a new token: keep the unreadable file aside rather than overwrite it.
      renameSync(path, `${path}.unreadable-${Date.now()}`)
      return null
    }
    throw new ServeIdentityError(
      `${path} is damaged. Run \`cmdai serve --new-token\` to replace it (it is kept aside); ` +
        'pages then need the new URL.',
    )
  }
}

function writeIdentity(path: string, identity: ServeIdentity): void {
  try {
    writePrivateFile(path, `${JSON.stringify(identity, null, 2)}\n`)
  } catch (err) {
    throw new ServeIdentityError(`Cannot save ${path}: ${reason(err)}`)
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
