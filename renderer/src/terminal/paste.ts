import type { Verdict } from '../../../contract'

/** Pastes go to the PTY in pieces of this many characters, one write after another. */
export const PASTE_CHUNK_CHARS = 32 * 1024
/** The most the safety engine reads in one check; larger multi-line pastes always ask. */
export const PASTE_CHECK_MAX_CHARS = 100_000

// eslint-disable-next-line no-control-regex
const BRACKET_MARKERS = /\x1b\[20[01]~/g

/**
 * What a pasted text becomes on the wire, as xterm.js does it: line breaks are sent as Enter
 * (CR), and when the shell asked for bracketed paste (DECSET 2004) the text is wrapped in its
 * markers. Markers inside the text are removed, so a paste cannot close the bracket early and
 * have the rest run as typed keys.
 */
export function preparePaste(text: string, bracketed: boolean): string {
  const body = text.replace(/\r\n?|\n/g, '\r')
  if (!bracketed) return body
  return `\x1b[200~${body.replace(BRACKET_MARKERS, '')}\x1b[201~`
}

/** Splits text into pieces of at most `size` characters, never inside a surrogate pair. */
export function chunkText(text: string, size = PASTE_CHUNK_CHARS): string[] {
  if (size < 2) throw new Error('chunk size must be at least 2')
  const chunks: string[] = []
  let start = 0
  while (start < text.length) {
    let end = Math.min(start + size, text.length)
    const last = text.charCodeAt(end - 1)
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--
    chunks.push(text.slice(start, end))
    start = end
  }
  return chunks
}

/** A paste with a line break runs at least one line as soon as it arrives at a prompt. */
export function pasteRunsLines(text: string): boolean {
  return /[\r\n]/.test(text)
}

export interface PasteRisk {
  /** Why the user is asked. */
  reason: string
  verdict: Verdict | null
}

/**
 * Decides whether a multi-line paste at the prompt must be confirmed: when the safety engine does
 * not allow it outright (by the user's level and policy), when it is too large to check, and when
 * the check fails (fail closed). Returns null when it may go straight to the shell.
 */
export async function assessPaste(
  text: string,
  check: (command: string) => Promise<Verdict>,
): Promise<PasteRisk | null> {
  if (!pasteRunsLines(text)) return null
  if (text.length > PASTE_CHECK_MAX_CHARS) {
    return {
      reason: `This paste is too large to check (${text.length.toLocaleString()} characters).`,
      verdict: null,
    }
  }
  let verdict: Verdict
  try {
    verdict = await check(text)
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    return { reason: `This paste could not be checked: ${why}`, verdict: null }
  }
  if (verdict.action === 'allow') return null
  const first = verdict.reasons[0]
  return {
    reason: first
      ? `${capitalize(verdict.risk)} risk: ${first.message}`
      : `Rated ${verdict.risk} risk.`,
    verdict,
  }
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1)
}
