import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { CmdaiError } from '../../contract/errors'

/**
 * The user's team tokens, kept out of settings.json: encrypted with the OS keychain through
 * Electron's safeStorage when the desktop app has it (`credentials.bin`), otherwise in a 0600
 * file (`credentials.json`). A file that cannot be read (another user's, a link, encrypted by the
 * desktop app while this is browser mode) is refused, never replaced by an empty one.
 */
export interface SecretCipher {
  /** False where the OS offers no keychain (safeStorage.isEncryptionAvailable()). */
  available(): boolean
  encrypt(plain: string): Buffer
  decrypt(data: Buffer): string
}

export interface Credential {
  server: string
  team: string
  token: string
  /** Single sign-on: the server's refresh token (single use; each refresh stores the next). */
  refresh?: string
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0

export class CredentialStore {
  private cache: Credential[] | null = null

  constructor(
    private readonly dir: string,
    private readonly cipher: SecretCipher | null = null,
  ) {}

  private get encrypted(): boolean {
    return this.cipher?.available() ?? false
  }

  private get file(): string {
    return join(this.dir, this.encrypted ? 'credentials.bin' : 'credentials.json')
  }

  /** Where the tokens are (for the README and errors). */
  describe(): string {
    return this.encrypted ? 'the OS keychain (Electron safeStorage)' : `${this.file} (0600)`
  }

  /** Reads the file again next time (another process may have written it). */
  reload(): void {
    this.cache = null
  }

  list(): Credential[] {
    if (this.cache) return this.cache
    const encryptedFile = join(this.dir, 'credentials.bin')
    if (!this.encrypted && exists(encryptedFile) && !exists(this.file))
      throw new CmdaiError(
        'unavailable',
        'Your team tokens were saved by the desktop app with the OS keychain, which this ' +
          'mode cannot open; join the team again here, or use the desktop app',
      )
    const raw = readPrivate(this.file)
    if (raw === null) return (this.cache = [])
    let text: string
    try {
      text = this.encrypted ? this.cipher!.decrypt(raw) : raw.toString('utf8')
    } catch (err) {
      throw new CmdaiError('unavailable', `Cannot decrypt ${this.file}: ${(err as Error).message}`)
    }
    try {
      const parsed = JSON.parse(text) as unknown
      if (!Array.isArray(parsed)) throw new Error('not a list')
      this.cache = parsed.filter(
        (c): c is Credential =>
          !!c &&
          typeof (c as Credential).server === 'string' &&
          typeof (c as Credential).team === 'string' &&
          typeof (c as Credential).token === 'string',
      )
      return this.cache
    } catch (err) {
      throw new CmdaiError(
        'unavailable',
        `${this.file} is damaged (${(err as Error).message}); it was left as it is`,
      )
    }
  }

  get(server: string, team: string): string | null {
    return this.list().find((c) => c.server === server && c.team === team)?.token ?? null
  }

  /** A token given by hand replaces whatever was there (a single sign-on session included). */
  set(server: string, team: string, token: string): void {
    this.setSession(server, team, token, null)
  }

  /** Stores a signed-in session: its access token and its refresh token, together. */
  setSession(server: string, team: string, token: string, refresh: string | null): void {
    const next = [
      ...this.list().filter((c) => !(c.server === server && c.team === team)),
      { server, team, token, ...(refresh ? { refresh } : {}) },
    ]
    this.write(next)
  }

  /** The refresh token of a signed-in session, or null (a token given by hand). */
  refreshToken(server: string, team: string): string | null {
    const r = this.list().find((c) => c.server === server && c.team === team)?.refresh
    return typeof r === 'string' ? r : null
  }

  remove(server: string, team: string): void {
    this.write(this.list().filter((c) => !(c.server === server && c.team === team)))
  }

  private write(list: Credential[]): void {
    const text = JSON.stringify(list)
    const data = this.encrypted ? this.cipher!.encrypt(text) : Buffer.from(text, 'utf8')
    writePrivate(this.file, data)
    this.cache = list
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}

/** A regular 0600 file of ours, not a link; null when absent; an error for anything else. */
function readPrivate(path: string): Buffer | null {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | NOFOLLOW)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    throw new CmdaiError('forbidden', `Refusing to read ${path}: ${code ?? String(err)}`)
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile())
      throw new CmdaiError('forbidden', `Refusing to read ${path}: not a regular file`)
    const uid = process.getuid?.()
    if (uid !== undefined && stat.uid !== uid)
      throw new CmdaiError('forbidden', `Refusing to read ${path}: it belongs to another user`)
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0)
      throw new CmdaiError(
        'forbidden',
        `Refusing to read ${path}: other users can read it (it must be 0600)`,
      )
    return readFileSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Writes a new 0600 file beside the old one and renames it over (never through a link). */
function writePrivate(path: string, data: Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`
  try {
    unlinkSync(tmp)
  } catch {
    // Not there: fine.
  }
  const fd = openSync(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW,
    0o600,
  )
  try {
    fchmodSync(fd, 0o600)
    writeSync(fd, data)
  } finally {
    closeSync(fd)
  }
  try {
    if (lstatSync(path).isSymbolicLink()) {
      unlinkSync(tmp)
      throw new CmdaiError('forbidden', `Refusing to write ${path}: it is a symbolic link`)
    }
  } catch (err) {
    if (err instanceof CmdaiError) throw err
  }
  renameSync(tmp, path)
}

/** The claims of a token, read without verifying (the server verifies; this only labels it). */
export function peekToken(
  token: string,
): { team: string; user: string; role: string; exp: number } | null {
  const part = token.split('.')[1]
  if (!part) return null
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >
    if (typeof claims.team !== 'string' || typeof claims.sub !== 'string') return null
    return {
      team: claims.team,
      user: claims.sub,
      role: typeof claims.role === 'string' ? claims.role : 'readonly',
      exp: typeof claims.exp === 'number' ? claims.exp : 0,
    }
  } catch {
    return null
  }
}
