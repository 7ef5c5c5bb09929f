import type { Command } from 'commander'
import type { DownloadProgress, GenerateResult, ShellDialect } from '../../../contract'
import { resolveDataDir } from '../../config/paths'
import { showControls } from '../../../contract/display'
import { MODEL_CATALOG } from '../../llm/catalog'

// node-llama-cpp and the engine load only in the subcommands that use them.
const engineModule = () => import('../../llm/engine')
const newEngine = async () => {
  const { LlmEngine } = await engineModule()
  return new LlmEngine({ dataDir: resolveDataDir(), env: process.env })
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`

function progressLine(p: DownloadProgress): string {
  const pct = p.totalBytes ? Math.min(1, p.bytes / p.totalBytes) : 0
  const width = 24
  const bar = '#'.repeat(Math.round(pct * width)).padEnd(width, '-')
  const eta = p.etaSeconds === null ? '' : ` ETA ${Math.ceil(p.etaSeconds)}s`
  return `[${bar}] ${(pct * 100).toFixed(0).padStart(3)}% ${mb(p.bytes)}/${mb(p.totalBytes)} ${mb(p.bytesPerSecond)}/s${eta}`
}

/**
 * `cmdai generate`'s human output. Control characters in the model's text are shown as escapes,
 * and an empty proposal says so (no `$ ` line, no verdict: there is nothing to rate or run).
 */
export function formatGeneration(result: GenerateResult): string[] {
  const { verdict } = result
  const lines: string[] = []
  const proposed = result.command.trim() !== ''
  lines.push(proposed ? `$ ${showControls(result.command)}` : 'No command was proposed.')
  if (result.explanation) lines.push(`  ${showControls(result.explanation)}`)
  for (const a of result.assumptions) lines.push(`  assumes: ${showControls(a)}`)
  if (result.needsInput) lines.push(`  needs: ${showControls(result.needsInput)}`)
  if (proposed) {
    lines.push(`  risk: ${verdict.risk} (${verdict.action})`)
    for (const r of verdict.reasons) lines.push(`    - [${r.risk}] ${r.message} (${r.ruleId})`)
  }
  const t = result.timings
  lines.push(
    `  model: ${result.model} (${result.backend}) · command ${(t.commandMs / 1000).toFixed(2)}s · total ${(t.totalMs / 1000).toFixed(2)}s`,
  )
  return lines
}

/** `generate --json`: an empty proposal has no verdict (null), not a "safe, allow" one. */
export function generationJson(result: GenerateResult): Record<string, unknown> {
  const proposed = result.command.trim() !== ''
  return {
    command: result.command,
    explanation: result.explanation,
    assumptions: result.assumptions,
    needsInput: result.needsInput,
    risk: proposed ? result.verdict.risk : null,
    action: proposed ? result.verdict.action : null,
    reasons: proposed ? result.verdict.reasons : [],
    model: result.model,
    backend: result.backend,
    redactions: result.redactions,
    timings: result.timings,
  }
}

/** `cmdai generate` and `cmdai models ...`. `cmdai explain` (with the model) lives with safety. */
export function registerLlmCommands(program: Command): void {
  program
    .command('generate')
    .description('Turn a request into a shell command (checked by the safety engine)')
    .argument('<request...>', 'what you want to do, in your own words')
    .option('-m, --model <file|id>', 'model file, catalog id or model id (default: active model)')
    .option('--json', 'print the result as JSON')
    .option('--cwd <dir>', 'working directory the command is for', process.cwd())
    .action(async (words: string[], opts: { model?: string; json?: boolean; cwd: string }) => {
      const controller = new AbortController()
      const onSigint = () => controller.abort()
      process.once('SIGINT', onSigint)
      const request = {
        request: words.join(' '),
        requestId: `cli-${process.pid}`,
        ...(opts.model ? { model: opts.model } : {}),
        context: { cwd: opts.cwd },
      }
      let engine: Awaited<ReturnType<typeof newEngine>> | null = null
      try {
        // The running app has its model loaded already: ask it (main/control); else load it here.
        const { withApp } = await import('../../control/with-app')
        const result =
          (await withApp(resolveDataDir(), (app) =>
            app.call('llm:generate', request, { signal: controller.signal }),
          )) ??
          (await (engine = await newEngine()).generate({ ...request, signal: controller.signal }))
        if (opts.json) console.log(JSON.stringify(generationJson(result)))
        else for (const line of formatGeneration(result)) console.log(line)
        // Nothing to run is not a success for a script that wanted a command.
        if (!result.command.trim()) process.exitCode = 1
      } finally {
        process.off('SIGINT', onSigint)
        await engine?.dispose()
      }
    })

  const models = program.command('models').description('Manage local GGUF models')

  models
    .command('list')
    .description('Models on disk, the active one and why, and the catalog')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const engine = await newEngine()
      let active = null
      let problem: string | null = null
      try {
        active = engine.resolveActive()
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err)
      }
      const onDisk = engine.store.list(active?.path ?? null)
      if (opts.json) {
        console.log(JSON.stringify({ models: onDisk, active, problem, catalog: MODEL_CATALOG }))
        return
      }
      console.log(`Models in ${engine.store.dir}:`)
      if (!onDisk.length) console.log('  (none)')
      for (const m of onDisk)
        console.log(
          `  ${m.active ? '*' : ' '} ${m.id.padEnd(28)} ${mb(m.sizeBytes).padStart(10)}  ${m.origin}`,
        )
      if (active) console.log(`Active: ${active.id} (${active.reason})`)
      else console.log(problem ? `Active: none (${problem})` : 'Active: none')
      console.log('\nCatalog (cmdai models pull <id>):')
      for (const c of MODEL_CATALOG) {
        console.log(
          `  ${c.id.padEnd(22)} ${mb(c.sizeBytes).padStart(10)}  ~${c.ramGb} GB RAM  ${c.licence}  ${c.notes}`,
        )
      }
    })

  models
    .command('pull')
    .description('Download a model: a catalog id, hf:<user>/<repo>/<file>.gguf or an https URL')
    .argument('<uri>')
    .action(async (uri: string) => {
      const engine = await newEngine()
      const { pullModel } = await import('../../llm/downloader')
      const controller = new AbortController()
      const onSigint = () => controller.abort()
      process.once('SIGINT', onSigint)
      const tty = process.stderr.isTTY
      let asked = false
      try {
        const path = await pullModel({
          uri,
          modelsDir: engine.store.ensureDir(),
          downloadId: 'cli',
          signal: controller.signal,
          progressIntervalMs: tty ? 200 : 2000,
          onProgress: (p) => {
            if (p.state === 'checking' && !asked) {
              asked = true
              process.stderr.write(`Asking ${p.uri} ...\n`)
            } else if (p.state === 'downloading')
              process.stderr.write(`${tty ? '\r' : ''}${progressLine(p)}${tty ? '' : '\n'}`)
            else if (p.state === 'verifying')
              process.stderr.write(`${tty ? '\n' : ''}verifying...\n`)
          },
        })
        console.log(`Saved ${path}`)
      } finally {
        process.off('SIGINT', onSigint)
      }
    })

  models
    .command('import')
    .description('Check a local GGUF file and add it to the models folder')
    .argument('<file>')
    .action(async (file: string) => {
      const engine = await newEngine()
      const info = await engine.store.import(file)
      console.log(`Imported ${info.id} (${mb(info.sizeBytes)}) -> ${info.path}`)
    })

  models
    .command('rm')
    .description('Delete a model (and any partial download of it)')
    .argument('<id>')
    .action(async (id: string) => {
      const engine = await newEngine()
      const { removeModel } = await import('../../llm/model-admin')
      const result = await removeModel(engine, resolveDataDir(), id)
      if (!result.removed) {
        console.error(`No model ${id} in ${engine.store.dir}`)
        process.exitCode = 1
        return
      }
      console.log(`Removed ${id}`)
      if (result.wasActive)
        console.log(
          result.nowActive
            ? `It was the active model; now active: ${result.nowActive.id} (${result.nowActive.reason})`
            : 'It was the active model; no model is active now (cmdai models pull or import one)',
        )
    })

  models
    .command('use')
    .description('Make a model the active one (saved in settings.json)')
    .argument('<id>')
    .action(async (id: string) => {
      const engine = await newEngine()
      if (!engine.store.resolve(id)) throw new Error(`No model ${id} on disk`)
      const { writeLlmSettings } = await import('../../llm/settings')
      writeLlmSettings(resolveDataDir(), { model: id })
      console.log(`Active model: ${id}`)
    })
}

/**
 * The model's plain-language explanation for `cmdai explain`, or null when no model is set up
 * (the structural breakdown from the safety engine stands on its own then).
 */
export async function modelExplanation(
  command: string,
  shell: ShellDialect,
): Promise<string | null> {
  const engine = await newEngine()
  try {
    if (!engine.resolveActive()) return null
  } catch {
    return null
  }
  try {
    return (await engine.explain({ command, shell })).explanation
  } finally {
    await engine.dispose()
  }
}
