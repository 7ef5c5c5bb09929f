import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  getLlama,
  LlamaLogLevel,
  TokenPredictor,
  type LlamaContext,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import { LocalBackend } from './local-backend'
import { generationJsonSchema, parseGeneration } from './output-schema'
import { SequenceStepper, TokenTable } from './sequence-stepper'
import {
  draftModelPredictor,
  GatedTokenPredictor,
  inputLookupPredictor,
  MAX_REJECTED_DRAFT_COST,
  measureDraftCost,
  modelFamily,
  pickDraftModel,
} from './speculation'

/** Guesses the next `k` tokens of a known answer (one plain run's output). */
class Oracle extends TokenPredictor {
  private sampled = 0
  constructor(
    private readonly answer: readonly Token[],
    private readonly k: number,
  ) {
    super()
  }
  reset() {}
  pushTokens(tokens: Token[]) {
    this.sampled += tokens.length
  }
  predictTokens(): Token[] {
    return this.answer.slice(this.sampled, this.sampled + this.k)
  }
}

class Fixed extends TokenPredictor {
  resets = 0
  constructor(private readonly guess: Token[]) {
    super()
  }
  reset() {
    this.resets++
  }
  pushTokens() {}
  predictTokens(): Token[] {
    return this.guess
  }
}

describe('draft model choice', () => {
  it('groups files by family, whatever their size and quantisation', () => {
    expect(modelFamily('/m/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf')).toBe('qwen2.5-coder-instruct')
    expect(modelFamily('qwen2.5-coder-7b-instruct-q8_0.gguf')).toBe('qwen2.5-coder-instruct')
    expect(modelFamily('Llama-3.2-1B-Instruct-Q4_K_M.gguf')).toBe('llama-3.2-instruct')
    expect(modelFamily('qwen2.5-coder-7b-instruct-q8_0.gguf')).not.toBe(
      modelFamily('Llama-3.2-1B-Instruct-Q4_K_M.gguf'),
    )
  })

  it('picks the smallest installed model of the family at most a quarter of the size', () => {
    const target = { path: '/m/qwen2.5-coder-7b-instruct-q4_k_m.gguf', sizeBytes: 4_680_000_000 }
    const installed = [
      target,
      { path: '/m/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf', sizeBytes: 1_120_000_000 },
      { path: '/m/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf', sizeBytes: 398_000_000 },
      { path: '/m/llama-3.2-1b-instruct-q4_k_m.gguf', sizeBytes: 100_000_000 },
      { path: '/m/nomic-embed-text-v1.5.Q8_0.gguf', sizeBytes: 1, kind: 'embedding' },
    ]
    expect(pickDraftModel(target, installed)).toBe('/m/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf')
    // Not for a model that is already small: a 1.5B is not drafted by a 0.5B (not 4x smaller).
    expect(pickDraftModel(installed[1]!, installed)).toBeNull()
    expect(pickDraftModel(target, [target])).toBeNull()
  })
})

describe('GatedTokenPredictor', () => {
  it('passes guesses through only while the gate is open, and everything else always', () => {
    const inner = new Fixed([1, 2] as Token[])
    let open = false
    const gated = new GatedTokenPredictor(inner, () => open)
    expect(gated.predictTokens()).toEqual([])
    open = true
    expect(gated.predictTokens()).toEqual([1, 2])
    void gated.reset({ stateTokens: [], evaluateOptions: {}, targetSequence: null as never })
    expect(inner.resets).toBe(1)
  })
})

describe('speculative decoding on the tiny fixture model', () => {
  let model: LlamaModel
  let table: TokenTable
  const contexts: LlamaContext[] = []
  let modelPath: string

  beforeAll(async () => {
    modelPath = ensureFixtureModel('tiny')
    const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error })
    model = await llama.loadModel({ modelPath })
    table = await TokenTable.build(model)
  })
  afterAll(async () => {
    for (const c of contexts) await c.dispose()
    await model.dispose()
  })

  const newContext = async () => {
    const c = await model.createContext({ contextSize: 512, threads: 1 })
    contexts.push(c)
    return c
  }

  /** `steps` greedy string-mode samples after `prompt`, each fed back as the next input. */
  async function stringRun(
    predictor: TokenPredictor | null,
    prompt: Token[],
    steps: number,
  ): Promise<{ tokens: number[]; validated: number; refuted: number }> {
    const context = await newContext()
    let stepper: SequenceStepper | null = null
    const gated = predictor
      ? new GatedTokenPredictor(predictor, () => stepper?.sampling === 'string')
      : null
    const sequence = context.getSequence(gated ? { tokenPredictor: gated } : {})
    gated?.updateInputTokens(prompt)
    stepper = new SequenceStepper(sequence, table)
    const tokens: number[] = []
    let input: number[] = prompt
    for (let i = 0; i < steps; i++) {
      const token = await stepper.step(input, { kind: 'string' })
      if (token === null) break
      tokens.push(token)
      input = [token]
    }
    await stepper.close()
    const { validated, refuted } = sequence.tokenPredictions
    return { tokens, validated, refuted }
  }

  it('writes exactly what plain decoding writes, with guesses accepted or rejected', async () => {
    const prompt = model.tokenize('find . -name "*.log" -size +10M | sort find . -name') as Token[]
    const plain = await stringRun(null, prompt, 24)
    expect(plain.tokens.length).toBe(24)

    // Right guesses are confirmed and skip steps.
    const right = await stringRun(new Oracle(plain.tokens as Token[], 1), prompt, 24)
    expect(right.tokens).toEqual(plain.tokens)
    expect(right.validated).toBeGreaterThan(0)
    expect(right.refuted).toBe(0)

    // A draft model (here the same weights) drafting in the background.
    const draftContext = await newContext()
    const draft = draftModelPredictor(draftContext.getSequence(), () => table.stringBias)
    const drafted = await stringRun(draft, prompt, 24)
    expect(drafted.tokens).toEqual(plain.tokens)

    // Prompt lookup guesses from the prompt; random weights rarely follow it. Same output.
    const lookup = await stringRun(inputLookupPredictor(), prompt, 24)
    expect(lookup.tokens).toEqual(plain.tokens)

    // Guesses that can never be sampled in a string (a newline is banned there) are all
    // rejected, and still change nothing.
    const newline = model.tokenize('\n', false, 'trimLeadingSpace') as Token[]
    const rejected = await stringRun(new Fixed([...newline, ...newline]), prompt, 24)
    expect(rejected.tokens).toEqual(plain.tokens)
    expect(rejected.refuted).toBeGreaterThan(0)
    expect(rejected.validated).toBe(0)
  })

  it('makes no guesses at choice points (the gate is closed there)', async () => {
    const context = await newContext()
    const inner = new Fixed(model.tokenize('abc') as Token[])
    let stepper: SequenceStepper | null = null
    const gated = new GatedTokenPredictor(inner, () => stepper?.sampling === 'string')
    const sequence = context.getSequence({ tokenPredictor: gated })
    stepper = new SequenceStepper(sequence, table)
    const prompt = model.tokenize('{"a": [') as Token[]
    const choice = { kind: 'choice', alternatives: ['"', ']'] } as const
    const token = await stepper.step(prompt, choice)
    await stepper.step([token!], choice)
    await stepper.close()
    expect(sequence.tokenPredictions.validated + sequence.tokenPredictions.refuted).toBe(0)
  })

  it('measures a rejected draft against a plain step and leaves the sequence empty', async () => {
    const sequence = (await newContext()).getSequence()
    const probe = model.tokenize('find . -name "*.log" -size +10M | sort -k5 -h') as Token[]
    const cost = await measureDraftCost(sequence, probe, { draftTokens: 3, rounds: 2 })
    expect(cost.draftTokens).toBe(3)
    expect(cost.stepMs).toBeGreaterThan(0)
    expect(Number.isFinite(cost.rejectedDraftCost)).toBe(true)
    expect(sequence.nextTokenIndex).toBe(0)
    await expect(measureDraftCost(sequence, probe.slice(0, 3), { draftTokens: 3 })).rejects.toThrow(
      /too short/,
    )
  })

  it('LocalBackend: auto follows the measured cost; on with the same model as draft matches off', async () => {
    const limits = { maxCommandChars: 40, maxExplanationChars: 40, maxAssumptions: 1 }
    const request = {
      system: 'You are cmdai.',
      user: 'Context:\ncwd: /repo\nfiles: README.md src/\n\nRequest: show README.md',
      schema: generationJsonSchema(limits),
      maxTokens: 300,
      signal: new AbortController().signal,
    }
    const common = { modelPath, gpu: 'cpu' as const, threads: 1, contextSize: 1024 }
    const auto = new LocalBackend(common)
    const off = new LocalBackend({ ...common, speculative: 'off' })
    const draft = new LocalBackend({ ...common, speculative: 'on', draftModelPath: modelPath })
    try {
      await auto.ensureReady()
      const decided = auto.inspect().speculation
      expect(decided.rejectedDraftCost).not.toBeNull()
      expect(decided.enabled).toBe(decided.rejectedDraftCost! <= MAX_REJECTED_DRAFT_COST)
      expect(decided.reason).toMatch(/rejected draft costs/)

      await off.ensureReady()
      expect(off.inspect().speculation).toMatchObject({ enabled: false, predictor: null })
      await draft.ensureReady()
      expect(draft.inspect().speculation).toMatchObject({
        enabled: true,
        predictor: 'draft-model',
      })
      const a = await off.complete(request)
      const b = await draft.complete(request)
      expect(b.text).toBe(a.text)
      parseGeneration(b.text)
      expect(a.draft).toBeNull()
      expect(b.draft).toEqual({ accepted: expect.any(Number), rejected: expect.any(Number) })
    } finally {
      await auto.dispose()
      await off.dispose()
      await draft.dispose()
    }
  })

  it('LocalBackend: a draft model with another vocabulary, or none at that path, falls back to prompt lookup', async () => {
    const backend = new LocalBackend({
      modelPath,
      gpu: 'cpu',
      threads: 1,
      contextSize: 512,
      speculative: 'on',
      draftModelPath: ensureFixtureModel('qwen2.5-draft'),
    })
    try {
      await backend.ensureReady()
      const s = backend.inspect().speculation
      expect(s.predictor).toBe('input-lookup')
      expect(s.reason).toMatch(/draft model not used: .*vocabulary/)
    } finally {
      await backend.dispose()
    }
    const missing = new LocalBackend({
      modelPath,
      gpu: 'cpu',
      threads: 1,
      contextSize: 512,
      speculative: 'on',
      draftModelPath: '/nonexistent/draft.gguf',
    })
    try {
      await missing.ensureReady()
      expect(missing.inspect().speculation).toMatchObject({
        enabled: true,
        predictor: 'input-lookup',
        reason: expect.stringMatching(/draft model not used/),
      })
    } finally {
      await missing.dispose()
    }
  })
})
