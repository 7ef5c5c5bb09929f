import serializeModule from '@xterm/addon-serialize'
import headlessModule from '@xterm/headless'

// Both packages are CommonJS bundles: Node's ESM loader only offers them as a default export.
const { Terminal } = headlessModule
const { SerializeAddon } = serializeModule

export interface MirrorOptions {
  cols: number
  rows: number
  scrollback: number
  /** The program set a window title (OSC 0 / OSC 2). */
  onTitle?(title: string): void
  /** The title until a program sets one. */
  title?: string | null
}

export interface SerializeLimits {
  /** Scrollback lines to include at most. */
  scrollback?: number
  /** Leave out the alternate screen and terminal modes (for a restart in a new shell). */
  plain?: boolean
}

const MAX_TITLE_CHARS = 200

/**
 * A server-side copy of one terminal's screen (xterm.js headless), fed the same output as the
 * page. A page that reconnects gets its screen and scrollback back from here, and tabs saved for
 * the next start are serialized from it. Parsing is asynchronous; `onParsed` reports how much has
 * been parsed so that flow control can hold the PTY back while the mirror is behind.
 */
export class ScreenMirror {
  private readonly term: InstanceType<typeof Terminal>
  private readonly serializer = new SerializeAddon()
  private titleText: string | null = null
  private disposed = false

  constructor(options: MirrorOptions) {
    this.term = new Terminal({
      cols: options.cols,
      rows: options.rows,
      scrollback: options.scrollback,
      allowProposedApi: true,
    })
    // The addon is typed against the browser Terminal; headless has the same surface it uses.
    this.term.loadAddon(this.serializer as never)
    this.titleText = options.title ?? null
    this.term.onTitleChange((raw) => {
      const title = cleanTitle(raw)
      this.titleText = title || null
      options.onTitle?.(title)
    })
  }

  get title(): string | null {
    return this.titleText
  }

  get cols(): number {
    return this.term.cols
  }

  get rows(): number {
    return this.term.rows
  }

  write(data: string, onParsed?: () => void): void {
    if (this.disposed) {
      onParsed?.()
      return
    }
    this.term.write(data, onParsed)
  }

  resize(cols: number, rows: number): void {
    if (!this.disposed) this.term.resize(cols, rows)
  }

  setScrollback(lines: number): void {
    if (!this.disposed) this.term.options.scrollback = lines
  }

  /** Waits until everything written so far is parsed. */
  settled(): Promise<void> {
    return new Promise((resolve) => this.write('', resolve))
  }

  /** The screen and scrollback as escape sequences that rebuild them in another terminal. */
  serialize(limits: SerializeLimits = {}): string {
    if (this.disposed) return ''
    return this.serializer.serialize({
      ...(limits.scrollback !== undefined ? { scrollback: limits.scrollback } : {}),
      excludeAltBuffer: limits.plain ?? false,
      excludeModes: limits.plain ?? false,
    })
  }

  /** Serialized, then cut from the top (whole lines) until it fits in `maxChars`. */
  serializeBounded(maxChars: number, limits: SerializeLimits = {}): string {
    let lines = limits.scrollback ?? this.term.options.scrollback ?? 1000
    for (;;) {
      const text = this.serialize({ ...limits, scrollback: lines })
      if (text.length <= maxChars || lines === 0) return text.length <= maxChars ? text : ''
      lines = Math.floor(lines / 2)
    }
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.term.dispose()
  }
}

/** Titles come from programs: no control characters, bounded length. */
export function cleanTitle(raw: string): string {
  // eslint-disable-next-line no-control-regex
  return raw.replace(/[\x00-\x1f\x7f-\x9f]/g, '').slice(0, MAX_TITLE_CHARS)
}
