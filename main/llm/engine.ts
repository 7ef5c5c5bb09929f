import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import {
  CmdaiError,
  toErrorEnvelope,
  type ActiveModel,
  type ExplainResult,
  type GenerateResult,
  type LlmEvents,
  type LlmState,
  type ShellContext,
  type ShellDialect,
  type Verdict,
} from '../../contract'
import type { LlmBackend } from './backend'
import { defaultCatalogModel } from './catalog'
import { gatherContext } from './context'
import { LocalBackend, type LocalBackendOptions } from './local-backend'
import { Mutex } from './lock'
import { ModelStore } from './model-store'
import { OpenAiBackend } from './openai-backend'
import {
  explanationJsonSchema,
  generationJsonSchema,
  maxTokensFor,
  parseExplanation,
  parseGeneration,
} from './output-schema'
import { completedCommand } from './partial-json'
import {
  buildContextBlock,
  buildExplainMessage,
  buildSystemPrompt,
  buildUserMessage,
} from './prompt'
import { loadSafetyPort, toShellDialect, type SafetyPort } from './safety-port'
import { pickDraftModel } from './speculation'
import {
  llmSettingsSchema,
  readLlmSettings,
  readPrivacySettings,
  type LlmSettings,
  type LlmSettingsInput,
} from './settings'

export type LlmEmit = <E extends keyof LlmEvents>(event: E, payload: LlmEvents[E]) => void

export interface LlmEngineOptions {
  dataDir: string
  env?: NodeJS.ProcessEnv
  emit?: LlmEmit
  /** Overrides on top of `<dataDir>/settings.json` (tests, benchmarks, CLI flags). */
  settings?: LlmSettingsInput
  /** The safety engine; defaults to main/safety. */
  safety?: SafetyPort | (() => Promise<SafetyPort>)
  /** Skip automatic context gathering (git, directory listing): use only what requests give. */
  gatherContext?: boolean
  /** How the local backend decodes structured answers (benchmarks compare both). */
  decoding?: 'scaffold' | 'grammar'
  /**
   * Builds the backend instead of LocalBackend/OpenAiBackend (the eval harness replays recorded
   * answers through the rest of the pipeline with it).
   */
  backendFactory?: (active: ActiveModel) => LlmBackend
  /**
   * The user allowed this remote endpoint explicitly (e.g. `cmdai eval --backend openai --url`
   * with `--allow-remote`), in place of the privacy setting.
   */
  allowRemote?: boolean
  /** Replaces the local backend's token predictor (benchmarks). */
  predictor?: LocalBackendOptions['predictor']
}

export interface GenerateOptions {
  request: string
  requestId: string
  context?: ShellContext
  model?: string
  signal?: AbortSignal
}

/**
 * The model engine: picks the backend and model, builds the prompt from context, runs the
 * structured generation, and passes the command through the safety engine. Shared by the IPC
 * domain and the CLI. Owns its backend; one request at a time reaches the model.
 */
export class LlmEngine {
  readonly store: ModelStore
  private readonly env: NodeJS.ProcessEnv
  private readonly emit: LlmEmit
  private settings: LlmSettings
  private backend: LlmBackend | null = null
  private backendKey: string | null = null
  private active: ActiveModel | null = null
  private readonly switchLock = new Mutex()
  private readonly requests = new Map<string, AbortController>()
  private safetyPort: Promise<SafetyPort> | null = null
  private stateValue: LlmState
  private disposed = false

  constructor(private readonly options: LlmEngineOptions) {
    this.env = options.env ?? process.env
    this.emit = options.emit ?? (() => {})
    this.store = new ModelStore(options.dataDir)
    let settingsError: CmdaiError | null = null
    try {
      this.settings = readLlmSettings(options.dataDir, options.settings)
    } catch (err) {
      // A broken settings.json must not take the app down: run on defaults and say why.
      settingsError = err instanceof CmdaiError ? err : new CmdaiError('invalid_input', String(err))
      this.settings = llmSettingsSchema.parse(options.settings ?? {})
    }
    this.stateValue = {
      state: settingsError ? 'error' : 'idle',
      backend: this.settings.backend,
      model: null,
      compute: null,
      error: settingsError?.toEnvelope() ?? null,
    }
  }

  get config(): LlmSettings {
    return this.settings
  }

  status(): LlmState {
    return { ...this.stateValue }
  }

  /** Re-reads settings.json (after models:setActive or a settings change). */
  reloadSettings(): void {
    this.settings = readLlmSettings(this.options.dataDir, this.options.settings)
  }

  private setState(patch: Partial<LlmState>): void {
    this.stateValue = { ...this.stateValue, ...patch }
    this.emit('llm:state', this.status())
  }

  private safety(): Promise<SafetyPort> {
    if (!this.safetyPort) {
      const given = this.options.safety
      this.safetyPort =
        typeof given === 'function'
          ? given()
          : given
            ? Promise.resolve(given)
            : loadSafetyPort(this.options.dataDir)
      this.safetyPort.catch(() => (this.safetyPort = null))
    }
    return this.safetyPort
  }

  /** Which model is active and why (CMDAI_MODEL > setting > catalog default on disk). */
  resolveActive(modelRef?: string): ActiveModel | null {
    if (this.settings.backend === 'openai' && !modelRef) {
      const remote = this.settings.openai
      if (!remote)
        throw new CmdaiError(
          'invalid_input',
          'settings llm.backend is "openai" but llm.openai is missing',
        )
      if (
        !isLoopback(remote.baseUrl) &&
        !this.options.allowRemote &&
        !readPrivacySettings(this.options.dataDir).allowRemoteBackends
      ) {
        throw new CmdaiError(
          'forbidden',
          `Remote backends are off: turn on privacy.allowRemoteBackends to send requests to ${remote.baseUrl}`,
        )
      }
      return {
        id: remote.model,
        path: null,
        source: 'remote',
        reason: `OpenAI-compatible endpoint ${remote.baseUrl}`,
      }
    }
    if (modelRef) {
      const path = this.store.resolve(modelRef)
      if (!path) throw new CmdaiError('not_found', `No model matches "${modelRef}"`)
      return { id: modelRef, path, source: 'request', reason: 'chosen for this request' }
    }
    return this.store.resolveActive(this.env, this.settings.model)
  }

  /**
   * The draft model for speculative decoding with `modelPath`: the `draftModel` setting ('off':
   * none), or else the smallest installed chat model of the same family at most a quarter of its
   * size (Qwen2.5-Coder 0.5B drafting for 7B). Whether it shares the vocabulary is checked at load.
   */
  private draftModelFor(modelPath: string): string | null {
    const setting = this.settings.draftModel
    if (setting === 'off' || this.settings.speculative === 'off') return null
    if (setting) {
      // One that is not there is reported by the backend ("draft model not used: ..."), and
      // generation goes on without it.
      const path = this.store.resolve(setting) ?? setting
      return resolve(path) === resolve(modelPath) ? null : path
    }
    let size: number
    try {
      size = statSync(modelPath).size
    } catch {
      return null
    }
    return pickDraftModel({ path: modelPath, sizeBytes: size }, this.store.list())
  }

  /** The backend for `modelRef` (or the active model), created or switched under a lock. */
  private async backendFor(
    modelRef: string | undefined,
    signal?: AbortSignal,
  ): Promise<LlmBackend> {
    const backend = await this.switchLock.run(async () => {
      if (this.disposed) throw new CmdaiError('unavailable', 'The model engine is shut down')
      const active: ActiveModel | null = this.options.backendFactory
        ? {
            id: modelRef ?? 'custom',
            path: null,
            source: 'request',
            reason: 'a backend given to the engine',
          }
        : this.resolveActive(modelRef)
      if (!active) {
        throw new CmdaiError(
          'not_found',
          `No model available. Run \`cmdai models pull ${defaultCatalogModel().id}\`, import a GGUF file, or set CMDAI_MODEL.`,
        )
      }
      const key = this.options.backendFactory
        ? `custom:${active.id}`
        : active.path
          ? `local:${resolve(active.path)}`
          : `openai:${active.id}`
      if (this.backend && this.backendKey === key) return this.backend
      const old = this.backend
      this.backend = null
      this.backendKey = null
      await old?.dispose()
      const created: LlmBackend = this.options.backendFactory
        ? this.options.backendFactory(active)
        : active.path
          ? new LocalBackend({
              modelPath: active.path,
              gpu: this.settings.gpu,
              threads: this.settings.threads,
              contextSize: this.settings.contextSize,
              decoding: this.options.decoding,
              speculative: this.settings.speculative,
              draftModelPath: this.draftModelFor(active.path),
              predictor: this.options.predictor,
            })
          : new OpenAiBackend({ ...this.settings.openai!, env: this.env })
      this.backend = created
      this.backendKey = key
      this.active = active
      return created
    })
    if (backend.compute() === null) {
      this.setState({ state: 'loading', backend: backend.kind, model: this.active, error: null })
      try {
        await backend.ensureReady(signal)
      } catch (err) {
        // Unloaded while loading (the model was deleted or switched): the state is the unload's.
        if (this.backend === backend) this.setState({ state: 'error', error: toErrorEnvelope(err) })
        throw err
      }
    }
    if (this.backend !== backend)
      throw new CmdaiError('cancelled', 'The model was unloaded while it was loading')
    if (this.stateValue.state !== 'ready' || this.stateValue.model?.path !== this.active?.path) {
      this.setState({
        state: 'ready',
        backend: backend.kind,
        model: this.active,
        compute: backend.compute(),
        error: null,
      })
    }
    return backend
  }

  /**
   * Loads the active model and evaluates the system prompt and the context of `cwd` in the
   * background, so the first request is already warm. Never throws; failures land in the state.
   */
  preload(cwd: string = process.cwd()): Promise<void> {
    return (async () => {
      let backend: LlmBackend | null = null
      try {
        // Nothing to load yet (first run, before a model is downloaded): stay idle, not failed.
        if (this.settings.backend === 'local' && !this.resolveActive()) return
        backend = await this.backendFor(undefined)
        if (!backend.warm) return
        const context = await this.context({ cwd })
        const { system, contextBlock } = await this.promptParts(context)
        await backend.warm(system, `${contextBlock}\n\nRequest:`)
      } catch (err) {
        // Unloaded or replaced while it warmed up (the model was deleted or switched): not an
        // error of the model in use now.
        if (backend && this.backend !== backend) return
        if (this.stateValue.state !== 'error')
          this.setState({ state: 'error', error: toErrorEnvelope(err) })
      }
    })()
  }

  private async context(given: ShellContext | undefined): Promise<ShellContext> {
    const context =
      this.options.gatherContext === false
        ? (given ?? {})
        : await gatherContext(given, { env: this.env })
    if (this.settings.backend !== 'openai' || isLoopback(this.settings.openai?.baseUrl))
      return context
    // A remote endpoint only sees the parts of the context the privacy settings allow.
    const allowed = readPrivacySettings(this.options.dataDir).remoteContext
    return {
      ...context,
      cwd: allowed.cwd ? context.cwd : undefined,
      gitBranch: allowed.git ? context.gitBranch : undefined,
      gitStatus: allowed.git ? context.gitStatus : undefined,
      files: allowed.fileNames ? context.files : undefined,
      recentCommands: allowed.recentCommands ? context.recentCommands : undefined,
    }
  }

  private async promptParts(context: ShellContext) {
    const safety = await this.safety()
    const redacted = safety.redact(buildContextBlock(context))
    const shell = toShellDialect(context.shell)
    return {
      system: buildSystemPrompt(shell, context.os ?? 'an unknown OS'),
      contextBlock: redacted.text,
      redactions: redacted.count,
      shell,
    }
  }

  /** Cancels a running generate or explain by its request id. */
  cancel(requestId: string): boolean {
    const controller = this.requests.get(requestId)
    if (!controller) return false
    controller.abort(new CmdaiError('cancelled', 'The request was cancelled'))
    return true
  }

  private track<T>(
    requestId: string,
    signal: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<T>,
  ) {
    if (this.requests.has(requestId)) {
      return Promise.reject(new CmdaiError('conflict', `Request ${requestId} is already running`))
    }
    const controller = new AbortController()
    this.requests.set(requestId, controller)
    const timeout = AbortSignal.timeout(this.settings.timeoutMs)
    const combined = AbortSignal.any([controller.signal, timeout, ...(signal ? [signal] : [])])
    return run(combined)
      .catch((err: unknown) => {
        if (timeout.aborted) {
          throw new CmdaiError(
            'timeout',
            `The model did not answer within ${this.settings.timeoutMs} ms`,
          )
        }
        if (combined.aborted) throw new CmdaiError('cancelled', 'The request was cancelled')
        throw err
      })
      .finally(() => this.requests.delete(requestId))
  }

  generate(options: GenerateOptions): Promise<GenerateResult> {
    return this.track(options.requestId, options.signal, (signal) =>
      this.runGenerate(options, signal),
    )
  }

  private async runGenerate(
    options: GenerateOptions,
    signal: AbortSignal,
  ): Promise<GenerateResult> {
    const started = performance.now()
    const { requestId } = options
    // Context gathering (git, directory listing) runs while the model loads, if it must.
    const preparing = (async () => {
      const parts = await this.promptParts(await this.context(options.context))
      return { parts, ms: performance.now() - started }
    })()
    const safetyReady = this.safety()
    // Awaited below; these keep a failure that lands while the model loads from going unhandled.
    preparing.catch(() => {})
    safetyReady.catch(() => {})
    const backend = await this.backendFor(options.model, signal)
    const loadMs = performance.now() - started
    const { parts, ms: contextMs } = await preparing
    const safety = await safetyReady

    let text = ''
    let firstTokenMs = -1
    let commandCheck: Promise<{ command: string; verdict: Verdict; at: number }> | null = null
    const response = await backend.complete({
      system: parts.system,
      user: buildUserMessage(parts.contextBlock, options.request),
      schema: generationJsonSchema(this.settings),
      maxTokens: maxTokensFor(this.settings),
      signal,
      onText: (delta) => {
        if (firstTokenMs < 0) firstTokenMs = performance.now() - started
        text += delta
        this.emit('llm:token', { requestId, text: delta })
        if (!commandCheck) {
          const command = completedCommand(text)
          if (command !== null) {
            commandCheck = Promise.resolve(safety.analyze(command, parts.shell)).then((verdict) => {
              this.emit('llm:command', { requestId, command, verdict })
              return { command, verdict, at: performance.now() - started }
            })
          }
        }
      },
    })
    const generation = parseGeneration(response.text)
    // The safety check is bounded by the request's deadline too.
    const early = commandCheck
      ? await untilAborted(
          commandCheck as Promise<{ command: string; verdict: Verdict; at: number }>,
          signal,
        )
      : null
    let verdict: Verdict
    let commandMs: number
    if (early && early.command === generation.command) {
      verdict = early.verdict
      commandMs = early.at
    } else {
      // Backends that do not stream (or a parse mismatch): check the final command.
      verdict = await untilAborted(
        Promise.resolve(safety.analyze(generation.command, parts.shell)),
        signal,
      )
      commandMs = performance.now() - started
      this.emit('llm:command', { requestId, command: generation.command, verdict })
    }
    return {
      ...generation,
      requestId,
      verdict,
      model: backend.modelName,
      backend: backend.kind,
      redactions: parts.redactions,
      timings: {
        loadMs,
        contextMs,
        firstTokenMs: firstTokenMs < 0 ? commandMs : firstTokenMs,
        commandMs,
        totalMs: performance.now() - started,
        promptTokens: response.promptTokens,
        outputTokens: response.outputTokens,
        draft: response.draft ?? null,
      },
    }
  }

  /** The model's plain-language explanation of a command, with the safety verdict. */
  explain(options: {
    command: string
    shell?: ShellDialect
    requestId?: string
    model?: string
    signal?: AbortSignal
  }): Promise<ExplainResult> {
    const requestId = options.requestId ?? `explain-${Math.random().toString(36).slice(2)}`
    return this.track(requestId, options.signal, async (signal) => {
      const shell = options.shell ?? toShellDialect(this.env.SHELL)
      const backend = await this.backendFor(options.model, signal)
      const safety = await this.safety()
      const verdict = await safety.analyze(options.command, shell)
      const response = await backend.complete({
        system: buildSystemPrompt(shell, process.platform),
        user: buildExplainMessage(safety.redact(options.command).text, shell),
        schema: explanationJsonSchema(this.settings),
        maxTokens: this.settings.maxExplanationChars + 32,
        signal,
        onText: (delta) => this.emit('llm:token', { requestId, text: delta }),
      })
      return {
        command: options.command,
        explanation: parseExplanation(response.text),
        verdict,
        model: backend.modelName,
      }
    })
  }

  /** Loads (or switches to) a model now and returns its backend. */
  load(modelRef?: string, signal?: AbortSignal): Promise<LlmBackend> {
    return this.backendFor(modelRef, signal)
  }

  /** The backend in use (for benchmarks and tests). */
  currentBackend(): LlmBackend | null {
    return this.backend
  }

  async unload(): Promise<void> {
    await this.switchLock.run(async () => {
      await this.backend?.dispose()
      this.backend = null
      this.backendKey = null
      this.active = null
    })
    // Nothing is loaded: the state names no model (the next load says which one it is).
    this.setState({ state: 'idle', compute: null, model: null })
  }

  async dispose(): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    for (const controller of this.requests.values()) controller.abort()
    await this.unload()
  }
}

/** Settles with `promise`, or rejects as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/** A local endpoint (Ollama, LM Studio on this machine) is not "remote": nothing leaves the machine. */
function isLoopback(baseUrl: string | undefined): boolean {
  if (!baseUrl) return false
  try {
    const host = new URL(baseUrl).hostname
    return host === 'localhost' || host === '[::1]' || host === '::1' || host.startsWith('127.')
  } catch {
    return false
  }
}
