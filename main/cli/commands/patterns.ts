import { Command, InvalidArgumentError } from 'commander'
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import {
  LIBRARY_FORMATS,
  PERSONAL_LIBRARY,
  type LibraryFormat,
  type PatternHit,
} from '../../../contract/library'
import type { Channel, RequestArgs, RequestResult } from '../../../contract'
import { CmdaiError } from '../../../contract/errors'
import { resolveDataDir } from '../../config/paths'

/**
 * `cmdai patterns list|search|show|add|rm|export|import`: the command libraries. Through the
 * running app (its control socket) when it runs, otherwise on the library database directly;
 * the same requests and the same output either way.
 */
type Call = <C extends Channel>(channel: C, args: RequestArgs<C>) => Promise<RequestResult<C>>

interface Backend {
  call: Call
  close(): Promise<void>
}

async function backend(): Promise<Backend> {
  const dataDir = resolveDataDir()
  const [{ connectToApp }] = await Promise.all([import('../../control/client')])
  const app = await connectToApp(dataDir, { client: { name: 'cmdai-cli' } }).catch(() => null)
  if (app)
    return { call: (channel, args) => app.call(channel, args), close: async () => app.close() }
  const [{ Router }, { EventHub }, { createLibraryDomain }] = await Promise.all([
    import('../../ipc/router'),
    import('../../ipc/event-hub'),
    import('../../library/domain'),
  ])
  const router = new Router()
  const domain = createLibraryDomain({
    router,
    events: new EventHub(),
    dataDir,
    env: process.env,
    host: 'cli',
  })
  return {
    call: async (channel, args) => {
      const r = await router.dispatch(channel, args, { clientId: 'cli' })
      if (!r.ok) throw new CmdaiError(r.error.code, r.error.message)
      return r.value as RequestResult<typeof channel>
    },
    close: async () => {
      await domain.dispose()
    },
  }
}

async function withBackend(fn: (call: Call) => Promise<void>): Promise<void> {
  const b = await backend()
  try {
    await fn(b.call)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    process.stderr.write(`cmdai patterns: ${message}\n`)
    process.exitCode = err instanceof CmdaiError && err.code === 'not_found' ? 2 : 1
  } finally {
    await b.close()
  }
}

const print = (line: string): void => {
  process.stdout.write(line + '\n')
}

/** One pattern as `--json` prints it: the pattern's fields, its library and its risk. */
function toJson(hit: PatternHit): Record<string, unknown> {
  return { library: hit.library, ...hit.pattern, risk: hit.risk }
}

function printHits(hits: PatternHit[], json: boolean | undefined): void {
  if (json) return print(JSON.stringify(hits.map(toJson), null, 2))
  if (hits.length === 0) return print('No patterns.')
  for (const h of hits)
    print(
      `${h.risk.padEnd(8)} ${`${h.library}:${h.pattern.id}`.padEnd(36)} ${h.pattern.title}\n         ${h.pattern.command}`,
    )
}

export function registerPatternsCommands(program: Command): void {
  const patterns = program
    .command('patterns')
    .description('Command patterns: your personal library, the starter library and team libraries')

  patterns
    .command('list')
    .description('List patterns with their risk')
    .option('-l, --library <id>', 'personal, starter or <team>/<library>')
    .option('--json', 'print one JSON array (each pattern with its risk)')
    .action(async (o: { library?: string; json?: boolean }) =>
      withBackend(async (call) => {
        const r = await call('library:search', {
          query: '',
          limit: 500,
          ...(o.library ? { library: o.library } : {}),
        })
        printHits(r.hits, o.json)
      }),
    )

  patterns
    .command('search')
    .description('Search patterns by words (fuzzy)')
    .argument('<query>')
    .option('-l, --library <id>', 'only this library')
    .option('-n, --limit <n>', 'how many', parseCount, 20)
    .option('--json', 'print JSON')
    .action(async (query: string, o: { library?: string; json?: boolean; limit: number }) =>
      withBackend(async (call) => {
        const r = await call('library:search', {
          query,
          limit: o.limit,
          ...(o.library ? { library: o.library } : {}),
        })
        printHits(r.hits, o.json)
      }),
    )

  patterns
    .command('show')
    .description('Show a pattern, its parameters and its verdict')
    .argument('<id>', 'pattern id (or library:id)')
    .option('-l, --library <id>', 'library (default: found by id)')
    .option('--shell <shell>', 'shell to fill for', 'bash')
    .option('--json', 'print JSON')
    .action(async (ref: string, o: { library?: string; shell: string; json?: boolean }) =>
      withBackend(async (call) => {
        const hit = await find(call, ref, o.library)
        const check = await call('library:check', {
          library: hit.library,
          id: hit.pattern.id,
          shell: o.shell as 'bash',
        })
        if (o.json) return print(JSON.stringify({ ...toJson(hit), check }, null, 2))
        const p = hit.pattern
        print(`${p.title}  (${hit.library}:${p.id}, by ${p.author})`)
        if (p.description) print(p.description)
        print(`\n  ${p.command}\n`)
        for (const param of p.parameters)
          print(
            `  {{${param.name}}}  ${param.description}${param.default !== undefined ? ` [default: ${param.default}]` : ''}${param.allowed ? ` one of: ${param.allowed.join(', ')}` : ''}`,
          )
        if (p.tags.length) print(`\nTags: ${p.tags.join(', ')}`)
        print(
          `Template risk: ${check.template.risk}${check.template.reasons[0] ? ` — ${check.template.reasons[0].message}` : ''}`,
        )
        if (check.command)
          print(`With defaults: ${check.command}\n  ${check.decision?.reason ?? ''}`)
      }),
    )

  patterns
    .command('add')
    .description('Add a pattern (or propose one from a history entry with --from-history)')
    .option('-l, --library <id>', 'library', PERSONAL_LIBRARY)
    .option('-t, --title <title>')
    .option('-c, --command <template>', 'the command, {{name}} for parameters')
    .option('-d, --description <text>', '', '')
    .option('--tag <tag>', 'a tag (repeatable)', collect, [] as string[])
    .option(
      '-p, --param <name=default>',
      'a parameter with a default (repeatable)',
      collect,
      [] as string[],
    )
    .option('--from-history <ids...>', 'history command ids: their text, with suggested parameters')
    .option('--json', 'print the saved pattern as JSON')
    .action(
      async (o: {
        library: string
        title?: string
        command?: string
        description: string
        tag: string[]
        param: string[]
        fromHistory?: string[]
        json?: boolean
      }) =>
        withBackend(async (call) => {
          let command = o.command
          let parameters = o.param.map(parseParam)
          if (o.fromHistory) {
            const texts = await historyTexts(o.fromHistory.map(Number))
            const s = await call('library:suggest', { commands: texts })
            command ??= s.command
            if (parameters.length === 0) parameters = s.parameters
            for (const note of s.notes) process.stderr.write(`${note}\n`)
          }
          if (!command) throw new CmdaiError('invalid_input', 'Give --command or --from-history')
          const saved = await call('library:save', {
            library: o.library,
            pattern: {
              title: o.title ?? command.slice(0, 80),
              description: o.description,
              command,
              parameters,
              tags: o.tag,
            },
          })
          if (o.json) return print(JSON.stringify(saved, null, 2))
          print(`Saved ${o.library}:${saved.id}  ${saved.command}`)
        }),
    )

  patterns
    .command('rm')
    .description('Remove a pattern')
    .argument('<id>', 'pattern id (or library:id)')
    .option('-l, --library <id>', 'library (default: found by id)')
    .action(async (ref: string, o: { library?: string }) =>
      withBackend(async (call) => {
        const hit = await find(call, ref, o.library)
        await call('library:delete', { library: hit.library, id: hit.pattern.id })
        print(`Removed ${hit.library}:${hit.pattern.id}`)
      }),
    )

  patterns
    .command('export')
    .description('Print a library as YAML or JSON')
    .option('-l, --library <id>', 'library', PERSONAL_LIBRARY)
    .option('-f, --format <format>', 'yaml|json', 'yaml')
    .action(async (o: { library: string; format: string }) =>
      withBackend(async (call) => {
        if (o.format !== 'yaml' && o.format !== 'json')
          throw new CmdaiError('invalid_input', 'format: yaml or json')
        const r = await call('library:export', { library: o.library, format: o.format })
        process.stdout.write(r.text)
      }),
    )

  patterns
    .command('import')
    .description('Import patterns: cmdai YAML/JSON, navi .cheat or pet snippet TOML')
    .argument('<file>')
    .option('-l, --library <id>', 'library', PERSONAL_LIBRARY)
    .option('-f, --format <format>', `${LIBRARY_FORMATS.join('|')} (default: from the file name)`)
    .action(async (file: string, o: { library: string; format?: string }) =>
      withBackend(async (call) => {
        const format = (o.format ?? formatOf(file)) as LibraryFormat
        if (!LIBRARY_FORMATS.includes(format))
          throw new CmdaiError('invalid_input', `format: ${LIBRARY_FORMATS.join(', ')}`)
        let text: string
        try {
          text = readFileSync(file, 'utf8')
        } catch (err) {
          throw new CmdaiError('invalid_input', `Cannot read ${file}: ${(err as Error).message}`)
        }
        const r = await call('library:import', { library: o.library, format, text })
        for (const e of r.errors) process.stderr.write(`skipped: ${e}\n`)
        print(`Imported ${r.added} pattern(s) into ${o.library}; ${r.skipped} already there.`)
        if (r.added === 0 && r.errors.length > 0) process.exitCode = 1
      }),
    )
}

async function find(call: Call, ref: string, library?: string): Promise<PatternHit> {
  const colon = ref.lastIndexOf(':')
  const lib = library ?? (colon > 0 ? ref.slice(0, colon) : undefined)
  const id = colon > 0 ? ref.slice(colon + 1) : ref
  const r = await call('library:search', {
    query: '',
    limit: 500,
    ...(lib ? { library: lib } : {}),
  })
  const hit = r.hits.find((h) => h.pattern.id === id)
  if (!hit) throw new CmdaiError('not_found', `No pattern ${ref}`)
  return hit
}

async function historyTexts(ids: number[]): Promise<string[]> {
  if (ids.some((n) => !Number.isInteger(n) || n <= 0))
    throw new CmdaiError('invalid_input', 'history ids are positive numbers')
  const [{ HistoryStore }, { redactForHistory }, { join }] = await Promise.all([
    import('../../history/store'),
    import('../../history/redact'),
    import('node:path'),
  ])
  const store = await HistoryStore.open({
    dir: join(resolveDataDir(), 'history'),
    redact: redactForHistory,
    owner: 'cli',
  })
  try {
    const out: string[] = []
    for (const id of ids) {
      const row = await store.getCommand(id)
      if (!row) throw new CmdaiError('not_found', `No history entry ${id}`)
      out.push(row.command)
    }
    return out
  } finally {
    await store.close()
  }
}

function formatOf(file: string): string {
  const ext = extname(file).toLowerCase()
  if (ext === '.cheat') return 'navi'
  if (ext === '.toml') return 'pet'
  if (ext === '.json') return 'json'
  return 'yaml'
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value]
}

function parseParam(value: string): { name: string; description: string; default?: string } {
  const eq = value.indexOf('=')
  const name = eq < 0 ? value : value.slice(0, eq)
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name))
    throw new InvalidArgumentError(`Bad parameter name: ${name}`)
  return { name, description: '', ...(eq >= 0 ? { default: value.slice(eq + 1) } : {}) }
}

function parseCount(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 500)
    throw new InvalidArgumentError('a number from 1 to 500')
  return n
}
