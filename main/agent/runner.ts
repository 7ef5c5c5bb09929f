import { spawn } from 'node:child_process'
import { statSync } from 'node:fs'
import type { ShellDialect } from '../../contract/safety'

/**
 * Runs an agent's command the way a script would: a non-interactive shell (no rc files, no TTY,
 * stdin from /dev/null) in its own process group, with a time limit after which the whole group
 * is killed, and an output cap that keeps the beginning and the end of each stream.
 */
export interface RunOptions {
  command: string
  shell: ShellDialect
  cwd: string
  timeoutMs: number
  /** Per stream: beyond this the middle is dropped (the first and last halves are kept). */
  maxOutputBytes: number
  env?: NodeJS.ProcessEnv
  signal?: AbortSignal
}

export interface RunResult {
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  cancelled: boolean
  durationMs: number
  stdout: string
  stderr: string
  /** Bytes each stream actually produced (more than shown when truncated). */
  stdoutBytes: number
  stderrBytes: number
  truncated: boolean
}

/** After SIGTERM, this long before SIGKILL. */
const KILL_GRACE_MS = 2_000

/** The interpreter and its arguments for each dialect, without the user's rc files. */
export function shellInvocation(shell: ShellDialect, command: string): [string, string[]] {
  switch (shell) {
    case 'bash':
      return ['bash', ['--noprofile', '--norc', '-c', command]]
    case 'zsh':
      return ['zsh', ['-f', '-c', command]]
    case 'fish':
      return ['fish', ['--no-config', '-c', command]]
    case 'powershell':
      return ['pwsh', ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', command]]
    case 'sh':
      return ['sh', ['-c', command]]
  }
}

export function checkCwd(cwd: string): string | null {
  try {
    return statSync(cwd).isDirectory() ? null : `${cwd} is not a directory`
  } catch {
    return `${cwd} does not exist`
  }
}

export function runCommand(options: RunOptions): Promise<RunResult> {
  const [file, args] = shellInvocation(options.shell, options.command)
  const env = { ...(options.env ?? process.env) }
  // Files a non-interactive shell would source on its own.
  delete env.BASH_ENV
  delete env.ENV
  const started = performance.now()
  const stdout = new CappedOutput(options.maxOutputBytes)
  const stderr = new CappedOutput(options.maxOutputBytes)
  return new Promise((resolve) => {
    let timedOut = false
    let cancelled = false
    let killTimer: NodeJS.Timeout | undefined
    const child = spawn(file, args, {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    })
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return
      try {
        if (process.platform === 'win32') child.kill(signal)
        else process.kill(-child.pid, signal)
      } catch {
        // Already gone.
      }
    }
    const stop = () => {
      killGroup('SIGTERM')
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS)
    }
    const timer = setTimeout(() => {
      timedOut = true
      stop()
    }, options.timeoutMs)
    const onAbort = () => {
      cancelled = true
      stop()
    }
    options.signal?.addEventListener('abort', onAbort, { once: true })
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
    const finish = (exitCode: number | null, signal: string | null, spawnError?: Error) => {
      clearTimeout(timer)
      clearTimeout(killTimer)
      options.signal?.removeEventListener('abort', onAbort)
      // Children that outlived the shell (a backgrounded job) go with it.
      if (timedOut || cancelled) killGroup('SIGKILL')
      resolve({
        exitCode,
        signal,
        timedOut,
        cancelled,
        durationMs: Math.round(performance.now() - started),
        stdout: stdout.text(),
        stderr: spawnError
          ? `cmdai: could not start ${file}: ${spawnError.message}`
          : stderr.text(),
        stdoutBytes: stdout.total,
        stderrBytes: stderr.total,
        truncated: stdout.truncated || stderr.truncated,
      })
    }
    child.once('error', (err) => finish(127, null, err))
    child.once('close', (code, signal) => finish(code, signal))
  })
}

/** Keeps the first and the last half of a stream's bytes once it exceeds the cap. */
class CappedOutput {
  private head: Buffer[] = []
  private headBytes = 0
  private tail: Buffer[] = []
  private tailBytes = 0
  total = 0

  constructor(private readonly cap: number) {}

  get truncated(): boolean {
    return this.total > this.cap
  }

  push(chunk: Buffer): void {
    this.total += chunk.length
    const half = Math.floor(this.cap / 2)
    const room = this.cap - half - this.headBytes
    if (room > 0) {
      const take = chunk.subarray(0, room)
      this.head.push(take)
      this.headBytes += take.length
      chunk = chunk.subarray(take.length)
    }
    if (!chunk.length) return
    this.tail.push(chunk)
    this.tailBytes += chunk.length
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= half && this.tail.length > 1) {
      this.tailBytes -= this.tail.shift()!.length
    }
  }

  text(): string {
    const head = Buffer.concat(this.head)
    if (!this.truncated) return Buffer.concat([head, ...this.tail]).toString('utf8')
    const half = Math.floor(this.cap / 2)
    const tailAll = Buffer.concat(this.tail)
    const tail = tailAll.subarray(Math.max(0, tailAll.length - half))
    const omitted = this.total - head.length - tail.length
    return `${head.toString('utf8')}\n[... ${omitted} bytes omitted by cmdai ...]\n${tail.toString('utf8')}`
  }
}
