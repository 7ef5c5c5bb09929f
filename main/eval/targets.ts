import { platform, release } from 'node:os'
import { basename } from 'node:path'
import { CmdaiError } from '../../contract'
import type { BackendRequest, BackendResponse, LlmBackend } from '../llm/backend'
import { LlmEngine, type LlmEngineOptions } from '../llm/engine'
import type { LlmSettingsInput } from '../llm/settings'
import type { EvalTarget } from './runner'
import type { EvalTask } from './suite-schema'

/**
 * Eval targets: every one goes through the model engine (prompt, structured decoding, parsing,
 * the safety engine), so the eval measures what users get. The engine sees only the task's own
 * context (no gathering from the machine it runs on).
 */

function taskContext(task: EvalTask) {
  return {
    os: `${platform()} ${release()}`,
    shell: task.shell,
    ...(task.context ?? {}),
  }
}

class EngineTarget implements EvalTarget {
  constructor(
    readonly name: string,
    readonly backend: string,
    private readonly engine: LlmEngine,
    private readonly model: string | undefined,
    private readonly before?: (task: EvalTask) => void,
  ) {}

  generate(task: EvalTask, signal: AbortSignal) {
    this.before?.(task)
    return this.engine.generate({
      request: task.request,
      requestId: `eval-${task.id}`,
      context: taskContext(task),
      model: this.model,
      signal,
    })
  }

  dispose() {
    return this.engine.dispose()
  }
}

export interface TargetOptions {
  dataDir: string
  env?: NodeJS.ProcessEnv
  settings?: LlmSettingsInput
  safety?: LlmEngineOptions['safety']
}

/** A local GGUF model: a catalog id, a file in the models directory, or a path. */
export function modelTarget(model: string, options: TargetOptions): EvalTarget {
  const engine = new LlmEngine({
    dataDir: options.dataDir,
    env: options.env,
    settings: { ...options.settings, backend: 'local' },
    safety: options.safety,
    gatherContext: false,
  })
  const active = engine.resolveActive(model)
  if (!active?.path) throw new CmdaiError('not_found', `No model matches "${model}"`)
  // A path names the model by its file.
  const name = /[/\\]/.test(active.id) ? basename(active.id).replace(/\.gguf$/i, '') : active.id
  return new EngineTarget(name, 'local', engine, model)
}

/** An OpenAI-compatible endpoint (Ollama, LM Studio, a hosted API). */
export function endpointTarget(
  endpoint: { baseUrl: string; model: string; apiKeyEnv?: string },
  options: TargetOptions & { allowRemote?: boolean },
): EvalTarget {
  const engine = new LlmEngine({
    dataDir: options.dataDir,
    env: options.env,
    settings: {
      ...options.settings,
      backend: 'openai',
      openai: {
        baseUrl: endpoint.baseUrl,
        model: endpoint.model,
        apiKeyEnv: endpoint.apiKeyEnv ?? 'CMDAI_OPENAI_API_KEY',
      },
    },
    safety: options.safety,
    gatherContext: false,
    allowRemote: options.allowRemote,
  })
  // Fails early (privacy) before any task runs.
  engine.resolveActive()
  return new EngineTarget(endpoint.model, `openai ${endpoint.baseUrl}`, engine, undefined)
}

/**
 * Answers recorded beforehand, by task id: the raw text a backend returned (anything, valid
 * JSON or not). Streams it in small deltas as a model would, so the engine's early command check
 * runs as it does for real answers. Used to re-grade a saved report and to test the harness.
 */
export class ReplayBackend implements LlmBackend {
  readonly kind = 'local' as const
  readonly modelName: string
  private current: string | null = null

  constructor(
    name: string,
    private readonly answers: ReadonlyMap<string, string>,
  ) {
    this.modelName = name
  }

  /** The next request answers for this task. */
  select(taskId: string): void {
    this.current = taskId
  }

  compute(): string {
    return 'replay'
  }

  async ensureReady(): Promise<void> {}

  async complete(request: BackendRequest): Promise<BackendResponse> {
    request.signal.throwIfAborted()
    const id = this.current
    const text = id === null ? undefined : this.answers.get(id)
    if (text === undefined)
      throw new CmdaiError('not_found', `No recorded answer for task ${id ?? '(none)'}`)
    for (let i = 0; i < text.length; i += 7) {
      request.signal.throwIfAborted()
      request.onText?.(text.slice(i, i + 7))
      await new Promise((resolve) => setImmediate(resolve))
    }
    return {
      text,
      promptTokens: null,
      outputTokens: Math.ceil(text.length / 4),
      evaluatedPromptTokens: null,
    }
  }

  async dispose(): Promise<void> {}
}

export function replayTarget(
  name: string,
  answers: ReadonlyMap<string, string>,
  options: TargetOptions,
): EvalTarget {
  const backend = new ReplayBackend(name, answers)
  const engine = new LlmEngine({
    dataDir: options.dataDir,
    env: options.env,
    settings: options.settings,
    safety: options.safety,
    gatherContext: false,
    backendFactory: () => backend,
  })
  return new EngineTarget(name, 'replay', engine, name, (task) => backend.select(task.id))
}

/** The recorded answers of one target of a saved JSON report, as replayable raw texts. */
export function answersFromReport(report: unknown, targetIndex = 0): Map<string, string> {
  const targets = (report as { targets?: unknown })?.targets
  if (!Array.isArray(targets) || !targets[targetIndex])
    throw new CmdaiError('invalid_input', 'Not a cmdai eval report (no targets)')
  const results = (targets[targetIndex] as { results?: unknown }).results
  if (!Array.isArray(results)) throw new CmdaiError('invalid_input', 'The report has no results')
  const answers = new Map<string, string>()
  for (const r of results as Array<{ id?: unknown; answer?: unknown }>) {
    if (typeof r?.id !== 'string' || r.answer === null || typeof r.answer !== 'object') continue
    answers.set(r.id, JSON.stringify(r.answer))
  }
  return answers
}
