import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { copyFile, link, readdir, rm } from 'node:fs/promises'
import { basename, isAbsolute, join, resolve } from 'node:path'
import { CmdaiError, type ActiveModel, type ModelInfo } from '../../contract'
import { CHAT_CATALOG, defaultCatalogModel, findCatalogModel } from './catalog'
import { checkGgufFile } from './gguf-check'

/** The models in `<dataDir>/models`: listing, import, removal and which one is active. */
export class ModelStore {
  readonly dir: string

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'models')
  }

  ensureDir(): string {
    mkdirSync(this.dir, { recursive: true })
    return this.dir
  }

  list(activePath: string | null = null): ModelInfo[] {
    if (!existsSync(this.dir)) return []
    return readdirSync(this.dir)
      .filter((f) => f.toLowerCase().endsWith('.gguf'))
      .sort()
      .map((fileName) => this.describe(join(this.dir, fileName), activePath))
  }

  private describe(path: string, activePath: string | null): ModelInfo {
    const fileName = basename(path)
    const entry = findCatalogModel(fileName)
    return {
      id: entry?.id ?? fileName,
      name: entry?.name ?? fileName.replace(/\.gguf$/i, ''),
      path,
      sizeBytes: statSync(path).size,
      origin: entry ? 'catalog' : 'imported',
      active: activePath !== null && resolve(activePath) === resolve(path),
      ...(entry?.kind ? { kind: entry.kind } : {}),
    }
  }

  /** Whether `ref` names a catalog embedding model (those never answer chat requests). */
  isEmbeddingModel(ref: string): boolean {
    const path = this.resolve(ref)
    return findCatalogModel(path ? basename(path) : ref)?.kind === 'embedding'
  }

  /**
   * A catalog id, a model id / file name in the models dir, or a path to a GGUF file. Returns the
   * absolute path, or null when nothing matches on disk.
   */
  resolve(ref: string): string | null {
    if (isAbsolute(ref) || ref.includes('/') || ref.includes('\\')) {
      const path = resolve(ref)
      return existsSync(path) ? path : null
    }
    const entry = findCatalogModel(ref)
    const candidates = [entry?.fileName, ref, `${ref}.gguf`].filter((c): c is string => !!c)
    for (const name of candidates) {
      const path = join(this.dir, name)
      if (existsSync(path)) return path
    }
    return null
  }

  /** CMDAI_MODEL beats the setting, which beats the catalog default that is on disk. */
  resolveActive(env: NodeJS.ProcessEnv, settingModel: string | undefined): ActiveModel | null {
    const pick = (ref: string, source: ActiveModel['source'], reason: string): ActiveModel => {
      const path = this.resolve(ref)
      if (!path) {
        throw new CmdaiError(
          'not_found',
          `${reason}, but no model file matches "${ref}" (looked in ${this.dir}). ` +
            `Run \`cmdai models pull ${findCatalogModel(ref)?.id ?? '<uri>'}\` or import a GGUF file.`,
        )
      }
      const model = this.describe(path, null)
      if (model.kind === 'embedding') {
        throw new CmdaiError(
          'invalid_input',
          `${reason}, but ${model.name} is an embedding model (used for semantic history search), ` +
            'not a model that proposes commands: choose a chat model.',
        )
      }
      return { id: model.id, path, source, reason }
    }
    if (env.CMDAI_MODEL) return pick(env.CMDAI_MODEL, 'env', 'CMDAI_MODEL is set')
    if (settingModel) return pick(settingModel, 'setting', 'chosen in settings')
    const preferred = defaultCatalogModel()
    const present = [preferred, ...CHAT_CATALOG].find((m) => this.resolve(m.id))
    if (present) {
      const why =
        present.id === preferred.id
          ? 'the recommended model for this much memory'
          : 'the catalog model present on disk'
      return pick(present.id, 'default', why)
    }
    const chat = this.list().filter((m) => m.kind !== 'embedding')
    const first = chat[0]
    if (first) {
      const why =
        chat.length === 1
          ? 'the only model on disk'
          : `the first of ${chat.length} models on disk, by name`
      return pick(first.path, 'default', why)
    }
    return null
  }

  /** Copies (or hard-links, when on the same disk) a GGUF file into the models dir, after checking it. */
  async import(source: string): Promise<ModelInfo> {
    const from = resolve(source)
    await checkGgufFile(from)
    this.ensureDir()
    const target = join(this.dir, basename(from).replace(/(\.gguf)?$/i, '.gguf'))
    if (existsSync(target)) {
      throw new CmdaiError('conflict', `A model named ${basename(target)} already exists`)
    }
    try {
      await link(from, target)
    } catch {
      await copyFile(from, target)
    }
    return this.describe(target, null)
  }

  /** Deletes a model and any partial download of it. */
  async remove(id: string): Promise<boolean> {
    const path = this.resolve(id)
    if (!path || resolve(path, '..') !== resolve(this.dir)) {
      if (path)
        throw new CmdaiError('forbidden', 'Only models inside the models folder can be removed')
      return false
    }
    await rm(path, { force: true })
    const name = basename(path)
    for (const file of await readdir(this.dir)) {
      if (file.startsWith(name) && file !== name) await rm(join(this.dir, file), { force: true })
    }
    return true
  }
}
