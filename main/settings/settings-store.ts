import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import type { z } from 'zod'
import { CmdaiError } from '../../contract/errors'
// The settings part of the contract only: the whole contract's schemas would cost every
// `cmdai check` and agent hook (which read the safety level here) their start-up time.
import {
  mergeSettingsPatch,
  settingsSchema,
  type Settings,
  type SettingsPatch,
} from '../../contract/settings'

/**
 * `<dataDir>/settings.json`: one JSON object with a section per domain. Reads validate and fill
 * defaults; writes validate the whole result first and replace the file atomically (write, fsync,
 * rename), so a crash or a full disk never leaves a half-written file.
 */
export class SettingsStore {
  readonly path: string

  constructor(
    readonly dataDir: string,
    /** Extra validation of the `llm` section, owned by the model engine. */
    private readonly validateLlm: (llm: Record<string, unknown>) => void = () => undefined,
  ) {
    this.path = join(dataDir, 'settings.json')
  }

  read(): Settings {
    return this.parse(this.readRaw())
  }

  /**
   * Merges `patch` into what is stored, key by key at every depth (the `llm` section key by key
   * at its top level: its values are replaced whole), validates the result and writes it.
   */
  update(patch: SettingsPatch): Settings {
    const merged = mergeSettingsPatch(this.readRaw(), patch)
    const settings = this.parse(merged)
    this.write(merged)
    return settings
  }

  /** The file's JSON object as stored (no defaults, not validated); `{}` when there is none. */
  raw(): Record<string, unknown> {
    return this.readRaw()
  }

  private parse(raw: Record<string, unknown>): Settings {
    const parsed = settingsSchema.safeParse(raw)
    if (!parsed.success)
      throw new CmdaiError('invalid_input', `${this.path}: ${describe(parsed.error)}`)
    try {
      this.validateLlm(parsed.data.llm)
    } catch (err) {
      throw new CmdaiError('invalid_input', err instanceof Error ? err.message : String(err))
    }
    return parsed.data
  }

  private readRaw(): Record<string, unknown> {
    if (!existsSync(this.path)) return {}
    let parsed: unknown
    try {
      parsed = JSON.parse(readFileSync(this.path, 'utf8'))
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new CmdaiError(
        'invalid_input',
        `${this.path} is not valid JSON (${why}); fix or delete it`,
      )
    }
    if (!isObject(parsed))
      throw new CmdaiError('invalid_input', `${this.path} must hold a JSON object`)
    return parsed
  }

  private write(value: Record<string, unknown>): void {
    const tmp = `${this.path}.tmp-${process.pid}`
    try {
      mkdirSync(this.dataDir, { recursive: true, mode: 0o700 })
      const fd = openSync(tmp, 'w', 0o600)
      try {
        writeSync(fd, `${JSON.stringify(value, null, 2)}\n`)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(tmp, this.path)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new CmdaiError('unavailable', `Could not save settings to ${this.path}: ${why}`)
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ')
}
