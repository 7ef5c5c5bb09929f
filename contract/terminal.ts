import { z } from 'zod'

const ptyId = z.string().min(1).max(64)
/** Larger input (a big paste) is sent in several writes, in order. */
export const PTY_WRITE_MAX_CHARS = 1_000_000
const cols = z.number().int().min(2).max(1000)
const rows = z.number().int().min(1).max(500)
/** A page's set of tabs on the server; random, chosen by the server. */
const viewId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'a view id from pty:attach')

/** Requests of the `pty` domain: shells running in pseudo-terminals owned by the main process. */
export const terminalRequests = {
  /**
   * Called by a page when it starts and whenever its connection comes back: binds the page to
   * its view (its tabs) and answers with each tab's screen and scrollback. `resume` takes the
   * page's own view back when no other page holds it (a view held by another page answers
   * `in-use` and changes nothing); without a known view it takes the newest view no page holds,
   * then tabs saved from the last run, else a new empty view. `take-over` moves a view that
   * another page holds to this one (that page is told); `new` starts an empty view.
   */
  'pty:attach': z
    .object({
      viewId: viewId.optional(),
      mode: z.enum(['resume', 'take-over', 'new']).default('resume'),
      /** Size for shells that have to be started (tabs restored from the last run). */
      cols,
      rows,
    })
    .strict(),
  /** The page has shown a tab's output up to `seq` (flow control: see FlowControl). */
  'pty:ack': z.object({ id: ptyId, seq: z.number().int().nonnegative() }).strict(),
  /** Start a shell. Defaults: the user's login shell in the home directory. */
  'pty:create': z
    .object({
      cols,
      rows,
      cwd: z.string().min(1).max(4096).optional(),
      /** Path or name of bash, zsh or fish; anything else runs without shell integration. */
      shell: z.string().min(1).max(4096).optional(),
    })
    .strict(),
  /** Send keystrokes or pasted text to a shell. */
  'pty:write': z.object({ id: ptyId, data: z.string().max(PTY_WRITE_MAX_CHARS) }).strict(),
  'pty:resize': z.object({ id: ptyId, cols, rows }).strict(),
  /**
   * Kill the shell and everything it started (SIGHUP to its whole session, SIGKILL to what is left
   * after a short wait). The tab stays; `pty:restart` brings it back.
   */
  'pty:kill': z.object({ id: ptyId }).strict(),
  /** Start a fresh shell under the same id, in the last known cwd. */
  'pty:restart': z.object({ id: ptyId, cols, rows }).strict(),
  /** Close the tab: end its shell's whole session as `pty:kill` does and forget the id. */
  'pty:dispose': z.object({ id: ptyId }).strict(),
  'pty:list': z.object({}).strict(),
} as const

export interface PtyInfo {
  id: string
  pid: number
  shell: string
  /** Which integration script was injected, or null when the shell is not one we integrate with. */
  integration: 'bash' | 'zsh' | 'fish' | null
  cwd: string
  /** The git branch of cwd (or a short commit id when detached); null outside a repository. */
  gitBranch: string | null
  running: boolean
  /** A command is running (shell integration says so); false at the prompt or when unknown. */
  busy: boolean
  /** The title a program set (OSC 0/2), or null. */
  title: string | null
}

/** One tab as `pty:attach` hands it back: where it stands and what its screen shows. */
export interface AttachedTab {
  info: PtyInfo
  /** Escape sequences that rebuild the screen and scrollback (write them into a fresh xterm). */
  screen: string
  /** The output offset the screen covers; `pty:data` events up to this offset are in it. */
  seq: number
  /** The size the screen was laid out at: write it at this size, then fit. */
  cols: number
  rows: number
  /** Set when the tab was restored from the last run (a new shell, the old screen). */
  restoredAt?: number
}

export interface AttachResult {
  viewId: string
  /**
   * `resumed`: the page's live shells; `restored`: tabs from the last run with new shells;
   * `new`: an empty view; `in-use`: another page holds `viewId` (nothing changed).
   */
  outcome: 'resumed' | 'restored' | 'new' | 'in-use'
  tabs: AttachedTab[]
  /** How long shells outlive a page that went away. */
  graceMinutes: number
}

export interface TerminalResults {
  'pty:attach': AttachResult
  'pty:ack': null
  'pty:create': PtyInfo
  'pty:write': null
  'pty:resize': null
  'pty:kill': null
  'pty:restart': PtyInfo
  'pty:dispose': null
  'pty:list': PtyInfo[]
}

/** One command that finished in a terminal, as reported by the shell integration markers. */
export interface TerminalCommand {
  ptyId: string
  /** The command line as the user ran it (secrets are redacted before it is stored). */
  command: string
  cwd: string | null
  exitCode: number | null
  shell: string
  /** Epoch milliseconds. */
  startedAt: number
  finishedAt: number
  durationMs: number
}

export interface TerminalEvents {
  /** A batch of output; deltas only, never the whole screen. `seq` is the offset after it. */
  'pty:data': { id: string; data: string; seq: number }
  /** The shell ended; `signalName` (e.g. SIGHUP) when a signal ended it. */
  'pty:exit': { id: string; exitCode: number; signal: number | null; signalName: string | null }
  /** A program set the title (OSC 0/2). */
  'pty:title': { id: string; title: string }
  /** A command started (OSC 133;C); the next `pty:prompt` says it finished. */
  'pty:busy': { id: string }
  /** Another page took this page's view over (`pty:attach` with `take-over`). */
  'pty:detached': { viewId: string; reason: 'taken-over' }
  /** The shell reported a new working directory (OSC 7). */
  'pty:cwd': { id: string; cwd: string; gitBranch: string | null }
  /** The prompt is shown and the shell is waiting for input (OSC 133;B). */
  'pty:prompt': { id: string }
  'terminal:command': TerminalCommand
}
