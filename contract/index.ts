/**
 * The one API contract between the renderer and the main process (over Electron IPC or the
 * browser-mode socket). Each domain declares its request schemas, result types and events in its
 * own file; this module merges them. Renderer code imports it with `import type` only.
 */
import type { z } from 'zod'
import { appRequests, type AppEvents, type AppResults } from './app'
import { terminalRequests, type TerminalEvents, type TerminalResults } from './terminal'
import { safetyRequests, type SafetyEvents, type SafetyResults } from './safety'
import { llmRequests, type LlmEvents, type LlmResults } from './llm'
import { historyRequests, type HistoryEvents, type HistoryResults } from './history'
import { settingsRequests, type SettingsEvents, type SettingsResults } from './settings'
import { agentRequests, type AgentEvents, type AgentResults } from './agent'
import { libraryRequests, type LibraryEvents, type LibraryResults } from './library'
import { identityRequests, type IdentityResults } from './identity'
import type { Result } from './errors'

export * from './errors'
export type * from './app'
export type * from './terminal'
export type * from './safety'
export type * from './llm'
export type * from './history'
export * from './settings'
export type * from './agent'
export type * from './library'
export type * from './approvals'
export type * from './identity'

/** Input schemas of every request, keyed by `domain:verb`. Main validates with these. */
export const requestSchemas = {
  ...appRequests,
  ...terminalRequests,
  ...safetyRequests,
  ...llmRequests,
  ...historyRequests,
  ...settingsRequests,
  ...agentRequests,
  ...libraryRequests,
  ...identityRequests,
} as const

type Schemas = typeof requestSchemas

/** Result types of every request. */
export interface Results
  extends
    AppResults,
    TerminalResults,
    SafetyResults,
    LlmResults,
    HistoryResults,
    SettingsResults,
    AgentResults,
    LibraryResults,
    IdentityResults {}

/** Every event stream, keyed by `domain:name`. */
export interface Events
  extends
    AppEvents,
    TerminalEvents,
    SafetyEvents,
    LlmEvents,
    HistoryEvents,
    SettingsEvents,
    AgentEvents,
    LibraryEvents {}

export type Channel = keyof Schemas
export type EventName = keyof Events
export type RequestArgs<C extends Channel> = z.input<Schemas[C]>
export type ParsedArgs<C extends Channel> = z.output<Schemas[C]>
export type RequestResult<C extends Channel> = C extends keyof Results ? Results[C] : never

// Compile-time check that schemas and results name the same channels.
type MissingResults = Exclude<Channel, keyof Results>
type MissingSchemas = Exclude<keyof Results, Channel>
const channelsMatch: [MissingResults, MissingSchemas] extends [never, never] ? true : false = true
void channelsMatch

/**
 * What the preload (and the browser-mode transport) exposes as `window.cmdai`. Requests answer
 * with a `Result` envelope; `renderer/src/api` wraps it into promises that throw `CmdaiError`.
 */
export interface CmdaiBridge {
  invoke<C extends Channel>(channel: C, args: RequestArgs<C>): Promise<Result<RequestResult<C>>>
  /** Subscribe to one event stream; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void
}
