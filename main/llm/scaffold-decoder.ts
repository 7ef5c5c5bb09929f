import { CmdaiError } from '../../contract'
import {
  choiceOf,
  fitBody,
  sanitizeBody,
  scanStringPiece,
  type ObjectPlan,
  type ValuePlan,
} from './json-scaffold'

/**
 * Structured decoding by teacher forcing. The JSON's fixed parts (`{"command":"`, `","explanation":"`
 * ...) are not sampled: their tokens are evaluated directly, in one batch with the token before
 * them. The model only samples (1) the content of string values, with the tokens that cannot
 * continue a JSON string banned, and (2) the choice points (an array's next item or its end, a
 * string or null), with only the tokens that start an alternative allowed. No grammar runs over
 * the vocabulary; a ban list is a logit bias.
 *
 * Validity does not rest on the model or the bias: the decoder writes the output itself, every
 * piece of a value passes through `sanitizeBody` (bare quotes, backslashes and control characters
 * are escaped) and is cut at the schema's maxLength, so the text is valid JSON for any token
 * stream. The streamed deltas concatenate to exactly the returned text.
 */

export type SampleMode = { kind: 'string' } | { kind: 'choice'; alternatives: readonly string[] }

export interface TokenVocab {
  /** The text of one token on its own ('' for special tokens). */
  text(token: number): string
  detokenize(tokens: readonly number[]): string
  tokenize(text: string): number[]
}

export interface TokenStepper {
  /**
   * Evaluates `input` (appended to the sequence) and samples the next token under `mode`'s
   * constraint; null when the model cannot continue. The sampled token is not evaluated until it
   * is passed back in a later `input`.
   */
  step(input: readonly number[], mode: SampleMode): Promise<number | null>
}

export interface ScaffoldDecodeOptions {
  /** Output deltas, at most one per sampled token. */
  onText?: (delta: string) => void
  /** Bound on sampled tokens. */
  maxTokens: number
  signal?: AbortSignal
}

export interface ScaffoldDecodeResult {
  text: string
  /** Tokens the model sampled (choices and string content). */
  sampledTokens: number
  /** Tokens evaluated after the prompt: accepted samples and forced JSON. */
  answerTokens: number
  /** Sizes of the evaluation batches, in order (the first holds the prompt). */
  batches: number[]
}

class Output {
  text = ''
  private pending = ''
  constructor(private readonly onText?: (delta: string) => void) {}
  write(s: string): void {
    this.pending += s
  }
  flush(): void {
    if (!this.pending) return
    const delta = this.pending
    this.text += delta
    this.pending = ''
    this.onText?.(delta)
  }
}

const REPLACEMENT = 0xfffd

/** Trailing U+FFFD characters (at most 3: the bytes of one incomplete UTF-8 character). */
function trailingReplacements(text: string): number {
  let n = 0
  while (n < 3 && text.charCodeAt(text.length - 1 - n) === REPLACEMENT) n++
  return n === 3 && text.charCodeAt(text.length - 4) === REPLACEMENT ? 0 : n
}

export async function decodeWithScaffold(
  plan: ObjectPlan,
  promptTokens: readonly number[],
  vocab: TokenVocab,
  stepper: TokenStepper,
  options: ScaffoldDecodeOptions,
): Promise<ScaffoldDecodeResult> {
  const out = new Output(options.onText)
  const batches: number[] = []
  // What to evaluate before the next sample: tokens, and forced text tokenized at sampling time.
  let queue: Array<number | string> = []
  let first = true
  let sampledTokens = 0
  let answerTokens = 0

  const force = (text: string) => {
    out.write(text)
    queue.push(text)
  }

  const sample = async (mode: SampleMode): Promise<number | null> => {
    options.signal?.throwIfAborted()
    if (sampledTokens >= options.maxTokens) {
      throw new CmdaiError(
        'internal',
        `The model's answer hit the token limit (${options.maxTokens})`,
      )
    }
    const input: number[] = first ? [...promptTokens] : []
    let text = ''
    for (const item of queue) {
      if (typeof item === 'string') text += item
      else {
        if (text) input.push(...vocab.tokenize(text))
        text = ''
        input.push(item)
      }
    }
    if (text) input.push(...vocab.tokenize(text))
    if (!first) answerTokens += input.length
    else answerTokens += input.length - promptTokens.length
    first = false
    queue = []
    batches.push(input.length)
    const token = await stepper.step(input, mode)
    options.signal?.throwIfAborted()
    if (token !== null) sampledTokens++
    return token
  }

  /** The model picks one alternative; its canonical text is forced. `fallback` if it cannot. */
  const choose = async (alternatives: readonly string[], fallback: number): Promise<number> => {
    const token = await sample({ kind: 'choice', alternatives })
    const picked = token === null ? -1 : choiceOf(vocab.text(token), alternatives)
    const index = picked >= 0 ? picked : fallback
    force(alternatives[index]!)
    out.flush()
    return index
  }

  /** String content after an opening quote that is already forced; stops before the closing quote. */
  const stringBody = async (maxLength: number): Promise<void> => {
    const tokens: number[] = []
    let consumed = 0 // characters of detokenize(tokens) already written
    let length = 0 // characters of the value written
    const take = (raw: string): boolean => {
      if (!raw) return false
      const fitted = fitBody(sanitizeBody(raw), maxLength - length)
      out.write(fitted.body)
      length += fitted.count
      return fitted.truncated
    }
    const rest = () => vocab.detokenize(tokens).slice(consumed)
    while (length < maxLength) {
      const token = await sample({ kind: 'string' })
      const piece = token === null ? null : scanStringPiece(vocab.text(token))
      if (token === null || !piece || !piece.clean || (!piece.closed && !piece.body)) {
        // The model stopped, or wrote what cannot continue a string: the value ends here.
        take(rest())
        out.flush()
        return
      }
      if (piece.closed) {
        // The token closes the string: keep its text before the quote, do not evaluate it, and
        // evaluate that text (then the forced closing quote) instead.
        take(rest())
        const body = piece.body ? fitBody(sanitizeBody(piece.body), maxLength - length) : null
        if (body) {
          out.write(body.body)
          length += body.count
          queue.push(body.body)
        }
        out.flush()
        return
      }
      tokens.push(token)
      queue.push(token)
      let raw = rest()
      // Hold back what may be an incomplete multi-byte character until its next bytes arrive.
      const held = trailingReplacements(raw)
      if (held) raw = raw.slice(0, -held)
      consumed += raw.length
      const truncated = take(raw)
      out.flush()
      if (truncated) return
    }
  }

  const stringValue = async (maxLength: number) => {
    force('"')
    await stringBody(maxLength)
    force('"')
  }

  const value = async (plan: ValuePlan) => {
    switch (plan.kind) {
      case 'string':
        return stringValue(plan.maxLength)
      case 'nullable-string':
        if ((await choose(['"', 'null'], 1)) === 0) {
          await stringBody(plan.maxLength)
          force('"')
        }
        return
      case 'string-array': {
        force('[')
        for (let i = 0; i < plan.maxItems; i++) {
          const next = await choose(i === 0 ? ['"', ']'] : [',', ']'], 1)
          if (next === 1) return
          if (i > 0) force('"')
          await stringBody(plan.itemMaxLength)
          force('"')
        }
        force(']')
        return
      }
    }
  }

  force('{')
  for (const [i, field] of plan.fields.entries()) {
    force(`${i ? ',' : ''}${JSON.stringify(field.name)}:`)
    await value(field.value)
  }
  // The closing brace needs no evaluation: nothing is sampled after it.
  out.write('}')
  out.flush()
  return { text: out.text, sampledTokens, answerTokens, batches }
}
