import { existsSync, statSync } from 'node:fs'
import { constants as osConstants, homedir } from 'node:os'
import { join } from 'node:path'
import * as nodePty from 'node-pty'
import { CmdaiError, type EventName, type Events, type PtyInfo } from '../../contract'
import type { Audience, EventHub } from '../ipc/event-hub'
import { CommandTracker, createNonce } from './command-tracker'
import { DEFAULT_WATERMARKS, FlowControl, type Watermarks } from './flow-control'
import { gitBranchOf } from './git-branch'
import { OscScanner } from './osc-scanner'
import { endSession, sessionMembers } from './process-tree'
import { ScreenMirror } from './screen-mirror'
import { defaultShell, integrationFor, resolveShell, type IntegratedShell } from './shells'

type Spawn = typeof nodePty.spawn

export interface PtyServiceOptions {
  events: EventHub
  /** Folder holding `shell-integration/` (the rc snippets the app injects). */
  resourcesDir: string
  env?: NodeJS.ProcessEnv
  /** Start shells as login shells (macOS terminals do; Linux ones usually do not). */
  login?: boolean
  /** How long output is gathered before it is sent as one delta event. */
  batchMs?: number
  spawn?: Spawn
  /** Which client gets a session's events, from its owner; without it, every client. */
  audience?(owner: string): Audience
  watermarks?: Watermarks
  /** Scrollback lines the server-side screen mirror keeps. */
  scrollback?(): number
  /** How long a closed shell's processes get after SIGHUP before SIGKILL. */
  hangupGraceMs?: number
}

export interface CreateOptions {
  cols: number
  rows: number
  cwd?: string
  shell?: string
  /** A page shows this shell and acknowledges its output (flow control waits for it). */
  acknowledged?: boolean
  /** Screen content shown above the shell's first output (a tab restored from the last run). */
  preface?: string
  /** The tab's title until a program sets one (a restored tab). */
  title?: string | null
}

export interface ScreenSnapshot {
  screen: string
  seq: number
  cols: number
  rows: number
}

interface Session {
  id: string
  owner: string
  shell: string
  integration: IntegratedShell | null
  pty: nodePty.IPty
  tracker: CommandTracker
  scanner: OscScanner
  mirror: ScreenMirror
  flow: FlowControl
  startCwd: string
  running: boolean
  busy: boolean
  pending: string
  flushTimer: NodeJS.Timeout | null
}

const MAX_BATCH_CHARS = 64 * 1024
/** Environment variables of ours that must not leak into the user's shell. */
const SCRUBBED_ENV = ['ELECTRON_RUN_AS_NODE', 'ELECTRON_NO_ATTACH_CONSOLE', 'CMDAI_NONCE']

/**
 * Owns every pseudo-terminal. Output is batched into small delta events numbered by offset, fed
 * to a server-side screen mirror (for pages that reconnect) and held back by flow control while
 * the page or the mirror is behind. Shell integration markers are read from the same stream to
 * report commands, cwd and prompts. Each shell leads its own session; closing it ends the session.
 */
export class PtyService {
  private readonly sessions = new Map<string, Session>()
  private nextId = 1
  private readonly env: NodeJS.ProcessEnv
  private readonly spawnPty: Spawn
  private readonly batchMs: number
  /** Sessions being ended (SIGHUP, wait, SIGKILL); disposeAll waits for them. */
  private readonly ending = new Set<Promise<unknown>>()

  constructor(private readonly options: PtyServiceOptions) {
    this.env = options.env ?? process.env
    this.spawnPty = options.spawn ?? nodePty.spawn
    this.batchMs = options.batchMs ?? 4
  }

  create(options: CreateOptions, owner: string): PtyInfo {
    const id = `t${this.nextId++}`
    const mirror = new ScreenMirror({
      cols: options.cols,
      rows: options.rows,
      scrollback: this.options.scrollback?.() ?? 10_000,
      onTitle: (title) => this.emit(id, 'pty:title', { id, title }),
      title: options.title ?? null,
    })
    if (options.preface) mirror.write(options.preface)
    let session: Session
    try {
      session = this.start(id, owner, options, mirror, null)
    } catch (err) {
      mirror.dispose()
      throw err
    }
    this.sessions.set(id, session)
    return this.info(session)
  }

  write(id: string, data: string): void {
    const session = this.get(id)
    if (!session.running) throw new CmdaiError('unavailable', `The shell in ${id} has exited`)
    session.pty.write(data)
  }

  resize(id: string, cols: number, rows: number): void {
    const session = this.get(id)
    session.mirror.resize(cols, rows)
    if (session.running) session.pty.resize(cols, rows)
  }

  /** Ends the shell and its whole session; the tab stays until disposed. */
  kill(id: string): void {
    const session = this.get(id)
    if (session.running) this.end(session)
  }

  restart(id: string, cols: number, rows: number): PtyInfo {
    const old = this.get(id)
    const cwd = old.tracker.currentCwd ?? old.startCwd
    this.stopStreaming(old)
    this.end(old)
    old.mirror.resize(cols, rows)
    const session = this.start(
      id,
      old.owner,
      { cols, rows, cwd: existsSync(cwd) ? cwd : undefined, shell: old.shell },
      old.mirror,
      old.flow,
    )
    this.sessions.set(id, session)
    return this.info(session)
  }

  /** Closes the tab: the session ends in the background (disposeAll waits for it). */
  dispose(id: string): Promise<void> {
    const session = this.sessions.get(id)
    if (!session) return Promise.resolve()
    this.sessions.delete(id)
    this.stopStreaming(session)
    const ended = this.end(session)
    session.mirror.dispose()
    return ended
  }

  list(): PtyInfo[] {
    return [...this.sessions.values()].map((s) => this.info(s))
  }

  infoOf(id: string): PtyInfo {
    return this.info(this.get(id))
  }

  has(id: string): boolean {
    return this.sessions.has(id)
  }

  idsOwnedBy(owner: string): string[] {
    return [...this.sessions.values()].filter((s) => s.owner === owner).map((s) => s.id)
  }

  async disposeOwnedBy(owner: string): Promise<void> {
    await Promise.all(this.idsOwnedBy(owner).map((id) => this.dispose(id)))
  }

  async disposeAll(): Promise<void> {
    for (const id of [...this.sessions.keys()]) void this.dispose(id)
    await Promise.all([...this.ending])
  }

  /** The page has processed output up to `seq`. */
  ack(id: string, seq: number): void {
    this.get(id).flow.ack(seq)
  }

  /**
   * The screen as of now, for a page that (re)attaches: `seq` is the offset it covers, and the
   * page acknowledges from there. Serialized inside the mirror's write callback, before any later
   * output is parsed, so that screen and offset agree.
   */
  attach(id: string, limits: { scrollback?: number } = {}): Promise<ScreenSnapshot> {
    const session = this.get(id)
    this.flush(session)
    const seq = session.flow.offset
    return new Promise((resolve) => {
      session.mirror.write('', () => {
        const screen = session.mirror.serialize(limits)
        session.flow.attach(seq)
        resolve({ screen, seq, cols: session.mirror.cols, rows: session.mirror.rows })
      })
    })
  }

  /** No page shows this shell any more: only the mirror holds it back. */
  detach(id: string): void {
    this.sessions.get(id)?.flow.detach()
  }

  /** The mirror of a tab, for saving its screen (read-only use). */
  mirrorOf(id: string): ScreenMirror {
    return this.get(id).mirror
  }

  setScrollback(lines: number): void {
    for (const session of this.sessions.values()) session.mirror.setScrollback(lines)
  }

  private get(id: string): Session {
    const session = this.sessions.get(id)
    if (!session) throw new CmdaiError('not_found', `No terminal with id ${id}`)
    return session
  }

  private info(session: Session): PtyInfo {
    const cwd = session.tracker.currentCwd ?? session.startCwd
    return {
      id: session.id,
      pid: session.pty.pid,
      shell: session.shell,
      integration: session.integration,
      cwd,
      gitBranch: gitBranchOf(cwd),
      running: session.running,
      busy: session.running && session.busy,
      title: session.mirror.title,
    }
  }

  /** Emits a session's event to the client attached to its owner. */
  private emit<E extends EventName>(id: string, event: E, payload: Events[E]): void {
    const session = this.sessions.get(id)
    const audience = session ? this.options.audience?.(session.owner) : undefined
    this.options.events.emit(event, payload, audience)
  }

  private start(
    id: string,
    owner: string,
    options: CreateOptions,
    mirror: ScreenMirror,
    flow: FlowControl | null,
  ): Session {
    const requested = options.shell ?? defaultShell(this.env)
    const shell = resolveShell(requested, this.env)
    if (!shell)
      throw new CmdaiError('unavailable', `Shell not found or not executable: ${requested}`)
    const cwd = options.cwd ?? this.env.HOME ?? homedir()
    if (!isDirectory(cwd)) throw new CmdaiError('invalid_input', `Not a directory: ${cwd}`)

    const integration = integrationFor(shell)
    const nonce = createNonce()
    const { args, env } = this.launchPlan(integration, nonce)
    let pty: nodePty.IPty
    try {
      pty = this.spawnPty(shell, args, {
        name: 'xterm-256color',
        cols: options.cols,
        rows: options.rows,
        cwd,
        env: { ...this.baseEnv(id), ...env },
      })
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      throw new CmdaiError('unavailable', `Could not start ${shell}: ${reason}`)
    }

    const session: Session = {
      id,
      owner,
      shell,
      integration,
      pty,
      mirror,
      startCwd: cwd,
      running: true,
      busy: false,
      pending: '',
      flushTimer: null,
      flow: undefined as unknown as FlowControl,
      scanner: undefined as unknown as OscScanner,
      tracker: new CommandTracker(nonce, {
        onCommand: (command) => this.emit(id, 'terminal:command', { ...command, ptyId: id, shell }),
        onCwd: (dir) => this.emit(id, 'pty:cwd', { id, cwd: dir, gitBranch: gitBranchOf(dir) }),
        onPrompt: () => {
          session.busy = false
          this.emit(id, 'pty:prompt', { id })
        },
        onStart: () => {
          session.busy = true
          this.emit(id, 'pty:busy', { id })
        },
      }),
    }
    session.flow =
      flow ??
      new FlowControl((paused) => {
        const current = this.sessions.get(id)
        if (!current?.running) return
        if (paused) current.pty.pause()
        else current.pty.resume()
      }, this.options.watermarks ?? DEFAULT_WATERMARKS)
    if (options.acknowledged && !flow) session.flow.attach(0)
    if (session.flow.isPaused) pty.pause()
    session.scanner = new OscScanner((payload) => session.tracker.handleOsc(payload))

    pty.onData((data) => {
      if (this.sessions.get(id) !== session) return
      session.pending += data
      if (session.pending.length >= MAX_BATCH_CHARS) this.flush(session)
      else if (!session.flushTimer) {
        session.flushTimer = setTimeout(() => this.flush(session), this.batchMs)
      }
    })
    pty.onExit(({ exitCode, signal }) => {
      this.flush(session)
      session.running = false
      if (this.sessions.get(id) === session) {
        this.emit(id, 'pty:exit', {
          id,
          exitCode,
          signal: signal || null,
          signalName: signal ? signalName(signal) : null,
        })
      }
    })
    return session
  }

  private flush(session: Session): void {
    if (session.flushTimer) {
      clearTimeout(session.flushTimer)
      session.flushTimer = null
    }
    if (!session.pending) return
    const data = session.pending
    session.pending = ''
    if (this.sessions.get(session.id) !== session) return
    const seq = session.flow.emit(data.length)
    session.mirror.write(data, () => session.flow.mirrorDone(data.length))
    this.emit(session.id, 'pty:data', { id: session.id, data, seq })
    session.scanner.push(data)
  }

  /** Stops delivering this shell's output (it is being replaced or closed). */
  private stopStreaming(session: Session): void {
    if (session.flushTimer) clearTimeout(session.flushTimer)
    session.flushTimer = null
    session.pending = ''
  }

  /**
   * Ends the shell's session: SIGHUP to every process in it, SIGKILL after the grace period.
   * After the shell itself has exited, its pid may have been reused; a live process with that pid
   * leading a session then belongs to someone else, and nothing is signalled.
   */
  private end(session: Session): Promise<void> {
    const sid = session.pty.pid
    const exited = !session.running
    if (exited && sessionMembers(sid).some((m) => m.pid === sid)) return Promise.resolve()
    const ending = endSession(sid, { graceMs: this.options.hangupGraceMs ?? 1500 })
      .then(() => undefined)
      .catch((err: unknown) => console.error(`[cmdai] ending the shell ${sid} failed:`, err))
    this.ending.add(ending)
    void ending.finally(() => this.ending.delete(ending))
    return ending
  }

  private baseEnv(id: string): Record<string, string> {
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(this.env)) {
      if (value !== undefined && !SCRUBBED_ENV.includes(key)) env[key] = value
    }
    env.TERM = 'xterm-256color'
    env.COLORTERM = 'truecolor'
    env.TERM_PROGRAM = 'cmdai'
    env.CMDAI_TERMINAL_ID = id
    return env
  }

  private launchPlan(
    integration: IntegratedShell | null,
    nonce: string,
  ): { args: string[]; env: Record<string, string> } {
    const dir = join(this.options.resourcesDir, 'shell-integration')
    const login = this.options.login ?? process.platform === 'darwin'
    switch (integration) {
      case 'bash':
        return {
          args: ['--init-file', join(dir, 'cmdai.bash'), '-i'],
          env: { CMDAI_NONCE: nonce, ...(login ? { CMDAI_SHELL_LOGIN: '1' } : {}) },
        }
      case 'zsh':
        return {
          args: login ? ['-l', '-i'] : ['-i'],
          env: {
            CMDAI_NONCE: nonce,
            ZDOTDIR: join(dir, 'zsh'),
            CMDAI_USER_ZDOTDIR: this.env.ZDOTDIR ?? this.env.HOME ?? homedir(),
          },
        }
      case 'fish':
        return {
          args: [
            ...(login ? ['-l'] : []),
            '-i',
            '--init-command',
            `source ${quoteFish(join(dir, 'cmdai.fish'))}`,
          ],
          env: { CMDAI_NONCE: nonce },
        }
      default:
        return { args: login ? ['-l'] : [], env: {} }
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function quoteFish(path: string): string {
  return `'${path.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

function signalName(signal: number): string | null {
  for (const [name, value] of Object.entries(osConstants.signals)) {
    if (value === signal) return name
  }
  return null
}
