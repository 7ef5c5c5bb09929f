import { FitAddon } from '@xterm/addon-fit'
import { SearchAddon } from '@xterm/addon-search'
import { Unicode11Addon } from '@xterm/addon-unicode11'
import { WebLinksAddon } from '@xterm/addon-web-links'
import { WebglAddon } from '@xterm/addon-webgl'
import { Terminal, type ITheme } from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'

export interface TerminalViewOptions {
  fontSize?: number
  fontFamily?: string
  theme: ITheme
  onInput(data: string): void
  onResize(cols: number, rows: number): void
  /** Links open outside the app (Electron routes window.open to the OS browser). */
  openLink?(url: string): void
  /** `off` keeps xterm's DOM renderer (as VS Code's terminal.integrated.gpuAcceleration). */
  gpuAcceleration?: 'auto' | 'off'
}

export const DARK_THEME: ITheme = {
  background: '#1b1d23',
  foreground: '#d8dee9',
  cursor: '#e5e9f0',
  selectionBackground: '#4c566a99',
}
export const LIGHT_THEME: ITheme = {
  background: '#fbfbfc',
  foreground: '#24292f',
  cursor: '#24292f',
  selectionBackground: '#0969da33',
}

/**
 * Owns one xterm Terminal and its addons. React keeps a ref to it; nothing else touches xterm.
 * WebGL rendering is used where the GPU allows it, with a fallback to the DOM renderer.
 */
export class TerminalView {
  readonly term: Terminal
  private readonly fit = new FitAddon()
  readonly search = new SearchAddon()
  private webgl: WebglAddon | null = null
  private resizeObserver: ResizeObserver | null = null
  private fitTimer: number | null = null
  private disposed = false

  constructor(private readonly options: TerminalViewOptions) {
    this.term = new Terminal({
      allowProposedApi: true,
      cursorBlink: true,
      scrollback: 10_000,
      fontSize: options.fontSize ?? 13,
      fontFamily:
        options.fontFamily ??
        'ui-monospace, "SF Mono", "Cascadia Code", "JetBrains Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace',
      theme: options.theme,
      macOptionIsMeta: true,
    })
    this.term.loadAddon(this.fit)
    this.term.loadAddon(this.search)
    this.term.loadAddon(new Unicode11Addon())
    this.term.unicode.activeVersion = '11'
    this.term.loadAddon(
      new WebLinksAddon((event, uri) => {
        event.preventDefault()
        if (options.openLink) options.openLink(uri)
        else window.open(uri, '_blank', 'noopener')
      }),
    )
    this.term.onData((data) => options.onInput(data))
    this.term.onResize(({ cols, rows }) => options.onResize(cols, rows))
    this.term.attachCustomKeyEventHandler((event) => this.handleKey(event))
  }

  open(host: HTMLElement): void {
    this.term.open(host)
    if (this.options.gpuAcceleration !== 'off') this.enableWebgl()
    this.fitNow()
    this.resizeObserver = new ResizeObserver(() => this.scheduleFit())
    this.resizeObserver.observe(host)
  }

  get size(): { cols: number; rows: number } {
    return { cols: this.term.cols, rows: this.term.rows }
  }

  get renderer(): 'webgl' | 'dom' {
    return this.webgl ? 'webgl' : 'dom'
  }

  write(data: string): void {
    this.term.write(data)
  }

  focus(): void {
    this.term.focus()
  }

  setTheme(theme: ITheme): void {
    this.term.options.theme = theme
  }

  fitNow(): void {
    if (this.disposed) return
    try {
      this.fit.fit()
    } catch {
      // The element is hidden (inactive tab); fit again when it is shown.
    }
  }

  async copySelection(): Promise<boolean> {
    const text = this.term.getSelection()
    if (!text) return false
    await navigator.clipboard.writeText(text)
    return true
  }

  async pasteFromClipboard(): Promise<void> {
    const text = await navigator.clipboard.readText()
    if (text) this.term.paste(text)
  }

  dispose(): void {
    this.disposed = true
    this.resizeObserver?.disconnect()
    if (this.fitTimer !== null) window.clearTimeout(this.fitTimer)
    this.term.dispose()
  }

  private scheduleFit(): void {
    if (this.fitTimer !== null) window.clearTimeout(this.fitTimer)
    this.fitTimer = window.setTimeout(() => {
      this.fitTimer = null
      this.fitNow()
    }, 30)
  }

  private enableWebgl(): void {
    try {
      const webgl = new WebglAddon()
      webgl.onContextLoss(() => {
        webgl.dispose()
        this.webgl = null
      })
      this.term.loadAddon(webgl)
      this.webgl = webgl
    } catch {
      this.webgl = null
    }
  }

  /** Ctrl+Shift+C / Ctrl+Shift+V copy and paste, as in other Linux terminals. */
  private handleKey(event: KeyboardEvent): boolean {
    if (event.type !== 'keydown' || !event.ctrlKey || !event.shiftKey) return true
    const key = event.key.toLowerCase()
    if (key === 'c') {
      void this.copySelection()
      return false
    }
    if (key === 'v') {
      void this.pasteFromClipboard()
      return false
    }
    return true
  }
}
