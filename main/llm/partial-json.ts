const COMMAND_FIELD = /^\s*\{\s*"command"\s*:\s*"((?:[^"\\]|\\.)*)"/

/**
 * While the JSON answer streams in, returns the command as soon as its string is closed (the
 * schema puts it first), or null while it is still being written.
 */
export function completedCommand(partial: string): string | null {
  const match = COMMAND_FIELD.exec(partial)
  if (!match) return null
  try {
    return JSON.parse(`"${match[1]}"`) as string
  } catch {
    return null
  }
}

/**
 * Tells when a streamed JSON value is complete (its outermost object or array closed), so that
 * generation can stop right there instead of waiting for the grammar's trailing stop sequence.
 */
export class JsonEndDetector {
  private depth = 0
  private started = false
  private inString = false
  private escaped = false
  done = false

  /** Feeds more text; returns true once the value is complete. */
  push(text: string): boolean {
    for (const ch of text) {
      if (this.done) break
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (ch === '\\') this.escaped = true
        else if (ch === '"') this.inString = false
        continue
      }
      if (ch === '"') this.inString = true
      else if (ch === '{' || ch === '[') {
        this.depth++
        this.started = true
      } else if (ch === '}' || ch === ']') {
        this.depth--
        if (this.started && this.depth === 0) this.done = true
      }
    }
    return this.done
  }
}
