import { randomBytes } from 'node:crypto'
import type { TerminalCommand } from '../../contract'

export interface TrackerCallbacks {
  onCommand(command: Omit<TerminalCommand, 'ptyId' | 'shell'>): void
  onCwd(cwd: string): void
  onPrompt(): void
  /** A command started running (the prompt is gone until the next onPrompt). */
  onStart?(): void
}

/** A per-shell secret that shell integration echoes back with the command line (see cmdai.bash). */
export function createNonce(): string {
  return randomBytes(12).toString('hex')
}

/**
 * Turns the shell integration's OSC payloads into facts: the working directory, the prompt, and
 * each finished command with its text, exit code and duration. Command lines that do not carry
 * this shell's nonce are ignored, so output of a program (`cat evil.txt`) cannot forge history.
 */
export class CommandTracker {
  private cwd: string | null = null
  private pendingText: string | null = null
  private running: { command: string; cwd: string | null; startedAt: number } | null = null

  constructor(
    private readonly nonce: string,
    private readonly callbacks: TrackerCallbacks,
    private readonly now: () => number = Date.now,
  ) {}

  get currentCwd(): string | null {
    return this.cwd
  }

  get isRunning(): boolean {
    return this.running !== null
  }

  handleOsc(payload: string): void {
    const sep = payload.indexOf(';')
    const code = sep === -1 ? payload : payload.slice(0, sep)
    const rest = sep === -1 ? '' : payload.slice(sep + 1)
    if (code === '7') this.handleCwd(rest)
    else if (code === '133') this.handleMark(rest)
    else if (code === '633') this.handleVsCodeStyle(rest)
  }

  private handleCwd(uri: string): void {
    const cwd = parseFileUri(uri)
    if (cwd && cwd !== this.cwd) {
      this.cwd = cwd
      this.callbacks.onCwd(cwd)
    }
  }

  private handleMark(rest: string): void {
    const [mark, arg] = rest.split(';', 2)
    switch (mark) {
      case 'B':
        this.callbacks.onPrompt()
        break
      case 'C':
        this.running = {
          command: this.pendingText ?? '',
          cwd: this.cwd,
          startedAt: this.now(),
        }
        this.pendingText = null
        this.callbacks.onStart?.()
        break
      case 'D': {
        const run = this.running
        this.running = null
        if (!run || run.command.trim() === '') return
        const finishedAt = this.now()
        const exit = arg === undefined || arg === '' ? null : Number.parseInt(arg, 10)
        this.callbacks.onCommand({
          command: run.command,
          cwd: run.cwd,
          exitCode: exit === null || Number.isNaN(exit) ? null : exit,
          startedAt: run.startedAt,
          finishedAt,
          durationMs: Math.max(0, finishedAt - run.startedAt),
        })
        break
      }
      default:
        break
    }
  }

  private handleVsCodeStyle(rest: string): void {
    if (!rest.startsWith('E;')) return
    const body = rest.slice(2)
    const lastSep = body.lastIndexOf(';')
    if (lastSep === -1) return
    const nonce = body.slice(lastSep + 1)
    if (nonce !== this.nonce) return
    this.pendingText = unescapeCommandLine(body.slice(0, lastSep))
  }
}

/** Reverses the escaping done by the shell scripts: `\\` and `\xNN`. */
export function unescapeCommandLine(text: string): string {
  return text.replace(/\\(\\|x([0-9a-fA-F]{2}))/g, (_, all: string, hex: string | undefined) =>
    hex ? String.fromCharCode(Number.parseInt(hex, 16)) : all,
  )
}

function parseFileUri(uri: string): string | null {
  if (!uri.startsWith('file://')) return null
  const afterScheme = uri.slice('file://'.length)
  const slash = afterScheme.indexOf('/')
  if (slash === -1) return null
  try {
    return decodeURIComponent(afterScheme.slice(slash))
  } catch {
    return afterScheme.slice(slash)
  }
}
