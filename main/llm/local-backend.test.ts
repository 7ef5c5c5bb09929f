import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Token } from 'node-llama-cpp'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import { LocalBackend } from './local-backend'
import { generationJsonSchema, parseGeneration } from './output-schema'

const limits = { maxCommandChars: 40, maxExplanationChars: 60, maxAssumptions: 1 }
const request = (schema: object, onText?: (d: string) => void) => ({
  system: 'You are cmdai.',
  user: 'Context:\ncwd: /repo\n\nRequest: list files',
  schema,
  maxTokens: 400,
  signal: new AbortController().signal,
  onText,
})

describe('LocalBackend decoding on the tiny fixture model', () => {
  let scaffold: LocalBackend
  let grammar: LocalBackend
  beforeAll(async () => {
    const modelPath = ensureFixtureModel('tiny')
    scaffold = new LocalBackend({ modelPath, gpu: 'cpu', threads: 1, contextSize: 2048 })
    grammar = new LocalBackend({
      modelPath,
      gpu: 'cpu',
      threads: 1,
      contextSize: 2048,
      decoding: 'grammar',
    })
    await scaffold.ensureReady()
    await grammar.ensureReady()
  })
  afterAll(async () => {
    await scaffold.dispose()
    await grammar.dispose()
  })

  it('forces the JSON scaffolding: the KV cache holds the answer as written', async () => {
    const deltas: string[] = []
    const response = await scaffold.complete(
      request(generationJsonSchema(limits), (d) => deltas.push(d)),
    )
    expect(deltas.join('')).toBe(response.text)
    parseGeneration(response.text)
    const { model, contextTokens, lastDecode } = scaffold.inspect()
    expect(lastDecode?.decoding).toBe('scaffold')
    const answer = contextTokens.slice(response.promptTokens!)
    const evaluated = model!.detokenize(answer as Token[])
    // Everything but the last unevaluated closing pieces is in the cache, as written.
    expect(response.text.startsWith(evaluated)).toBe(true)
    expect(response.text.length - evaluated.length).toBeLessThan(8)
    const batches = lastDecode!.batches
    expect(batches.reduce((a, b) => a + b, 0)).toBe(contextTokens.length - lastDecode!.reusedTokens)
    expect(batches).toHaveLength(lastDecode!.sampledTokens)
  })

  it('reuses the prompt prefix on the next request', async () => {
    await scaffold.complete(request(generationJsonSchema(limits)))
    const second = await scaffold.complete({
      ...request(generationJsonSchema(limits)),
      user: 'Context:\ncwd: /repo\n\nRequest: show disk usage',
    })
    expect(second.evaluatedPromptTokens).toBeLessThan(second.promptTokens! / 2)
  })

  it('keeps the grammar path for schemas the scaffold cannot plan, and on request', async () => {
    const numbers = { type: 'object', properties: { n: { type: 'integer' } } }
    const response = await scaffold.complete(request(numbers))
    expect(scaffold.inspect().lastDecode?.decoding).toBe('grammar')
    expect(typeof JSON.parse(response.text)).toBe('object')
    const viaGrammar = await grammar.complete(request(generationJsonSchema(limits)))
    expect(grammar.inspect().lastDecode?.decoding).toBe('grammar')
    parseGeneration(viaGrammar.text)
  })
})
