import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import { CmdaiError, privacySettingsSchema, safetySettingsSchema } from '../../contract'

/** The `llm` section of `<dataDir>/settings.json`. Everything is optional; defaults are sane. */
export const llmSettingsSchema = z
  .object({
    backend: z.enum(['local', 'openai']).default('local'),
    /** Catalog id, the file name of a model in `<dataDir>/models`, or an absolute GGUF path. */
    model: z.string().min(1).optional(),
    /** 'auto' picks Metal, CUDA or Vulkan when present and falls back to the CPU. */
    gpu: z.enum(['auto', 'cpu', 'metal', 'cuda', 'vulkan']).default('auto'),
    /** CPU threads for inference; default: all cores but one (one for a tiny model). */
    threads: z.number().int().min(1).max(256).optional(),
    contextSize: z.number().int().min(512).max(131072).default(4096),
    timeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
    /** Load the model in the background when the app starts. */
    preload: z.boolean().default(true),
    maxCommandChars: z.number().int().min(8).max(4000).default(400),
    maxExplanationChars: z.number().int().min(8).max(4000).default(300),
    /** How many assumptions the model may list (0 turns the list off). */
    maxAssumptions: z.number().int().min(0).max(5).default(3),
    openai: z
      .object({
        baseUrl: z.url(),
        model: z.string().min(1),
        /** The environment variable holding the API key (no keychain support yet). */
        apiKeyEnv: z.string().min(1).default('CMDAI_OPENAI_API_KEY'),
      })
      .strict()
      .optional(),
  })
  .strict()

export type LlmSettings = z.output<typeof llmSettingsSchema>
export type LlmSettingsInput = z.input<typeof llmSettingsSchema>

export function settingsPath(dataDir: string): string {
  return join(dataDir, 'settings.json')
}

function readSettingsFile(dataDir: string): Record<string, unknown> {
  const path = settingsPath(dataDir)
  if (!existsSync(path)) return {}
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object')
    return parsed as Record<string, unknown>
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new CmdaiError('invalid_input', `${path} is not valid JSON (${why})`)
  }
}

/** Reads and validates the llm settings; other sections of settings.json belong to other domains. */
export function readLlmSettings(dataDir: string, overrides: LlmSettingsInput = {}): LlmSettings {
  const file = readSettingsFile(dataDir)
  const section = { ...((file.llm as object | undefined) ?? {}), ...overrides }
  const parsed = llmSettingsSchema.safeParse(section)
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((i) => `llm.${i.path.join('.')}: ${i.message}`)
      .join('; ')
    throw new CmdaiError('invalid_input', `${settingsPath(dataDir)}: ${issues}`)
  }
  return parsed.data
}

/** Updates keys of the llm section, keeping every other section as it was. */
export function writeLlmSettings(dataDir: string, patch: Partial<LlmSettingsInput>): void {
  const file = readSettingsFile(dataDir)
  const llm = { ...((file.llm as object | undefined) ?? {}), ...patch }
  llmSettingsSchema.parse(llm)
  const path = settingsPath(dataDir)
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, `${JSON.stringify({ ...file, llm }, null, 2)}\n`)
  renameSync(tmp, path)
}

export type PrivacySettings = z.output<typeof privacySettingsSchema>

/** The privacy section (owned by the settings domain): may requests leave the machine, with what. */
export function readPrivacySettings(dataDir: string): PrivacySettings {
  const parsed = privacySettingsSchema.safeParse(readSettingsFile(dataDir).privacy ?? {})
  // An invalid privacy section means the most private choice.
  return parsed.success ? parsed.data : privacySettingsSchema.parse({})
}

/** The safety level the user chose (settings domain), so generated commands get the same verdicts. */
export function readSafetyLevel(dataDir: string): z.output<typeof safetySettingsSchema>['level'] {
  try {
    const parsed = safetySettingsSchema.safeParse(readSettingsFile(dataDir).safety ?? {})
    return parsed.success ? parsed.data.level : 'strict'
  } catch {
    return 'strict'
  }
}
