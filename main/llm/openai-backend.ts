import { CmdaiError } from '../../contract'
import type { BackendRequest, BackendResponse, LlmBackend } from './backend'

export interface OpenAiBackendOptions {
  /** e.g. http://127.0.0.1:11434/v1 (Ollama), http://127.0.0.1:1234/v1 (LM Studio). */
  baseUrl: string
  model: string
  /** Environment variable with the API key. The OS keychain is not implemented yet. */
  apiKeyEnv: string
  env: NodeJS.ProcessEnv
}

interface ChatChunk {
  choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null
}

/**
 * Any OpenAI-compatible `/chat/completions` endpoint (Ollama, LM Studio, vLLM, llama-server,
 * hosted providers), asked for the same JSON schema through `response_format: json_schema` and
 * streamed as server-sent events. Off unless settings choose `backend: "openai"`.
 */
export class OpenAiBackend implements LlmBackend {
  readonly kind = 'openai' as const
  readonly modelName: string

  constructor(private readonly options: OpenAiBackendOptions) {
    this.modelName = options.model
  }

  compute(): string {
    return 'remote'
  }

  async ensureReady(): Promise<void> {}

  async complete(request: BackendRequest): Promise<BackendResponse> {
    const key = this.options.env[this.options.apiKeyEnv]
    const url = `${this.options.baseUrl.replace(/\/+$/, '')}/chat/completions`
    let res: Response
    try {
      res = await fetch(url, {
        method: 'POST',
        signal: request.signal,
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
        body: JSON.stringify({
          model: this.options.model,
          stream: true,
          stream_options: { include_usage: true },
          temperature: 0,
          max_tokens: request.maxTokens,
          messages: [
            { role: 'system', content: request.system },
            { role: 'user', content: request.user },
          ],
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: 'cmdai_answer',
              strict: true,
              schema: strictSchema(request.schema),
            },
          },
        }),
      })
    } catch (err) {
      if (request.signal.aborted) throw err
      throw new CmdaiError(
        'unavailable',
        `Cannot reach ${url}: ${err instanceof Error ? err.message : err}`,
      )
    }
    if (!res.ok || !res.body) {
      const body = (await res.text().catch(() => '')).slice(0, 300)
      const code = res.status === 401 || res.status === 403 ? 'forbidden' : 'unavailable'
      const hint = code === 'forbidden' ? ` (set ${this.options.apiKeyEnv})` : ''
      throw new CmdaiError(code, `${url} answered ${res.status}${hint}: ${body}`)
    }
    let text = ''
    let promptTokens: number | null = null
    let outputTokens: number | null = null
    const decoder = new TextDecoder()
    let buffer = ''
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true })
      let newline: number
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim()
        buffer = buffer.slice(newline + 1)
        if (!line.startsWith('data:')) continue
        const data = line.slice(5).trim()
        if (data === '[DONE]') continue
        let parsed: ChatChunk
        try {
          parsed = JSON.parse(data) as ChatChunk
        } catch {
          throw new CmdaiError(
            'unavailable',
            `${url} sent an invalid stream event: ${data.slice(0, 100)}`,
          )
        }
        const delta = parsed.choices?.[0]?.delta?.content
        if (delta) {
          text += delta
          request.onText?.(delta)
        }
        if (parsed.usage) {
          promptTokens = parsed.usage.prompt_tokens ?? null
          outputTokens = parsed.usage.completion_tokens ?? null
        }
      }
    }
    return { text, promptTokens, outputTokens, evaluatedPromptTokens: null }
  }

  async dispose(): Promise<void> {}
}

/**
 * OpenAI's strict mode wants `required` listing every property and `additionalProperties: false`
 * on every object; the grammar schema leaves both implicit.
 */
function strictSchema(schema: object): object {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk)
    if (!node || typeof node !== 'object') return node
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(node)) out[k] = walk(v)
    if (out.type === 'object' && out.properties && typeof out.properties === 'object') {
      out.required = Object.keys(out.properties)
      out.additionalProperties = false
    }
    return out
  }
  return walk(schema) as object
}
