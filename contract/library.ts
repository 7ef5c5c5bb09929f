import { z } from 'zod'
import type { PolicyAction, Risk, ShellDialect, Verdict } from './safety'
import { RISKS, SHELL_DIALECTS } from './safety'
import type { ClientEvent, Pattern, Role } from './sync'
import type { TelemetrySnapshot } from './telemetry'
import {
  LIBRARY_NAME_RE,
  PARAMETER_NAME_RE,
  PATTERN_ID_RE,
  TEAM_NAME_RE,
  patternParameterSchema,
} from './sync'
import type { Approval } from './approvals'

/**
 * Command libraries in the app (issue 10). The main process owns the Yjs documents (the personal
 * library, joined team libraries and the team policy documents) and persists them locally; the
 * renderer keeps a replica of each library it shows, fed by `library:open` (the state it lacks)
 * and `library:update` events (Yjs update deltas, base64). Edits go from the renderer to main as
 * validated operations (`library:save`, `library:delete`), never as raw document updates.
 *
 * Library ids: `personal`, `starter` (the read-only starter library shipped with the app) and
 * `<team>/<library>` for team libraries (the room name on the team server).
 */

export const PERSONAL_LIBRARY = 'personal'
export const STARTER_LIBRARY = 'starter'

const libraryId = z
  .string()
  .min(1)
  .max(127)
  .refine(
    (v) => v === PERSONAL_LIBRARY || v === STARTER_LIBRARY || isTeamLibraryId(v),
    'a library id: personal, starter or <team>/<library>',
  )

/** True for `<team>/<library>` ids (never the team's `.policy` document). */
export function isTeamLibraryId(id: string): boolean {
  const slash = id.indexOf('/')
  if (slash < 0) return false
  return TEAM_NAME_RE.test(id.slice(0, slash)) && LIBRARY_NAME_RE.test(id.slice(slash + 1))
}

/** The connection state of a team library, as the status bar and panel show it. */
export type LibrarySyncState =
  /** Personal and starter libraries: nothing to sync. */
  | 'local'
  /** Not connected (no network, server down); edits are kept and sent on reconnect. */
  | 'offline'
  | 'connecting'
  /** Connected, exchanging what each side lacks. */
  | 'syncing'
  | 'synced'
  /** The server refused the connection for good (expired, revoked, not a member...). */
  | 'refused'

export interface LibrarySync {
  state: LibrarySyncState
  /** Why (refused: the server's reason; offline: the last error). */
  reason?: string
  /** The close code when refused. */
  code?: number
  /** The server's word on this connection (role, read-only). */
  role?: Role
  user?: string
  /** Writes are refused by the server for this member (junior, readonly). */
  readOnly: boolean
  /** Local edits the server has not confirmed yet (stored locally meanwhile). */
  unsynced: boolean
  /** Writes the server refused (a read-only member's edits); they stay local only. */
  refusedWrites: number
  lastSyncedAt?: number
}

export interface LibraryInfo {
  id: string
  kind: 'personal' | 'starter' | 'team'
  title: string
  team?: string
  library?: string
  /** Team server base URL (http[s]://host:port). */
  server?: string
  /** The user may not edit it (starter, read-only role, document from a newer version). */
  readOnly: boolean
  /** Why it is read-only, in words. */
  readOnlyReason?: string
  sync: LibrarySync
  patternCount: number
}

/** A teammate viewing or editing a pattern (awareness). */
export interface Presence {
  clientId: number
  user: string
  /** A colour for the avatar, from the user name. */
  color: string
  patternId: string | null
  editing: boolean
}

/** Two concurrent edits of one field: the document kept one value; the marker shows both. */
export interface FieldConflict {
  library: string
  patternId: string
  field: string
  /** The value this device wrote. */
  mine: unknown
  /** The value the teammate wrote. */
  theirs: unknown
  /** Which of the two the document kept. */
  kept: 'mine' | 'theirs'
  /** Who wrote `theirs`, when known (the pattern's `updatedBy`). */
  by?: string
  at: number
}

/** The decision on a pattern's command: the verdict plus what the team's policy asks for. */
export interface PatternDecision {
  /** What the app will do: run, ask to confirm, refuse, or require an approval first. */
  action: PolicyAction | 'approval'
  /** In words, naming the rule that applied. */
  reason: string
  /** The policy rule id that applied (or the safety level). */
  ruleId?: string
  /** An approval that covers exactly this command, when one does. */
  approvalId?: string
}

export interface TemplateCheck {
  /** Verdict on the template with every parameter an unknown word. */
  template: Verdict
  /** The filled-in command, when every value is valid. */
  command: string | null
  /** Per-parameter errors (value refused: NUL, not allowed, option injection...). */
  errors: Record<string, string>
  /** Verdict on the filled-in command (null until it can be filled). */
  verdict: Verdict | null
  decision: PatternDecision | null
}

export interface PatternHit {
  library: string
  pattern: Pattern
  /** Risk of the template (parameters as unknown words). */
  risk: Risk
  score: number
}

export interface PatternRunResult {
  /** `ran`: written to the terminal; otherwise why not (nothing was written). */
  outcome: 'ran' | 'needs-confirmation' | 'needs-approval' | 'blocked'
  command: string
  verdict: Verdict
  decision: PatternDecision
}

export interface ParameterSuggestion {
  /** The proposed template. */
  command: string
  parameters: Array<z.output<typeof patternParameterSchema>>
  /** Why each parameter was proposed (varies across similar entries, looks like a path...). */
  notes: string[]
}

export const LIBRARY_FORMATS = ['yaml', 'json', 'navi', 'pet'] as const
export type LibraryFormat = (typeof LIBRARY_FORMATS)[number]

const patternEditSchema = z
  .object({
    /** Absent: a new pattern gets an id. */
    id: z.string().regex(PATTERN_ID_RE).optional(),
    title: z.string().min(1).max(200),
    description: z.string().max(10_000).default(''),
    command: z.string().min(1).max(16_384),
    parameters: z.array(patternParameterSchema).max(50).default([]),
    tags: z.array(z.string().min(1).max(64)).max(50).default([]),
  })
  .strict()
export type PatternEdit = z.input<typeof patternEditSchema>

const valuesSchema = z.record(z.string().regex(PARAMETER_NAME_RE), z.string().max(4_096))
const shell = z.enum(SHELL_DIALECTS)

/** Requests of the `library` domain. */
export const libraryRequests = {
  'library:list': z.object({}).strict(),
  /** The document state the caller lacks (Yjs update, base64), given its state vector. */
  'library:open': z
    .object({ id: libraryId, stateVector: z.string().max(100_000).optional() })
    .strict(),
  /** Create or change a pattern. Main fills in author and timestamps. */
  'library:save': z.object({ library: libraryId, pattern: patternEditSchema }).strict(),
  'library:delete': z.object({ library: libraryId, id: z.string().regex(PATTERN_ID_RE) }).strict(),
  /** Text and fuzzy search over every library (the panel and the palette). */
  'library:search': z
    .object({
      query: z.string().max(1_000).default(''),
      library: libraryId.optional(),
      tags: z.array(z.string().max(64)).max(20).optional(),
      limit: z.number().int().min(1).max(500).default(50),
    })
    .strict(),
  /** Verdicts of the template and (when the values fill it) of the final command. */
  'library:check': z
    .object({
      library: libraryId,
      id: z.string().regex(PATTERN_ID_RE),
      values: valuesSchema.default({}),
      shell: shell.default('bash'),
    })
    .strict(),
  /** Fill, check and write the command to a terminal (the run is recorded and reported). */
  'library:run': z
    .object({
      library: libraryId,
      id: z.string().regex(PATTERN_ID_RE),
      values: valuesSchema.default({}),
      shell: shell.default('bash'),
      ptyId: z.string().min(1).max(64),
      /** The user confirmed a command that needs confirmation. */
      confirmed: z.boolean().default(false),
    })
    .strict(),
  /** Choices for a parameter from its `valuesFrom` command (run only once the user approved it). */
  'library:values': z
    .object({
      library: libraryId,
      id: z.string().regex(PATTERN_ID_RE),
      parameter: z.string().regex(PARAMETER_NAME_RE),
      /** The user approves running this exact command (remembered). */
      approve: z.boolean().default(false),
    })
    .strict(),
  /** Join a team library: the server URL, the user's token (stored encrypted), the library name. */
  'library:join': z
    .object({
      server: z.string().url().max(2_000),
      token: z.string().min(10).max(8_000),
      library: z.string().regex(LIBRARY_NAME_RE),
    })
    .strict(),
  'library:leave': z.object({ id: libraryId }).strict(),
  /** Go offline or online for a team server (tests, planes). */
  'library:connect': z.object({ id: libraryId, online: z.boolean() }).strict(),
  /** What this user is looking at (shared with teammates through awareness). */
  'library:presence': z
    .object({
      library: libraryId,
      patternId: z.string().regex(PATTERN_ID_RE).nullable(),
      editing: z.boolean().default(false),
    })
    .strict(),
  'library:resolveConflict': z
    .object({
      library: libraryId,
      patternId: z.string().regex(PATTERN_ID_RE),
      field: z.string().max(64),
      keep: z.enum(['mine', 'theirs']),
    })
    .strict(),
  'library:import': z
    .object({
      library: libraryId,
      format: z.enum(LIBRARY_FORMATS),
      text: z.string().max(5_000_000),
    })
    .strict(),
  'library:export': z
    .object({ library: libraryId, format: z.enum(['yaml', 'json']).default('yaml') })
    .strict(),
  /** Propose a template (with parameters) from commands taken from history. */
  'library:suggest': z
    .object({ commands: z.array(z.string().min(1).max(16_384)).min(1).max(50) })
    .strict(),
  /** Ask the team's approvers for permission to run a command. */
  'approval:request': z
    .object({
      library: libraryId.optional(),
      id: z.string().regex(PATTERN_ID_RE).optional(),
      /** The team to ask (required when not from a team library). */
      team: z.string().regex(TEAM_NAME_RE).optional(),
      command: z.string().min(1).max(16_384),
      shell: shell.default('bash'),
      reason: z.string().min(1).max(2_000),
    })
    .strict(),
  /** What this app sends to each team's server (the team's setting) and what it sent lately. */
  'library:telemetry': z.object({}).strict(),
  /** Approvals this user can see (their own; every pending one for approvers). */
  'approval:list': z.object({}).strict(),
  'approval:decide': z
    .object({
      team: z.string().regex(TEAM_NAME_RE),
      id: z.string().min(1).max(128),
      decision: z.enum(['approve', 'deny']),
      comment: z.string().max(2_000).default(''),
    })
    .strict(),
} as const satisfies Record<string, z.ZodType>

export interface LibraryResults {
  'library:list': LibraryInfo[]
  'library:open': { id: string; update: string; presence: Presence[]; conflicts: FieldConflict[] }
  'library:save': Pattern
  'library:delete': null
  'library:search': { hits: PatternHit[]; tookMs: number }
  'library:check': TemplateCheck
  'library:run': PatternRunResult
  'library:values': { approved: boolean; command: string; values: string[]; error?: string }
  'library:join': LibraryInfo
  'library:leave': null
  'library:connect': LibraryInfo
  'library:presence': null
  'library:resolveConflict': null
  'library:import': { added: number; skipped: number; errors: string[] }
  'library:export': { format: 'yaml' | 'json'; text: string }
  'library:suggest': ParameterSuggestion
  'library:telemetry': TelemetryView
  'approval:request': Approval
  'approval:list': { approvals: Approval[]; errors: string[] }
  'approval:decide': Approval
}

/** What the app sends to its teams' servers (see `contract/telemetry.ts`). */
export interface TelemetryView {
  teams: Array<{ team: string; server: string; setting: TelemetrySnapshot }>
  /** The newest events that reached a team server, exactly as sent (newest first). */
  sent: Array<{ at: number; team: string; event: ClientEvent }>
}

export interface LibraryEvents {
  /** A Yjs update (base64) of a library document: apply it to the replica. */
  'library:update': { id: string; update: string }
  /** A library's coarse state changed (sync status, read-only, pattern count). */
  'library:info': LibraryInfo
  /** A library was left or removed. */
  'library:removed': { id: string }
  /** Who is looking at what (snapshot per library, small). */
  'library:presence': { id: string; peers: Presence[] }
  /** The open field conflicts of a library (snapshot). */
  'library:conflicts': { id: string; conflicts: FieldConflict[] }
  /** An approval was requested or decided. */
  'approval:changed': Approval
}

export type { Risk, ShellDialect }
export { RISKS }
