import { initSafety } from '../safety'
import { targetReport, type EvalReport } from './report'
import { runSuite, type EvalTarget, type RunOptions, type TaskResult } from './runner'
import { networkIsolationAvailable } from './sandbox'
import type { EvalTask } from './suite-schema'

/** A target made when its turn comes, so one model is in memory at a time. */
export type TargetFactory = () => EvalTarget | Promise<EvalTarget>

export interface EvaluateOptions extends Omit<RunOptions, 'onResult' | 'cache'> {
  sources?: string[]
  onResult?: (target: string, result: TaskResult, index: number, total: number) => void
  onTarget?: (target: EvalTarget) => void
  now?: () => Date
}

/**
 * Runs the suite against each target in turn (disposing each before the next) and builds the
 * report. Reference runs of run checks are shared between targets.
 */
export async function evaluate(
  factories: readonly TargetFactory[],
  tasks: readonly EvalTask[],
  options: EvaluateOptions = {},
): Promise<EvalReport> {
  await initSafety()
  const cache: RunOptions['cache'] = new Map()
  const categories: Record<string, number> = {}
  for (const t of tasks) categories[t.category] = (categories[t.category] ?? 0) + 1
  const report: EvalReport = {
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
    suite: { tasks: tasks.length, categories, sources: options.sources ?? [] },
    sandbox:
      options.run === false
        ? 'run checks off'
        : networkIsolationAvailable()
          ? 'temp dir + own network namespace'
          : 'temp dir only (no network isolation here)',
    targets: [],
  }
  for (const factory of factories) {
    options.signal?.throwIfAborted()
    const target = await factory()
    try {
      options.onTarget?.(target)
      const results = await runSuite(target, tasks, {
        ...options,
        cache,
        onResult: (r, i, n) => options.onResult?.(target.name, r, i, n),
      })
      report.targets.push(targetReport(target.name, target.backend, results))
    } finally {
      await target.dispose()
    }
  }
  return report
}
