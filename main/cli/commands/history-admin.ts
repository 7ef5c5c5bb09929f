import { Command, InvalidArgumentError } from 'commander'
import { join } from 'node:path'
import { showControls } from '../../../contract/display'
import {
  IMPORT_FORMATS,
  type HistoryProblem,
  type ImportFormat,
  type ImportProgress,
  type ImportSummary,
} from '../../../contract/history'
import { readPackageVersion, resolveDataDir } from '../../config/paths'
import type { BackupInfo } from '../../history/backup'
import type { DoctorCheck, DoctorReport } from '../../history/doctor'

/** `cmdai history import|doctor|backup|restore`: getting history in, and keeping it safe. */
export function registerHistoryAdmin(history: Command): void {
  history
    .command('import')
    .description(
      'Import a bash, zsh or fish history file, an Atuin database (history.db), or a cmdai export (jsonl, csv)',
    )
    .argument('<file>')
    .option('-f, --format <format>', `${IMPORT_FORMATS.join('|')} (default: detected)`, parseFormat)
    .option('--json', 'print the summary as JSON (every skipped line, up to 1000)')
    .action(async (file: string, options: { format?: ImportFormat; json?: boolean }) => {
      const [{ withHistory }, { importHistory }] = await Promise.all([
        import('../../control/history-access'),
        import('../../history/import'),
      ])
      await withHistory(resolveDataDir(), client(), async (access) => {
        if (!access.store) {
          throw new Error(
            'The running cmdai app holds the history database: import from its History panel ' +
              '(Ctrl+R, Import), or close the app (or stop `cmdai serve`) and run this again',
          )
        }
        const bar = progressBar(process.stderr)
        const summary = await importHistory(access.store, file, {
          format: options.format,
          onProgress: bar.update,
        }).finally(bar.done)
        if (options.json) print(JSON.stringify(summary, null, 2))
        else for (const line of formatImport(summary)) print(line)
      })
    })

  history
    .command('doctor')
    .description(
      'Check the history database; with --restore or --fresh, repair it (the old folder is always kept)',
    )
    .option(
      '--restore [backup]',
      'put the newest backup (or the one named) in place of the database',
    )
    .option('--fresh', 'start an empty history in place of the database')
    .option('--json', 'print the report as JSON')
    .action(async (options: { restore?: string | true; fresh?: boolean; json?: boolean }) => {
      if (options.restore && options.fresh) {
        throw new Error('Choose --restore or --fresh, not both')
      }
      const report = await doctor(
        options.restore ? 'restore' : options.fresh ? 'fresh' : 'check',
        typeof options.restore === 'string' ? options.restore : undefined,
      )
      if (options.json) print(JSON.stringify(report, null, 2))
      else for (const line of formatDoctor(report)) print(line)
      const final = report.after ?? report.before
      if (final.state === 'damaged') process.exitCode = 1
    })

  history
    .command('backup')
    .description('Back up the history database now (cmdai also keeps daily backups by itself)')
    .option('--list', 'list the backups instead')
    .option('--keep <n>', 'how many backups to keep', parseKeep)
    .action(async (options: { list?: boolean; keep?: number }) => {
      const { listBackups, backupsDir } = await import('../../history/backup')
      const dir = historyDir()
      if (options.list) {
        const all = listBackups(dir)
        if (!all.length) return print(`No backups in ${backupsDir(dir)}.`)
        for (const b of all) print(formatBackup(b))
        return
      }
      const { withHistory } = await import('../../control/history-access')
      await withHistory(resolveDataDir(), client(), async (access) => {
        if (!access.store) {
          throw new Error(
            'The running cmdai app holds the history database (it backs it up daily by itself): ' +
              'close it to back up now',
          )
        }
        const b = await access.store.backup({ keep: options.keep })
        print(`Backed up to ${b.file} (${mb(b.bytes)}).`)
      })
    })

  history
    .command('restore')
    .description('Put a backup (the newest, or the one named) in place of the history database')
    .argument('[backup]', 'a name from `history backup --list`, or a path')
    .option('--json', 'print the report as JSON')
    .action(async (backup: string | undefined, options: { json?: boolean }) => {
      const report = await doctor('restore', backup)
      if (options.json) print(JSON.stringify(report, null, 2))
      else for (const line of formatDoctor(report)) print(line)
      if (report.after?.state !== 'healthy') process.exitCode = 1
    })
}

async function doctor(action: 'check' | 'restore' | 'fresh', backup?: string) {
  const [{ runDoctor }, { redactForHistory }] = await Promise.all([
    import('../../history/doctor'),
    import('../../history/redact'),
  ])
  return runDoctor({ historyDir: historyDir(), action, backup, redact: redactForHistory })
}

const historyDir = () => join(resolveDataDir(), 'history')
const client = () => ({ name: 'cmdai-cli', version: readPackageVersion() })

function print(line: string): void {
  process.stdout.write(line + '\n')
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`
const when = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')
const count = (n: number) => n.toLocaleString('en-US')

export function formatImport(s: ImportSummary): string[] {
  const lines = [
    `Imported ${count(s.imported)} new ${s.format} entries: ${count(s.parsed)} read, ` +
      `${count(s.duplicates)} already present, ${count(s.skipped)} skipped (${(s.tookMs / 1000).toFixed(1)} s).`,
  ]
  if (s.skips.length) {
    lines.push('Skipped:')
    for (const skip of s.skips.slice(0, 20)) {
      lines.push(`  line ${skip.line}: ${showControls(skip.reason)}`)
    }
    const more = s.skipped - Math.min(20, s.skips.length)
    if (more > 0) lines.push(`  … and ${count(more)} more (--json lists up to 1000)`)
  }
  return lines
}

function formatBackup(b: BackupInfo): string {
  return `${b.name}  ${when(b.createdAt)}  ${mb(b.bytes)}`
}

export function formatProblemLines(p: HistoryProblem): string[] {
  return [`  ✗ ${p.file}`, `    ${p.meaning}`]
}

function formatCheck(label: string, c: DoctorCheck): string[] {
  const lines = [`${label}: ${c.state}`]
  if (c.counts) {
    lines.push(
      `  ${count(c.counts.commands)} commands (${count(c.counts.texts)} distinct), ` +
        `${count(c.counts.aiRequests)} AI requests, ${count(c.counts.sessions)} sessions`,
    )
  }
  for (const p of c.problems) lines.push(...formatProblemLines(p))
  return lines
}

export function formatDoctor(r: DoctorReport): string[] {
  const lines = [`History database: ${r.historyDir}`, ...formatCheck('Check', r.before)]
  if (r.movedAside) lines.push(`Moved the old database to ${r.movedAside} (nothing was deleted).`)
  if (r.restoredFrom) lines.push(`Restored ${r.restoredFrom.file}.`)
  if (r.after) lines.push(...formatCheck('Now', r.after))
  if (!r.after && r.before.state === 'damaged') {
    lines.push('', 'Backups (newest first):')
    if (!r.backups.length) lines.push('  none')
    for (const b of r.backups.slice(0, 5)) lines.push(`  ${formatBackup(b)}`)
    lines.push('', 'To repair:')
    if (r.backups.length) {
      lines.push(
        `  cmdai history doctor --restore   put the newest backup (${when(r.backups[0]!.createdAt)}) in place`,
      )
    }
    lines.push('  cmdai history doctor --fresh     start an empty history')
    lines.push('Either way the damaged folder is moved aside, not deleted.')
  }
  return lines
}

/**
 * The import's progress on stderr: a bar redrawn in place on a terminal, nothing when stderr
 * is a file or a pipe (logs get the summary only).
 */
export function progressBar(stream: NodeJS.WriteStream) {
  let drawn = false
  const started = performance.now()
  return {
    update: (p: Omit<ImportProgress, 'id'>) => {
      if (!stream.isTTY || p.phase === 'done' || p.phase === 'failed') return
      const pct = p.totalBytes ? Math.min(1, p.bytesRead / p.totalBytes) : 1
      const width = 24
      const bar = '#'.repeat(Math.round(pct * width)).padEnd(width, '-')
      const secs = (performance.now() - started) / 1000
      const rate = secs > 0 ? Math.round(p.imported / secs) : 0
      const tail = p.phase === 'finishing' ? 'finishing…' : `${count(rate)} rows/s`
      stream.write(
        `\r[${bar}] ${(pct * 100).toFixed(0).padStart(3)}% ${count(p.imported)} imported, ` +
          `${count(p.skipped)} skipped, ${tail}\x1b[K`,
      )
      drawn = true
    },
    done: () => {
      if (drawn) stream.write('\r\x1b[K')
    },
  }
}

function parseFormat(value: string): ImportFormat {
  if ((IMPORT_FORMATS as readonly string[]).includes(value)) return value as ImportFormat
  throw new InvalidArgumentError(`Use one of ${IMPORT_FORMATS.join(', ')}`)
}

function parseKeep(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new InvalidArgumentError('A number of backups from 1 to 1000')
  }
  return n
}
