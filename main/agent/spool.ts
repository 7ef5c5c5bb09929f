import { closeSync, fstatSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { AgentEventInput } from '../../contract/agent'
import { lstatOrNull, openPrivateAppend, readPrivateFile } from '../control/private-files'

/**
 * Agent events recorded while no app runs. `cmdai mcp` and `cmdai hook` are short-lived or must
 * not hold the history database (only one process may, and the app must be able to start), so
 * they append one JSON line per event here (0600, never through a link); the app moves them into
 * history when it runs, and so does the CLI when it opens history itself.
 */
export const SPOOL_NAME = 'agent-events.jsonl'
const DRAINING = `${SPOOL_NAME}.draining-`
/** Beyond this the spool refuses new lines (a runaway agent must not fill the disk). */
export const SPOOL_MAX_BYTES = 32 * 1024 * 1024

export function spoolPath(dataDir: string): string {
  return join(dataDir, SPOOL_NAME)
}

/** Appends one event; false when the spool is full. */
export function appendToSpool(dataDir: string, event: AgentEventInput): boolean {
  const fd = openPrivateAppend(spoolPath(dataDir))
  try {
    const line = `${JSON.stringify(event)}\n`
    if (fstatSync(fd).size + Buffer.byteLength(line) > SPOOL_MAX_BYTES) return false
    // One write with O_APPEND: concurrent writers never interleave inside a line.
    writeSync(fd, line)
    return true
  } finally {
    closeSync(fd)
  }
}

export interface DrainResult {
  recorded: number
  /** Lines that were not valid events (corrupt, truncated, from a future version). */
  skipped: number
  /** Left in the spool because recording failed; tried again next time. */
  kept: number
}

/**
 * Moves spooled events into history, oldest first. The spool is renamed first, so agents keep
 * appending to a fresh one meanwhile; events that cannot be recorded go back to the spool.
 * Leftovers of a drain that crashed (its process gone) are picked up too.
 */
export async function drainSpool(
  dataDir: string,
  parse: (line: unknown) => AgentEventInput | null,
  record: (event: AgentEventInput) => Promise<void>,
): Promise<DrainResult> {
  const result: DrainResult = { recorded: 0, skipped: 0, kept: 0 }
  const batches = leftovers(dataDir)
  const main = spoolPath(dataDir)
  if (lstatOrNull(main)?.isFile()) {
    const claimed = join(dataDir, `${DRAINING}${process.pid}-${Date.now()}`)
    renameSync(main, claimed)
    batches.push(claimed)
  }
  for (const file of batches) {
    const lines = readPrivateFile(file).split('\n')
    let failed: unknown = null
    const back: string[] = []
    for (const line of lines) {
      if (!line.trim()) continue
      if (failed) {
        back.push(line)
        continue
      }
      let event: AgentEventInput | null = null
      try {
        event = parse(JSON.parse(line))
      } catch {
        event = null
      }
      if (!event) {
        result.skipped++
        continue
      }
      try {
        await record(event)
        result.recorded++
      } catch (err) {
        failed = err
        back.push(line)
      }
    }
    if (back.length) {
      const fd = openPrivateAppend(main)
      try {
        writeSync(fd, `${back.join('\n')}\n`)
      } finally {
        closeSync(fd)
      }
      result.kept += back.length
    }
    unlinkSync(file)
  }
  return result
}

function leftovers(dataDir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(dataDir)
  } catch {
    return []
  }
  return names
    .filter((name) => name.startsWith(DRAINING))
    .filter((name) => {
      const pid = Number(name.slice(DRAINING.length).split('-')[0])
      if (!Number.isInteger(pid) || pid === process.pid) return false
      try {
        process.kill(pid, 0)
        return false
      } catch (err) {
        return (err as NodeJS.ErrnoException).code !== 'EPERM'
      }
    })
    .map((name) => join(dataDir, name))
}
