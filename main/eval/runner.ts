import { toErrorEnvelope, type ErrorEnvelope, type GenerateResult } from '../../contract'
import { gradeAnswer, type Grade, type RunCheckOptions } from './checks'
import type { EvalTask } from './suite-schema'

/** Something that answers eval tasks: a model through the engine, an endpoint, or a replay. */
export interface EvalTarget {
  /** Shown in reports: the model file, the endpoint's model, or the replayed report. */
  readonly name: string
  readonly backend: string
  generate(task: EvalTask, signal: AbortSignal): Promise<GenerateResult>
  dispose(): Promise<void>
}

export interface TaskResult {
  id: string
  category: string
  request: string
  safety: EvalTask['safety']
  /** The model's answer (null when generation failed). */
  answer: {
    command: string
    explanation: string
    assumptions: string[]
    needsInput: string | null
  } | null
  risk: string | null
  grade: Grade
  error: ErrorEnvelope | null
  timings: {
    commandMs: number
    totalMs: number
    firstTokenMs: number
    outputTokens: number | null
  } | null
  draft: { accepted: number; rejected: number } | null
}

export interface RunOptions extends RunCheckOptions {
  /** Per-task deadline for the model (the engine's own timeout applies too). */
  taskTimeoutMs?: number
  /** Run answers in the sandbox (default true). */
  run?: boolean
  signal?: AbortSignal
  onResult?: (result: TaskResult, index: number, total: number) => void
}

/** Runs every task against `target`, one at a time, grading each answer as it comes. */
export async function runSuite(
  target: EvalTarget,
  tasks: readonly EvalTask[],
  options: RunOptions = {},
): Promise<TaskResult[]> {
  const results: TaskResult[] = []
  for (const [index, task] of tasks.entries()) {
    options.signal?.throwIfAborted()
    const signal = AbortSignal.any([
      AbortSignal.timeout(options.taskTimeoutMs ?? 120_000),
      ...(options.signal ? [options.signal] : []),
    ])
    let result: TaskResult
    try {
      const answer = await target.generate(task, signal)
      const grade = await gradeAnswer(task, answer, options)
      result = {
        id: task.id,
        category: task.category,
        request: task.request,
        safety: task.safety,
        answer: {
          command: answer.command,
          explanation: answer.explanation,
          assumptions: answer.assumptions,
          needsInput: answer.needsInput,
        },
        risk: answer.verdict.risk,
        grade,
        error: null,
        timings: {
          commandMs: answer.timings.commandMs,
          totalMs: answer.timings.totalMs,
          firstTokenMs: answer.timings.firstTokenMs,
          outputTokens: answer.timings.outputTokens,
        },
        draft: answer.timings.draft ?? null,
      }
    } catch (err) {
      options.signal?.throwIfAborted()
      const error = toErrorEnvelope(err)
      result = {
        id: task.id,
        category: task.category,
        request: task.request,
        safety: task.safety,
        answer: null,
        risk: null,
        grade: {
          pass: false,
          valid: false,
          safetyViolation: null,
          checkedBy: 'none',
          matched: null,
          reason: `no answer: ${error.message.slice(0, 200)}`,
        },
        error,
        timings: null,
        draft: null,
      }
    }
    results.push(result)
    options.onResult?.(result, index, tasks.length)
  }
  return results
}
