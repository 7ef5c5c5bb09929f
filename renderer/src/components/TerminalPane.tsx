import { useEffect, useRef, useState } from 'react'
import type { PtyInfo } from '../../../contract'
import { errorMessage, type Api } from '../api/client'
import { DARK_THEME, LIGHT_THEME, TerminalView } from '../terminal/terminal-view'

export interface PaneStatus {
  ptyId: string | null
  state: 'starting' | 'running' | 'exited' | 'failed'
  shell?: string
  cwd?: string
  gitBranch?: string | null
  exitCode?: number
  error?: string
}

interface Props {
  api: Api
  active: boolean
  dark: boolean
  /** Bumped by the parent to ask for a kill or restart of this pane's shell. */
  command: { kind: 'kill' | 'restart'; seq: number } | null
  onStatus(status: PaneStatus): void
  /** A line typed at the prompt as `# what I want` asks the palette instead of the shell. */
  onAsk?(request: string): void
  onSelection?(text: string): void
  gpuAcceleration?: 'auto' | 'off'
  fontSize?: number
  fontFamily?: string
}

/** Until the settings screen exists, GPU rendering can be turned off here (it is on by default). */
export const GPU_SETTING_KEY = 'cmdai:terminal.gpuAcceleration'

/** One tab's terminal: an xterm view bound to one PTY in main through the contract. */
export function TerminalPane(props: Props) {
  const { api, active, dark, command, onStatus } = props
  const hostRef = useRef<HTMLDivElement>(null)
  const viewRef = useRef<TerminalView | null>(null)
  const ptyRef = useRef<PtyInfo | null>(null)
  const statusRef = useRef(onStatus)
  const restartRef = useRef<() => void>(() => undefined)
  const callbacks = useRef(props)
  useEffect(() => {
    callbacks.current = props
  })
  const [status, setStatus] = useState<PaneStatus>({ ptyId: null, state: 'starting' })

  useEffect(() => {
    statusRef.current = onStatus
  }, [onStatus])

  useEffect(() => {
    const host = hostRef.current
    if (!host) return
    let disposed = false
    const report = (next: PaneStatus) => {
      if (disposed) return
      setStatus(next)
      statusRef.current(next)
    }
    const promptLine = new PromptLine()
    // Output that arrives before pty:create answers is kept until we know our id.
    const early = new Map<string, string[]>()
    const view = new TerminalView({
      theme: dark ? DARK_THEME : LIGHT_THEME,
      gpuAcceleration:
        localStorage.getItem(GPU_SETTING_KEY) === 'off' ? 'off' : (props.gpuAcceleration ?? 'auto'),
      fontSize: props.fontSize,
      fontFamily: props.fontFamily || undefined,
      onInput: (data) => {
        const pty = ptyRef.current
        if (!pty?.running) {
          if (pty && data === '\r') restart()
          return
        }
        const ask = promptLine.feed(data)
        if (ask !== null) {
          // Clear the `# ...` line at the prompt and hand the words to the palette.
          void api.call('pty:write', { id: pty.id, data: '\x15' }).catch(() => undefined)
          callbacks.current.onAsk?.(ask)
          return
        }
        void api.call('pty:write', { id: pty.id, data }).catch(() => undefined)
      },
      onResize: (cols, rows) => {
        const pty = ptyRef.current
        if (pty?.running)
          void api.call('pty:resize', { id: pty.id, cols, rows }).catch(() => undefined)
      },
    })
    const restart = () => {
      const pty = ptyRef.current
      if (!pty) return
      const { cols, rows } = view.size
      api
        .call('pty:restart', { id: pty.id, cols, rows })
        .then((info) => {
          ptyRef.current = info
          view.write('\r\n')
          report(runningStatus(info))
          view.focus()
        })
        .catch((err: unknown) => view.write(`\x1b[31m${errorMessage(err)}\x1b[0m\r\n`))
    }
    restartRef.current = restart
    viewRef.current = view
    view.open(host)
    host.dataset.renderer = view.renderer

    const offData = api.on('pty:data', ({ id, data }) => {
      if (ptyRef.current?.id === id) view.write(data)
      else if (!ptyRef.current) early.set(id, [...(early.get(id) ?? []), data])
    })
    const offExit = api.on('pty:exit', ({ id, exitCode }) => {
      const pty = ptyRef.current
      if (pty?.id !== id) return
      ptyRef.current = { ...pty, running: false }
      view.write(
        `\r\n\x1b[2m[shell exited with code ${exitCode}; press Enter to restart]\x1b[0m\r\n`,
      )
      report({ ptyId: id, state: 'exited', exitCode, shell: pty.shell, cwd: pty.cwd })
    })
    const offCwd = api.on('pty:cwd', ({ id, cwd, gitBranch }) => {
      const pty = ptyRef.current
      if (pty?.id !== id) return
      ptyRef.current = { ...pty, cwd, gitBranch }
      report({
        ptyId: id,
        state: pty.running ? 'running' : 'exited',
        shell: pty.shell,
        cwd,
        gitBranch,
      })
    })
    const offPrompt = api.on('pty:prompt', ({ id }) => {
      if (ptyRef.current?.id === id) promptLine.reset()
    })
    const selection = view.term.onSelectionChange(() =>
      callbacks.current.onSelection?.(view.term.getSelection()),
    )

    const { cols, rows } = view.size
    api
      .call('pty:create', { cols, rows })
      .then((info) => {
        if (disposed) {
          void api.call('pty:dispose', { id: info.id }).catch(() => undefined)
          return
        }
        ptyRef.current = info
        host.dataset.ptyId = info.id
        for (const data of early.get(info.id) ?? []) view.write(data)
        early.clear()
        report(runningStatus(info))
      })
      .catch((err: unknown) => {
        view.write(`\x1b[31mcmdai could not start a shell: ${errorMessage(err)}\x1b[0m\r\n`)
        report({ ptyId: null, state: 'failed', error: errorMessage(err) })
      })

    return () => {
      disposed = true
      offData()
      offExit()
      offCwd()
      offPrompt()
      selection.dispose()
      const pty = ptyRef.current
      if (pty) void api.call('pty:dispose', { id: pty.id }).catch(() => undefined)
      ptyRef.current = null
      view.dispose()
      viewRef.current = null
    }
    // The pane lives as long as its tab; theme changes are applied below without a restart.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api])

  useEffect(() => {
    viewRef.current?.setTheme(dark ? DARK_THEME : LIGHT_THEME)
  }, [dark])

  useEffect(() => {
    if (!active) return
    const view = viewRef.current
    view?.fitNow()
    view?.focus()
  }, [active])

  useEffect(() => {
    if (!command) return
    const pty = ptyRef.current
    if (!pty) return
    if (command.kind === 'kill') void api.call('pty:kill', { id: pty.id }).catch(() => undefined)
    else restartRef.current()
  }, [api, command])

  return (
    <div
      className="terminal-pane"
      hidden={!active}
      role="tabpanel"
      aria-label="Terminal"
      data-state={status.state}
    >
      <div className="terminal-host" ref={hostRef} />
    </div>
  )
}

function runningStatus(info: PtyInfo): PaneStatus {
  return {
    ptyId: info.id,
    state: 'running',
    shell: info.shell,
    cwd: info.cwd,
    gitBranch: info.gitBranch,
  }
}

/**
 * Follows what the user types at the prompt, as long as it is plain typing (no arrows, history
 * or completion), to recognise `# request` + Enter. Anything it cannot follow makes it give up
 * until the next prompt, so ordinary input always goes to the shell untouched.
 */
export class PromptLine {
  private text = ''
  private clean = false

  reset(): void {
    this.text = ''
    this.clean = true
  }

  /** Returns the request when the input is Enter on a `# ...` line, else null. */
  feed(data: string): string | null {
    if (!this.clean) return null
    if (data === '\r') {
      const match = /^#\s+(\S.*)$/.exec(this.text)
      this.clean = false
      if (match) return match[1]!.trim()
      return null
    }
    if (data === '\x7f') {
      this.text = this.text.slice(0, -1)
      return null
    }
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(data)) {
      this.clean = false
      return null
    }
    this.text += data
    return null
  }
}
