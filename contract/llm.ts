import { z } from 'zod'
import type { ErrorEnvelope } from './errors'
import type { Verdict } from './safety'

/** Where generation runs: in-process llama.cpp, or an OpenAI-compatible HTTP endpoint. */
export type LlmBackendKind = 'local' | 'openai'

/** Why this model is the active one. */
export type ModelChoiceSource = 'env' | 'setting' | 'default' | 'request' | 'remote'

export interface ActiveModel {
  /** Catalog id, file name of an imported model, or the remote model name. */
  id: string
  /** Absolute GGUF path for local models; null for remote backends. */
  path: string | null
  source: ModelChoiceSource
  /** One line saying why, e.g. "CMDAI_MODEL is set". */
  reason: string
}

export interface LlmState {
  state: 'idle' | 'loading' | 'ready' | 'error'
  backend: LlmBackendKind
  model: ActiveModel | null
  /** The compute layer in use once loaded: 'cpu', 'cuda', 'vulkan', 'metal', or 'remote'. */
  compute: string | null
  error: ErrorEnvelope | null
}

/** What the prompt may know about where the user is. Every field is optional. */
export const shellContextSchema = z
  .object({
    os: z.string().max(100).optional(),
    shell: z.string().max(40).optional(),
    cwd: z.string().max(4096).optional(),
    gitBranch: z.string().max(200).optional(),
    gitStatus: z.string().max(2000).optional(),
    files: z.array(z.string().max(256)).max(50).optional(),
    recentCommands: z.array(z.string().max(1000)).max(20).optional(),
    /** Team patterns matching the request, shown to the model as examples. */
    examples: z
      .array(z.object({ request: z.string().max(500), command: z.string().max(1000) }).strict())
      .max(5)
      .optional(),
  })
  .strict()
export type ShellContext = z.infer<typeof shellContextSchema>

/** The structured answer every backend must produce (enforced by grammar or response_format). */
export interface Generation {
  command: string
  explanation: string
  assumptions: string[]
  /** Set when the model needs something from the user (a file name, a branch) to finish. */
  needsInput: string | null
}

export interface GenerationTimings {
  /** Waiting for the model to load or switch (0 when it was ready). */
  loadMs: number
  /** Gathering the context (git, files) and building the prompt. */
  contextMs: number
  /** From the start of the request until the first generated token. */
  firstTokenMs: number
  /** From the start of the request until the command field was complete and safety-checked. */
  commandMs: number
  totalMs: number
  promptTokens: number | null
  outputTokens: number | null
  /** Speculative decoding: draft tokens the model confirmed and rejected; null when it did not run. */
  draft?: { accepted: number; rejected: number } | null
}

export interface GenerateResult extends Generation {
  requestId: string
  verdict: Verdict
  model: string
  backend: LlmBackendKind
  timings: GenerationTimings
  /** How many secrets were redacted from the context before it reached the prompt. */
  redactions: number
}

export interface ExplainResult {
  command: string
  /** The model's plain-language explanation. */
  explanation: string
  verdict: Verdict
  model: string
}

export interface CatalogModel {
  id: string
  name: string
  /** `hf:` URI or https URL that node-llama-cpp's downloader understands. */
  uri: string
  fileName: string
  sizeBytes: number
  /** RAM needed to run it comfortably, in GiB. */
  ramGb: number
  licence: string
  /** Default for machines with at least this much RAM (GiB). */
  defaultForRamGb: number | null
  notes: string
  /**
   * 'embedding': turns texts into vectors for semantic history search; never a chat model.
   * Absent means 'chat'.
   */
  kind?: ModelKind
}

/** What a model is for: proposing commands, or embeddings for semantic history search. */
export type ModelKind = 'chat' | 'embedding'

export interface ModelInfo {
  id: string
  name: string
  path: string
  sizeBytes: number
  origin: 'catalog' | 'imported'
  active: boolean
  /** Set to 'embedding' for the catalog's embedding models; absent means 'chat'. */
  kind?: ModelKind
}

export interface DownloadProgress {
  downloadId: string
  uri: string
  state: 'checking' | 'downloading' | 'verifying' | 'done' | 'error' | 'cancelled'
  bytes: number
  totalBytes: number
  bytesPerSecond: number
  etaSeconds: number | null
  error: ErrorEnvelope | null
}

const id = z.string().min(1).max(200)

/** Requests of the `llm` domain (model management channels are `models:*`). */
export const llmRequests = {
  'llm:status': z.object({}).strict(),
  'llm:generate': z
    .object({
      request: z.string().min(1).max(4000),
      requestId: z.string().min(1).max(100),
      context: shellContextSchema.optional(),
      /** Overrides the active model for this request: a catalog id, model id or GGUF path. */
      model: z.string().max(4096).optional(),
    })
    .strict(),
  'llm:cancel': z.object({ requestId: z.string().min(1).max(100) }).strict(),
  'llm:explain': z
    .object({
      command: z.string().min(1).max(8000),
      shell: z.enum(['bash', 'sh', 'zsh', 'fish', 'powershell']).optional(),
      requestId: z.string().min(1).max(100).optional(),
    })
    .strict(),
  'models:list': z.object({}).strict(),
  'models:pull': z
    .object({ uri: z.string().min(1).max(2000), downloadId: z.string().min(1).max(100) })
    .strict(),
  'models:cancelDownload': z.object({ downloadId: z.string().min(1).max(100) }).strict(),
  'models:import': z.object({ path: z.string().min(1).max(4096) }).strict(),
  'models:remove': z.object({ id }).strict(),
  'models:setActive': z.object({ id }).strict(),
} as const satisfies Record<string, z.ZodType>

export interface LlmResults {
  'llm:status': LlmState
  'llm:generate': GenerateResult
  'llm:cancel': { cancelled: boolean }
  'llm:explain': ExplainResult
  'models:list': {
    models: ModelInfo[]
    catalog: CatalogModel[]
    active: ActiveModel | null
    /** The catalog id recommended for this machine's memory (the default when nothing is set). */
    recommended: string
  }
  'models:pull': ModelInfo
  'models:cancelDownload': { cancelled: boolean }
  'models:import': ModelInfo
  'models:remove': { removed: boolean }
  'models:setActive': ActiveModel
}

export interface LlmEvents {
  /** A delta of raw model output (JSON text) for one request. Never the whole text again. */
  'llm:token': { requestId: string; text: string }
  /** The command field is complete and has been safety-checked; the explanation follows. */
  'llm:command': { requestId: string; command: string; verdict: Verdict }
  /** Snapshot of the engine's state (loading, ready, error). */
  'llm:state': LlmState
  /** Snapshot of one download's progress. */
  'models:progress': DownloadProgress
}
