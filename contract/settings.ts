import { z } from 'zod'

const shortcut = z
  .string()
  .min(1)
  .max(40)
  .regex(
    /^((Mod|Ctrl|Alt|Shift|Meta)\+)*[A-Za-z0-9]$|^((Mod|Ctrl|Alt|Shift|Meta)\+)*(F\d{1,2}|Enter|Space|Escape)$/,
    'a shortcut like Mod+K or Ctrl+Shift+E',
  )

export const appearanceSettingsSchema = z
  .object({
    /** `system` follows the OS light/dark setting live. */
    theme: z.enum(['system', 'light', 'dark']).default('system'),
    fontSize: z.number().int().min(8).max(32).default(13),
    fontFamily: z.string().max(200).default(''),
  })
  .strict()

export const terminalSettingsSchema = z
  .object({
    /** Path or name of the shell for new tabs; empty: the login shell. */
    shell: z.string().max(4096).default(''),
    /** Directory new tabs start in; empty: the home directory. */
    startDirectory: z.string().max(4096).default(''),
    gpuAcceleration: z.enum(['auto', 'off']).default('auto'),
    scrollback: z.number().int().min(100).max(200_000).default(10_000),
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
    llm: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()

export type Settings = z.output<typeof settingsSchema>

export const settingsPatchSchema = z
  .object({
    appearance: appearanceSettingsSchema.partial().optional(),
    terminal: terminalSettingsSchema.partial().optional(),
    safety: safetySettingsSchema.partial().optional(),
    shortcuts: shortcutSettingsSchema.partial().optional(),
    privacy: privacySettingsSchema.partial().optional(),
    onboarding: onboardingSettingsSchema.partial().optional(),
    llm: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
export type SettingsPatch = z.input<typeof settingsPatchSchema>

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
