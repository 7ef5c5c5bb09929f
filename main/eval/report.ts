import type { TaskResult } from './runner'

/** Figures for one group of results (a category, or all of them). */
export interface EvalSummary {
  tasks: number
  passed: number
  /** Passed / tasks. */
  accuracy: number
  /** Answers that were a command that parses, or a question (needsInput): / tasks. */
  validity: number
  /** Benign or ambiguous requests that got a high or critical command. */
  safetyViolations: number
  /** Ambiguous requests where the model asked / ambiguous requests (null: none in the group). */
  askedWhenAmbiguous: number | null
  errors: number
  /** Request to a validated command, ms (answered tasks). */
  commandMs: { p50: number | null; p95: number | null }
  totalMs: { p50: number | null; p95: number | null }
  /** Sampled tokens per second after the first token, over all answered tasks. */
  tokensPerSecond: number | null
  /** Confirmed / proposed draft tokens (null: speculative decoding did not run). */
  draftAcceptance: number | null
}

export interface TargetReport {
  target: string
  backend: string
  summary: EvalSummary
  categories: Record<string, EvalSummary>
  results: TaskResult[]
}

export interface EvalReport {
  createdAt: string
  suite: { tasks: number; categories: Record<string, number>; sources: string[] }
  /** How answers were run, when they were: 'netns' or 'none' (see sandbox.ts). */
  sandbox: string
  targets: TargetReport[]
}

/** Nearest-rank percentile of `xs` (null when empty). */
export function percentile(xs: readonly number[], p: number): number | null {
  if (!xs.length) return null
  const s = [...xs].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * s.length)
  return s[Math.min(s.length, Math.max(1, rank)) - 1]!
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits

export function summarize(results: readonly TaskResult[]): EvalSummary {
  const tasks = results.length
  const passed = results.filter((r) => r.grade.pass).length
  const ambiguous = results.filter((r) => r.safety === 'ambiguous')
  const answered = results.filter((r) => r.timings !== null)
  const command = answered.map((r) => r.timings!.commandMs)
  const total = answered.map((r) => r.timings!.totalMs)
  let tokens = 0
  let decodeMs = 0
  for (const r of answered) {
    const t = r.timings!
    if (t.outputTokens === null || t.outputTokens < 2) continue
    tokens += t.outputTokens - 1
    decodeMs += Math.max(0, t.totalMs - t.firstTokenMs)
  }
  const drafts = results.filter((r) => r.draft !== null)
  const accepted = drafts.reduce((a, r) => a + r.draft!.accepted, 0)
  const proposed = drafts.reduce((a, r) => a + r.draft!.accepted + r.draft!.rejected, 0)
  const p = (xs: number[], q: number) => {
    const v = percentile(xs, q)
    return v === null ? null : round(v)
  }
  return {
    tasks,
    passed,
    accuracy: tasks ? round(passed / tasks, 4) : 0,
    validity: tasks ? round(results.filter((r) => r.grade.valid).length / tasks, 4) : 0,
    safetyViolations: results.filter((r) => r.grade.safetyViolation !== null).length,
    askedWhenAmbiguous: ambiguous.length
      ? round(ambiguous.filter((r) => r.grade.pass).length / ambiguous.length, 4)
      : null,
    errors: results.filter((r) => r.error !== null).length,
    commandMs: { p50: p(command, 50), p95: p(command, 95) },
    totalMs: { p50: p(total, 50), p95: p(total, 95) },
    tokensPerSecond: decodeMs > 0 ? round(tokens / (decodeMs / 1000)) : null,
    draftAcceptance: proposed > 0 ? round(accepted / proposed, 4) : drafts.length ? 0 : null,
  }
}

export function targetReport(target: string, backend: string, results: TaskResult[]): TargetReport {
  const categories: Record<string, EvalSummary> = {}
  for (const category of [...new Set(results.map((r) => r.category))].sort())
    categories[category] = summarize(results.filter((r) => r.category === category))
  return { target, backend, summary: summarize(results), categories, results }
}

const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`)
const msText = (x: number | null) => (x === null ? '–' : `${Math.round(x)} ms`)
/** Text from a model, printable: control characters (terminal escapes, NUL, newlines) become spaces. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what we strip
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
}
/** Markdown table cells: no pipes, newlines or control characters from model names or answers. */
const cell = (s: string) => printable(s.replace(/\|/g, '/'))

/** Inline code that a backtick in a model's answer cannot break out of. */
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``

/** The answer in one cell: the command, the model's question, or that there was none. */
function answerText(r: TaskResult): string {
  if (!r.answer) return '–'
  if (r.answer.command) return code(r.answer.command.slice(0, 80))
  return r.answer.needsInput ? `asks: ${r.answer.needsInput.slice(0, 80)}` : '(empty)'
}

/** A Markdown table; `textColumns` leading columns are left-aligned, the figures right-aligned. */
function table(header: string[], rows: string[][], textColumns = 1): string {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map((_, i) => (i < textColumns ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n')
}

/** The report as Markdown: targets side by side, overall then per category, then the failures. */
export function toMarkdown(report: EvalReport, options: { failures?: number } = {}): string {
  const names = report.targets.map((t) => `${t.target} (${t.backend})`)
  const out: string[] = [
    `# cmdai eval — ${report.createdAt}`,
    '',
    `${report.suite.tasks} tasks (${Object.entries(report.suite.categories)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ')}); run checks isolated: ${report.sandbox}.`,
    '',
    '## Overall',
    '',
    table(
      ['metric', ...names],
      [
        ['accuracy', ...report.targets.map((t) => pct(t.summary.accuracy))],
        ['validity', ...report.targets.map((t) => pct(t.summary.validity))],
        ['safety violations', ...report.targets.map((t) => String(t.summary.safetyViolations))],
        ['asked when ambiguous', ...report.targets.map((t) => pct(t.summary.askedWhenAmbiguous))],
        ['errors', ...report.targets.map((t) => String(t.summary.errors))],
        [
          'command latency p50 / p95',
          ...report.targets.map(
            (t) => `${msText(t.summary.commandMs.p50)} / ${msText(t.summary.commandMs.p95)}`,
          ),
        ],
        [
          'total latency p50 / p95',
          ...report.targets.map(
            (t) => `${msText(t.summary.totalMs.p50)} / ${msText(t.summary.totalMs.p95)}`,
          ),
        ],
        [
          'tokens/s',
          ...report.targets.map((t) =>
            t.summary.tokensPerSecond === null ? '–' : t.summary.tokensPerSecond.toFixed(1),
          ),
        ],
        ['draft acceptance', ...report.targets.map((t) => pct(t.summary.draftAcceptance))],
      ],
    ),
    '',
    '## Accuracy by category',
    '',
  ]
  const categories = Object.keys(report.suite.categories)
  out.push(
    table(
      ['category', 'tasks', ...names],
      categories.map((c) => [
        c,
        String(report.suite.categories[c]),
        ...report.targets.map((t) => {
          const s = t.categories[c]
          if (!s) return '–'
          const extra = [
            s.safetyViolations ? `${s.safetyViolations} unsafe` : '',
            s.validity < 1 ? `valid ${pct(s.validity)}` : '',
          ].filter(Boolean)
          return `${pct(s.accuracy)}${extra.length ? ` (${extra.join(', ')})` : ''}`
        }),
      ]),
    ),
  )
  const limit = options.failures ?? 10
  for (const t of report.targets) {
    const failed = t.results.filter((r) => !r.grade.pass || r.grade.safetyViolation)
    if (!failed.length || limit <= 0) continue
    out.push('', `## ${names[report.targets.indexOf(t)]}: first failures`, '')
    out.push(
      table(
        ['task', 'answer', 'why'],
        failed
          .slice(0, limit)
          .map((r) => [
            r.id,
            answerText(r),
            [r.grade.safetyViolation, r.grade.reason].filter(Boolean).join('; ').slice(0, 160),
          ]),
        3,
      ),
    )
  }
  return out.join('\n') + '\n'
}
