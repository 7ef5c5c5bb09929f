import { Command, InvalidArgumentError } from 'commander'
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { CmdaiError } from '../../../contract'
import { resolveDataDir } from '../../config/paths'

interface EvalOptions {
  model: string[]
  backend?: 'local' | 'openai'
  url?: string
  remoteModel?: string
  apiKeyEnv?: string
  allowRemote?: boolean
  suite: string[]
  builtin: boolean
  category?: string[]
  limit?: number
  perCategory?: number
  run: boolean
  replay?: string
  out?: string
  json?: boolean
  timeout: number
  failures: number
  quiet?: boolean
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value]

function positive(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`Not a positive integer: ${value}`)
  return n
}

/** `cmdai eval`: the built-in suite (and the user's own) against models or endpoints. */
export function registerEvalCommands(program: Command): void {
  program
    .command('eval')
    .description(
      'Measure how well models turn requests into commands: accuracy per category, validity, safety, latency',
    )
    .option(
      '-m, --model <ref>',
      'a model to evaluate (catalog id, file, path); repeat to compare',
      collect,
      [],
    )
    .option(
      '--backend <local|openai>',
      'evaluate an OpenAI-compatible endpoint with --url',
      (v) => {
        if (v !== 'local' && v !== 'openai') throw new InvalidArgumentError('Use local or openai')
        return v
      },
    )
    .option('--url <baseUrl>', 'the endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama)')
    .option('--remote-model <name>', 'the model name the endpoint serves')
    .option(
      '--api-key-env <VAR>',
      'environment variable holding the API key',
      'CMDAI_OPENAI_API_KEY',
    )
    .option('--allow-remote', 'send the suite to a non-loopback endpoint (task requests only)')
    .option('-s, --suite <file.yaml>', 'your own tasks (YAML, see README); repeatable', collect, [])
    .option('--no-builtin', 'only the tasks of --suite files')
    .option('-c, --category <name>', 'only this category; repeatable', collect, undefined)
    .option('-n, --limit <n>', 'at most n tasks (the first ones)', positive)
    .option('--per-category <n>', 'the first n tasks of each category (a quick run)', positive)
    .option('--no-run', 'skip run checks in a throwaway directory (structure only)')
    .option(
      '--replay <report.json>',
      're-grade the answers saved in a report instead of asking a model',
    )
    .option('-o, --out <dir>', 'also write eval-<time>.json and .md into this folder')
    .option('--json', 'print the report as JSON instead of Markdown')
    .option('--timeout <ms>', 'per-task deadline', positive, 120_000)
    .option('--failures <n>', 'failed tasks listed per model in the Markdown', positive, 10)
    .option('-q, --quiet', 'no progress lines on stderr')
    .action(async (options: EvalOptions) => {
      const controller = new AbortController()
      const onSigint = () => controller.abort(new CmdaiError('cancelled', 'Interrupted'))
      process.once('SIGINT', onSigint)
      try {
        await runEvalCommand(options, controller.signal)
      } finally {
        process.off('SIGINT', onSigint)
      }
    })
}

async function runEvalCommand(options: EvalOptions, signal: AbortSignal): Promise<void> {
  const [
    { loadBuiltinSuite, loadSuiteFile, combineSuites, builtinSuiteDir },
    targets,
    { evaluate },
    { toMarkdown, printable },
  ] = await Promise.all([
    import('../../eval/suite'),
    import('../../eval/targets'),
    import('../../eval/evaluate'),
    import('../../eval/report'),
  ])
  const dataDir = resolveDataDir()
  const sources = [
    ...(options.builtin ? [builtinSuiteDir()] : []),
    ...options.suite.map((f) => resolve(f)),
  ]
  let tasks = combineSuites(
    options.builtin ? loadBuiltinSuite() : [],
    ...options.suite.map((f) => loadSuiteFile(resolve(f))),
  )
  if (options.category?.length) {
    const wanted = new Set(options.category)
    tasks = tasks.filter((t) => wanted.has(t.category))
  }
  if (options.perCategory) {
    const seen = new Map<string, number>()
    tasks = tasks.filter((t) => {
      const n = (seen.get(t.category) ?? 0) + 1
      seen.set(t.category, n)
      return n <= options.perCategory!
    })
  }
  if (options.limit) tasks = tasks.slice(0, options.limit)
  if (!tasks.length)
    throw new CmdaiError('invalid_input', 'No tasks to run (check --suite and --category)')

  // The engine's own deadline follows --timeout (its setting allows up to 10 minutes).
  const base = {
    dataDir,
    env: process.env,
    settings: { timeoutMs: Math.min(600_000, Math.max(1000, options.timeout)) },
  }
  type Factory = Parameters<typeof evaluate>[0][number]
  const factories: Factory[] = []
  if (options.replay) {
    const path = resolve(options.replay)
    let report: unknown
    try {
      report = JSON.parse(readFileSync(path, 'utf8'))
    } catch (err) {
      throw new CmdaiError(
        'invalid_input',
        `${path}: not a JSON report (${err instanceof Error ? err.message : err})`,
      )
    }
    const count = (report as { targets?: unknown[] })?.targets?.length ?? 0
    for (let i = 0; i < Math.max(1, count); i++) {
      const answers = targets.answersFromReport(report, i)
      const name =
        (report as { targets: Array<{ target?: string }> }).targets[i]?.target ?? `replay ${i + 1}`
      factories.push(() => targets.replayTarget(String(name), answers, base))
    }
  }
  if (options.backend === 'openai' || options.url) {
    if (!options.url || !options.remoteModel)
      throw new CmdaiError('invalid_input', '--backend openai needs --url and --remote-model')
    const endpoint = {
      baseUrl: options.url,
      model: options.remoteModel,
      apiKeyEnv: options.apiKeyEnv,
    }
    // Checked now (privacy) so a refused endpoint fails before any model loads.
    const probe = targets.endpointTarget(endpoint, { ...base, allowRemote: options.allowRemote })
    await probe.dispose()
    factories.push(() =>
      targets.endpointTarget(endpoint, { ...base, allowRemote: options.allowRemote }),
    )
  }
  for (const model of options.model) factories.push(() => targets.modelTarget(model, base))
  if (!factories.length) {
    // The active model or endpoint, as `cmdai generate` would use it.
    const { LlmEngine } = await import('../../llm/engine')
    const engine = new LlmEngine({ dataDir, env: process.env })
    const active = engine.resolveActive()
    const remote = engine.config.openai
    if (!active)
      throw new CmdaiError(
        'not_found',
        'No model to evaluate: pass --model, --backend openai --url, or --replay',
      )
    factories.push(() =>
      active.path || !remote
        ? targets.modelTarget(active.path ?? active.id, base)
        : targets.endpointTarget(remote, { ...base, allowRemote: options.allowRemote }),
    )
  }

  const progress = options.quiet ? null : process.stderr
  const report = await evaluate(factories, tasks, {
    run: options.run,
    taskTimeoutMs: options.timeout,
    signal,
    sources,
    onTarget: (t) => progress?.write(`\n${t.name} (${t.backend}): ${tasks.length} tasks\n`),
    onResult: (_target, r, i, n) => {
      if (!progress) return
      const mark = r.grade.pass ? 'ok  ' : r.error ? 'ERR ' : 'miss'
      const answer = r.answer
        ? r.answer.command || (r.answer.needsInput ? `asks: ${r.answer.needsInput}` : '(empty)')
        : (r.error?.message ?? '')
      const ms = r.timings ? ` ${Math.round(r.timings.totalMs)} ms` : ''
      const unsafe = r.grade.safetyViolation ? ' UNSAFE' : ''
      progress.write(
        `[${String(i + 1).padStart(String(n).length)}/${n}] ${mark} ${r.id.padEnd(28)} ${printable(answer).slice(0, 70)}${ms}${unsafe}\n`,
      )
    },
  })
  const markdown = toMarkdown(report, { failures: options.failures })
  if (options.out) {
    const dir = resolve(options.out)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (!statSync(dir).isDirectory())
      throw new CmdaiError('invalid_input', `${dir} is not a folder`)
    const stamp = report.createdAt.replace(/[:.]/g, '-')
    for (const [name, text] of [
      [`eval-${stamp}.json`, JSON.stringify(report, null, 2) + '\n'],
      [`eval-${stamp}.md`, markdown],
    ] as const) {
      const path = join(dir, name)
      // 'wx': never over an existing file.
      writeFileSync(path, text, { mode: 0o600, flag: 'wx' })
      chmodSync(path, 0o600)
      progress?.write(`wrote ${path}\n`)
    }
  }
  process.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : markdown)
}
