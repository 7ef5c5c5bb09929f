import { basename, resolve } from 'node:path'
import {
  DraftSequenceTokenPredictor,
  InputLookupTokenPredictor,
  TokenBias,
  TokenPredictor,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp'

/**
 * Speculative decoding through node-llama-cpp's own token predictors. A predictor proposes the
 * next few tokens; the sequence evaluates them in the same batch as the token it must evaluate
 * anyway and keeps those the model would have sampled itself (greedy, under the same bias), so
 * the output is exactly what plain decoding writes, in fewer sequential steps when the guesses
 * are right. When they are wrong the batch was bigger for nothing: on hardware where a bigger
 * batch costs about the same (GPUs) that is free; on some CPUs it is not (see `measureDraftCost`).
 */

export type SpeculativeSetting = 'auto' | 'on' | 'off'

/** Tokens guessed per step: prompt lookup copies short runs (file names, flags from the request). */
export const LOOKUP_DRAFT_TOKENS = 3
/** A draft model may run further ahead: its guesses stop at its own low-confidence tokens. */
export const DRAFT_MODEL_TOKENS = 8
/** Speculation is on by default only where a rejected draft costs at most this much more. */
export const MAX_REJECTED_DRAFT_COST = 0.05

/**
 * Lets predictions through only while `open()` says so. The scaffold decoder forces its own text
 * after every choice point and after a string's closing quote, so guesses made there are always
 * discarded: they would only make the batch bigger.
 */
export class GatedTokenPredictor extends TokenPredictor {
  constructor(
    readonly inner: TokenPredictor,
    private readonly open: () => boolean,
  ) {
    super()
  }

  reset(params: Parameters<TokenPredictor['reset']>[0]): Promise<void> | void {
    return this.inner.reset(params)
  }

  pushTokens(tokens: Token[]): void {
    this.inner.pushTokens(tokens)
  }

  predictTokens(): Promise<Token[]> | Token[] {
    return this.open() ? this.inner.predictTokens() : []
  }

  override stop(untilPredictionsExhausted?: boolean): Promise<void> | void {
    return this.inner.stop(untilPredictionsExhausted)
  }

  override updateInputTokens(tokens: Token[]): void {
    this.inner.updateInputTokens(tokens)
  }

  override dispose(): Promise<void> | void {
    return this.inner.dispose()
  }
}

/** Prompt lookup: commands copy words from the request, the cwd's file names and recent commands. */
export function inputLookupPredictor(): InputLookupTokenPredictor {
  return new InputLookupTokenPredictor({
    patternLength: { min: 2 },
    predictionLength: { min: 1, max: LOOKUP_DRAFT_TOKENS },
  })
}

/**
 * A draft model's predictor. The draft samples under the same string bias as the target (its own
 * TokenBias object over the same vocabulary, which node-llama-cpp requires per model).
 */
export function draftModelPredictor(
  draftSequence: LlamaContextSequence,
  bias: () => TokenBias,
): DraftSequenceTokenPredictor {
  // minTokens stays 0: each step takes the guesses the draft has ready and never waits (a draft
  // much smaller than the target is ahead anyway; waiting can also stall in node-llama-cpp 3.22
  // when a step rejects the draft while the draft is still running).
  return new DraftSequenceTokenPredictor(draftSequence, {
    maxTokens: DRAFT_MODEL_TOKENS,
    minTokens: 0,
    minConfidence: 0.6,
    evaluateOptions: { tokenBias: bias },
  })
}

/**
 * A copy of `bias` for another model with the same vocabulary. Reads node-llama-cpp 3.x's bias map
 * (as sequence-stepper.ts does to ban EOG tokens); if that internal changes, the copy is empty and
 * the draft just guesses unconstrained tokens, which the target then rejects.
 */
export function copyBias(bias: TokenBias, model: LlamaModel): TokenBias {
  const copy = new TokenBias(model.tokenizer)
  const from = (bias as unknown as { _biases?: unknown })._biases
  const to = (copy as unknown as { _biases?: unknown })._biases
  if (from instanceof Map && to instanceof Map) for (const [k, v] of from) to.set(k, v)
  return copy
}

export interface DraftCost {
  /** Draft tokens per step that were measured. */
  draftTokens: number
  /** How much longer a step takes when its draft is rejected: batch(1 + k) / batch(1) - 1. */
  rejectedDraftCost: number
  /** Median ms of one plain step (one token in, one sampled). */
  stepMs: number
}

/**
 * Measures what a rejected draft costs on this hardware, on `sequence` (left empty afterwards):
 * one token evaluated and sampled, against one token plus `draftTokens` guesses each evaluated and
 * sampled (what node-llama-cpp does to validate a draft), interleaved, median of `rounds`.
 */
export async function measureDraftCost(
  sequence: LlamaContextSequence,
  probe: readonly Token[],
  options: { draftTokens: number; rounds?: number; tokenBias?: TokenBias; signal?: AbortSignal },
): Promise<DraftCost> {
  const k = options.draftTokens
  const rounds = options.rounds ?? 3
  if (probe.length < k + 2) throw new Error('The calibration text is too short')
  const sampled = { token: true, options: { temperature: 0, tokenBias: options.tokenBias } }
  const prefix = probe.slice(0, 1)
  const plain: number[] = []
  const drafted: number[] = []
  await sequence.clearHistory()
  try {
    await sequence.evaluateWithoutGeneratingNewTokens([...prefix])
    const time = async (tokens: readonly Token[]) => {
      options.signal?.throwIfAborted()
      const start = performance.now()
      await sequence.controlledEvaluate(
        tokens.map((t) => [t, { generateNext: sampled }] as [Token, { generateNext: object }]),
      )
      const ms = performance.now() - start
      await sequence.eraseContextTokenRanges([{ start: 1, end: sequence.nextTokenIndex }])
      return ms
    }
    // One warm-up of each shape, then interleaved rounds so load changes hit both alike.
    await time(probe.slice(1, 2))
    await time(probe.slice(1, 2 + k))
    for (let r = 0; r < rounds; r++) {
      plain.push(await time(probe.slice(1, 2)))
      drafted.push(await time(probe.slice(1, 2 + k)))
    }
  } finally {
    await sequence.clearHistory()
  }
  const stepMs = median(plain)
  return { draftTokens: k, rejectedDraftCost: median(drafted) / stepMs - 1, stepMs }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)] ?? NaN
}

/**
 * A model file's family: its name without the size (`0.5b`, `7B`), quantisation and extension, so
 * `qwen2.5-coder-0.5b-instruct-q4_k_m.gguf` and `qwen2.5-coder-7b-instruct-q8_0.gguf` match.
 */
export function modelFamily(path: string): string {
  return basename(path)
    .toLowerCase()
    .replace(/\.gguf$/, '')
    .replace(/[-_.](i?q\d[\w]*|f16|f32|bf16)$/, '')
    .replace(/[-_]\d+(\.\d+)?[bm](?=$|[-_])/g, '')
    .replace(/^\d+(\.\d+)?[bm][-_]/, '')
}

/**
 * The draft model for `target` among the installed models: the smallest chat model of the same
 * family at most a quarter of its size (Qwen2.5-Coder 0.5B drafting for 7B), or null. Whether
 * it really shares the vocabulary is checked when it loads.
 */
export function pickDraftModel(
  target: { path: string; sizeBytes: number },
  installed: ReadonlyArray<{ path: string; sizeBytes: number; kind?: string }>,
): string | null {
  const family = modelFamily(target.path)
  const candidates = installed
    .filter(
      (m) =>
        m.kind !== 'embedding' &&
        resolve(m.path) !== resolve(target.path) &&
        m.sizeBytes * 4 <= target.sizeBytes &&
        modelFamily(m.path) === family,
    )
    .sort((a, b) => a.sizeBytes - b.sizeBytes)
  return candidates[0]?.path ?? null
}
