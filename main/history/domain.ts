import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CmdaiError } from '../../contract/errors'
import type { TerminalCommand } from '../../contract/terminal'
import type { Domain, DomainDeps } from '../domain'
import { listAgentEvents, recordAgentEvent } from './agent-events'
import type { Embedder } from './embedder'
import { exportHistory } from './export'
import { redactForHistory } from './redact'
import { HistoryStore } from './store'
import type { HistoryStatus } from './types'

/** How long a request waits for the database to finish opening before answering `unavailable`. */
const OPEN_WAIT_MS = 15_000

export interface HistoryDomainOptions {
  embedder?: Embedder | null
  /**
   * Looks for an embedding model again (called after a model download finishes), so one that
   * was downloaded while the app runs is used without a restart.
   */
  findEmbedder?: () => Embedder | null
  openWaitMs?: number
}

/**
 * Opens the history database in the background (the terminal is usable meanwhile), records every
 * `terminal:command`, and answers the history requests. Commands that finish while the database
 * is still opening are queued and written once it is open; `history:recorded` is emitted only
 * after a row is durably written.
 */
export function createHistoryDomain(deps: DomainDeps, options: HistoryDomainOptions = {}): Domain {
  const runId = randomBytes(6).toString('hex')
  const status: HistoryStatus = {
    state: 'opening',
    message: null,
    openMs: null,
    schemaVersion: null,
  }
  let store: HistoryStore | null = null
  let failure: unknown = null
  const opening = HistoryStore.open({
    dir: join(deps.dataDir, 'history'),
    redact: redactForHistory,
    owner: deps.host === 'cli' ? 'cli' : 'app',
    embedder: options.embedder ?? null,
  }).then(
    (opened) => {
      store = opened
      Object.assign(status, {
        state: 'ready',
        openMs: Math.round(opened.openMs),
        schemaVersion: opened.schemaVersion,
      })
      return opened
    },
    (err: unknown) => {
      failure = err
      Object.assign(status, {
        state: 'failed',
        message: err instanceof Error ? err.message : String(err),
      })
      return null
    },
  )

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

  const { router } = deps
  router.handle('history:status', () => ({ ...status }))
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
      unsubscribe()
      stopWatchingDownloads()
      await chain
      const s = await opening
      status.state = 'closed'
      await s?.close()
    },
  }
}

/** `/usr/bin/zsh` → `zsh`. */
export function shellName(shell: string | null | undefined): string | null {
  if (!shell) return null
  const base = shell.split(/[\\/]/).pop() ?? shell
  return base.replace(/\.exe$/i, '') || null
}
