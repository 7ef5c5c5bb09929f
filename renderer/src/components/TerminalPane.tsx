import { useEffect, useRef, useState } from 'react'
import type { AttachedTab, PtyInfo, SafetyLevel } from '../../../contract'
import { errorMessage, type Api } from '../api/client'
import { assessPaste, chunkText, preparePaste, type PasteRisk } from '../terminal/paste'
import { PasteConfirm } from '../terminal/PasteConfirm'
import type { PtyHandlers, PtyStreams } from '../terminal/pty-streams'
import { SearchBar } from '../terminal/SearchBar'
import { DARK_THEME, LIGHT_THEME, TerminalView } from '../terminal/terminal-view'
import '../terminal/terminal.css'
import { dialectOf } from './palette/Palette'

export interface PaneStatus {
  ptyId: string | null
  state: 'starting' | 'running' | 'exited' | 'failed'
  shell?: string
  cwd?: string
  gitBranch?: string | null
  /** The title a program set (OSC 0/2). */
  title?: string | null
  exitCode?: number
  /** The signal that ended the shell (Kill shell sends SIGHUP). */
  signalName?: string | null
  error?: string
}

interface Props {
  api: Api
  streams: PtyStreams
  active: boolean
  dark: boolean
  /** A tab handed back by `pty:attach` (its shell runs already); without it a shell is started. */
  attached?: AttachedTab
  /** Bumped by the parent to ask for a kill or restart of this pane's shell. */
  command: { kind: 'kill' | 'restart'; seq: number } | null
  onStatus(status: PaneStatus): void
  /** A line typed at the prompt as `# what I want` asks the palette instead of the shell. */
  onAsk?(request: string): void
  onSelection?(text: string): void
  gpuAcceleration?: 'auto' | 'off'
  fontSize?: number
  fontFamily?: string
  scrollback?: number
  /** Safety level for checking multi-line pastes. */
  safetyLevel?: SafetyLevel
}

/** Until the settings screen exists, GPU rendering can be turned off here (it is on by default). */
export const GPU_SETTING_KEY = 'cmdai:terminal.gpuAcceleration'

/** The page acknowledges output to the server after processing this many characters. */
const ACK_EVERY_CHARS = 128 * 1024

/** One tab's terminal: an xterm view bound to one PTY in main through the contract. */
export function TerminalPane(props: Props) {
  const { api, streams, active, dark, command, onStatus } = props
  const hostRef = useRef<HTMLDivElement>(null)
  const viewRef = useRef<TerminalView | null>(null)
  const ptyRef = useRef<PtyInfo | null>(null)
  const statusRef = useRef(onStatus)
  const restartRef = useRef<() => void>(() => undefined)
  const sendPasteRef = useRef<(text: string) => void>(() => undefined)
  const callbacks = useRef(props)
  useEffect(() => {
    callbacks.current = props
  })
  const [status, setStatus] = useState<PaneStatus>({ ptyId: null, state: 'starting' })
  const [view, setView] = useState<TerminalView | null>(null)
  const [searching, setSearching] = useState(false)
  const [pendingPaste, setPendingPaste] = useState<{ text: string; risk: PasteRisk } | null>(null)

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
    const attached = props.attached
    // Output up to `lastSeq` is on screen already (the attach snapshot); acks count from there.
    let lastSeq = attached?.seq ?? 0
    let ackedSeq = lastSeq
    // False while a command runs (shell integration says so); unknown counts as at the prompt.
    let atPrompt = !(attached?.info.busy ?? false)
    // Bumped by Ctrl+C or a new paste: a paste still being sent stops.
    let pasteSeq = 0
    let release: () => void = () => undefined

    const gpuOverride = localStorage.getItem(GPU_SETTING_KEY) === 'off' ? 'off' : undefined
    const view = new TerminalView({
      theme: dark ? DARK_THEME : LIGHT_THEME,
      gpuAcceleration: gpuOverride ?? props.gpuAcceleration ?? 'auto',
      fontSize: props.fontSize,
      fontFamily: props.fontFamily || undefined,
      scrollback: props.scrollback,
      onInput: (data) => {
        const pty = ptyRef.current
        if (!pty?.running) {
          if (pty && data === '\r') restart()
          return
        }
        if (data === '\x03') pasteSeq++
        const ask = promptLine.feed(data)
        if (ask !== null) {
          // Clear the `# ...` line at the prompt and hand the words to the palette.
          void api.call('pty:write', { id: pty.id, data: '\x15' }).catch(() => undefined)
          callbacks.current.onAsk?.(ask)
          return
        }
        if (data === '\r') atPrompt = false
        void api.call('pty:write', { id: pty.id, data }).catch(() => undefined)
      },
      onResize: (cols, rows) => {
        const pty = ptyRef.current
        if (pty?.running)
          void api.call('pty:resize', { id: pty.id, cols, rows }).catch(() => undefined)
      },
      onPaste: (text) => void paste(text),
      onFind: () => setSearching(true),
    })

    const note = (text: string) => view.write(`\r\n\x1b[2m${text}\x1b[0m\r\n`)

    /** Multi-line pastes at the prompt are checked first; risky ones wait for the user. */
    const paste = async (text: string) => {
      const pty = ptyRef.current
      if (!pty?.running) return
      if (atPrompt) {
        const { safetyLevel } = callbacks.current
        const risk = await assessPaste(text, (command) =>
          api.call('safety:check', {
            command,
            shell: dialectOf(pty.shell),
            ...(safetyLevel ? { level: safetyLevel } : {}),
          }),
        )
        if (disposed) return
        if (risk) return setPendingPaste({ text, risk })
      }
      await sendPaste(text)
    }

    /** Sends a paste in order, in pieces the transport carries; Ctrl+C stops the rest. */
    const sendPaste = async (text: string) => {
      const pty = ptyRef.current
      if (!pty?.running) return
      const mine = ++pasteSeq
      try {
        for (const chunk of chunkText(preparePaste(text, view.bracketedPaste))) {
          if (mine !== pasteSeq || disposed) return
          await api.call('pty:write', { id: pty.id, data: chunk })
        }
      } catch (err) {
        if (!disposed) note(`[the paste was not fully sent: ${errorMessage(err)}]`)
      }
    }
    sendPasteRef.current = (text) => void sendPaste(text)

    const handlers: PtyHandlers = {
      data: ({ id, data, seq }) => {
        if (seq <= lastSeq) return
        lastSeq = seq
        view.write(data, () => {
          if (seq - ackedSeq < ACK_EVERY_CHARS) return
          ackedSeq = seq
          void api.call('pty:ack', { id, seq }).catch(() => undefined)
        })
      },
      exit: ({ id, exitCode, signalName }) => {
        const pty = ptyRef.current
        if (!pty) return
        ptyRef.current = { ...pty, running: false }
        note(
          signalName
            ? `[shell ended by ${signalName}; press Enter to restart]`
            : `[shell exited with code ${exitCode}; press Enter to restart]`,
        )
        report({ ...statusOf(pty), ptyId: id, state: 'exited', exitCode, signalName })
      },
      cwd: ({ cwd, gitBranch }) => {
        const pty = ptyRef.current
        if (!pty) return
        ptyRef.current = { ...pty, cwd, gitBranch }
        report(statusOf(ptyRef.current))
      },
      prompt: () => {
        atPrompt = true
        promptLine.reset()
      },
      busy: () => {
        atPrompt = false
      },
      title: (title) => {
        const pty = ptyRef.current
        if (!pty) return
        ptyRef.current = { ...pty, title: title || null }
        report(statusOf(ptyRef.current))
      },
    }

    const bind = (info: PtyInfo) => {
      ptyRef.current = info
      host.dataset.ptyId = info.id
      release = streams.claim(info.id, handlers)
      report(statusOf(info))
    }

    const restart = () => {
      const pty = ptyRef.current
      if (!pty) return
      const { cols, rows } = view.size
      api
        .call('pty:restart', { id: pty.id, cols, rows })
        .then((info) => {
          ptyRef.current = info
          atPrompt = true
          view.write('\r\n')
          report(statusOf(info))
          view.focus()
        })
        .catch((err: unknown) => view.write(`\x1b[31m${errorMessage(err)}\x1b[0m\r\n`))
    }
    restartRef.current = restart
    viewRef.current = view
    setView(view)
    view.open(host, attached)

    const selection = view.term.onSelectionChange(() =>
      callbacks.current.onSelection?.(view.term.getSelection()),
    )

    if (attached) {
      bind(attached.info)
      if (!attached.info.running) note('[the shell has exited; press Enter to restart]')
    } else {
      const { cols, rows } = view.size
      api
        .call('pty:create', { cols, rows })
        .then((info) => {
          // Closed before the shell started: nobody will show it.
          if (disposed) void api.call('pty:dispose', { id: info.id }).catch(() => undefined)
          else bind(info)
        })
        .catch((err: unknown) => {
          view.write(`\x1b[31mcmdai could not start a shell: ${errorMessage(err)}\x1b[0m\r\n`)
          report({ ptyId: null, state: 'failed', error: errorMessage(err) })
        })
    }

    // Unmounting does not end the shell: closing the tab does (the parent disposes it), and a
    // page that goes away leaves it running for the grace period.
    return () => {
      disposed = true
      release()
      selection.dispose()
      ptyRef.current = null
      view.dispose()
      viewRef.current = null
    }
    // The pane lives as long as its tab; looks and theme are applied below without a restart.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, streams])

  useEffect(() => {
    viewRef.current?.setTheme(dark ? DARK_THEME : LIGHT_THEME)
  }, [dark])

  // Settings reach open tabs at once (the first tab may open before settings have loaded).
  const { fontSize, fontFamily, scrollback, gpuAcceleration } = props
  useEffect(() => {
    const gpuOverride = localStorage.getItem(GPU_SETTING_KEY) === 'off' ? 'off' : undefined
    viewRef.current?.setLook({
      fontSize,
      fontFamily,
      scrollback,
      gpuAcceleration: gpuOverride ?? gpuAcceleration,
    })
  }, [view, fontSize, fontFamily, scrollback, gpuAcceleration])

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

  const backToShell = () => viewRef.current?.focus()

  return (
    <div
      className="terminal-pane"
      hidden={!active}
      role="tabpanel"
      aria-label="Terminal"
      data-state={status.state}
    >
      {searching && view && (
        <SearchBar
          view={view}
          onClose={() => {
            setSearching(false)
            backToShell()
          }}
        />
      )}
      <div className="terminal-host" ref={hostRef} />
      {pendingPaste && (
        <PasteConfirm
          text={pendingPaste.text}
          risk={pendingPaste.risk}
          runsAtOnce={!view?.bracketedPaste}
          onPaste={() => {
            sendPasteRef.current(pendingPaste.text)
            setPendingPaste(null)
            backToShell()
          }}
          onCancel={() => {
            setPendingPaste(null)
            backToShell()
          }}
        />
      )}
    </div>
  )
}

function statusOf(info: PtyInfo): PaneStatus {
  return {
    ptyId: info.id,
    state: info.running ? 'running' : 'exited',
    shell: info.shell,
    cwd: info.cwd,
    gitBranch: info.gitBranch,
    title: info.title,
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
