import { basename } from 'node:path'
import {
  getLlama,
  LlamaChatSession,
  LlamaLogLevel,
  type Llama,
  type LlamaContext,
  type LlamaGrammar,
  type LlamaModel,
} from 'node-llama-cpp'
import { CmdaiError } from '../../contract'
import type { BackendRequest, BackendResponse, LlmBackend } from './backend'
import { checkGgufFile } from './gguf-check'
import { Mutex } from './lock'
import type { LlmSettings } from './settings'

export type GpuSetting = LlmSettings['gpu']

/**
 * One llama.cpp binding per process and GPU setting: it is expensive (~0.7 s) and owns the
 * native backend. Shared by every LocalBackend; never disposed before process exit.
 */
const llamas = new Map<GpuSetting, Promise<Llama>>()

export function sharedLlama(gpu: GpuSetting): Promise<Llama> {
  let llama = llamas.get(gpu)
  if (!llama) {
    llama = getLlama({
      gpu: gpu === 'cpu' ? false : gpu,
      logLevel: LlamaLogLevel.error,
      logger: (level, message) => {
        if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) {
          console.error(`[llama.cpp] ${message.trim()}`)
        }
      },
    }).catch((err: unknown) => {
      llamas.delete(gpu)
      const why = err instanceof Error ? err.message : String(err)
      throw new CmdaiError('unavailable', `Cannot start llama.cpp with gpu=${gpu}: ${why}`)
    })
    llamas.set(gpu, llama)
  }
  return llama
}

export interface LocalBackendOptions {
  modelPath: string
  gpu: GpuSetting
  threads?: number
  contextSize: number
}

/**
 * The in-process llama.cpp backend for one model file. It is the single owner of the model, its
 * context and its one sequence: loads and generations run one at a time through a FIFO lock.
 *
 * Why no worker thread: node-llama-cpp runs tokenisation, evaluation and sampling in native code
 * on libuv's thread pool (every call is async), so the JS thread only sees one callback per token;
 * the main process stays responsive. A worker would add a copy of the binding and a second
 * message layer for nothing.
 *
 * Warm path: the chat session keeps its sequence between requests. Each request resets the chat
 * history to the system prompt and prompts again; node-llama-cpp compares the new token sequence
 * with the tokens already in the KV cache and only evaluates from the first difference, so the
 * system prompt and the context block (which come first) are reused, and a request pays for the
 * user's words and the answer.
 */
export class LocalBackend implements LlmBackend {
  readonly kind = 'local' as const
  readonly modelName: string
  private readonly lock = new Mutex()
  private llama: Llama | null = null
  private model: LlamaModel | null = null
  private context: LlamaContext | null = null
  private session: LlamaChatSession | null = null
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>()
  private disposed = false

  constructor(private readonly options: LocalBackendOptions) {
    this.modelName = basename(options.modelPath).replace(/\.gguf$/i, '')
  }

  get modelPath(): string {
    return this.options.modelPath
  }

  compute(): string | null {
    if (!this.llama || !this.model) return null
    return this.llama.gpu === false || this.model.gpuLayers === 0 ? 'cpu' : this.llama.gpu
  }

  ensureReady(signal?: AbortSignal): Promise<void> {
    if (this.session) return Promise.resolve()
    return this.lock.run(() => this.load(signal))
  }

  private async load(signal?: AbortSignal): Promise<void> {
    if (this.session) return
    if (this.disposed) throw new CmdaiError('unavailable', 'The model was unloaded')
    await checkGgufFile(this.options.modelPath)
    const llama = await sharedLlama(this.options.gpu)
    signal?.throwIfAborted()
    let model: LlamaModel
    try {
      model = await llama.loadModel({ modelPath: this.options.modelPath, loadSignal: signal })
    } catch (err) {
      if (signal?.aborted) throw err
      if (llama.gpu === false) throw loadError(this.options.modelPath, err)
      // Not enough GPU memory (or a driver problem): fall back to the CPU for this model.
      try {
        model = await llama.loadModel({
          modelPath: this.options.modelPath,
          gpuLayers: 0,
          loadSignal: signal,
        })
      } catch (err2) {
        throw loadError(this.options.modelPath, err2)
      }
    }
    try {
      const context = await model.createContext({
        contextSize: Math.min(this.options.contextSize, model.trainContextSize),
        sequences: 1,
        threads: this.options.threads,
      })
      this.session = new LlamaChatSession({ contextSequence: context.getSequence() })
      this.context = context
      this.model = model
      this.llama = llama
    } catch (err) {
      await model.dispose()
      throw loadError(this.options.modelPath, err)
    }
    if (this.disposed) await this.release()
  }

  private grammarFor(schema: object): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema)
    let grammar = this.grammars.get(key)
    if (!grammar) {
      grammar = sharedLlama(this.options.gpu).then((llama) =>
        llama.createGrammarForJsonSchema(
          schema as Parameters<Llama['createGrammarForJsonSchema']>[0],
        ),
      )
      grammar.catch(() => this.grammars.delete(key))
      this.grammars.set(key, grammar)
    }
    return grammar
  }

  async complete(request: BackendRequest): Promise<BackendResponse> {
    await this.ensureReady(request.signal)
    const grammar = await this.grammarFor(request.schema)
    return this.lock.run(async () => {
      request.signal.throwIfAborted()
      const session = this.session
      if (!session) throw new CmdaiError('unavailable', 'The model was unloaded')
      session.setChatHistory([{ type: 'system', text: request.system }])
      const meter = session.sequence.tokenMeter.getState()
      const result = await session.promptWithMeta(request.user, {
        grammar,
        maxTokens: request.maxTokens,
        temperature: 0,
        signal: request.signal,
        stopOnAbortSignal: false,
        onTextChunk: request.onText,
      })
      const used = session.sequence.tokenMeter.diff(meter)
      if (result.stopReason === 'maxTokens') {
        throw new CmdaiError(
          'internal',
          `The model's answer hit the token limit (${request.maxTokens})`,
        )
      }
      return {
        text: result.responseText,
        promptTokens: session.sequence.contextTokens.length - used.usedOutputTokens,
        outputTokens: used.usedOutputTokens,
        evaluatedPromptTokens: used.usedInputTokens,
      }
    })
  }

  async warm(system: string, userPrefix: string, signal?: AbortSignal): Promise<void> {
    await this.ensureReady(signal)
    await this.lock.run(async () => {
      const session = this.session
      if (!session) return
      session.setChatHistory([{ type: 'system', text: system }])
      await session.preloadPrompt(userPrefix, { signal })
    })
  }

  /** The loaded model and the tokens now in the KV cache (benchmarks compare against these). */
  inspect(): {
    model: LlamaModel | null
    contextTokens: readonly number[]
    threads: number | undefined
  } {
    return {
      model: this.model,
      contextTokens: [...(this.session?.sequence.contextTokens ?? [])],
      threads: this.options.threads,
    }
  }

  /** Forget the reused state (for cold measurements). */
  async clearCache(): Promise<void> {
    await this.lock.run(async () => {
      await this.session?.sequence.clearHistory()
    })
  }

  private async release(): Promise<void> {
    this.session?.dispose({ disposeSequence: true })
    this.session = null
    await this.context?.dispose()
    this.context = null
    await this.model?.dispose()
    this.model = null
  }

  async dispose(): Promise<void> {
    this.disposed = true
    await this.lock.run(() => this.release())
  }
}

function loadError(path: string, err: unknown): CmdaiError {
  if (err instanceof CmdaiError) return err
  const why = err instanceof Error ? err.message : String(err)
  return new CmdaiError('invalid_input', `Cannot load model ${path}: ${why}`)
}
