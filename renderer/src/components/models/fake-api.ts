/**
 * An in-memory `Api` for component tests: handlers for the channels a screen calls, a record of
 * the calls, and `emit` to deliver events the way the bridge does. Not used by the app itself.
 */
import {
  requestSchemas,
  type Channel,
  type EventName,
  type Events,
  type RequestArgs,
  type RequestResult,
} from '../../../../contract'
import type { AppInfo } from '../../../../contract/app'
import { CmdaiError } from '../../../../contract/errors'
import type { CatalogModel, LlmResults } from '../../../../contract/llm'
import {
  mergeSettingsPatch,
  settingsSchema,
  type Settings,
  type SettingsSnapshot,
} from '../../../../contract/settings'
import type { Api } from '../../api/client'

type Handler<C extends Channel> = (
  args: RequestArgs<C>,
) => RequestResult<C> | Promise<RequestResult<C>>
export type Handlers = { [C in Channel]?: Handler<C> }

export interface FakeApi {
  api: Api
  calls: Array<{ channel: Channel; args: unknown }>
  emit<E extends EventName>(event: E, payload: Events[E]): void
  callsTo(channel: Channel): unknown[]
}

export function createFakeApi(handlers: Handlers): FakeApi {
  const listeners = new Map<string, Set<(payload: never) => void>>()
  const calls: FakeApi['calls'] = []
  const api: Api = {
    async call(channel, args) {
      calls.push({ channel, args })
      // Arguments are validated with the contract's schemas and reported as the router does.
      const parsed = requestSchemas[channel].safeParse(args ?? {})
      if (!parsed.success) {
        const issues = parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(args)'}: ${i.message}`)
          .join('; ')
        throw new CmdaiError('invalid_input', `Invalid arguments for ${channel}: ${issues}`)
      }
      const handler = handlers[channel] as Handler<typeof channel> | undefined
      if (!handler) throw new CmdaiError('unknown_channel', `No fake for ${channel}`)
      // Handlers get what the router hands on: the parsed arguments.
      return handler(parsed.data as RequestArgs<typeof channel>)
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set()
      set.add(listener as (payload: never) => void)
      listeners.set(event, set)
      return () => set.delete(listener as (payload: never) => void)
    },
  }
  return {
    api,
    calls,
    emit(event, payload) {
      for (const listener of listeners.get(event) ?? [])
        (listener as (p: typeof payload) => void)(payload)
    },
    callsTo: (channel) => calls.filter((c) => c.channel === channel).map((c) => c.args),
  }
}

/**
 * settings:get / settings:update over an in-memory object, validated with the contract's own
 * schema and merged key by key as the settings store does; emits settings:changed.
 */
export function fakeSettings(
  fake: () => FakeApi,
  initial: Partial<Record<keyof Settings, object>> = {},
) {
  let raw: Record<string, unknown> = { ...initial }
  const snapshot = (settings: Settings): SettingsSnapshot => ({
    settings,
    path: '/data/cmdai/settings.json',
    dataDir: '/data/cmdai',
  })
  const parse = (value: Record<string, unknown>): Settings => {
    const parsed = settingsSchema.safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new CmdaiError(
        'invalid_input',
        `/data/cmdai/settings.json: ${issue?.path.join('.')}: ${issue?.message}`,
      )
    }
    return parsed.data
  }
  const handlers: Handlers = {
    'settings:get': () => snapshot(parse(raw)),
    'settings:update': (patch) => {
      const merged = mergeSettingsPatch(raw, patch)
      const next = snapshot(parse(merged))
      raw = merged
      fake().emit('settings:changed', next)
      return next
    },
  }
  return { handlers, current: () => parse(raw) }
}

export const TEST_CATALOG: CatalogModel[] = [
  {
    id: 'tiny',
    name: 'Tiny Coder 0.5B',
    uri: 'hf:test/tiny/tiny.gguf',
    fileName: 'tiny.gguf',
    sizeBytes: 398_000_000,
    ramGb: 1,
    licence: 'Apache-2.0',
    defaultForRamGb: 0,
    notes: 'Fastest.',
  },
  {
    id: 'mid',
    name: 'Mid Coder 1.5B',
    uri: 'hf:test/mid/mid.gguf',
    fileName: 'mid.gguf',
    sizeBytes: 1_120_000_000,
    ramGb: 2.5,
    licence: 'Apache-2.0',
    defaultForRamGb: 8,
    notes: 'Balanced.',
  },
  {
    id: 'big',
    name: 'Big Coder 7B',
    uri: 'hf:test/big/big.gguf',
    fileName: 'big.gguf',
    sizeBytes: 4_680_000_000,
    ramGb: 8,
    licence: 'Apache-2.0',
    defaultForRamGb: 16,
    notes: 'Best.',
  },
]

export const emptyModelList = (recommended = 'mid'): LlmResults['models:list'] => ({
  models: [],
  catalog: TEST_CATALOG,
  active: null,
  recommended,
})

export function appInfo(totalMemoryGb: number, host: AppInfo['host'] = 'electron'): AppInfo {
  return {
    name: 'cmdai',
    version: '0.0.0-test',
    platform: 'linux',
    host,
    dataDir: '/data/cmdai',
    homeDir: '/home/me',
    defaultShell: '/bin/bash',
    totalMemoryGb,
    cpuCount: 2,
  }
}
