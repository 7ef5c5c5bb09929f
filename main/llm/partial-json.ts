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
