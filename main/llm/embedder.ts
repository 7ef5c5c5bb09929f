import { statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { basename } from 'node:path'
import type { LlamaEmbeddingContext, LlamaModel, Token } from 'node-llama-cpp'
import { CmdaiError } from '../../contract'
import type { Embedder } from '../history/embedder'
import { EMBEDDING_CATALOG, EMBEDDING_PREFIX, findCatalogModel } from './catalog'
import { checkGgufFile } from './gguf-check'
import { readGgufEmbeddingInfo } from './gguf-header'
import { sharedLlama, type GpuSetting } from './local-backend'
import { Mutex } from './lock'
import { ModelStore } from './model-store'
import { readLlmSettings } from './settings'

export interface LlamaEmbedderOptions {
  modelPath: string
  /** Which compute layer to use; read when the model loads. Default 'cpu'. */
  gpu?: GpuSetting | (() => GpuSetting)
  /** CPU threads; default a quarter of the cores (at least 1): embeddings run in the background. */
  threads?: number
  /** Tokens per text (longer texts are cut); capped by the model's training context. */
  contextSize?: number
  /** Characters per text kept before tokenising (commands can be huge heredocs). */
  maxChars?: number
  /** Put in front of every text (task prefix of models such as Nomic Embed). */
  prefix?: string
}

const DEFAULT_CONTEXT = 512
const DEFAULT_MAX_CHARS = 4000

interface Loaded {
  model: LlamaModel
  context: LlamaEmbeddingContext
  /** Tokens a text may have once BOS/EOS are added (the context refuses inputs that fill it). */
  maxTokens: number
}

/**
 * Embeddings from a GGUF embedding model through node-llama-cpp, for semantic history search.
 *
 * Nothing is loaded until the first `embed` call (the app starts without it; the history store
 * computes embeddings in the background). Only the file's metadata is read up front, because the
 * store prepares its vector index for `dimensions` before it asks for the first vector. The
 * embedder is the single owner of its model and context; evaluations run one at a time.
 */
export class LlamaEmbedder implements Embedder {
  readonly model: string
  readonly dimensions: number
  readonly modelPath: string
  private readonly lock = new Mutex()
  private loaded: Loaded | null = null
  private disposed = false

  /** Reads the file's metadata (synchronously, a few kilobytes); throws a CmdaiError if unusable. */
  constructor(private readonly options: LlamaEmbedderOptions) {
    this.modelPath = options.modelPath
    let size: number
    try {
      size = statSync(options.modelPath).size
    } catch {
      throw new CmdaiError('not_found', `Embedding model file not found: ${options.modelPath}`)
    }
    this.dimensions = readGgufEmbeddingInfo(options.modelPath).embeddingLength
    // Vectors of another file are not comparable: a new name makes the store recompute them.
    this.model = `${basename(options.modelPath)}:${size}`
  }

  get isLoaded(): boolean {
    return this.loaded !== null
  }

  /**
   * One text at a time through the lock: the model evaluates one input at once, and a search
   * query (one text) waits for at most one text of a background batch, not the whole batch.
   */
  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = []
    for (const text of texts) {
      out.push(await this.lock.run(async () => this.embedOne(await this.load(), text)))
    }
    return out
  }

  /** Frees the model and its context; later `embed` calls fail. */
  async dispose(): Promise<void> {
    this.disposed = true
    await this.lock.run(async () => {
      const loaded = this.loaded
      this.loaded = null
      if (!loaded) return
      await loaded.context.dispose()
      await loaded.model.dispose()
    })
  }

  private async load(): Promise<Loaded> {
    if (this.disposed) throw new CmdaiError('unavailable', 'The embedding model was unloaded')
    if (this.loaded) return this.loaded
    const path = this.modelPath
    await checkGgufFile(path)
    const gpu = typeof this.options.gpu === 'function' ? this.options.gpu() : this.options.gpu
    const llama = await sharedLlama(gpu ?? 'cpu')
    let model: LlamaModel
    try {
      model = await llama.loadModel({ modelPath: path })
    } catch (err) {
      if (llama.gpu === false) throw loadError(path, err)
      // Not enough GPU memory or a driver problem: embeddings are fine on the CPU.
      try {
        model = await llama.loadModel({ modelPath: path, gpuLayers: 0 })
      } catch (err2) {
        throw loadError(path, err2)
      }
    }
    try {
      if (model.embeddingVectorSize !== this.dimensions) {
        throw new CmdaiError(
          'invalid_input',
          `${path} produces ${model.embeddingVectorSize}-dimensional vectors, its metadata says ${this.dimensions}`,
        )
      }
      const contextSize = Math.max(
        16,
        Math.min(this.options.contextSize ?? DEFAULT_CONTEXT, model.trainContextSize),
      )
      const context = await model.createEmbeddingContext({
        contextSize,
        // Encoder models (BERT) must see a whole text in one batch.
        batchSize: contextSize,
        threads: this.options.threads ?? defaultThreads(),
      })
      this.loaded = { model, context, maxTokens: contextSize - 3 }
      return this.loaded
    } catch (err) {
      await model.dispose()
      throw loadError(path, err)
    }
  }

  private async embedOne(loaded: Loaded, text: string): Promise<Float32Array> {
    const input =
      (this.options.prefix ?? '') + text.slice(0, this.options.maxChars ?? DEFAULT_MAX_CHARS)
    let tokens: Token[] = loaded.model.tokenize(input)
    if (tokens.length === 0) tokens = loaded.model.tokenize(' ')
    if (tokens.length > loaded.maxTokens) tokens = tokens.slice(0, loaded.maxTokens)
    const embedding = await loaded.context.getEmbeddingFor(tokens)
    const vector = Float32Array.from(embedding.vector)
    if (vector.length !== this.dimensions) {
      throw new CmdaiError(
        'internal',
        `The embedding model returned ${vector.length} values instead of ${this.dimensions}`,
      )
    }
    return normalise(vector)
  }
}

/** L2-normalises in place (cosine distance then equals 1 - dot product). */
export function normalise(v: Float32Array): Float32Array {
  let norm = 0
  for (const x of v) norm += x * x
  norm = Math.sqrt(norm)
  if (!(norm > 0) || !Number.isFinite(norm)) {
    // A degenerate output (all zeros, or NaN from a broken model): a fixed unit vector keeps
    // the index valid rather than poisoning it.
    v.fill(0)
    if (v.length) v[0] = 1
    return v
  }
  for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm
  return v
}

function defaultThreads(): number {
  return Math.max(1, Math.floor(availableParallelism() / 4))
}

function loadError(path: string, err: unknown): CmdaiError {
  if (err instanceof CmdaiError) return err
  const why = err instanceof Error ? err.message : String(err)
  return new CmdaiError('invalid_input', `Cannot load embedding model ${path}: ${why}`)
}

export interface EmbeddingModelChoice {
  path: string
  source: 'env' | 'catalog'
  /** Task prefix the model was trained with, if any. */
  prefix?: string
}

/**
 * Which embedding model semantic search uses: `CMDAI_EMBEDDING_MODEL` (a GGUF path, or a file in
 * the models folder) wins, else the catalog's embedding model when it is in `<dataDir>/models`,
 * else none (semantic search then answers `unavailable`). Only looks at the disk.
 */
export function resolveEmbeddingModel(
  dataDir: string,
  env: NodeJS.ProcessEnv,
): EmbeddingModelChoice | null {
  const store = new ModelStore(dataDir)
  const fromEnv = env.CMDAI_EMBEDDING_MODEL?.trim()
  if (fromEnv) {
    const path = store.resolve(fromEnv)
    if (!path) {
      throw new CmdaiError(
        'not_found',
        `CMDAI_EMBEDDING_MODEL is set, but no model file matches "${fromEnv}"`,
      )
    }
    return withPrefix({ path, source: 'env' })
  }
  for (const entry of EMBEDDING_CATALOG) {
    const path = store.resolve(entry.id)
    if (path) return withPrefix({ path, source: 'catalog' })
  }
  return null
}

function gpuSetting(dataDir: string): GpuSetting {
  try {
    return readLlmSettings(dataDir).gpu
  } catch {
    return 'cpu'
  }
}

function withPrefix(choice: EmbeddingModelChoice): EmbeddingModelChoice {
  const entry = findCatalogModel(basename(choice.path))
  const prefix = entry ? EMBEDDING_PREFIX[entry.id] : undefined
  return prefix ? { ...choice, prefix } : choice
}

/**
 * The embedder the app hands to history, or null when no embedding model is installed or the
 * configured one is unusable (logged; semantic search then says it is unavailable). Reads only
 * the model file's metadata: the model itself loads on the first embedding.
 */
export function createLocalEmbedder(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  options: Omit<LlamaEmbedderOptions, 'modelPath' | 'prefix'> = {},
): LlamaEmbedder | null {
  try {
    const choice = resolveEmbeddingModel(dataDir, env)
    if (!choice) return null
    return new LlamaEmbedder({
      // The same compute layer as the chat model (and so the same llama.cpp binding).
      gpu: () => gpuSetting(dataDir),
      ...options,
      modelPath: choice.path,
      prefix: choice.prefix,
    })
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    console.error(`[cmdai] semantic history search is off: ${why}`)
    return null
  }
}
