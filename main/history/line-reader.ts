import { closeSync, openSync, readSync } from 'node:fs'

export interface RawLine {
  /** 1-based line number in the file. */
  lineNo: number
  /** The line's bytes without its `\n` (a `\r` before it is kept; parsers decide). */
  bytes: Buffer
  /** Set when the line was longer than the limit: `bytes` is empty and the line was skipped. */
  tooLong?: number
}

/**
 * Reads a file line by line in 1 MiB chunks, so an import's memory does not grow with the file.
 * A line longer than `maxLineBytes` is not kept (a 2 GB file with no newline must not be read into
 * memory): it comes back with `tooLong` set to its length. `onBytes` reports progress.
 */
export function* readLines(
  path: string,
  options: { maxLineBytes: number; onBytes?: (bytesRead: number) => void },
): Generator<RawLine> {
  const fd = openSync(path, 'r')
  const chunk = Buffer.alloc(1 << 20)
  let pending: Buffer[] = []
  let pendingBytes = 0
  let overflow = 0
  let lineNo = 1
  let total = 0
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null)
      if (n === 0) break
      total += n
      options.onBytes?.(total)
      let start = 0
      for (;;) {
        const nl = chunk.indexOf(0x0a, start)
        const end = nl === -1 || nl >= n ? n : nl
        const piece = chunk.subarray(start, end)
        if (overflow > 0 || pendingBytes + piece.length > options.maxLineBytes) {
          overflow = (overflow || pendingBytes) + piece.length
          pending = []
          pendingBytes = 0
        } else if (piece.length) {
          pending.push(Buffer.from(piece))
          pendingBytes += piece.length
        }
        if (end === n) break
        yield emit()
        start = end + 1
      }
    }
    if (pendingBytes > 0 || overflow > 0) yield emit()
  } finally {
    closeSync(fd)
  }

  function emit(): RawLine {
    const line: RawLine =
      overflow > 0
        ? { lineNo, bytes: Buffer.alloc(0), tooLong: overflow }
        : { lineNo, bytes: pending.length === 1 ? pending[0]! : Buffer.concat(pending) }
    pending = []
    pendingBytes = 0
    overflow = 0
    lineNo++
    return line
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The line as text, or null when its bytes are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes)
  } catch {
    return null
  }
}
