import type { LlmBackendKind } from '../../contract'

export interface BackendRequest {
  system: string
  user: string
  /** JSON schema the answer must follow (grammar locally, response_format remotely). */
  schema: object
  maxTokens: number
  signal: AbortSignal
  /** Raw output deltas as they are generated. */
  onText?: (delta: string) => void
}

export interface BackendResponse {
  text: string
  promptTokens: number | null
  outputTokens: number | null
  /** Prompt tokens that had to be evaluated (not reused from the KV cache), when known. */
  evaluatedPromptTokens: number | null
  /** Draft tokens confirmed and rejected by speculative decoding; absent when it did not run. */
  draft?: { accepted: number; rejected: number } | null
}

/** One way to run the model. Local (llama.cpp in-process) and OpenAI-compatible implement it. */
export interface LlmBackend {
  readonly kind: LlmBackendKind
  /** Model name shown in results. */
  readonly modelName: string
  /** 'cpu', 'cuda', 'vulkan', 'metal' or 'remote'; null until ready. */
  compute(): string | null
  /** Load what is needed (the model); idempotent and serialised. */
  ensureReady(signal?: AbortSignal): Promise<void>
  complete(request: BackendRequest): Promise<BackendResponse>
  /** Evaluate the fixed part of the prompt ahead of time so requests only pay for the rest. */
  warm?(system: string, userPrefix: string, signal?: AbortSignal): Promise<void>
  dispose(): Promise<void>
}
