import { TokenBias, type LlamaContextSequence, type LlamaModel, type Token } from 'node-llama-cpp'
import { choiceOf, scanStringPiece } from './json-scaffold'
import type { SampleMode, TokenStepper, TokenVocab } from './scaffold-decoder'

/**
 * Per-model tables for scaffold decoding: every token's text, the ban list for string content
 * (tokens that cannot continue a JSON string: control characters, broken escapes, special tokens)
 * and, per choice point, the allow-list of tokens that start an alternative.
 */
export class TokenTable implements TokenVocab {
  private readonly choices = new Map<string, TokenBias>()

  private constructor(
    private readonly model: LlamaModel,
    readonly texts: readonly string[],
    readonly stringBias: TokenBias,
  ) {}

  /** Detokenizes the vocabulary in slices, yielding to the event loop between them. */
  static async build(model: LlamaModel, signal?: AbortSignal): Promise<TokenTable> {
    const size = vocabularySize(model)
    const texts: string[] = new Array<string>(size)
    const bias = new TokenBias(model.tokenizer)
    for (let start = 0; start < size; start += 8192) {
      signal?.throwIfAborted()
      const end = Math.min(size, start + 8192)
      for (let t = start; t < end; t++) {
        const text = model.detokenize([t as Token])
        texts[t] = text
        const piece = scanStringPiece(text)
        if (!text || !piece.clean || (!piece.closed && !piece.body)) {
          if (text || !model.isEogToken(t as Token)) bias.set(t as Token, 'never')
          else banEog(bias, t as Token)
        }
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
    return new TokenTable(model, texts, bias)
  }

  /**
   * Lifts every token that starts one of `alternatives` far above the rest (+1000 logits, while
   * logits span tens), so greedy sampling picks the best of them: the same choice as banning all
   * others, with a bias list of a few hundred tokens instead of the whole vocabulary.
   */
  choiceBias(alternatives: readonly string[]): TokenBias {
    const key = JSON.stringify(alternatives)
    let bias = this.choices.get(key)
    if (!bias) {
      bias = new TokenBias(this.model.tokenizer)
      for (let t = 0; t < this.texts.length; t++) {
        if (choiceOf(this.texts[t]!, alternatives) >= 0) bias.set(t as Token, { logit: 1000 })
      }
      this.choices.set(key, bias)
    }
    return bias
  }

  text(token: number): string {
    return this.texts[token] ?? ''
  }

  detokenize(tokens: readonly number[]): string {
    return this.model.detokenize(tokens as Token[])
  }

  tokenize(text: string): number[] {
    return this.model.tokenize(text, false, 'trimLeadingSpace')
  }
}

/**
 * TokenBias.set ignores end-of-generation tokens, but inside a JSON string the model must not end
 * the answer (node-llama-cpp's grammars forbid it the same way), so they are banned through the
 * bias map that node-llama-cpp 3.x reads. If that internal ever changes, an EOG token sampled
 * inside a string just ends the value: the output stays valid either way.
 */
function banEog(bias: TokenBias, token: Token): void {
  const biases = (bias as unknown as { _biases?: unknown })._biases
  if (biases instanceof Map) biases.set(token, -Infinity)
}

function vocabularySize(model: LlamaModel): number {
  const metadata = model.fileInfo.metadata as unknown as {
    tokenizer?: { ggml?: { tokens?: unknown[] } }
  }
  const tokens = metadata.tokenizer?.ggml?.tokens?.length
  if (tokens) return tokens
  const embedding = model.fileInfo.tensorInfo?.find((t) => t.name === 'token_embd.weight')
  const size = Number(embedding?.dimensions[1] ?? 0)
  if (!size) throw new Error('Cannot tell the size of the model vocabulary')
  return size
}

/**
 * Drives one LlamaContextSequence.evaluate generator through a scaffold decoding: each step
 * passes the tokens to evaluate as the generator's replacement input, with greedy sampling under
 * the mode's logit bias. EOG tokens are yielded (they cannot be banned) and handled by the
 * decoder like any token that cannot continue.
 */
export class SequenceStepper implements TokenStepper {
  private iterator: AsyncGenerator<Token, void, void | Token | Token[]> | null = null
  private mode: SampleMode = { kind: 'string' }

  constructor(
    private readonly sequence: LlamaContextSequence,
    private readonly table: TokenTable,
  ) {}

  /** What the next sample is constrained to (speculation only guesses inside strings). */
  get sampling(): SampleMode['kind'] {
    return this.mode.kind
  }

  private bias = (): TokenBias =>
    this.mode.kind === 'string'
      ? this.table.stringBias
      : this.table.choiceBias(this.mode.alternatives)

  async step(input: readonly number[], mode: SampleMode): Promise<number | null> {
    if (input.length === 0) throw new Error('Nothing to evaluate before sampling')
    this.mode = mode
    let result: IteratorResult<Token, void>
    if (!this.iterator) {
      this.iterator = this.sequence.evaluate(input as Token[], {
        temperature: 0,
        tokenBias: this.bias,
        yieldEogToken: true,
      })
      result = await this.iterator.next()
    } else {
      result = await this.iterator.next(input as Token[])
    }
    if (result.done) {
      this.iterator = null
      return null
    }
    return result.value
  }

  async close(): Promise<void> {
    const iterator = this.iterator
    this.iterator = null
    await iterator?.return()
  }
}
