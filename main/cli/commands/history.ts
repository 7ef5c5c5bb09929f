import { Command, InvalidArgumentError } from 'commander'
import { showControls } from '../../../contract/display'
import { SEARCH_MODES, type HistoryFilter, type SearchMode } from '../../../contract/history'
import { readPackageVersion, resolveDataDir } from '../../config/paths'
import type { HistoryAccess } from '../../control/history-access'
import { registerHistoryAdmin } from './history-admin'
import { exportTrainingData, parsePreview, type TrainingExportCliOptions } from './history-training'

interface FilterOptions {
  cwd?: string
  exit?: HistoryFilter['exit']
  since?: number
  until?: number
  session?: string
  host?: string
  shell?: string
  origin?: 'ai' | 'typed'
}

/**
 * `cmdai history search|stats|export|delete` (and import|doctor|backup|restore, history-admin.ts).
 * Respects CMDAI_DATA_DIR.
 */
export function registerHistoryCommands(program: Command): void {
  const history = program
    .command('history')
    .description('Search, analyse, import, export and delete your command history')

  withFilters(
    history
      .command('search')
      .description('Search the history (best first: recent, frequent and successful commands)')
      .argument('[query]', 'what to look for', '')
      .option('-m, --mode <mode>', `${SEARCH_MODES.join('|')}`, parseMode, 'text' as SearchMode)
      .option('-n, --limit <n>', 'how many results', parseCount, 20)
      .option(
        '--sql',
        'answer from Postgres itself (tsvector, ILIKE, pg_trgm, pgvector) instead of the in-memory index; slower, same results (see main/history/SEARCH.md)',
      )
      .option('--json', 'print JSON'),
  ).action(
    async (
      query: string,
      options: FilterOptions & { mode: SearchMode; limit: number; json?: boolean; sql?: boolean },
    ) => {
      await withHistory(async (history) => {
        const params = {
          query,
          mode: options.mode,
          limit: options.limit,
          filter: toFilter(options),
        }
        // Through the running app there is no SQL path; the index gives the same results.
        const result =
          options.sql && history.store
            ? await history.store.searchSql(params)
            : await history.search(params)
        if (options.json) return print(JSON.stringify(result, null, 2))
        if (!result.hits.length) return print('No matches.')
        for (const hit of result.hits) {
          const exit = hit.last.exitCode === null ? ' ' : hit.last.exitCode === 0 ? '✓' : '✗'
          print(
            `${exit} ${shortTime(hit.last.startedAt)}  ${String(hit.uses).padStart(5)}×  ${oneLine(hit.command)}`,
          )
        }
      })
    },
  )

  withFilters(
    history
      .command('stats')
      .description('Most used and failing commands, AI acceptance, risk')
      .option('--json', 'print JSON'),
  ).action(async (options: FilterOptions & { json?: boolean }) => {
    await withHistory(async (history) => {
      const s = await history.stats(toFilter(options))
      if (options.json) return print(JSON.stringify(s, null, 2))
      const pct = (x: number) => `${(x * 100).toFixed(1)}%`
      print(
        `Commands: ${s.totalCommands} (${s.distinctCommands} distinct), failed ${s.failedCommands} (${pct(s.failureRate)})`,
      )
      print('\nMost used:')
      for (const c of s.mostUsed)
        print(
          `  ${String(c.uses).padStart(6)}  ${pct(c.failureRate).padStart(6)} fail  ${oneLine(c.command)}`,
        )
      if (s.mostFailing.length) {
        print('\nMost failing (3+ runs):')
        for (const c of s.mostFailing)
          print(`  ${pct(c.failureRate).padStart(6)} of ${c.uses}  ${oneLine(c.command)}`)
      }
      const d = s.ai.decisions
      print(
        `\nAI requests: ${s.ai.requests}; ran as proposed ${pct(s.ai.acceptanceRate)}, edited ${pct(s.ai.editedRate)}, ` +
          `cancelled ${pct(s.ai.cancelledRate)} (ran ${d.ran}, edited ${d.edited}, copied ${d.copied}, cancelled ${d.cancelled}, blocked ${d.blocked})`,
      )
      print(
        `Risk: ${Object.entries(s.risk)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      )
    })
  })

  registerHistoryAdmin(history)

  withFilters(
    history
      .command('export')
      .description(
        'Export as JSON lines or CSV to stdout (format: main/history/EXPORT.md); --format training: AI requests as fine-tuning data, once allowed in Settings → Privacy',
      )
      .option(
        '-f, --format <format>',
        'jsonl|csv|training',
        parseExportFormat,
        'jsonl' as ExportFormat,
      )
      .option(
        '--preview [n]',
        'training: print the first n examples (5) as the export would',
        parsePreview,
      )
      .option('--only-succeeded', 'training: leave out commands that then failed'),
  ).action(async (options: FilterOptions & TrainingExportCliOptions & { format: ExportFormat }) => {
    const { format } = options
    if (format === 'training') return exportTrainingData(options)
    await withHistory(async (history) => {
      await history.export(format, toFilter(options), (chunk) => writeOut(chunk))
    })
  })

  withFilters(
    history
      .command('delete')
      .description('Delete entries (by id, or every entry matching --before/--after and filters)')
      .argument('[ids...]', 'ids to delete (from search --json or export)', collectIds, [])
      .option('--before <time>', 'entries started before this time', parseTime)
      .option('--after <time>', 'entries started at or after this time', parseTime)
      .option('--all', 'allow deleting with no id and no filter (everything)'),
  ).action(
    async (
      idNumbers: number[],
      options: FilterOptions & { before?: number; after?: number; all?: boolean },
    ) => {
      const filter = toFilter({
        ...options,
        since: options.after ?? options.since,
        until: options.before ?? options.until,
      })
      if (!idNumbers.length && !filter && !options.all) {
        throw new Error(
          'Give ids, a time range (--before/--after) or filters; --all deletes everything',
        )
      }
      await withHistory(async (history) => {
        const r = await history.delete({
          ids: idNumbers.length ? idNumbers : undefined,
          filter: filter ?? {},
        })
        print(`Deleted ${r.deletedCommands} commands and ${r.deletedAiRequests} AI requests.`)
      })
    },
  )
}

function withFilters(command: Command): Command {
  return command
    .option('--cwd <dir>', 'only in this directory or below')
    .option('--exit <ok|fail|N>', 'exit status', parseExit)
    .option('--since <time>', 'from this time (ISO date or epoch ms)', parseTime)
    .option('--until <time>', 'before this time', parseTime)
    .option('--session <id>', 'only this session')
    .option('--host <name>', 'only this host')
    .option('--shell <name>', 'only this shell')
    .option('--origin <ai|typed>', 'AI-suggested or typed commands', parseOrigin)
}

function toFilter(o: FilterOptions): HistoryFilter | undefined {
  const filter: HistoryFilter = {
    cwd: o.cwd,
    exit: o.exit,
    since: o.since,
    until: o.until,
    sessionId: o.session,
    host: o.host,
    shell: o.shell,
    origin: o.origin,
  }
  for (const key of Object.keys(filter) as (keyof HistoryFilter)[]) {
    if (filter[key] === undefined) delete filter[key]
  }
  return Object.keys(filter).length ? filter : undefined
}

/**
 * The history of the running app through its control socket when it runs (it holds the
 * database), otherwise opened here: the same store code answers either way (main/control).
 */
async function withHistory(fn: (history: HistoryAccess) => Promise<void>): Promise<void> {
  // PGlite and the safety engine load only for the history commands, and only without an app.
  const { withHistory: open } = await import('../../control/history-access')
  await open(resolveDataDir(), { name: 'cmdai-cli', version: readPackageVersion() }, fn)
}

/** A command on one line: line breaks, tabs and terminal escapes shown as `\n`, `\t`, `\e`. */
export function oneLine(command: string): string {
  return showControls(command)
}

/** `2026-12-02 01:30` in UTC, or `????-??-?? ??:??` for a time no Date can hold (legacy rows). */
function shortTime(ms: number): string {
  const d = new Date(ms)
  return Number.isNaN(d.getTime())
    ? '????-??-?? ??:??'
    : d.toISOString().slice(0, 16).replace('T', ' ')
}

/** Each id of `history delete`, checked as commander parses it (so a bad one gets a message). */
function collectIds(value: string, previous: number[]): number[] {
  return [...previous, parseCount(value)]
}

function print(line: string): void {
  process.stdout.write(line + '\n')
}

function writeOut(chunk: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()))
  })
}

function parseMode(value: string): SearchMode {
  if ((SEARCH_MODES as readonly string[]).includes(value)) return value as SearchMode
  throw new InvalidArgumentError(`Use one of ${SEARCH_MODES.join(', ')}`)
}

type ExportFormat = 'jsonl' | 'csv' | 'training'

function parseExportFormat(value: string): ExportFormat {
  if (value === 'jsonl' || value === 'csv' || value === 'training') return value
  throw new InvalidArgumentError('Use jsonl, csv or training')
}

function parseExit(value: string): HistoryFilter['exit'] {
  if (value === 'ok' || value === 'fail') return value
  if (/^-?\d+$/.test(value)) return Number(value)
  throw new InvalidArgumentError('Use ok, fail or an exit code')
}

function parseOrigin(value: string): 'ai' | 'typed' {
  if (value === 'ai' || value === 'typed') return value
  throw new InvalidArgumentError('Use ai or typed')
}

function parseCount(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`Not a positive integer: ${value}`)
  return n
}

/** An ISO date/time, epoch ms, or a relative `7d`, `12h`, `30m` (ago). */
export function parseTime(value: string, now = Date.now()): number {
  const rel = /^(\d+)([smhdw])$/.exec(value)
  if (rel) {
    const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[rel[2] as 's']
    return now - Number(rel[1]) * unit
  }
  if (/^\d{10,}$/.test(value)) return Number(value)
  const t = Date.parse(value)
  if (Number.isNaN(t))
    throw new InvalidArgumentError(`Not a time: ${value} (ISO date, epoch ms, or 7d/12h/30m)`)
  return t
}
