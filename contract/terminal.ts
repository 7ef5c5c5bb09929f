import { z } from 'zod'

const ptyId = z.string().min(1).max(64)
const cols = z.number().int().min(2).max(1000)
const rows = z.number().int().min(1).max(500)

/** Requests of the `pty` domain: shells running in pseudo-terminals owned by the main process. */
export const terminalRequests = {
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
  'pty:write': z.object({ id: ptyId, data: z.string().max(1_000_000) }).strict(),
  'pty:resize': z.object({ id: ptyId, cols, rows }).strict(),
  /** Kill the shell (SIGHUP, then SIGKILL). The tab stays; `pty:restart` brings it back. */
  'pty:kill': z.object({ id: ptyId }).strict(),
  /** Start a fresh shell under the same id, in the last known cwd. */
  'pty:restart': z.object({ id: ptyId, cols, rows }).strict(),
  /** Close the tab's shell for good and forget the id. */
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
}

export interface TerminalResults {
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
  /** A batch of output; deltas only, never the whole screen. */
  'pty:data': { id: string; data: string }
  'pty:exit': { id: string; exitCode: number; signal: number | null }
  /** The shell reported a new working directory (OSC 7). */
  'pty:cwd': { id: string; cwd: string; gitBranch: string | null }
  /** The prompt is shown and the shell is waiting for input (OSC 133;B). */
  'pty:prompt': { id: string }
  'terminal:command': TerminalCommand
}
