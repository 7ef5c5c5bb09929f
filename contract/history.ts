import { z } from 'zod'
import {
  agentEventInputSchema,
  agentEventsQuerySchema,
  type AgentEvent,
  type AgentEventsResult,
} from './agent'

const text = (max: number) => z.string().max(max)
const epochMs = z.number().int().min(0).max(8.64e15)

export const SEARCH_MODES = ['text', 'substring', 'fuzzy', 'semantic'] as const
export type SearchMode = (typeof SEARCH_MODES)[number]

/** History file formats `history:import` reads; jsonl and csv are cmdai's own exports. */
export const IMPORT_FORMATS = ['bash', 'zsh', 'fish', 'atuin', 'jsonl', 'csv'] as const
export type ImportFormat = (typeof IMPORT_FORMATS)[number]

export const AI_DECISIONS = ['ran', 'edited', 'copied', 'cancelled', 'blocked'] as const
export type AiDecision = (typeof AI_DECISIONS)[number]

const risk = z.enum(['safe', 'moderate', 'high', 'critical'])

/** Filters shared by search, export and delete. All optional; they combine with AND. */
export const historyFilterSchema = z
  .object({
    /** Only commands run in this directory or below it. */
    cwd: text(4096).optional(),
    /** 'ok' (exit 0), 'fail' (non-zero) or an exact exit code. */
    exit: z.union([z.enum(['ok', 'fail']), z.number().int()]).optional(),
    /** Epoch ms, inclusive. */
    since: epochMs.optional(),
    /** Epoch ms, exclusive. */
    until: epochMs.optional(),
    sessionId: text(200).optional(),
    host: text(255).optional(),
    /** Shell name, e.g. bash, zsh, fish. */
    shell: text(64).optional(),
    /** 'ai': commands that came from an AI suggestion; 'typed': the rest. */
    origin: z.enum(['ai', 'typed']).optional(),
    /** Only runs of exactly this command text (e.g. to delete one entry of the history list). */
    command: text(20_000).optional(),
  })
  .strict()
export type HistoryFilter = z.infer<typeof historyFilterSchema>

const searchSchema = z
  .object({
    query: text(1000),
    mode: z.enum(SEARCH_MODES).default('text'),
    filter: historyFilterSchema.optional(),
    limit: z.number().int().min(1).max(500).default(50),
  })
  .strict()

const reasonSchema = z.object({ ruleId: text(200), risk, message: text(2000) }).strict()

const recordAiSchema = z
  .object({
    request: text(20_000),
    contextSummary: text(20_000).optional(),
    model: text(500).optional(),
    backend: text(100).optional(),
    /** Named durations in ms, e.g. { firstTokenMs, totalMs }. */
    timings: z.record(z.string().max(64), z.number()).optional(),
    proposedCommand: text(20_000).optional(),
    risk: risk.optional(),
    reasons: z.array(reasonSchema).max(100).optional(),
    decision: z.enum(AI_DECISIONS).optional(),
    /** The command the user ran instead, when they edited the proposal. */
    finalCommand: text(20_000).optional(),
    /** The terminal the command is meant for: links the AI request to the command that runs. */
    ptyId: text(64).optional(),
  })
  .strict()

export const historyRequests = {
  /** Search the history. Results are distinct command texts, best first. */
  'history:search': searchSchema,
  'history:stats': z.object({ filter: historyFilterSchema.optional() }).strict(),
  /** Delete commands (by id or by filter, e.g. a time range) and everything derived from them. */
  'history:delete': z
    .object({
      ids: z.array(z.number().int().positive()).max(10_000).optional(),
      filter: historyFilterSchema.optional(),
    })
    .strict()
    .refine((v) => (v.ids && v.ids.length > 0) || v.filter, {
      message: 'Give ids or a filter (an empty filter deletes everything)',
    }),
  'history:recordAi': recordAiSchema,
  'history:updateAi': z
    .object({
      id: z.number().int().positive(),
      decision: z.enum(AI_DECISIONS).optional(),
      finalCommand: text(20_000).optional(),
      proposedCommand: text(20_000).optional(),
      risk: risk.optional(),
      reasons: z.array(reasonSchema).max(100).optional(),
      timings: z.record(z.string().max(64), z.number()).optional(),
      ptyId: text(64).optional(),
    })
    .strict(),
  /** Export (a filtered part of) the history as JSON lines or CSV text. See main/history/EXPORT.md. */
  'history:export': z
    .object({
      format: z.enum(['jsonl', 'csv']).default('jsonl'),
      filter: historyFilterSchema.optional(),
    })
    .strict(),
  /** Whether the database is open, and how long opening took. */
  'history:status': z.object({}).strict(),
  /** Open the database again after a failed open (e.g. once `cmdai history doctor` repaired it). */
  'history:reopen': z.object({}).strict(),
  /**
   * Import a history file on this machine (progress as `history:importProgress` events). Without
   * a path, the format's usual file (~/.bash_history, ~/.zsh_history, fish_history, Atuin's
   * history.db).
   */
  'history:import': z
    .object({
      path: text(4096).optional(),
      format: z.enum(IMPORT_FORMATS).optional(),
    })
    .strict()
    .refine((v) => v.path || v.format, { message: 'Give a file path or a format' }),
  /** Record what a coding agent asked about or ran (contract/agent.ts); ran commands also get a row. */
  'history:recordAgent': agentEventInputSchema,
  /** The Agents view: agents' commands, newest first. */
  'history:agentEvents': agentEventsQuerySchema,
} as const satisfies Record<string, z.ZodType>

/** One recorded command row. */
export interface HistoryCommand {
  id: number
  command: string
  cwd: string | null
  exitCode: number | null
  /** Epoch ms. */
  startedAt: number
  durationMs: number | null
  shell: string | null
  host: string | null
  sessionId: string | null
  ptyId: string | null
  /** 'terminal' or the import format (bash, zsh, fish, atuin). */
  source: string
  /** The AI request this command came from, if any. */
  aiRequestId: number | null
}

/** One search hit: a distinct command text with its latest matching run. */
export interface HistorySearchHit {
  command: string
  /** The latest matching run. */
  last: HistoryCommand
  /** How often it ran (within the filter). */
  uses: number
  failures: number
  score: number
}

export interface HistorySearchResult {
  mode: SearchMode
  hits: HistorySearchHit[]
  tookMs: number
  /** For semantic search: how many distinct texts still wait for an embedding. */
  pendingEmbeddings?: number
}

export interface HistoryStats {
  totalCommands: number
  distinctCommands: number
  failedCommands: number
  failureRate: number
  mostUsed: Array<{ command: string; uses: number; failures: number; failureRate: number }>
  mostFailing: Array<{ command: string; uses: number; failures: number; failureRate: number }>
  ai: {
    requests: number
    decisions: Record<AiDecision | 'undecided', number>
    /** Ran as proposed / all decided requests. */
    acceptanceRate: number
    editedRate: number
    cancelledRate: number
  }
  risk: Record<'safe' | 'moderate' | 'high' | 'critical' | 'unknown', number>
}

export interface HistoryAiRequest {
  id: number
  createdAt: number
  request: string
  contextSummary: string | null
  model: string | null
  backend: string | null
  timings: Record<string, number> | null
  proposedCommand: string | null
  risk: string | null
  reasons: Array<{ ruleId: string; risk: string; message: string }> | null
  decision: AiDecision | null
  finalCommand: string | null
  commandId: number | null
}

/** Why the database cannot be opened, in the user's terms. */
export interface HistoryProblem {
  /** The file or folder at fault (absolute path). */
  file: string
  /** What is wrong with it and what that means for the user's history. */
  meaning: string
  /** What to run (or do) to repair it, e.g. `cmdai history doctor`. */
  repair: string
}

export interface HistoryStatus {
  state: 'opening' | 'ready' | 'failed' | 'closed'
  message: string | null
  openMs: number | null
  schemaVersion: number | null
  /** Set when state is 'failed' because of the database itself (not, say, a busy lock). */
  problem?: HistoryProblem | null
}

/** One line of an import file that was not stored, and why. */
export interface ImportSkip {
  line: number
  reason: string
}

export interface ImportSummary {
  format: ImportFormat
  /** Entries read from the file. */
  parsed: number
  imported: number
  /** Already in the history (the same file imported before, or the same row). */
  duplicates: number
  /** Entries that could not be stored (see `skips`). */
  skipped: number
  /** The first skipped lines with their reasons (at most 1000). */
  skips: ImportSkip[]
  tookMs: number
}

/** Progress of `history:import` (and the CLI's import): a coarse snapshot, a few per second. */
export interface ImportProgress {
  id: string
  path: string
  /** Bytes of the file read so far, of `totalBytes`. */
  bytesRead: number
  totalBytes: number
  imported: number
  duplicates: number
  skipped: number
  phase: 'reading' | 'finishing' | 'done' | 'failed'
  /** Set when phase is 'failed'. */
  error?: string
}

export interface HistoryResults {
  'history:search': HistorySearchResult
  'history:stats': HistoryStats
  'history:delete': { deletedCommands: number; deletedAiRequests: number }
  'history:recordAi': HistoryAiRequest
  'history:updateAi': HistoryAiRequest
  'history:export': { format: 'jsonl' | 'csv'; rows: number; data: string }
  'history:status': HistoryStatus
  'history:reopen': HistoryStatus
  'history:import': ImportSummary
  'history:recordAgent': AgentEvent
  'history:agentEvents': AgentEventsResult
}

export interface HistoryEvents {
  /** A command row was durably written (the UI shows rows only after this). */
  'history:recorded': HistoryCommand
  /** An AI request was recorded or updated. */
  'history:ai': HistoryAiRequest
  /** A coding agent's command was recorded. */
  'history:agent': AgentEvent
  /** How far an import has come (see `history:import`). */
  'history:importProgress': ImportProgress
  /** The database's state changed (opened, failed, closed). */
  'history:state': HistoryStatus
}
