import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseDocument } from 'yaml'
import { CmdaiError } from '../../contract'
import { resolveAppRoot } from '../config/paths'
import { suiteFileSchema, type EvalTask } from './suite-schema'

/** A suite file bigger than this is refused before it is parsed. */
const MAX_SUITE_BYTES = 2 * 2 ** 20

/** Where the built-in suite lives: `resources/eval/*.yaml` (CMDAI_RESOURCES_DIR moves resources/). */
export function builtinSuiteDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.CMDAI_RESOURCES_DIR ?? join(resolveAppRoot(), 'resources'), 'eval')
}

/**
 * Parses one suite file's text. YAML aliases are capped (no billion laughs), the size is bounded,
 * and every task is validated; the error names the file and the path of the first problem.
 */
export function parseSuite(text: string, source: string): EvalTask[] {
  if (text.length > MAX_SUITE_BYTES)
    throw new CmdaiError('invalid_input', `${source}: larger than ${MAX_SUITE_BYTES} bytes`)
  if (text.includes('\0')) throw new CmdaiError('invalid_input', `${source}: contains a NUL byte`)
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  const error = doc.errors[0]
  if (error) {
    const at = error.linePos?.[0]
    const where = at ? `:${at.line}:${at.col}` : ''
    throw new CmdaiError('invalid_input', `${source}${where}: ${error.message.split('\n')[0]}`)
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: 50 })
  } catch (err) {
    throw new CmdaiError(
      'invalid_input',
      `${source}: ${err instanceof Error ? err.message : String(err)}`,
    )
  }
  const parsed = suiteFileSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    // Name the task by its id too: "tasks.6 (git-commit-all).context".
    const [first, index] = issue.path
    const tasks = (value as { tasks?: unknown })?.tasks
    const id =
      first === 'tasks' && typeof index === 'number' && Array.isArray(tasks)
        ? (tasks[index] as { id?: unknown })?.id
        : undefined
    const path = issue.path.map(String)
    if (typeof id === 'string') path[1] = `${path[1]} (${id.slice(0, 80)})`
    throw new CmdaiError(
      'invalid_input',
      `${source}: ${path.join('.') || '(top)'}: ${issue.message}`,
    )
  }
  return parsed.data.tasks.map((task) => {
    const category = task.category ?? parsed.data.category
    if (!category)
      throw new CmdaiError('invalid_input', `${source}: task ${task.id} has no category`)
    return { ...task, category }
  })
}

export function loadSuiteFile(path: string): EvalTask[] {
  let size: number
  try {
    size = statSync(path).size
  } catch {
    throw new CmdaiError('not_found', `No suite file at ${path}`)
  }
  if (size > MAX_SUITE_BYTES)
    throw new CmdaiError('invalid_input', `${path}: larger than ${MAX_SUITE_BYTES} bytes`)
  return parseSuite(readFileSync(path, 'utf8'), path)
}

/** The built-in suite: every `*.yaml` in the suite directory, in name order. */
export function loadBuiltinSuite(dir = builtinSuiteDir()): EvalTask[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
  return files.flatMap((f) => loadSuiteFile(join(dir, f)))
}

/** Joins suites, refusing two tasks with one id (results are keyed by id). */
export function combineSuites(...suites: EvalTask[][]): EvalTask[] {
  const seen = new Set<string>()
  const out: EvalTask[] = []
  for (const task of suites.flat()) {
    if (seen.has(task.id))
      throw new CmdaiError('invalid_input', `Two eval tasks have the id ${task.id}`)
    seen.add(task.id)
    out.push(task)
  }
  return out
}
