import { totalmem } from 'node:os'
import type { CatalogModel } from '../../contract'

/**
 * Recommended GGUF models for turning requests into shell commands. Qwen2.5-Coder Instruct is
 * trained on shell and code, follows a JSON schema well, and comes in sizes from phones to
 * workstations. Sizes are those of the Q4_K_M files published by Qwen (approximate: they are used
 * for the disk-space check and shown to the user; the download checks the server's own length).
 * The last entry is an embedding model (`kind: 'embedding'`) for semantic history search: it is
 * downloaded like the others but never chosen to propose commands.
 */
export const MODEL_CATALOG: readonly CatalogModel[] = [
  {
    id: 'qwen2.5-coder-0.5b',
    name: 'Qwen2.5-Coder 0.5B Instruct (Q4_K_M)',
    uri: 'hf:Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf',
    fileName: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf',
    sizeBytes: 398_000_000,
    ramGb: 1,
    licence: 'Apache-2.0',
    defaultForRamGb: 0,
    notes: 'Fastest; fine for everyday one-liners on any machine.',
  },
  {
    id: 'qwen2.5-coder-1.5b',
    name: 'Qwen2.5-Coder 1.5B Instruct (Q4_K_M)',
    uri: 'hf:Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf',
    fileName: 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf',
    sizeBytes: 1_120_000_000,
    ramGb: 2.5,
    licence: 'Apache-2.0',
    defaultForRamGb: 8,
    notes: 'Good balance of speed and accuracy for pipelines and flags.',
  },
  {
    id: 'qwen2.5-coder-3b',
    name: 'Qwen2.5-Coder 3B Instruct (Q4_K_M)',
    uri: 'hf:Qwen/Qwen2.5-Coder-3B-Instruct-GGUF/qwen2.5-coder-3b-instruct-q4_k_m.gguf',
    fileName: 'qwen2.5-coder-3b-instruct-q4_k_m.gguf',
    sizeBytes: 2_100_000_000,
    ramGb: 4,
    licence: 'Qwen Research License (non-commercial)',
    defaultForRamGb: null,
    notes: 'More accurate with complex find/awk/sed; check the licence for commercial use.',
  },
  {
    id: 'qwen2.5-coder-7b',
    name: 'Qwen2.5-Coder 7B Instruct (Q4_K_M)',
    uri: 'hf:Qwen/Qwen2.5-Coder-7B-Instruct-GGUF/qwen2.5-coder-7b-instruct-q4_k_m.gguf',
    fileName: 'qwen2.5-coder-7b-instruct-q4_k_m.gguf',
    sizeBytes: 4_680_000_000,
    ramGb: 8,
    licence: 'Apache-2.0',
    // Only the default with plenty of memory: on a CPU alone it decodes at a few tokens/s.
    defaultForRamGb: 32,
    notes: 'Best quality; wants a GPU or a fast CPU.',
  },
  {
    // Not a chat model: it turns commands into vectors for semantic history search. Small (137M
    // parameters, 768 dimensions), Apache-2.0, and supported by llama.cpp (nomic-bert).
    id: 'nomic-embed-text-v1.5',
    name: 'Nomic Embed Text v1.5 (Q8_0, for semantic history search)',
    uri: 'hf:nomic-ai/nomic-embed-text-v1.5-GGUF/nomic-embed-text-v1.5.Q8_0.gguf',
    fileName: 'nomic-embed-text-v1.5.Q8_0.gguf',
    sizeBytes: 146_000_000,
    ramGb: 0.5,
    licence: 'Apache-2.0',
    defaultForRamGb: null,
    notes: 'Search your history by meaning ("undo my last commit"). Not used to suggest commands.',
    kind: 'embedding',
  },
]

/** Whether a catalog entry proposes commands (the default) rather than computing embeddings. */
export function isChatModel(model: CatalogModel): boolean {
  return (model.kind ?? 'chat') === 'chat'
}

/** The catalog's chat models, in catalog order. */
export const CHAT_CATALOG: readonly CatalogModel[] = MODEL_CATALOG.filter(isChatModel)

/** The catalog's embedding models; the first one is the one semantic search uses by default. */
export const EMBEDDING_CATALOG: readonly CatalogModel[] = MODEL_CATALOG.filter(
  (m) => m.kind === 'embedding',
)

/**
 * Text put in front of every input, for embedding models trained with task prefixes. Nomic Embed
 * wants one; the same prefix is used for commands and queries because the history store embeds
 * both through one call (`search_query` works for short, symmetric texts).
 */
export const EMBEDDING_PREFIX: Readonly<Record<string, string>> = {
  'nomic-embed-text-v1.5': 'search_query: ',
}

export function findCatalogModel(idOrFile: string): CatalogModel | undefined {
  // node-llama-cpp names files pulled from hf: URIs "hf_<user>_<file>".
  const file = idOrFile.replace(/^hf_[^_]+_/, '')
  return MODEL_CATALOG.find((m) => m.id === idOrFile || m.fileName === file)
}

/** The recommended model for a machine with `ramBytes` of memory: the largest tier it reaches. */
export function defaultCatalogModel(ramBytes: number = totalmem()): CatalogModel {
  const ramGb = ramBytes / 2 ** 30
  let best = CHAT_CATALOG[0]!
  for (const model of CHAT_CATALOG) {
    if (model.defaultForRamGb !== null && ramGb >= model.defaultForRamGb) {
      if ((best.defaultForRamGb ?? 0) <= model.defaultForRamGb) best = model
    }
  }
  return best
}
