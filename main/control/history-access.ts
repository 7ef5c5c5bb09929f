import { join } from 'node:path'
import {
  agentEventInputSchema,
  type AgentEventInput,
  type AgentEventsResult,
} from '../../contract/agent'
import type {
  HistoryFilter,
  HistorySearchResult,
  HistoryStats,
  SearchMode,
} from '../../contract/history'
import type { HistoryStore } from '../history/store'
import { drainSpool } from '../agent/spool'
import { connectToApp, type ControlClient } from './client'
import type { ControlClientInfo } from './protocol'

/**
 * History for the CLI and agents: through the running app when there is one (the app holds the
 * database; only one process may), otherwise opened here, with the same results either way
 * because both sides run the same store code. Opening it here also moves the agent events
 * spooled while no app ran into it.
 */
export interface HistoryAccess {
  /** `app` when the running app answered, `local` when the database was opened here. */
  readonly via: 'app' | 'local'
  search(params: {
    query: string
    mode: SearchMode
    limit: number
    filter?: HistoryFilter
  }): Promise<HistorySearchResult>
  stats(filter?: HistoryFilter): Promise<HistoryStats>
  delete(args: {
    ids?: number[]
    filter: HistoryFilter
  }): Promise<{ deletedCommands: number; deletedAiRequests: number }>
  /** The export text, written in chunks (see main/history/EXPORT.md). */
  export(
    format: 'jsonl' | 'csv',
    filter: HistoryFilter | undefined,
    write: (chunk: string) => void | Promise<void>,
  ): Promise<number>
  agentEvents(query: {
    query?: string
    client?: string
    limit?: number
  }): Promise<AgentEventsResult>
  recordAgent(event: AgentEventInput): Promise<void>
  /** The store itself, for what only a local open can do (import, --sql); null through the app. */
  readonly store: HistoryStore | null
}

export async function withHistory<T>(
  dataDir: string,
  client: ControlClientInfo,
  fn: (history: HistoryAccess) => Promise<T>,
): Promise<T> {
  const app = await connectToApp(dataDir, { client, timeoutMs: 15_000 })
  if (app) {
    try {
      return await fn(throughApp(app))
    } finally {
      app.close()
    }
  }
  const store = await openLocalHistory(dataDir)
  try {
    return await fn(local(store))
  } finally {
    await store.close()
  }
}

function throughApp(app: ControlClient): HistoryAccess {
  return {
    via: 'app',
    store: null,
    search: (params) => app.call('history:search', params),
    stats: (filter) => app.call('history:stats', filter ? { filter } : {}),
    delete: (args) => app.call('history:delete', args),
    async export(format, filter, write) {
      const result = await app.call('history:export', filter ? { format, filter } : { format })
      if (result.data) await write(result.data)
      return result.rows
    },
    agentEvents: (query) => app.call('history:agentEvents', query),
    async recordAgent(event) {
      await app.call('history:recordAgent', event)
    },
  }
}

function local(store: HistoryStore): HistoryAccess {
  return {
    via: 'local',
    store,
    search: (params) => store.search(params),
    stats: (filter) => store.stats(filter),
    delete: (args) => store.delete(args),
    async export(format, filter, write) {
      const { exportHistory } = await import('../history/export')
      return exportHistory(store, format, filter, write)
    },
    async agentEvents(query) {
      const { listAgentEvents } = await import('../history/agent-events')
      return listAgentEvents(store, { query: '', limit: 100, ...query })
    },
    async recordAgent(event) {
      const [{ recordAgentEvent }, { redactForHistory }] = await Promise.all([
        import('../history/agent-events'),
        import('../history/redact'),
      ])
      await recordAgentEvent(store, event, redactForHistory)
    },
  }
}

/** Opens the history database in this process and moves spooled agent events into it. */
export async function openLocalHistory(dataDir: string): Promise<HistoryStore> {
  // PGlite and the safety engine load only for the commands that open history.
  const [{ HistoryStore }, { redactForHistory }, { recordAgentEvent }] = await Promise.all([
    import('../history/store'),
    import('../history/redact'),
    import('../history/agent-events'),
  ])
  const store = await HistoryStore.open({
    dir: join(dataDir, 'history'),
    redact: redactForHistory,
    owner: 'cli',
    // Built by the first search, if any: import, export and delete do not need it.
    searchIndex: false,
  })
  try {
    await drainSpool(
      dataDir,
      (line) => {
        const parsed = agentEventInputSchema.safeParse(line)
        return parsed.success ? parsed.data : null
      },
      async (event) => {
        await recordAgentEvent(store, event, redactForHistory)
      },
    )
  } catch (err) {
    // The events stay in the spool; what was asked for still works.
    console.error(`cmdai: could not move spooled agent events into history: ${String(err)}`)
  }
  return store
}
