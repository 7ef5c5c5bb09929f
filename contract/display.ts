/**
 * Making control characters visible, so that text shown to a human (a command on the suggestion
 * card, a verdict in the terminal) cannot hide part of itself: no terminal escape can clear the
 * screen, retitle the window or conceal text, and no bidi or zero-width character can reorder or
 * hide what the command does. Pure functions with no imports, usable in main and in the renderer.
 *
 * Notation: `\e` for ESC, `\0 \a \b \t \n \v \f \r` for their usual C escapes, `\xHH` for the rest
 * of C0, DEL and C1, `\u{HHHH}` for format controls (bidi, zero-width, invisible separators,
 * Unicode tags) and lone surrogates. A literal backslash is left as it is: shells and printf give
 * `\e` its own meaning, and `controlSegments` tells the two apart for a UI that styles them.
 */

/** One run of the original text, either shown as it is or replaced by its visible notation. */
export interface DisplaySegment {
  /** What to show: the original text, or the escape notation of one control character. */
  text: string
  /** True when `text` stands for an invisible or control character of the original. */
  control: boolean
  /** UTF-16 offsets of this run in the original text (half-open). */
  start: number
  end: number
}

export interface DisplayOptions {
  /** Keep line feeds as line breaks (multi-line commands in a block). Default: shown as `\n`. */
  keepNewlines?: boolean
  /** Keep tabs as tabs. Default: shown as `\t`. */
  keepTabs?: boolean
}

const C_ESCAPES: Record<number, string> = {
  0x00: '\\0',
  0x07: '\\a',
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0b: '\\v',
  0x0c: '\\f',
  0x0d: '\\r',
  0x1b: '\\e',
}

/**
 * Characters that are invisible or change how the text around them is laid out: soft hyphen,
 * Arabic letter mark, Mongolian vowel separator, zero-width space/joiners, LRM/RLM, line and
 * paragraph separators, bidi embeddings/overrides/isolates, word joiner and invisible operators,
 * deprecated format characters, Hangul fillers, BOM/ZWNBSP, interlinear annotations, Unicode tags.
 */
function isFormatControl(cp: number): boolean {
  return (
    cp === 0xad ||
    cp === 0x34f ||
    cp === 0x61c ||
    cp === 0x115f ||
    cp === 0x1160 ||
    cp === 0x17b4 ||
    cp === 0x17b5 ||
    cp === 0x180e ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x2028 && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x206f) ||
    cp === 0x3164 ||
    cp === 0xfeff ||
    cp === 0xffa0 ||
    (cp >= 0xfff9 && cp <= 0xfffb) ||
    (cp >= 0xe0000 && cp <= 0xe007f)
  )
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0')
}

/** The visible notation of one code point, or null when it is shown as it is. */
function notation(cp: number, o: DisplayOptions): string | null {
  if (cp === 0x0a && o.keepNewlines) return null
  if (cp === 0x09 && o.keepTabs) return null
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
    return C_ESCAPES[cp] ?? `\\x${hex(cp, 2)}`
  }
  if (isFormatControl(cp) || (cp >= 0xd800 && cp <= 0xdfff)) return `\\u{${hex(cp, 4)}}`
  return null
}

/**
 * The text split into plain runs and visible stand-ins for control characters, with their offsets
 * in the original, so a UI can style the stand-ins and still place spans given in original offsets.
 */
export function controlSegments(text: string, options: DisplayOptions = {}): DisplaySegment[] {
  const out: DisplaySegment[] = []
  let plainStart = 0
  let i = 0
  while (i < text.length) {
    const unit = text.charCodeAt(i)
    let cp = unit
    let width = 1
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1)
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = (unit - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000
        width = 2
      }
    }
    const shown = notation(cp, options)
    if (shown !== null) {
      if (i > plainStart)
        out.push({ text: text.slice(plainStart, i), control: false, start: plainStart, end: i })
      out.push({ text: shown, control: true, start: i, end: i + width })
      plainStart = i + width
    }
    i += width
  }
  if (plainStart < text.length || out.length === 0)
    out.push({
      text: text.slice(plainStart),
      control: false,
      start: plainStart,
      end: text.length,
    })
  return out
}

/** The text with every control, bidi and invisible character replaced by its visible notation. */
export function showControls(text: string, options: DisplayOptions = {}): string {
  let out = ''
  for (const s of controlSegments(text, options)) out += s.text
  return out
}

/** True when `showControls` would change the text (it holds something invisible or a control). */
export function hasHiddenCharacters(text: string, options: DisplayOptions = {}): boolean {
  return controlSegments(text, options).some((s) => s.control)
}

/**
 * Maps a UTF-16 offset in the original text to the matching offset in `showControls`' output
 * (the start of a control character's notation for an offset that falls on it).
 */
export function displayOffset(segments: readonly DisplaySegment[], offset: number): number {
  let shown = 0
  for (const s of segments) {
    if (offset <= s.start) return shown
    if (offset < s.end) return shown + (s.control ? 0 : offset - s.start)
    shown += s.text.length
  }
  return shown
}
