import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CmdaiError } from '../../contract'
import { choiceOf, planFromSchema, scanStringPiece } from './json-scaffold'
import { generationJsonSchema, maxTokensFor, parseGeneration } from './output-schema'
import { completedCommand } from './partial-json'
import {
  decodeWithScaffold,
  type SampleMode,
  type TokenStepper,
  type TokenVocab,
} from './scaffold-decoder'

/**
 * A byte-level vocabulary like a real BPE one: tokens 0-255 are single bytes (so a multi-byte
 * character can be split across tokens), then hostile multi-byte tokens.
 */
const extra = [
  '"',
  '\\',
  '\\"',
  '\\\\',
  '\\n',
  '\n',
  '\t',
  '"}',
  '",',
  '\\u12',
  '\\u00e9',
  'é',
  '😀',
  'ls -la',
  ' | grep',
  ' null',
  'null',
  ']',
  ',',
  ' "x',
  'rm -rf /',
  '\u2028',
  '\u0000',
  '',
].map((s) => Buffer.from(s))
const splitEmoji = [Buffer.from([0xf0, 0x9f]), Buffer.from([0x98, 0x80]), Buffer.from([0xe2])]
const bytes = [...Array.from({ length: 256 }, (_, i) => Buffer.from([i])), ...extra, ...splitEmoji]
const EOG = bytes.length // a special token: no text

const vocab: TokenVocab = {
  text: (t) => (t === EOG ? '' : (bytes[t]?.toString('utf8') ?? '')),
  detokenize: (tokens) =>
    Buffer.concat(tokens.filter((t) => t !== EOG).map((t) => bytes[t]!)).toString('utf8'),
  tokenize: (text) => [...Buffer.from(text)],
}
const vocabSize = EOG + 1

/** Whether the real stepper's logit bias lets this token through in this mode. */
function allowed(token: number, mode: SampleMode): boolean {
  const text = vocab.text(token)
  if (token === EOG) return true // EOG tokens cannot be banned
  if (mode.kind === 'choice') return choiceOf(text, mode.alternatives) >= 0
  const piece = scanStringPiece(text)
  return Boolean(text) && piece.clean && (piece.closed || Boolean(piece.body))
}

/** Replays a scripted token stream; records what it was asked to evaluate. */
function scripted(tokens: Array<number | null>, obey: boolean) {
  const inputs: number[][] = []
  let i = 0
  const stepper: TokenStepper = {
    step(input, mode) {
      inputs.push([...input])
      for (;;) {
        if (i >= tokens.length) return Promise.resolve(null)
        const token = tokens[i++]!
        if (token === null || !obey || allowed(token, mode)) return Promise.resolve(token)
      }
    },
  }
  return { stepper, inputs }
}

const limits = { maxCommandChars: 12, maxExplanationChars: 20, maxAssumptions: 2 }
const plan = planFromSchema(generationJsonSchema(limits))!
const prompt = [1, 2, 3]

async function decode(tokens: Array<number | null>, obey: boolean) {
  const { stepper, inputs } = scripted(tokens, obey)
  const deltas: string[] = []
  try {
    const result = await decodeWithScaffold(plan, prompt, vocab, stepper, {
      maxTokens: maxTokensFor(limits),
      onText: (d) => deltas.push(d),
    })
    return { result, deltas, inputs, error: null }
  } catch (error) {
    return { result: null, deltas, inputs, error }
  }
}

const streams = fc.array(
  fc.oneof(
    { weight: 20, arbitrary: fc.integer({ min: 0, max: vocabSize - 1 }) },
    { weight: 1, arbitrary: fc.constant(null) },
  ),
  { maxLength: 200 },
)

function expectValid(text: string) {
  const generation = parseGeneration(text)
  expect(Array.from(generation.command).length).toBeLessThanOrEqual(limits.maxCommandChars)
  expect(Array.from(generation.explanation).length).toBeLessThanOrEqual(limits.maxExplanationChars)
  expect(generation.assumptions.length).toBeLessThanOrEqual(limits.maxAssumptions)
  for (const a of generation.assumptions) expect(Array.from(a).length).toBeLessThanOrEqual(20)
  if (generation.needsInput !== null)
    expect(Array.from(generation.needsInput).length).toBeLessThanOrEqual(20)
  return generation
}

describe('decodeWithScaffold', () => {
  it('writes valid, bounded JSON for any token stream, even one that ignores the bias', async () => {
    for (const obey of [false, true]) {
      await fc.assert(
        fc.asyncProperty(streams, async (tokens) => {
          const { result, deltas, error } = await decode(tokens, obey)
          if (error) {
            // The only way out without JSON: the token budget, as a clear error.
            expect(error).toBeInstanceOf(CmdaiError)
            expect((error as CmdaiError).message).toMatch(/token limit/)
            return
          }
          expect(deltas.join('')).toBe(result!.text)
          expectValid(result!.text)
          expect(result!.sampledTokens).toBeLessThanOrEqual(maxTokensFor(limits))
        }),
        { numRuns: 400 },
      )
    }
  })

  it('forces the JSON scaffolding and samples only values and choices', async () => {
    const t = (s: string) => bytes.findIndex((b) => b.equals(Buffer.from(s)))
    const { result, inputs, deltas } = await decode(
      [t('ls -la'), t('"}'), t('rm -rf /'), t('"'), t(']'), t(' null')],
      true,
    )
    expect(result!.text).toBe(
      '{"command":"ls -la","explanation":"rm -rf /","assumptions":[],"needsInput":null}',
    )
    // Six samples, six batches; the first holds the prompt and the forced opening.
    expect(result!.sampledTokens).toBe(6)
    expect(result!.batches).toEqual(inputs.map((i) => i.length))
    const evaluated = vocab.detokenize(inputs.flat().slice(prompt.length))
    expect(evaluated).toBe(
      '{"command":"ls -la","explanation":"rm -rf /","assumptions":[],"needsInput":',
    )
    // No delta before the model's first token; the first one carries the opening.
    expect(deltas[0]).toBe('{"command":"ls -la')
    expect(completedCommand(deltas.slice(0, 2).join(''))).toBe('ls -la')
  })

  it('keeps escapes the model writes, escapes what it should not write, and cuts at maxLength', async () => {
    const t = (s: string) => bytes.findIndex((b) => b.equals(Buffer.from(s)))
    const { result } = await decode(
      [t('\\"'), t('\n'), t('\\u00e9'), t('ls -la'), t('ls -la'), t('"'), null],
      false,
    )
    const generation = expectValid(result!.text)
    // The control character is not content: the value ends before it (hostile stream).
    expect(generation.command).toBe('"')
    const second = await decode([t('😀'), t('\\u00e9'), t('ls -la'), t('ls -la'), t('"')], true)
    expect(expectValid(second.result!.text).command).toBe('😀éls -lals -')
  })

  it('joins a character split across tokens before writing it', async () => {
    const base = 256 + extra.length
    const { result, deltas } = await decode([base, base + 1, 97, 34], true)
    expect(expectValid(result!.text).command).toBe('😀a')
    expect(deltas.join('')).not.toContain('\uFFFD')
  })

  it('stops at the token budget with a clear error', async () => {
    const { stepper } = scripted(Array(500).fill(97), true)
    await expect(
      decodeWithScaffold(
        planFromSchema(generationJsonSchema({ ...limits, maxCommandChars: 400 }))!,
        prompt,
        vocab,
        stepper,
        {
          maxTokens: 50,
        },
      ),
    ).rejects.toThrow(/token limit \(50\)/)
  })

  it('stops when the request is cancelled', async () => {
    const controller = new AbortController()
    const { stepper } = scripted(Array(500).fill(97), true)
    const run = decodeWithScaffold(plan, prompt, vocab, stepper, {
      maxTokens: 1000,
      signal: controller.signal,
      onText: () => controller.abort(new Error('cancelled')),
    })
    await expect(run).rejects.toThrow('cancelled')
  })
})
