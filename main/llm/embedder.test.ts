import {
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LlamaEmbeddingContext } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CmdaiError } from '../../contract'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import { writeGguf } from '../../scripts/gguf-writer'
import type { HistorySearchResult, HistoryStatus, LlmState } from '../../contract'
import { HistoryStore } from '../history/store'
import { createServices } from '../services'
import { createLocalEmbedder, LlamaEmbedder, normalise, resolveEmbeddingModel } from './embedder'
import { readGgufEmbeddingInfo } from './gguf-header'
import { sharedLlama } from './local-backend'
import { ModelStore } from './model-store'

const NOMIC_FILE = 'nomic-embed-text-v1.5.Q8_0.gguf'

let dir: string
let tiny: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cmdai-embedder-'))
  tiny = ensureFixtureModel('tiny')
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

function norm(v: Float32Array): number {
  let sum = 0
  for (const x of v) sum += x * x
  return Math.sqrt(sum)
}

/** `code` of the CmdaiError that `fn` throws or rejects with. */
async function errorCode(fn: () => unknown): Promise<string> {
  try {
    await fn()
  } catch (err) {
    expect(err).toBeInstanceOf(CmdaiError)
    return (err as CmdaiError).code
  }
  throw new Error('expected an error')
}

/** The tiny fixture at `path`: a hard link, or a copy where the temp dir is on another disk. */
function placeModel(path: string): void {
  try {
    linkSync(tiny, path)
  } catch {
    copyFileSync(tiny, path)
  }
}

/** A models folder in which the tiny fixture stands in for the catalog's embedding model. */
function dataDirWithCatalogEmbedder(name: string): string {
  const dataDir = join(dir, name)
  mkdirSync(join(dataDir, 'models'), { recursive: true })
  placeModel(join(dataDir, 'models', NOMIC_FILE))
  return dataDir
}

describe('readGgufEmbeddingInfo', () => {
  it('reads the architecture and vector size of a real model file', () => {
    expect(readGgufEmbeddingInfo(tiny)).toEqual({ architecture: 'llama', embeddingLength: 64 })
  })

  it('finds the vector size after large arrays', () => {
    const path = join(dir, 'arrays-first.gguf')
    const tokens = Array.from({ length: 20_000 }, (_, i) => `token-${i}`)
    writeGguf(
      path,
      {
        'tokenizer.ggml.tokens': { type: 'str[]', value: tokens },
        'tokenizer.ggml.token_type': { type: 'i32[]', value: new Int32Array(20_000) },
        'general.architecture': { type: 'str', value: 'bert' },
        'bert.block_count': { type: 'u32', value: 1 },
        'bert.embedding_length': { type: 'u32', value: 384 },
      },
      [],
    )
    expect(readGgufEmbeddingInfo(path)).toEqual({ architecture: 'bert', embeddingLength: 384 })
  })

  it('answers a clear CmdaiError for missing, foreign and incomplete files', async () => {
    expect(await errorCode(() => readGgufEmbeddingInfo(join(dir, 'nope.gguf')))).toBe('not_found')
    const text = join(dir, 'not-a-model.gguf')
    writeFileSync(text, 'hello, I am a text file and not a model\n')
    expect(await errorCode(() => readGgufEmbeddingInfo(text))).toBe('invalid_input')
    const cut = join(dir, 'header-cut.gguf')
    copyFileSync(tiny, cut)
    truncateSync(cut, 100)
    expect(await errorCode(() => readGgufEmbeddingInfo(cut))).toBe('invalid_input')
    const noDims = join(dir, 'no-dims.gguf')
    writeGguf(noDims, { 'general.architecture': { type: 'str', value: 'llama' } }, [])
    expect(() => readGgufEmbeddingInfo(noDims)).toThrow(/embedding_length/)
  })
})

describe('LlamaEmbedder on a real GGUF file', () => {
  let embedder: LlamaEmbedder

  beforeAll(() => {
    embedder = new LlamaEmbedder({ modelPath: tiny, gpu: 'cpu', threads: 1 })
  })

  afterAll(async () => {
    await embedder.dispose()
  })

  it('knows its name and dimensions without loading the model', () => {
    expect(embedder.dimensions).toBe(64)
    expect(embedder.model).toBe(`tiny-v2.gguf:${statSync(tiny).size}`)
    expect(embedder.isLoaded).toBe(false)
  })

  it('embeds a batch into normalised vectors of the model dimension', async () => {
    const texts = ['ls -la', 'git status', 'docker ps -a', 'ls -la']
    const vectors = await embedder.embed(texts)
    expect(embedder.isLoaded).toBe(true)
    expect(vectors).toHaveLength(4)
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array)
      expect(v).toHaveLength(64)
      expect(norm(v)).toBeCloseTo(1, 5)
      expect(v.every(Number.isFinite)).toBe(true)
    }
    // Same text, same vector (within the batch and across calls); different texts differ.
    expect(Array.from(vectors[3]!)).toEqual(Array.from(vectors[0]!))
    const [again] = await embedder.embed(['ls -la'])
    expect(Array.from(again!)).toEqual(Array.from(vectors[0]!))
    expect(Array.from(vectors[1]!)).not.toEqual(Array.from(vectors[0]!))
    expect(await embedder.embed([])).toEqual([])
  })

  it('cuts texts longer than its context instead of failing', async () => {
    const [long, empty] = await embedder.embed(['echo hello '.repeat(3000), ''])
    expect(long).toHaveLength(64)
    expect(norm(long!)).toBeCloseTo(1, 5)
    expect(empty).toHaveLength(64)
    expect(norm(empty!)).toBeCloseTo(1, 5)
  })

  it('serialises concurrent calls: one load, one evaluation at a time, same vectors', async () => {
    const fresh = new LlamaEmbedder({ modelPath: tiny, gpu: 'cpu', threads: 1 })
    const llama = await sharedLlama('cpu')
    const loads = vi.spyOn(llama, 'loadModel')
    let running = 0
    let most = 0
    const original = LlamaEmbeddingContext.prototype.getEmbeddingFor
    const evaluations = vi
      .spyOn(LlamaEmbeddingContext.prototype, 'getEmbeddingFor')
      .mockImplementation(async function (this: LlamaEmbeddingContext, input) {
        most = Math.max(most, ++running)
        try {
          return await original.call(this, input)
        } finally {
          running--
        }
      })
    try {
      const batches = [
        ['git log --oneline', 'git diff'],
        ['kubectl get pods'],
        ['git log --oneline', 'npm test', 'make -j4'],
      ]
      const results = await Promise.all(batches.map((texts) => fresh.embed(texts)))
      expect(loads).toHaveBeenCalledTimes(1)
      expect(evaluations).toHaveBeenCalledTimes(6)
      expect(most).toBe(1)
      expect(results.map((r) => r.length)).toEqual([2, 1, 3])
      expect(Array.from(results[2]![0]!)).toEqual(Array.from(results[0]![0]!))
      const [sequential] = await fresh.embed(['kubectl get pods'])
      expect(Array.from(sequential!)).toEqual(Array.from(results[1]![0]!))
    } finally {
      evaluations.mockRestore()
      loads.mockRestore()
      await fresh.dispose()
    }
    expect(await errorCode(() => fresh.embed(['ls']))).toBe('unavailable')
  })

  it('answers a search query without waiting for a whole background batch', async () => {
    const finished: string[] = []
    const backlog = Array.from({ length: 40 }, (_, i) => `grep -rn TODO src/module-${i}`)
    const batch = embedder.embed(backlog).then(() => finished.push('batch'))
    const query = embedder.embed(['find big files']).then(() => finished.push('query'))
    await Promise.all([batch, query])
    expect(finished).toEqual(['query', 'batch'])
  })

  it('gives a clear CmdaiError for a missing, foreign or truncated file', async () => {
    expect(await errorCode(() => new LlamaEmbedder({ modelPath: join(dir, 'missing.gguf') }))).toBe(
      'not_found',
    )
    const text = join(dir, 'notes.gguf')
    writeFileSync(text, 'not a model at all')
    expect(await errorCode(() => new LlamaEmbedder({ modelPath: text }))).toBe('invalid_input')
    // Metadata intact, tensors cut off (an interrupted download): found when the model loads.
    const truncated = join(dir, 'truncated.gguf')
    copyFileSync(tiny, truncated)
    truncateSync(truncated, Math.floor(statSync(tiny).size / 2))
    const broken = new LlamaEmbedder({ modelPath: truncated, gpu: 'cpu' })
    expect(broken.dimensions).toBe(64)
    await expect(broken.embed(['ls'])).rejects.toThrow(/truncated/)
    expect(await errorCode(() => broken.embed(['ls']))).toBe('invalid_input')
  })
})

describe('normalise', () => {
  it('scales to unit length and keeps degenerate vectors valid', () => {
    expect(Array.from(normalise(Float32Array.from([3, 4])))).toEqual([
      expect.closeTo(0.6, 6),
      expect.closeTo(0.8, 6),
    ])
    expect(Array.from(normalise(new Float32Array(3)))).toEqual([1, 0, 0])
    expect(Array.from(normalise(Float32Array.from([NaN, 1])))).toEqual([1, 0])
  })
})

describe('choosing the embedding model', () => {
  it('uses CMDAI_EMBEDDING_MODEL, else the catalog model on disk, else none', () => {
    const empty = join(dir, 'empty-data')
    mkdirSync(empty, { recursive: true })
    expect(resolveEmbeddingModel(empty, {})).toBeNull()
    expect(createLocalEmbedder(empty, {})).toBeNull()

    const dataDir = dataDirWithCatalogEmbedder('with-catalog')
    expect(resolveEmbeddingModel(dataDir, {})).toEqual({
      path: join(dataDir, 'models', NOMIC_FILE),
      source: 'catalog',
      prefix: 'search_query: ',
    })
    expect(resolveEmbeddingModel(dataDir, { CMDAI_EMBEDDING_MODEL: tiny })).toEqual({
      path: tiny,
      source: 'env',
    })
    const embedder = createLocalEmbedder(dataDir, {})
    expect(embedder?.model).toBe(`${NOMIC_FILE}:${statSync(tiny).size}`)
    expect(embedder?.dimensions).toBe(64)
    expect(embedder?.isLoaded).toBe(false)
  })

  it('turns semantic search off, with a logged reason, when the configured file is unusable', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const missing = { CMDAI_EMBEDDING_MODEL: join(dir, 'gone.gguf') }
      expect(() => resolveEmbeddingModel(dir, missing)).toThrow(/CMDAI_EMBEDDING_MODEL/)
      expect(createLocalEmbedder(dir, missing)).toBeNull()
      const text = join(dir, 'env-notes.gguf')
      writeFileSync(text, 'plain text')
      expect(createLocalEmbedder(dir, { CMDAI_EMBEDDING_MODEL: text })).toBeNull()
      expect(errors.mock.calls.map((c) => String(c[0]))).toEqual([
        expect.stringMatching(/semantic history search is off: CMDAI_EMBEDDING_MODEL/),
        expect.stringMatching(/semantic history search is off: .*not a valid GGUF/),
      ])
    } finally {
      errors.mockRestore()
    }
  })

  it('never takes the embedding model for a chat model', () => {
    const dataDir = dataDirWithCatalogEmbedder('only-embedder')
    const store = new ModelStore(dataDir)
    expect(store.list()).toEqual([
      expect.objectContaining({ id: 'nomic-embed-text-v1.5', kind: 'embedding' }),
    ])
    expect(store.isEmbeddingModel('nomic-embed-text-v1.5')).toBe(true)
    expect(store.resolveActive({}, undefined)).toBeNull()
    expect(() => store.resolveActive({ CMDAI_MODEL: 'nomic-embed-text-v1.5' }, undefined)).toThrow(
      /embedding model/,
    )
    expect(() => store.resolveActive({}, NOMIC_FILE)).toThrow(/not a model that proposes commands/)
    // A chat model beside it is chosen.
    placeModel(join(dataDir, 'models', 'my-chat.gguf'))
    expect(store.resolveActive({}, undefined)?.path).toBe(join(dataDir, 'models', 'my-chat.gguf'))
    expect(store.isEmbeddingModel('my-chat.gguf')).toBe(false)
  })
})

describe('semantic history search with the local embedder', () => {
  it('embeds recorded commands in the background and finds them by vector', async () => {
    const embedder = new LlamaEmbedder({ modelPath: tiny, gpu: 'cpu', threads: 1 })
    const store = await HistoryStore.open({
      dir: join(dir, 'history-db', 'history'),
      redact: (text) => text,
      owner: 'embedder-test',
      embedder,
    })
    try {
      const recorded = [
        'git log --oneline -20',
        'find ~/Downloads -name "*.pdf" -size +10M',
        'docker compose up -d',
        'tar czf backup.tgz src/',
        'kubectl get pods -n prod',
      ]
      const started = Date.now() - 60_000
      await store.recordCommands(
        recorded.map((command, i) => ({
          command,
          cwd: '/tmp',
          exitCode: 0,
          startedAt: started + i,
          durationMs: 5,
          source: 'terminal',
        })),
      )
      // The store computes embeddings in the background (it woke its indexer on the write);
      // embedAll waits for them.
      await store.embedAll()
      expect(await store.pendingEmbeddings()).toBe(0)
      expect(embedder.isLoaded).toBe(true)

      const vague = await store.search({
        query: 'show what I changed',
        mode: 'semantic',
        limit: 10,
      })
      expect(vague.mode).toBe('semantic')
      expect(vague.pendingEmbeddings).toBe(0)
      expect(vague.hits.map((h) => h.command).sort()).toEqual([...recorded].sort())
      // Random weights carry no meaning, but the same text gives the same vector: an exact
      // query is its own nearest neighbour, so it ranks first.
      for (const command of [recorded[1]!, recorded[4]!]) {
        const exact = await store.search({ query: command, mode: 'semantic', limit: 3 })
        expect(exact.hits[0]?.command).toBe(command)
        expect(exact.hits[0]?.last.cwd).toBe('/tmp')
      }
    } finally {
      await store.close()
      await embedder.dispose()
    }
  }, 120_000)
})

describe("the app's services", () => {
  it('hand the catalog embedding model to history, and not to the chat engine', async () => {
    const dataDir = dataDirWithCatalogEmbedder('services')
    const services = createServices({ dataDir, host: 'browser', env: {}, version: '0.0.0-test' })
    const ctx = { clientId: 'test' }
    const call = async <T>(channel: string, args: object): Promise<T> => {
      const result = await services.router.dispatch(channel, args, ctx)
      if (!result.ok) throw new Error(`${channel}: ${result.error.message}`)
      return result.value as T
    }
    const until = async <T>(fn: () => Promise<T>, done: (v: T) => boolean): Promise<T> => {
      const deadline = Date.now() + 60_000
      for (;;) {
        const value = await fn()
        if (done(value) || Date.now() > deadline) return value
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    try {
      const status = await until(
        () => call<HistoryStatus>('history:status', {}),
        (s) => s.state !== 'opening',
      )
      expect(status.state).toBe('ready')
      const commands = [
        'rsync -av src/ host:/srv/app',
        'journalctl -u nginx --since today',
        'du -sh *',
      ]
      const now = Date.now()
      commands.forEach((command, i) =>
        services.events.emit('terminal:command', {
          ptyId: 'p1',
          command,
          cwd: '/home/me',
          exitCode: 0,
          shell: '/bin/bash',
          startedAt: now + i,
          finishedAt: now + i + 3,
          durationMs: 3,
        }),
      )
      // Recorded, then embedded in the background; search reports what is still pending.
      const result = await until(
        () =>
          call<HistorySearchResult>('history:search', {
            query: 'journalctl -u nginx --since today',
            mode: 'semantic',
            limit: 5,
          }),
        (r) => r.pendingEmbeddings === 0 && r.hits.length === commands.length,
      )
      expect(result.pendingEmbeddings).toBe(0)
      expect(result.hits.map((h) => h.command).sort()).toEqual([...commands].sort())
      expect(result.hits[0]?.command).toBe('journalctl -u nginx --since today')
      // The embedding model on disk is not mistaken for a model that proposes commands.
      const llm = await call<LlmState>('llm:status', {})
      expect(llm.model).toBeNull()
      const refused = await services.router.dispatch(
        'models:setActive',
        { id: 'nomic-embed-text-v1.5' },
        ctx,
      )
      expect(refused).toEqual({
        ok: false,
        error: { code: 'invalid_input', message: expect.stringMatching(/embedding model/) },
      })
    } finally {
      await services.dispose()
    }
  }, 120_000)
})
