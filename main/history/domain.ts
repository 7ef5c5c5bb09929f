import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CmdaiError } from '../../contract/errors'
import type { ImportSummary } from '../../contract/history'
import type { TerminalCommand } from '../../contract/terminal'
import type { Domain, DomainDeps } from '../domain'
import { listAgentEvents, recordAgentEvent } from './agent-events'
import { defaultHistoryFile } from './default-files'
import type { Embedder } from './embedder'
import { exportHistory } from './export'
import { importHistory } from './import'
import { acquireLock, type HeldLock } from './lock'
import { HistoryProblemError } from './problems'
import { redactForHistory } from './redact'
import { HistoryStore } from './store'
import type { HistoryStatus } from './types'

/** How long a request waits for the database to finish opening before answering `unavailable`. */
const OPEN_WAIT_MS = 15_000
/** The daily backup waits this long after open, so it does not compete with start-up. */
const BACKUP_DELAY_MS = 60_000

export interface HistoryDomainOptions {
  embedder?: Embedder | null
  /**
   * Looks for an embedding model again (called after a model download finishes), so one that
   * was downloaded while the app runs is used without a restart.
   */
  findEmbedder?: () => Embedder | null
  openWaitMs?: number
  /**
   * The data directory's lock, claimed by the app at start (services.ts). The domain owns it from
   * then on: it releases it when the database cannot be opened (so `cmdai history doctor` can
   * repair it, even from the app's own terminal) and takes it again on `history:reopen`.
   */
  lock?: HeldLock | null
  /** Delay of the automatic daily backup after open (tests shorten it); null: none. */
  backupDelayMs?: number | null
}

/**
 * Opens the history database in the background (the terminal is usable meanwhile), records every
 * `terminal:command`, and answers the history requests. Commands that finish while the database
 * is still opening are queued and written once it is open; `history:recorded` is emitted only
 * after a row is durably written.
 */
export function createHistoryDomain(deps: DomainDeps, options: HistoryDomainOptions = {}): Domain {
  const runId = randomBytes(6).toString('hex')
  const dir = join(deps.dataDir, 'history')
  const owner = deps.host === 'cli' ? 'cli' : 'app'
  const status: HistoryStatus = {
    state: 'opening',
    message: null,
    openMs: null,
    schemaVersion: null,
    problem: null,
  }
  let store: HistoryStore | null = null
  let failure: unknown = null
  let lock: HeldLock | null = options.lock ?? null
  let backupTimer: NodeJS.Timeout | undefined
  let disposed = false

  const setStatus = (patch: Partial<HistoryStatus>) => {
    Object.assign(status, patch)
    deps.events.emit('history:state', { ...status })
  }

  function open(): Promise<HistoryStore | null> {
    return Promise.resolve()
      .then(() => {
        lock ??= acquireLock(join(deps.dataDir, 'history.lock'), owner)
        return HistoryStore.open({
          dir,
          redact: redactForHistory,
          owner,
          lock,
          embedder: options.embedder ?? null,
        })
      })
      .then(
        (opened) => {
          store = opened
          failure = null
          setStatus({
            state: 'ready',
            message: null,
            problem: null,
            openMs: Math.round(opened.openMs),
            schemaVersion: opened.schemaVersion,
          })
          scheduleBackup(opened)
          return opened
        },
        (err: unknown) => {
          failure = err
          // Let `cmdai history doctor` (or another owner) at it; `history:reopen` claims it again.
          lock?.release()
          lock = null
          console.error(`[cmdai] ${err instanceof Error ? err.message : String(err)}`)
          setStatus({
            state: 'failed',
            message: err instanceof Error ? err.message : String(err),
            problem: err instanceof HistoryProblemError ? err.problem : null,
          })
          return null
        },
      )
  }
  let opening = open()

  /** The automatic rolling backup: at most one a day, a while after open, never blocking it. */
  function scheduleBackup(opened: HistoryStore): void {
    const delay = options.backupDelayMs === undefined ? BACKUP_DELAY_MS : options.backupDelayMs
    if (delay === null) return
    backupTimer = setTimeout(() => {
      if (store !== opened || disposed) return
      opened.maybeBackup().catch((err: unknown) => {
        console.error('[cmdai] the daily history backup failed:', err)
      })
    }, delay)
    backupTimer.unref()
  }

  // An embedding model downloaded from the model manager starts semantic indexing at once.
  const stopWatchingDownloads = deps.events.subscribe((event, payload) => {
    if (event !== 'models:progress' || !options.findEmbedder) return
    if ((payload as { state?: string }).state !== 'done' || !store || store.embedder) return
    const found = options.findEmbedder()
    if (found) store.setEmbedder(found)
  })

  async function ready(): Promise<HistoryStore> {
    if (store) return store
    if (failure) throw unavailable()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), options.openWaitMs ?? OPEN_WAIT_MS)
    })
    const opened = await Promise.race([opening, timeout])
    clearTimeout(timer)
    if (opened) return opened
    if (failure) throw unavailable()
    throw new CmdaiError('unavailable', 'History is still opening its database; try again shortly')
  }

  function unavailable(): CmdaiError {
    if (failure instanceof CmdaiError) return failure
    return new CmdaiError('unavailable', `History is unavailable: ${status.message ?? 'unknown'}`)
  }

  // Capture: one write chain so that rows are written in the order the commands finished.
  let chain: Promise<unknown> = Promise.resolve()
  const unsubscribe = deps.events.subscribe((event, payload) => {
    if (event !== 'terminal:command') return
    const command = payload as TerminalCommand
    chain = chain
      .then(() => record(command))
      .catch((err: unknown) => {
        console.error('[cmdai] recording a command in history failed:', err)
      })
  })

  async function record(command: TerminalCommand): Promise<void> {
    const s = await opening
    if (!s) return
    const sessionId = `${runId}:${command.ptyId}`
    await s.ensureSession({
      id: sessionId,
      kind: 'terminal',
      startedAt: command.startedAt,
      shell: command.shell,
      ptyId: command.ptyId,
    })
    const rows = await s.recordCommands([
      {
        command: command.command,
        cwd: command.cwd,
        exitCode: command.exitCode,
        startedAt: command.startedAt,
        durationMs: command.durationMs,
        shell: shellName(command.shell),
        sessionId,
        ptyId: command.ptyId,
        source: 'terminal',
      },
    ])
    for (const row of rows) deps.events.emit('history:recorded', row)
  }

  // One import at a time; progress goes out as events, a few per second.
  let importing: Promise<ImportSummary> | null = null
  const stopImports = new AbortController()
  async function runImport(path: string, format?: ImportSummary['format']) {
    const s = await ready()
    const id = randomBytes(6).toString('hex')
    return importHistory(s, path, {
      format,
      signal: stopImports.signal,
      onProgress: (p) => deps.events.emit('history:importProgress', { id, ...p }),
    })
  }

  const { router } = deps
  router.handle('history:status', () => ({ ...status }))
  router.handle('history:reopen', async () => {
    if (status.state === 'failed' && !disposed) {
      setStatus({ state: 'opening', message: null, problem: null })
      opening = open()
      await opening
    }
    return { ...status }
  })
  router.handle('history:import', async (args) => {
    if (importing) throw new CmdaiError('conflict', 'An import is already running')
    const path = args.path ?? defaultHistoryFile(args.format!, deps.env)
    importing = runImport(path, args.format)
    try {
      return await importing
    } finally {
      importing = null
    }
  })
  router.handle('history:search', async (args) => (await ready()).search(args))
  router.handle('history:stats', async (args) => (await ready()).stats(args.filter))
  router.handle('history:delete', async (args) => (await ready()).delete(args))
  router.handle('history:recordAi', async (args) => {
    const row = await (await ready()).recordAi(args)
    deps.events.emit('history:ai', row)
    return row
  })
  router.handle('history:updateAi', async (args) => {
    const row = await (await ready()).updateAi(args)
    deps.events.emit('history:ai', row)
    return row
  })
  router.handle('history:recordAgent', async (args) => {
    const { event, command } = await recordAgentEvent(await ready(), args, redactForHistory)
    if (command) deps.events.emit('history:recorded', command)
    deps.events.emit('history:agent', event)
    return event
  })
  router.handle('history:agentEvents', async (args) => listAgentEvents(await ready(), args))
  router.handle('history:export', async (args) => {
    const chunks: string[] = []
    const rows = await exportHistory(await ready(), args.format, args.filter, (c) => {
      chunks.push(c)
    })
    return { format: args.format, rows, data: chunks.join('') }
  })

  return {
    name: 'history',
    async dispose() {
      disposed = true
      clearTimeout(backupTimer)
      unsubscribe()
      stopWatchingDownloads()
      await chain
      // An import stops between two batches; what it wrote stays (re-importing adds the rest).
      stopImports.abort()
      await importing?.catch(() => {})
      const s = await opening
      status.state = 'closed'
      try {
        await s?.close()
      } finally {
        lock?.release()
        lock = null
      }
    },
  }
}

/** `/usr/bin/zsh` → `zsh`. */
export function shellName(shell: string | null | undefined): string | null {
  if (!shell) return null
  const base = shell.split(/[\\/]/).pop() ?? shell
  return base.replace(/\.exe$/i, '') || null
}
