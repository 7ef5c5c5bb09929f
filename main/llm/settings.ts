import { join } from 'node:path'
import { z } from 'zod'
import { CmdaiError, privacySettingsSchema, safetySettingsSchema } from '../../contract'
import { SettingsStore } from '../settings/settings-store'

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
    /**
     * Speculative decoding (local models): 'auto' turns it on where a rejected draft costs at most
     * 5% more (measured when the model loads), 'on'/'off' force it.
     */
    speculative: z.enum(['auto', 'on', 'off']).default('auto'),
    /**
     * The draft model for speculative decoding: a model ref, or 'off' for prompt lookup only.
     * Unset: a much smaller installed model of the same family, when there is one.
     */
    draftModel: z.string().min(1).optional(),
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

/** The llm section's problems in one line each (`llm.gpu: …`), at most three. */
function describeLlmIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `llm${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`)
    .join('; ')
}

/** Throws when `llm` is not a valid llm section (the settings store calls it before any write). */
export function validateLlmSection(llm: unknown): void {
  if (!isObject(llm)) throw new Error('llm must be a JSON object such as {"model": "…"}')
  const parsed = llmSettingsSchema.safeParse(llm)
  if (!parsed.success) throw new Error(describeLlmIssues(parsed.error))
}

/** settings.json through its one reader and writer, with the llm section checked on write. */
function store(dataDir: string): SettingsStore {
  return new SettingsStore(dataDir, validateLlmSection)
}

function readSettingsFile(dataDir: string): Record<string, unknown> {
  return store(dataDir).raw()
}

/** Reads and validates the llm settings; other sections of settings.json belong to other domains. */
export function readLlmSettings(dataDir: string, overrides: LlmSettingsInput = {}): LlmSettings {
  const file = readSettingsFile(dataDir)
  if (file.llm !== undefined && !isObject(file.llm)) {
    throw new CmdaiError(
      'invalid_input',
      `${settingsPath(dataDir)}: "llm" must be a JSON object such as {"model": "…"}`,
    )
  }
  const parsed = llmSettingsSchema.safeParse({ ...(file.llm ?? {}), ...overrides })
  if (!parsed.success) {
    throw new CmdaiError(
      'invalid_input',
      `${settingsPath(dataDir)}: ${describeLlmIssues(parsed.error)}`,
    )
  }
  return parsed.data
}

/** Updates keys of the llm section, keeping every other section (and other llm keys) as it was. */
export function writeLlmSettings(dataDir: string, patch: Partial<LlmSettingsInput>): void {
  store(dataDir).update({ llm: patch })
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
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
