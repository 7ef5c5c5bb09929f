import { CmdaiError } from '../../contract'
import type { Domain, DomainDeps } from '../domain'
import { defaultCatalogModel, MODEL_CATALOG } from './catalog'
import { pullModel } from './downloader'
import { LlmEngine } from './engine'
import { activeOf, removeModel } from './model-admin'
import { writeLlmSettings } from './settings'

/** The model loads this long after the first shell's prompt is on screen... */
const PRELOAD_AFTER_PROMPT_MS = 300
/** ...or after this long when no shell has shown one (no window yet, a headless serve). */
const PRELOAD_FALLBACK_MS = 4_000

/**
 * The `llm:*` and `models:*` requests. The engine owns the model; this file only adapts it to the
 * router and the event hub, and starts loading the active model in the background.
 */
export function createLlmDomain(deps: DomainDeps): Domain {
  const { router, events } = deps
  const engine = new LlmEngine({
    dataDir: deps.dataDir,
    env: deps.env,
    emit: (event, payload) => events.emit(event, payload as never),
  })
  const downloads = new Map<string, AbortController>()

  router.handle('llm:status', () => engine.status())
  router.handle('llm:generate', (args, ctx) => engine.generate({ ...args, signal: ctx.signal }))
  router.handle('llm:cancel', ({ requestId }) => ({ cancelled: engine.cancel(requestId) }))
  router.handle('llm:explain', (args, ctx) => engine.explain({ ...args, signal: ctx.signal }))

  router.handle('models:list', () => {
    // A CMDAI_MODEL or setting pointing at a missing file: list what is there anyway.
    const active = activeOf(engine)
    return {
      models: engine.store.list(active?.path ?? null),
      catalog: [...MODEL_CATALOG],
      active,
      recommended: defaultCatalogModel().id,
    }
  })
  router.handle('models:pull', async ({ uri, downloadId }) => {
    if (downloads.has(downloadId))
      throw new CmdaiError('conflict', `Download ${downloadId} is running`)
    const controller = new AbortController()
    downloads.set(downloadId, controller)
    try {
      const path = await pullModel({
        uri,
        downloadId,
        modelsDir: engine.store.ensureDir(),
        signal: controller.signal,
        onProgress: (progress) => events.emit('models:progress', progress),
      })
      const info = engine.store.list().find((m) => m.path === path)
      if (!info) throw new CmdaiError('internal', `Downloaded ${path} but cannot list it`)
      loadActive()
      return info
    } finally {
      downloads.delete(downloadId)
    }
  })
  router.handle('models:cancelDownload', ({ downloadId }) => {
    const controller = downloads.get(downloadId)
    controller?.abort()
    return { cancelled: !!controller }
  })
  router.handle('models:import', async ({ path }) => {
    const info = await engine.store.import(path)
    loadActive()
    return info
  })
  router.handle('models:remove', async ({ id }) => {
    const result = await removeModel(engine, deps.dataDir, id)
    if (result.removed) loadActive()
    return { removed: result.removed }
  })
  router.handle('models:setActive', async ({ id }) => {
    if (!engine.store.resolve(id)) throw new CmdaiError('not_found', `No model ${id} on disk`)
    if (engine.store.isEmbeddingModel(id)) {
      throw new CmdaiError(
        'invalid_input',
        `${id} is an embedding model for semantic history search; it cannot propose commands`,
      )
    }
    writeLlmSettings(deps.dataDir, { model: id })
    engine.reloadSettings()
    const active = engine.resolveActive()
    if (!active) throw new CmdaiError('not_found', `No model ${id} on disk`)
    void engine.preload()
    return active
  })

  /**
   * After the models on disk changed: a fresh state snapshot (so every screen asks again which
   * model is active), then the active model loads in the background (a new first model at once).
   */
  function loadActive(): void {
    events.emit('llm:state', engine.status())
    if (deps.host !== 'cli') void engine.preload()
  }

  // A backend or model chosen in Settings takes effect at once, not at the next start.
  const unsubscribe = deps.events.subscribe((event) => {
    if (event !== 'settings:changed') return
    const before = JSON.stringify(engine.config)
    engine.reloadSettings()
    const changed = JSON.stringify(engine.config) !== before
    if (changed && engine.config.preload && deps.host !== 'cli') void engine.preload()
  })

  // Load and warm the model after start-up (the CLI loads on demand). Part of a load runs on this
  // thread (node-llama-cpp picks the chat wrapper by rendering and tokenizing the model's template
  // synchronously: seconds with a large vocabulary), so it waits until the first shell has shown
  // its prompt, or PRELOAD_FALLBACK_MS when no terminal is open: the prompt comes first.
  let preload: NodeJS.Timeout | undefined
  let stopWaiting = (): void => {}
  if (engine.config.preload && deps.host !== 'cli') {
    const loadIn = (ms: number) => {
      clearTimeout(preload)
      preload = setTimeout(() => {
        stopWaiting()
        void engine.preload()
      }, ms)
    }
    loadIn(PRELOAD_FALLBACK_MS)
    stopWaiting = deps.events.subscribe((event) => {
      if (event !== 'pty:prompt') return
      stopWaiting()
      loadIn(PRELOAD_AFTER_PROMPT_MS)
    })
  }

  return {
    name: 'llm',
    async dispose() {
      unsubscribe()
      stopWaiting()
      clearTimeout(preload)
      for (const controller of downloads.values()) controller.abort()
      await engine.dispose()
    },
  }
}
