import { describe, expect, it } from 'vitest'
import {
  CHAT_CATALOG,
  defaultCatalogModel,
  EMBEDDING_CATALOG,
  findCatalogModel,
  MODEL_CATALOG,
} from './catalog'

describe('model catalog', () => {
  it('has hf: URIs whose file names match, and a default per RAM tier', () => {
    for (const m of MODEL_CATALOG) {
      expect(m.uri.startsWith('hf:')).toBe(true)
      expect(m.uri.endsWith(`/${m.fileName}`)).toBe(true)
      expect(m.sizeBytes).toBeGreaterThan(1e8)
    }
    expect(defaultCatalogModel(4 * 2 ** 30).id).toBe('qwen2.5-coder-0.5b')
    expect(defaultCatalogModel(8 * 2 ** 30).id).toBe('qwen2.5-coder-1.5b')
    expect(defaultCatalogModel(16 * 2 ** 30).id).toBe('qwen2.5-coder-1.5b')
    expect(defaultCatalogModel(64 * 2 ** 30).id).toBe('qwen2.5-coder-7b')
  })

  it('finds entries by id, file name, or the name node-llama-cpp gives hf: downloads', () => {
    expect(findCatalogModel('qwen2.5-coder-1.5b')?.id).toBe('qwen2.5-coder-1.5b')
    expect(findCatalogModel('qwen2.5-coder-3b-instruct-q4_k_m.gguf')?.id).toBe('qwen2.5-coder-3b')
    expect(findCatalogModel('hf_Qwen_qwen2.5-coder-7b-instruct-q4_k_m.gguf')?.id).toBe(
      'qwen2.5-coder-7b',
    )
    expect(findCatalogModel('something-else.gguf')).toBeUndefined()
  })

  it('keeps the embedding model out of chat-model choices', () => {
    expect(EMBEDDING_CATALOG.map((m) => m.id)).toEqual(['nomic-embed-text-v1.5'])
    expect(CHAT_CATALOG).toHaveLength(MODEL_CATALOG.length - 1)
    expect(CHAT_CATALOG.some((m) => m.kind === 'embedding')).toBe(false)
    expect(EMBEDDING_CATALOG[0]?.defaultForRamGb).toBeNull()
    for (const gb of [1, 4, 8, 16, 64, 512]) {
      expect(defaultCatalogModel(gb * 2 ** 30).kind ?? 'chat').toBe('chat')
    }
    expect(findCatalogModel('nomic-embed-text-v1.5.Q8_0.gguf')?.kind).toBe('embedding')
  })
})
