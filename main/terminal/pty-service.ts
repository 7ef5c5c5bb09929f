import { existsSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import * as nodePty from 'node-pty'
import { CmdaiError, type PtyInfo } from '../../contract'
import type { EventHub } from '../ipc/event-hub'
import { CommandTracker, createNonce } from './command-tracker'
import { gitBranchOf } from './git-branch'
import { OscScanner } from './osc-scanner'
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
}

export interface CreateOptions {
  cols: number
  rows: number
  cwd?: string
  shell?: string
}

interface Session {
  id: string
  owner: string
  shell: string
  integration: IntegratedShell | null
  pty: nodePty.IPty
  tracker: CommandTracker
  scanner: OscScanner
  startCwd: string
  running: boolean
  pending: string
  flushTimer: NodeJS.Timeout | null
  killTimer: NodeJS.Timeout | null
}

const MAX_BATCH_CHARS = 64 * 1024
/** Environment variables of ours that must not leak into the user's shell. */
const SCRUBBED_ENV = ['ELECTRON_RUN_AS_NODE', 'ELECTRON_NO_ATTACH_CONSOLE', 'CMDAI_NONCE']

/**
 * Owns every pseudo-terminal. Output is batched into small delta events; shell integration
 * markers are read from the same stream to report commands, cwd and prompts.
 */
export class PtyService {
  private readonly sessions = new Map<string, Session>()
  private nextId = 1
  private readonly env: NodeJS.ProcessEnv
  private readonly spawnPty: Spawn
  private readonly batchMs: number

  constructor(private readonly options: PtyServiceOptions) {
    this.env = options.env ?? process.env
    this.spawnPty = options.spawn ?? nodePty.spawn
    this.batchMs = options.batchMs ?? 4
  }

  create(options: CreateOptions, owner: string): PtyInfo {
    const id = `t${this.nextId++}`
    const session = this.start(id, owner, options)
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
    if (session.running) session.pty.resize(cols, rows)
  }

  kill(id: string): void {
    const session = this.get(id)
    if (!session.running) return
    session.pty.kill('SIGHUP')
    // A shell that traps SIGHUP still has to go.
    session.killTimer = setTimeout(() => {
      if (session.running) session.pty.kill('SIGKILL')
    }, 2000)
  }

  restart(id: string, cols: number, rows: number): PtyInfo {
    const old = this.get(id)
    const cwd = old.tracker.currentCwd ?? old.startCwd
    this.teardown(old)
    const session = this.start(id, old.owner, {
      cols,
      rows,
      cwd: existsSync(cwd) ? cwd : undefined,
      shell: old.shell,
    })
    this.sessions.set(id, session)
    return this.info(session)
  }

  dispose(id: string): void {
    const session = this.sessions.get(id)
    if (!session) return
    this.teardown(session)
    this.sessions.delete(id)
  }

  list(): PtyInfo[] {
    return [...this.sessions.values()].map((s) => this.info(s))
  }

  disposeOwnedBy(owner: string): void {
    for (const session of [...this.sessions.values()]) {
      if (session.owner === owner) this.dispose(session.id)
    }
  }

  disposeAll(): void {
    for (const id of [...this.sessions.keys()]) this.dispose(id)
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
    }
  }

  private start(id: string, owner: string, options: CreateOptions): Session {
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

    const events = this.options.events
    const session: Session = {
      id,
      owner,
      shell,
      integration,
      pty,
      startCwd: cwd,
      running: true,
      pending: '',
      flushTimer: null,
      killTimer: null,
      scanner: undefined as unknown as OscScanner,
      tracker: new CommandTracker(nonce, {
        onCommand: (command) => events.emit('terminal:command', { ...command, ptyId: id, shell }),
        onCwd: (dir) => events.emit('pty:cwd', { id, cwd: dir, gitBranch: gitBranchOf(dir) }),
        onPrompt: () => events.emit('pty:prompt', { id }),
      }),
    }
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
      if (session.killTimer) clearTimeout(session.killTimer)
      if (this.sessions.get(id) === session) {
        events.emit('pty:exit', { id, exitCode, signal: signal || null })
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
    if (this.sessions.get(session.id) === session) {
      this.options.events.emit('pty:data', { id: session.id, data })
    }
    session.scanner.push(data)
  }

  private teardown(session: Session): void {
    if (session.flushTimer) clearTimeout(session.flushTimer)
    if (session.killTimer) clearTimeout(session.killTimer)
    session.flushTimer = null
    session.pending = ''
    if (session.running) {
      session.running = false
      try {
        session.pty.kill('SIGKILL')
      } catch {
        // Already gone.
      }
    }
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
