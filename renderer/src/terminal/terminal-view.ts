import { FitAddon } from '@xterm/addon-fit'
import { SearchAddon, type ISearchOptions } from '@xterm/addon-search'
import { Unicode11Addon } from '@xterm/addon-unicode11'
import { WebLinksAddon } from '@xterm/addon-web-links'
import { WebglAddon } from '@xterm/addon-webgl'
import { Terminal, type ITheme } from '@xterm/xterm'
import '@xterm/xterm/css/xterm.css'

export interface TerminalLook {
  fontSize?: number
  fontFamily?: string
  scrollback?: number
  /** `off` keeps xterm's DOM renderer (as VS Code's terminal.integrated.gpuAcceleration). */
  gpuAcceleration?: 'auto' | 'off'
}

export interface TerminalViewOptions extends TerminalLook {
  theme: ITheme
  onInput(data: string): void
  onResize(cols: number, rows: number): void
  /** Every paste (keyboard, menu, middle click) lands here instead of going to the shell. */
  onPaste(text: string): void
  /** Ctrl+Shift+F or Cmd+F. */
  onFind?(): void
  /** Links open outside the app (Electron routes window.open to the OS browser). */
  openLink?(url: string): void
}

// The block cursor's character is drawn in `cursorAccent`: the background colour keeps it legible.
export const DARK_THEME: ITheme = {
  background: '#1b1d23',
  foreground: '#d8dee9',
  cursor: '#e5e9f0',
  cursorAccent: '#1b1d23',
  selectionBackground: '#4c566a99',
}
export const LIGHT_THEME: ITheme = {
  background: '#fbfbfc',
  foreground: '#24292f',
  cursor: '#24292f',
  cursorAccent: '#fbfbfc',
  selectionBackground: '#0969da33',
}

const DEFAULT_FONT =
  'ui-monospace, "SF Mono", "Cascadia Code", "JetBrains Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace'

export interface SearchResults {
  /** -1 when there is no active match (or too many to number). */
  index: number
  count: number
}

/**
 * Owns one xterm Terminal and its addons. React keeps a ref to it; nothing else touches xterm.
 * WebGL rendering is used where the GPU allows it, with a fallback to the DOM renderer; looks
 * (font, scrollback, renderer) change live.
 */
export class TerminalView {
  readonly term: Terminal
  private readonly fit = new FitAddon()
  private readonly search = new SearchAddon({ highlightLimit: 2000 })
  private webgl: WebglAddon | null = null
  private gpu: 'auto' | 'off'
  private resizeObserver: ResizeObserver | null = null
  private fitTimer: number | null = null
  private nativePasteTimer: number | null = null
  private host: HTMLElement | null = null
  private searchOptionsKey = ''
  private disposed = false

  constructor(private readonly options: TerminalViewOptions) {
    this.gpu = options.gpuAcceleration ?? 'auto'
    this.term = new Terminal({
      allowProposedApi: true,
      cursorBlink: true,
      scrollback: options.scrollback ?? 10_000,
      fontSize: options.fontSize ?? 13,
      fontFamily: options.fontFamily || DEFAULT_FONT,
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

  /**
   * Shows the terminal in `host`. A screen handed back by the server (a re-attached or restored
   * tab) is written first at the size it was laid out at, and the terminal is fitted after.
   */
  open(host: HTMLElement, initial?: { screen: string; cols: number; rows: number }): void {
    if (initial) {
      this.term.resize(initial.cols, initial.rows)
      this.term.write(initial.screen, () => this.openNow(host))
    } else this.openNow(host)
  }

  private openNow(host: HTMLElement): void {
    if (this.disposed) return
    this.host = host
    // Capture phase on the host, before xterm's own paste handler on its textarea: one paste
    // path for every way of pasting, so a paste is sent once, checked and chunked.
    host.addEventListener('paste', this.onPasteEvent, true)
    this.term.open(host)
    if (this.gpu !== 'off') this.enableWebgl()
    host.dataset.renderer = this.renderer
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

  /** The shell asked for bracketed paste (DECSET 2004). */
  get bracketedPaste(): boolean {
    return this.term.modes.bracketedPasteMode
  }

  /** Writes output; `done` runs once xterm has processed it (flow control acknowledges then). */
  write(data: string, done?: () => void): void {
    this.term.write(data, done)
  }

  /** Clears the screen, scrollback and modes (before a fresh copy of the screen is written). */
  reset(): void {
    this.term.reset()
  }

  focus(): void {
    this.term.focus()
  }

  setTheme(theme: ITheme): void {
    this.term.options.theme = theme
  }

  /** Applies font, scrollback and renderer choices to the running terminal. */
  setLook(look: TerminalLook): void {
    if (this.disposed) return
    const { options } = this.term
    if (look.fontSize !== undefined && options.fontSize !== look.fontSize)
      options.fontSize = look.fontSize
    const family = look.fontFamily || DEFAULT_FONT
    if (options.fontFamily !== family) options.fontFamily = family
    if (look.scrollback !== undefined && options.scrollback !== look.scrollback)
      options.scrollback = look.scrollback
    const gpu = look.gpuAcceleration ?? this.gpu
    if (gpu !== this.gpu) {
      this.gpu = gpu
      if (gpu === 'off') this.disableWebgl()
      else if (this.host) this.enableWebgl()
      if (this.host) this.host.dataset.renderer = this.renderer
    }
    this.fitNow()
  }

  fitNow(): void {
    if (this.disposed) return
    try {
      this.fit.fit()
    } catch {
      // The element is hidden (inactive tab); fit again when it is shown.
    }
  }

  find(term: string, options: { caseSensitive: boolean; regex: boolean }, back = false): boolean {
    // The addon records new options before comparing them with the last ones, so it would keep
    // the old highlights when only a toggle changed: start the search afresh then.
    const key = `${options.caseSensitive}:${options.regex}`
    if (key !== this.searchOptionsKey) this.search.clearDecorations()
    this.searchOptionsKey = key
    const dark = this.term.options.theme?.background === DARK_THEME.background
    const search: ISearchOptions = {
      caseSensitive: options.caseSensitive,
      regex: options.regex,
      incremental: !back,
      decorations: {
        matchBackground: dark ? '#5b4a00' : '#fff1a8',
        activeMatchBackground: dark ? '#b38600' : '#ffc400',
        matchOverviewRuler: '#d4a72c',
        activeMatchColorOverviewRuler: '#ff9500',
      },
    }
    return back ? this.search.findPrevious(term, search) : this.search.findNext(term, search)
  }

  onSearchResults(listener: (results: SearchResults) => void): () => void {
    const sub = this.search.onDidChangeResults(({ resultIndex, resultCount }) =>
      listener({ index: resultIndex, count: resultCount }),
    )
    return () => sub.dispose()
  }

  clearSearch(): void {
    this.search.clearDecorations()
    this.term.clearSelection()
  }

  async copySelection(): Promise<boolean> {
    const text = this.term.getSelection()
    if (!text) return false
    await navigator.clipboard.writeText(text)
    return true
  }

  dispose(): void {
    this.disposed = true
    this.host?.removeEventListener('paste', this.onPasteEvent, true)
    this.resizeObserver?.disconnect()
    if (this.fitTimer !== null) window.clearTimeout(this.fitTimer)
    if (this.nativePasteTimer !== null) window.clearTimeout(this.nativePasteTimer)
    this.term.dispose()
  }

  private readonly onPasteEvent = (event: ClipboardEvent) => {
    event.preventDefault()
    event.stopImmediatePropagation()
    if (this.nativePasteTimer !== null) {
      window.clearTimeout(this.nativePasteTimer)
      this.nativePasteTimer = null
    }
    const text = event.clipboardData?.getData('text/plain') ?? ''
    if (text) this.options.onPaste(text)
  }

  private scheduleFit(): void {
    if (this.fitTimer !== null) window.clearTimeout(this.fitTimer)
    this.fitTimer = window.setTimeout(() => {
      this.fitTimer = null
      this.fitNow()
    }, 30)
  }

  private enableWebgl(): void {
    if (this.webgl) return
    try {
      const webgl = new WebglAddon()
      webgl.onContextLoss(() => this.disableWebgl())
      this.term.loadAddon(webgl)
      this.webgl = webgl
    } catch {
      this.webgl = null
    }
  }

  private disableWebgl(): void {
    const webgl = this.webgl
    this.webgl = null
    webgl?.dispose()
  }

  /**
   * Ctrl+Shift+C copies, as in other Linux terminals. Ctrl+Shift+V is left to the browser, whose
   * own paste (Chromium binds it to "paste as plain text") arrives as a paste event; where none
   * comes, the clipboard is read once instead — never both. Ctrl+Shift+F / Cmd+F open search.
   */
  private handleKey(event: KeyboardEvent): boolean {
    if (event.type !== 'keydown') return true
    const key = event.key.toLowerCase()
    const find =
      (event.ctrlKey && event.shiftKey && !event.altKey && key === 'f') ||
      (event.metaKey && !event.ctrlKey && !event.altKey && !event.shiftKey && key === 'f')
    if (find && this.options.onFind) {
      event.preventDefault()
      this.options.onFind()
      return false
    }
    if (!event.ctrlKey || !event.shiftKey) return true
    if (key === 'c') {
      event.preventDefault()
      void this.copySelection()
      return false
    }
    if (key === 'v') {
      if (this.nativePasteTimer !== null) window.clearTimeout(this.nativePasteTimer)
      this.nativePasteTimer = window.setTimeout(() => {
        this.nativePasteTimer = null
        void navigator.clipboard.readText().then(
          (text) => text && this.options.onPaste(text),
          () => undefined,
        )
      }, 150)
      return false
    }
    return true
  }
}
