import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getLlama } from 'node-llama-cpp'
import { afterAll, describe, expect, it } from 'vitest'
import { checkGgufFile } from '../main/llm/gguf-check'
import { buildFixtureVocab } from './fixture-tokenizer'
import { makeFixtureModel } from './fixture-model'

const dir = mkdtempSync(join(tmpdir(), 'cmdai-fixture-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const samples = [
  'list files in the current dir | grep "foo" && echo \'done\' {x}; exit 0',
  'héllo wörld 日本語 🎉 tabs\tand\nnewlines',
  'git log --oneline --since="2 days ago" -- src/**/*.ts',
]

describe('fixture models', () => {
  it('writes a tiny llama GGUF in seconds that the real loader reads, with a round-tripping tokenizer', async () => {
    const path = join(dir, 'tiny.gguf')
    const started = performance.now()
    makeFixtureModel('tiny', path)
    expect(performance.now() - started).toBeLessThan(15_000)
    const summary = await checkGgufFile(path)
    expect(summary).toMatchObject({ architecture: 'llama', tensorCount: 2 + 2 * 9 })
    expect(summary.sizeBytes).toBe(statSync(path).size)

    const llama = await getLlama({ gpu: false })
    const model = await llama.loadModel({ modelPath: path })
    try {
      for (const text of samples) {
        const tokens = model.tokenize(text)
        expect(tokens.length).toBeLessThan(text.length)
        expect(model.detokenize(tokens)).toBe(text)
      }
      // ChatML control tokens are single special tokens, as in Qwen.
      expect(model.tokenize('<|im_start|>', true)).toHaveLength(1)
    } finally {
      await model.dispose()
    }
  })

  it('derives GPT-2 merges from tiktoken ranks (first merges as in GPT-2)', () => {
    const vocab = buildFixtureVocab()
    expect(vocab.tokens).toHaveLength(50_256 + 3)
    expect(vocab.merges).toHaveLength(50_000)
    // GPT-2's merges.txt starts "Ġ t", "Ġ a", "h e".
    expect(vocab.merges.slice(0, 3)).toEqual(['Ġ t', 'Ġ a', 'h e'])
  })
})
