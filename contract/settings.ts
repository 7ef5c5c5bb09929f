import { z } from 'zod'

const shortcut = z
  .string()
  .min(1)
  .max(40)
  .regex(
    /^((Mod|Ctrl|Alt|Shift|Meta)\+)*[A-Za-z0-9,]$|^((Mod|Ctrl|Alt|Shift|Meta)\+)*(F\d{1,2}|Enter|Space|Escape)$/,
    'Write a shortcut like Mod+K or Ctrl+Shift+E: modifiers, then one letter, digit or key name',
  )

/** A whole number in [min, max]; every way of missing it gets the same sentence. */
function wholeNumber(min: number, max: number, message: string) {
  return z.number({ error: message }).int({ error: message }).min(min, message).max(max, message)
}

export const appearanceSettingsSchema = z
  .object({
    /** `system` follows the OS light/dark setting live. */
    theme: z.enum(['system', 'light', 'dark']).default('system'),
    fontSize: wholeNumber(8, 32, 'Font size is a whole number of pixels from 8 to 32').default(13),
    fontFamily: z.string().max(200, 'A font list of at most 200 characters').default(''),
  })
  .strict()

export const terminalSettingsSchema = z
  .object({
    /** Path or name of the shell for new tabs; empty: the login shell. */
    shell: z.string().max(4096, 'A path of at most 4096 characters').default(''),
    /** Directory new tabs start in; empty: the home directory. */
    startDirectory: z.string().max(4096, 'A path of at most 4096 characters').default(''),
    gpuAcceleration: z.enum(['auto', 'off']).default('auto'),
    /** Tabs (shell, cwd, title, scrollback) come back when the app or `cmdai serve` starts again. */
    restoreTabs: z.boolean().default(true),
    /** How long a page's shells keep running after it closed or lost its connection. */
    reconnectGraceMinutes: z
      .number({ error: 'Minutes from 0 to 1440' })
      .min(0, 'Minutes from 0 to 1440')
      .max(1440, 'Minutes from 0 to 1440')
      .default(10),
    scrollback: wholeNumber(
      100,
      200_000,
      'Scrollback is a whole number of lines from 100 to 200,000',
    ).default(10_000),
  })
  .strict()

export const safetySettingsSchema = z
  .object({ level: z.enum(['strict', 'moderate', 'permissive']).default('moderate') })
  .strict()

export const shortcutSettingsSchema = z
  .object({
    palette: shortcut.default('Mod+K'),
    history: shortcut.default('Ctrl+R'),
    explain: shortcut.default('Mod+Shift+E'),
    newTab: shortcut.default('Ctrl+Shift+T'),
    /** Settings (and from there the model manager) without the pointer. */
    settings: shortcut.default('Mod+,'),
  })
  .strict()

export const privacySettingsSchema = z
  .object({
    /** Remote (OpenAI-compatible) backends are off until the user turns them on. */
    allowRemoteBackends: z.boolean().default(false),
    /** What context may be sent to a remote backend (the local model always sees it all). */
    remoteContext: z
      .object({
        cwd: z.boolean().default(true),
        git: z.boolean().default(true),
        fileNames: z.boolean().default(false),
        recentCommands: z.boolean().default(false),
      })
      .strict()
      .default({ cwd: true, git: true, fileNames: false, recentCommands: false }),
    /**
     * `cmdai history export --format training` may write the AI requests you ran, edited,
     * cancelled or blocked as fine-tuning data (redacted). Off until you turn it on.
     */
    trainingExport: z.boolean().default(false),
  })
  .strict()

export const onboardingSettingsSchema = z
  .object({
    /** Set once the user has seen (and closed) the first-run card. */
    dismissed: z.boolean().default(false),
  })
  .strict()

/** Every section of `<dataDir>/settings.json` except `llm`, which the model engine validates. */
export const settingsSchema = z
  .object({
    appearance: appearanceSettingsSchema.default(appearanceSettingsSchema.parse({})),
    terminal: terminalSettingsSchema.default(terminalSettingsSchema.parse({})),
    safety: safetySettingsSchema.default(safetySettingsSchema.parse({})),
    shortcuts: shortcutSettingsSchema.default(shortcutSettingsSchema.parse({})),
    privacy: privacySettingsSchema.default(privacySettingsSchema.parse({})),
    onboarding: onboardingSettingsSchema.default(onboardingSettingsSchema.parse({})),
    /** Model and backend settings; see main/llm/settings.ts for the schema. */
    llm: z
      .record(z.string(), z.unknown(), { error: 'must be a JSON object such as {"model": "…"}' })
      .default({}),
  })
  .strict()

export type Settings = z.output<typeof settingsSchema>

/** Every key optional, at every depth, and no defaults: what is left out stays as it is stored. */
type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends Record<string, unknown> ? DeepPartial<T[K]> : T[K]
}

/**
 * A patch of one section: the section's own checks, but every key optional and no defaults filled
 * in, at any depth (zod's `.partial()` keeps the defaults, so a patch of one key would carry every
 * other key of the section back to its default).
 */
function patchOf(schema: z.ZodObject): z.ZodObject {
  const shape: Record<string, z.ZodType> = {}
  for (const [key, field] of Object.entries(schema.shape)) {
    const inner: z.ZodType = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field
    shape[key] = (inner instanceof z.ZodObject ? patchOf(inner) : inner).optional()
  }
  return z.object(shape).strict()
}

export type SettingsPatch = DeepPartial<Omit<Settings, 'llm'>> & {
  llm?: Record<string, unknown>
}

/** A patch of settings.json: merged into what is stored, key by key. */
export const settingsPatchSchema = z
  .object({
    appearance: patchOf(appearanceSettingsSchema).optional(),
    terminal: patchOf(terminalSettingsSchema).optional(),
    safety: patchOf(safetySettingsSchema).optional(),
    shortcuts: patchOf(shortcutSettingsSchema).optional(),
    privacy: patchOf(privacySettingsSchema).optional(),
    onboarding: patchOf(onboardingSettingsSchema).optional(),
    llm: z.record(z.string(), z.unknown()).optional(),
  })
  .strict() as unknown as z.ZodType<SettingsPatch, SettingsPatch>

/**
 * `patch` laid over the stored JSON object `raw`: objects merge key by key at every depth, except
 * the `llm` section, whose top-level values are replaced whole (e.g. `llm.openai`).
 */
export function mergeSettingsPatch(
  raw: Record<string, unknown>,
  patch: SettingsPatch,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...raw }
  for (const [section, values] of Object.entries(patch)) {
    if (values === undefined) continue
    const current = raw[section]
    merged[section] =
      section === 'llm'
        ? { ...(isPlainObject(current) ? current : {}), ...values }
        : mergeDeep(current, values)
  }
  return merged
}

function mergeDeep(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch) || !isPlainObject(base)) return patch
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) out[key] = mergeDeep(base[key], value)
  }
  return out
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export const settingsRequests = {
  /** The validated settings with defaults filled in, and where they are stored. */
  'settings:get': z.object({}).strict(),
  /** Merge a patch into the settings; invalid values are refused and nothing is written. */
  'settings:update': settingsPatchSchema,
} as const

export interface SettingsSnapshot {
  settings: Settings
  path: string
  dataDir: string
}

export interface SettingsResults {
  'settings:get': SettingsSnapshot
  'settings:update': SettingsSnapshot
}

export interface SettingsEvents {
  'settings:changed': SettingsSnapshot
}
