import { dirname, join, relative } from 'node:path'
import { CmdaiError } from '../../contract/errors'
import type { HistoryProblem } from '../../contract/history'
import { resolveDataDir } from '../config/paths'
import type { DataDirState } from './data-dir-check'

/**
 * Why the history database cannot be used, as a `CmdaiError` that carries the problem (which
 * file, what it means, the command that repairs it) for the CLI, the status bar and the panel.
 */
export class HistoryProblemError extends CmdaiError {
  constructor(readonly problem: HistoryProblem) {
    super('unavailable', formatProblem(problem))
    this.name = 'HistoryProblemError'
  }
}

export function formatProblem(p: HistoryProblem): string {
  return `History database problem: ${p.file} ${p.meaning}. Repair: ${p.repair}`
}

/** `cmdai history doctor`, naming the data directory when it is not the one cmdai finds itself. */
export function repairCommand(historyDir: string, args = ''): string {
  const dataDir = dirname(historyDir)
  const env =
    dataDir === resolveDataDir(process.env) ? '' : `CMDAI_DATA_DIR=${shellQuote(dataDir)} `
  return `${env}cmdai history doctor${args ? ` ${args}` : ''}`
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/** The error for a folder `inspectDataDir` refused. */
export function dirStateError(
  historyDir: string,
  state: Extract<DataDirState, { kind: 'foreign' | 'damaged' }>,
): HistoryProblemError {
  if (state.kind === 'foreign') {
    return new HistoryProblemError({
      file: historyDir,
      meaning:
        `holds files that are not a cmdai history database (${state.entries.join(', ')}); ` +
        'cmdai never creates its database over existing files',
      repair: `move those files elsewhere, or run \`${repairCommand(historyDir, '--fresh')}\` to set them aside and start an empty history`,
    })
  }
  const first = state.problems[0]!
  const more = state.problems.length > 1 ? ` (and ${state.problems.length - 1} more problems)` : ''
  return new HistoryProblemError({
    file: join(historyDir, first.file),
    meaning: first.meaning + more,
    repair: doctorAdvice(historyDir),
  })
}

function doctorAdvice(historyDir: string): string {
  return (
    `run \`${repairCommand(historyDir)}\`: it checks the database, keeps the damaged folder ` +
    'aside, and restores the newest backup (--restore) or starts empty (--fresh) when you say so'
  )
}

/** What PostgreSQL's own messages about damaged files look like (the file is group 1). */
const FILE_ERRORS: Array<{ pattern: RegExp; meaning: string }> = [
  {
    pattern: /could not read blocks? [\d.]+ in file "([^"]+)"/,
    meaning: 'is shorter than the database expects: a table or index file was truncated',
  },
  {
    pattern: /could not open file "([^"]+)"/,
    meaning: 'is missing: a table or index file was deleted',
  },
  {
    pattern: /invalid page in block \d+ of relation ([^\s;:]+)/,
    meaning: 'holds a damaged page: a table or index file was overwritten',
  },
  {
    pattern: /could not read file "([^"]+)"/,
    meaning: 'cannot be read: the database file is damaged',
  },
]

/**
 * Turns what PGlite throws while opening (or first reading) a damaged database into a
 * `HistoryProblemError`: "Aborted()" from the WASM runtime, "could not read blocks … in file …"
 * from PostgreSQL, and the like. `describeFile` may name the table a relation file belongs to.
 */
export function explainOpenError(
  err: unknown,
  historyDir: string,
  describeFile?: (file: string) => string | null,
): HistoryProblemError {
  if (err instanceof HistoryProblemError) return err
  const message = err instanceof Error ? err.message : String(err)
  for (const { pattern, meaning } of FILE_ERRORS) {
    const m = pattern.exec(message)
    if (!m) continue
    const file = m[1]!
    const what = describeFile?.(file)
    return new HistoryProblemError({
      file: join(historyDir, file),
      meaning: `${what ? `(${what}) ` : ''}${meaning}`,
      repair: doctorAdvice(historyDir),
    })
  }
  const aborted = /Aborted\(|RuntimeError|failed to initialize properly|unreachable/.test(message)
  return new HistoryProblemError({
    file: historyDir,
    meaning: aborted
      ? 'could not be opened: PostgreSQL stopped while reading it, so its files are inconsistent ' +
        `(${message.split('.')[0]})`
      : `could not be opened: ${message}`,
    repair: doctorAdvice(historyDir),
  })
}

/** A problem found by the checks after opening (rows missing from a table file, …). */
export function invariantError(historyDir: string, file: string, meaning: string) {
  return new HistoryProblemError({
    file: join(historyDir, file),
    meaning,
    repair: doctorAdvice(historyDir),
  })
}

export function relativeToHistory(historyDir: string, path: string): string {
  return relative(historyDir, path) || '.'
}
