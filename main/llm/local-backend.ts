import { statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename } from 'node:path'
import {
  getLlama,
  LlamaGrammarEvaluationState,
  LlamaLogLevel,
  resolveChatWrapper,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
  type TokenPredictor,
} from 'node-llama-cpp'
import { CmdaiError } from '../../contract'
import type { BackendRequest, BackendResponse, LlmBackend } from './backend'
import { checkGgufFile } from './gguf-check'
import { planFromSchema } from './json-scaffold'
import { Mutex } from './lock'
import { JsonEndDetector } from './partial-json'
import { decodeWithScaffold } from './scaffold-decoder'
import { SequenceStepper, TokenTable } from './sequence-stepper'
import type { LlmSettings } from './settings'
import {
  copyBias,
  draftModelPredictor,
  GatedTokenPredictor,
  inputLookupPredictor,
  LOOKUP_DRAFT_TOKENS,
  MAX_REJECTED_DRAFT_COST,
  measureDraftCost,
  type SpeculativeSetting,
} from './speculation'

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
  /**
   * 'scaffold' (default): the JSON's fixed parts are forced and only values and choices are
   * sampled (see scaffold-decoder.ts); schemas it cannot plan use the grammar. 'grammar': always
   * sample the whole answer under node-llama-cpp's JSON-schema grammar (benchmarks compare both).
   */
  decoding?: 'scaffold' | 'grammar'
  /**
   * Speculative decoding (speculation.ts): 'auto' (default) turns it on when a rejected draft
   * costs at most 5% more on this hardware, measured at load; 'on' and 'off' force it.
   */
  speculative?: SpeculativeSetting
  /** A small model with the same vocabulary that drafts tokens; without one, prompt lookup. */
  draftModelPath?: string | null
  /** Replaces the predictor (benchmarks measure a predictor whose guesses are always wrong). */
  predictor?: () => TokenPredictor
}

/** Whether speculative decoding runs, with what, and why. */
export interface SpeculationState {
  enabled: boolean
  predictor: 'input-lookup' | 'draft-model' | 'custom' | null
  /** Measured at load: how much longer a step with a rejected draft takes (null: not measured). */
  rejectedDraftCost: number | null
  /** Why it is on or off, in a sentence. */
  reason: string
}

/** How the last answer was evaluated (benchmarks replay it on a bare sequence). */
export interface DecodeTrace {
  decoding: 'scaffold' | 'grammar'
  /** Prompt tokens reused from the KV cache. */
  reusedTokens: number
  /** Evaluation batch sizes after the reused prefix, in order; a token is sampled after each. */
  batches: number[]
  /** Tokens the model sampled. */
  sampledTokens: number
  /** Draft tokens the model confirmed and rejected (speculative decoding), when it ran. */
  draft: { accepted: number; rejected: number } | null
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
 * Warm path: the sequence keeps its tokens between requests. A request renders the chat with the
 * model's own chat template, keeps the longest prefix that is already in the KV cache, erases the
 * rest and evaluates only the new tokens; the system prompt and the context block come first, so
 * a request pays for the user's words and the answer. The sequence is driven directly (not through
 * LlamaChatSession) because the chat session's per-token bookkeeping (segment and stop-trigger
 * detection for features not used here) cost more than the decoding itself on this shape.
 */
export class LocalBackend implements LlmBackend {
  readonly kind = 'local' as const
  readonly modelName: string
  private readonly lock = new Mutex()
  private llama: Llama | null = null
  private model: LlamaModel | null = null
  private context: LlamaContext | null = null
  private sequence: LlamaContextSequence | null = null
  private chatWrapper: ChatWrapper | null = null
  private table: TokenTable | null = null
  private trace: DecodeTrace | null = null
  private tableMs = 0
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>()
  private disposed = false
  private threads = 1
  private draftModel: LlamaModel | null = null
  private draftContext: LlamaContext | null = null
  private predictor: GatedTokenPredictor | null = null
  private activeStepper: SequenceStepper | null = null
  private speculation: SpeculationState = {
    enabled: false,
    predictor: null,
    rejectedDraftCost: null,
    reason: 'not loaded',
  }

  constructor(private readonly options: LocalBackendOptions) {
    this.modelName = basename(options.modelPath).replace(/\.gguf$/i, '')
  }

  get modelPath(): string {
    return this.options.modelPath
  }

  compute(): string | null {
    if (!this.llama || !this.model || !this.sequence) return null
    return this.llama.gpu === false || this.model.gpuLayers === 0 ? 'cpu' : this.llama.gpu
  }

  ensureReady(signal?: AbortSignal): Promise<void> {
    if (this.sequence) return Promise.resolve()
    return this.lock.run(() => this.load(signal))
  }

  private async load(signal?: AbortSignal): Promise<void> {
    if (this.sequence) return
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
    this.threads = this.options.threads ?? defaultThreads(this.options.modelPath)
    try {
      const context = await model.createContext({
        contextSize: Math.min(this.options.contextSize, model.trainContextSize),
        sequences: 1,
        threads: this.threads,
      })
      this.chatWrapper = resolveChatWrapper(model)
      const tableStart = performance.now()
      this.table =
        this.options.decoding === 'grammar' ? null : await TokenTable.build(model, signal)
      this.tableMs = performance.now() - tableStart
      this.sequence = await this.speculativeSequence(llama, model, context, signal)
      this.context = context
      this.model = model
      this.llama = llama
    } catch (err) {
      await this.releaseDraft()
      await model.dispose()
      if (signal?.aborted) throw err
      throw loadError(this.options.modelPath, err)
    }
    if (this.disposed) await this.release()
  }

  /**
   * The one sequence, with a token predictor when speculation is on. 'auto' measures what a
   * rejected draft costs here first (on a scratch sequence, ~10 decode steps) and stays off when
   * it is more than 5%: on a CPU, evaluating 1 + k tokens can cost several times one token.
   */
  private async speculativeSequence(
    llama: Llama,
    model: LlamaModel,
    context: LlamaContext,
    signal?: AbortSignal,
  ): Promise<LlamaContextSequence> {
    const setting = this.options.speculative ?? 'auto'
    const table = this.table
    if (setting === 'off' || !table) {
      this.speculation = {
        enabled: false,
        predictor: null,
        rejectedDraftCost: null,
        reason: setting === 'off' ? 'turned off in settings' : 'grammar decoding',
      }
      return context.getSequence()
    }
    const kind = this.options.predictor
      ? 'custom'
      : this.options.draftModelPath
        ? 'draft-model'
        : 'input-lookup'
    let cost: number | null = null
    if (setting === 'auto') {
      const draftTokens = kind === 'draft-model' ? 4 : LOOKUP_DRAFT_TOKENS
      // Measured once per model, hardware and threads in this process (a switch back is free).
      const key = `${this.options.modelPath}|${statSync(this.options.modelPath).size}|${llama.gpu}|${model.gpuLayers}|${this.threads}|${draftTokens}`
      const known = measuredDraftCosts.get(key)
      if (known !== undefined) cost = known
      else {
        const scratch = context.getSequence()
        try {
          const probe = model.tokenize(CALIBRATION_TEXT, false, 'trimLeadingSpace')
          const measured = await measureDraftCost(scratch, probe, {
            draftTokens,
            tokenBias: table.stringBias,
            signal,
          })
          cost = measured.rejectedDraftCost
          measuredDraftCosts.set(key, cost)
        } finally {
          scratch.dispose()
        }
      }
      if (cost > MAX_REJECTED_DRAFT_COST) {
        this.speculation = {
          enabled: false,
          predictor: null,
          rejectedDraftCost: cost,
          reason: `a rejected draft costs ${pct(cost)} more here (limit ${pct(MAX_REJECTED_DRAFT_COST)})`,
        }
        return context.getSequence()
      }
    }
    let inner: TokenPredictor
    let predictor: SpeculationState['predictor'] = kind
    let note = ''
    if (this.options.predictor) inner = this.options.predictor()
    else if (this.options.draftModelPath) {
      try {
        inner = await this.loadDraft(llama, model, table, context.contextSize, signal)
      } catch (err) {
        if (signal?.aborted) throw err
        const why = err instanceof Error ? err.message : String(err)
        note = `; draft model not used: ${why.slice(0, 160)}`
        inner = inputLookupPredictor()
        predictor = 'input-lookup'
      }
    } else inner = inputLookupPredictor()
    this.predictor = new GatedTokenPredictor(inner, () => this.activeStepper?.sampling === 'string')
    this.speculation = {
      enabled: true,
      predictor,
      rejectedDraftCost: cost,
      reason:
        (setting === 'on'
          ? 'turned on in settings'
          : `a rejected draft costs ${pct(cost!)} more here (limit ${pct(MAX_REJECTED_DRAFT_COST)})`) +
        note,
    }
    return context.getSequence({ tokenPredictor: this.predictor })
  }

  /** Loads the draft model on the same backend and checks that it shares the vocabulary. */
  private async loadDraft(
    llama: Llama,
    model: LlamaModel,
    table: TokenTable,
    contextSize: number,
    signal?: AbortSignal,
  ): Promise<TokenPredictor> {
    const path = this.options.draftModelPath!
    await checkGgufFile(path)
    const draft = await llama.loadModel({ modelPath: path, loadSignal: signal })
    this.draftModel = draft
    if (!sameVocabulary(model, draft)) {
      throw new Error(`${basename(path)} does not share the model's vocabulary`)
    }
    const draftContext = await draft.createContext({
      contextSize,
      sequences: 1,
      threads: this.threads,
    })
    this.draftContext = draftContext
    // The gate only asks for guesses inside strings, so the draft drafts under the string bias.
    const draftBias = copyBias(table.stringBias, draft)
    return draftModelPredictor(draftContext.getSequence(), () => draftBias)
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

  /** Renders the chat (system, user, and the opening of the model's turn) with the model's template. */
  private renderPrompt(system: string, user: string): Token[] {
    const model = this.model!
    const { contextText } = this.chatWrapper!.generateContextState({
      chatHistory: [
        { type: 'system', text: system },
        { type: 'user', text: user },
        { type: 'model', response: [] },
      ],
    })
    return contextText.tokenize(model.tokenizer)
  }

  /** Keeps the longest cached prefix of `tokens` (leaving at least one to evaluate), drops the rest. */
  private async reusePrefix(sequence: LlamaContextSequence, tokens: Token[]): Promise<number> {
    const cached = sequence.contextTokens
    let common = 0
    while (common < cached.length && common < tokens.length && cached[common] === tokens[common])
      common++
    common = Math.min(common, tokens.length - 1)
    if (common < sequence.nextTokenIndex) {
      await sequence.eraseContextTokenRanges([{ start: common, end: sequence.nextTokenIndex }])
    }
    return common
  }

  async complete(request: BackendRequest): Promise<BackendResponse> {
    await this.ensureReady(request.signal)
    const plan = this.table ? planFromSchema(request.schema) : null
    const grammar = plan ? null : await this.grammarFor(request.schema)
    return this.lock.run(async () => {
      request.signal.throwIfAborted()
      const model = this.model
      const sequence = this.sequence
      const table = this.table
      if (!model || !sequence) throw new CmdaiError('unavailable', 'The model was unloaded')
      const prompt = this.renderPrompt(request.system, request.user)
      const reused = await this.reusePrefix(sequence, prompt)
      if (plan && table) {
        const stepper = new SequenceStepper(sequence, table)
        this.activeStepper = stepper
        // Prompt lookup searches the prompt (request, file names, recent commands) for the text
        // the answer is writing and guesses how it continues.
        this.predictor?.updateInputTokens(prompt.slice(Math.max(0, reused - 64)))
        const before = { ...sequence.tokenPredictions }
        try {
          const result = await decodeWithScaffold(plan, prompt.slice(reused), table, stepper, {
            onText: request.onText,
            maxTokens: request.maxTokens,
            signal: request.signal,
          })
          const after = sequence.tokenPredictions
          const draft = this.predictor
            ? {
                accepted: after.validated - before.validated,
                rejected: after.refuted - before.refuted,
              }
            : null
          this.trace = {
            decoding: 'scaffold',
            reusedTokens: reused,
            batches: result.batches,
            sampledTokens: result.sampledTokens,
            draft,
          }
          return {
            text: result.text,
            promptTokens: prompt.length,
            outputTokens: result.sampledTokens,
            evaluatedPromptTokens: prompt.length - reused,
            draft,
          }
        } finally {
          this.activeStepper = null
          await stepper.close()
        }
      }
      return this.completeWithGrammar(request, model, sequence, grammar!, prompt, reused)
    })
  }

  /** The whole answer sampled under the JSON-schema grammar (schemas the scaffold cannot plan). */
  private async completeWithGrammar(
    request: BackendRequest,
    model: LlamaModel,
    sequence: LlamaContextSequence,
    grammar: LlamaGrammar,
    prompt: Token[],
    reused: number,
  ): Promise<BackendResponse> {
    const grammarEvaluationState = new LlamaGrammarEvaluationState({ model, grammar })
    const output: Token[] = []
    const end = new JsonEndDetector()
    let emitted = ''
    let stoppedByLimit = true
    for await (const token of sequence.evaluate(prompt.slice(reused), {
      temperature: 0,
      grammarEvaluationState,
    })) {
      request.signal.throwIfAborted()
      if (model.isEogToken(token)) {
        stoppedByLimit = false
        break
      }
      output.push(token)
      // Deltas only; hold back while a multi-byte character is still incomplete.
      const text = model.detokenize(output)
      if (!text.endsWith('\uFFFD') && text.length > emitted.length) {
        const delta = text.slice(emitted.length)
        emitted = text
        request.onText?.(delta)
        // The schema's value is complete: stop here rather than sample the grammar's
        // trailing newlines (node-llama-cpp's JSON grammars end with a "\n\n\n\n" trigger).
        if (end.push(delta)) {
          stoppedByLimit = false
          break
        }
      }
      if (output.length >= request.maxTokens) break
    }
    request.signal.throwIfAborted()
    if (stoppedByLimit) {
      throw new CmdaiError(
        'internal',
        `The model's answer hit the token limit (${request.maxTokens})`,
      )
    }
    const text = model.detokenize(output)
    if (text.length > emitted.length) request.onText?.(text.slice(emitted.length))
    this.trace = {
      decoding: 'grammar',
      reusedTokens: reused,
      batches: [prompt.length - reused, ...output.slice(1).map(() => 1)],
      sampledTokens: output.length,
      draft: null,
    }
    return {
      text: text.trim(),
      promptTokens: prompt.length,
      outputTokens: output.length,
      evaluatedPromptTokens: prompt.length - reused,
    }
  }

  async warm(system: string, userPrefix: string, signal?: AbortSignal): Promise<void> {
    await this.ensureReady(signal)
    await this.lock.run(async () => {
      const sequence = this.sequence
      if (!sequence || signal?.aborted) return
      // The rendered chat up to the user's prefix: shared by every later request's prompt.
      const full = this.renderPrompt(system, userPrefix)
      const probe = this.renderPrompt(system, `${userPrefix}\u0000`)
      let shared = 0
      while (shared < full.length && full[shared] === probe[shared]) shared++
      const prefix = full.slice(0, Math.max(1, shared - 1))
      const reused = await this.reusePrefix(sequence, [...prefix, prefix.at(-1)!])
      if (reused < prefix.length)
        await sequence.evaluateWithoutGeneratingNewTokens(prefix.slice(reused))
    })
  }

  /** The loaded model and the tokens now in the KV cache (benchmarks compare against these). */
  inspect(): {
    model: LlamaModel | null
    contextTokens: readonly number[]
    threads: number
    lastDecode: DecodeTrace | null
    /** Time spent building the token table at load. */
    tableMs: number
    speculation: SpeculationState
  } {
    return {
      model: this.model,
      contextTokens: [...(this.sequence?.contextTokens ?? [])],
      threads: this.threads,
      lastDecode: this.trace,
      tableMs: this.tableMs,
      speculation: { ...this.speculation },
    }
  }

  /** Forget the reused state (for cold measurements). */
  async clearCache(): Promise<void> {
    await this.lock.run(async () => {
      await this.sequence?.clearHistory()
    })
  }

  private async release(): Promise<void> {
    this.sequence?.dispose()
    this.sequence = null
    this.predictor = null
    this.chatWrapper = null
    this.table = null
    await this.context?.dispose()
    this.context = null
    await this.releaseDraft()
    await this.model?.dispose()
    this.model = null
  }

  private async releaseDraft(): Promise<void> {
    await this.draftContext?.dispose()
    this.draftContext = null
    await this.draftModel?.dispose()
    this.draftModel = null
  }

  async dispose(): Promise<void> {
    this.disposed = true
    await this.lock.run(() => this.release())
  }
}

/**
 * One core is left to the UI and the terminal: llama.cpp's threads spin while they wait for each
 * other, so using every core of a busy machine makes decoding collapse (measured on this 2-core
 * box under load: 2 threads took over 120 s for a request that 1 thread answered in 5 s). A tiny
 * model (test fixtures) does so little work per token that one thread is always fastest.
 */
function defaultThreads(modelPath: string): number {
  const spare = Math.max(1, availableParallelism() - 1)
  try {
    return statSync(modelPath).size < 100 * 2 ** 20 ? 1 : spare
  } catch {
    return spare
  }
}

/** What a rejected draft cost, by model, hardware and threads (see speculativeSequence). */
const measuredDraftCosts = new Map<string, number>()

/** A command-like text that tokenizes into enough tokens with any vocabulary. */
const CALIBRATION_TEXT =
  'find . -name "*.log" -size +10M -mtime -7 -exec ls -lh {} \\; | sort -k5 -h | tail -n 20'

const pct = (x: number) => `${(x * 100).toFixed(0)}%`

/** Same vocabulary: same size, same special tokens, same text for a spread of token ids. */
function sameVocabulary(a: LlamaModel, b: LlamaModel): boolean {
  const size = (m: LlamaModel) =>
    (m.fileInfo.metadata as unknown as { tokenizer?: { ggml?: { tokens?: unknown[] } } }).tokenizer
      ?.ggml?.tokens?.length ?? -1
  const n = size(a)
  if (n <= 0 || n !== size(b)) return false
  if (a.tokens.bos !== b.tokens.bos || a.tokens.eos !== b.tokens.eos) return false
  for (let t = 5; t < n; t += Math.max(1, Math.floor(n / 997))) {
    if (a.detokenize([t as Token], true) !== b.detokenize([t as Token], true)) return false
  }
  return true
}

function loadError(path: string, err: unknown): CmdaiError {
  if (err instanceof CmdaiError) return err
  const why = err instanceof Error ? err.message : String(err)
  return new CmdaiError('invalid_input', `Cannot load model ${path}: ${why}`)
}
