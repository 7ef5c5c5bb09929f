import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import { evaluate } from './evaluate'
import { percentile, summarize, toMarkdown, type EvalReport } from './report'
import { loadBuiltinSuite } from './suite'
import type { EvalTask } from './suite-schema'
import { answersFromReport, modelTarget, replayTarget } from './targets'

/**
 * The harness's own logic, end to end through the model engine (prompt, parsing, the real safety
 * engine), with a backend that replays fixed answers: known-good ones must score 100%, known-bad
 * ones must fail for the right reasons.
 */

let dataDir: string
let tasks: EvalTask[]
const json = (command: string, needsInput: string | null = null) =>
  JSON.stringify({ command, explanation: 'e', assumptions: [], needsInput })

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'cmdai-eval-test-'))
  const all = loadBuiltinSuite()
  // Four tasks per category (ambiguous and run-checked ones included), to keep the test short.
  const byCategory = new Map<string, EvalTask[]>()
  for (const t of all) byCategory.set(t.category, [...(byCategory.get(t.category) ?? []), t])
  tasks = [...byCategory.values()].flatMap((list) => [
    ...list.filter((t) => t.safety === 'ambiguous').slice(0, 1),
    ...list.filter((t) => t.run).slice(0, 1),
    ...list.filter((t) => t.safety !== 'ambiguous' && !t.run).slice(0, 2),
  ])
})
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const base = () => ({ dataDir, env: {} })

function goodAnswers(): Map<string, string> {
  return new Map(
    tasks.map((t) => [
      t.id,
      t.safety === 'ambiguous' ? json('', 'Which one do you mean?') : json(t.accept[0]!),
    ]),
  )
}

describe('evaluate with replayed answers', () => {
  let good: EvalReport
  let bad: EvalReport

  beforeAll(async () => {
    const badAnswers = new Map<string, string>()
    for (const [i, t] of tasks.entries()) {
      const kind = i % 4
      badAnswers.set(
        t.id,
        kind === 0
          ? json('rm -rf ~') // dangerous, whatever was asked
          : kind === 1
            ? '{"command": "ls -la", "explanation": ' // not JSON: the engine refuses it
            : kind === 2
              ? json('echo \u001b]0;owned\u0007 | tee out.txt') // wrong, with a terminal escape
              : json('', null), // nothing at all
      )
    }
    good = await evaluate([() => replayTarget('good', goodAnswers(), base())], tasks, {
      now: () => new Date('2026-01-02T03:04:05Z'),
    })
    bad = await evaluate(
      [
        () => replayTarget('good', goodAnswers(), base()),
        () => replayTarget('bad', badAnswers, base()),
      ],
      tasks,
    )
  }, 120_000)

  it('scores known-good answers 100% valid, accurate and safe, in every category', () => {
    const s = good.targets[0]!.summary
    expect(s).toMatchObject({
      tasks: tasks.length,
      passed: tasks.length,
      accuracy: 1,
      validity: 1,
      safetyViolations: 0,
      askedWhenAmbiguous: 1,
      errors: 0,
    })
    expect(Object.keys(good.targets[0]!.categories).sort()).toEqual(
      Object.keys(good.suite.categories).sort(),
    )
    expect(s.commandMs.p50).toBeGreaterThan(0)
    expect(s.commandMs.p95).toBeGreaterThanOrEqual(s.commandMs.p50!)
    expect(s.tokensPerSecond).toBeGreaterThan(0)
    expect(s.draftAcceptance).toBeNull()
    expect(good.createdAt).toBe('2026-01-02T03:04:05.000Z')
  })

  it('fails known-bad answers for the right reasons and counts violations and errors', () => {
    const [first, second] = bad.targets
    expect(first!.summary.accuracy).toBe(1)
    const s = second!.summary
    expect(s.passed).toBe(0)
    const byId = new Map(second!.results.map((r) => [r.id, r]))
    for (const [i, t] of tasks.entries()) {
      const r = byId.get(t.id)!
      if (i % 4 === 0) {
        expect(r.risk).toMatch(/high|critical/)
        expect(r.grade.safetyViolation ?? (t.safety === 'risky' ? 'risky' : null)).not.toBeNull()
      } else if (i % 4 === 1) {
        expect(r.error?.code).toBe('internal')
        expect(r.grade.valid).toBe(false)
      } else if (i % 4 === 3) {
        expect(r.grade.valid).toBe(false)
      }
    }
    const dangerousBenign = tasks.filter((t, i) => i % 4 === 0 && t.safety !== 'risky').length
    expect(s.safetyViolations).toBe(dangerousBenign)
    expect(s.errors).toBe(tasks.filter((_, i) => i % 4 === 1).length)
    expect(s.validity).toBeLessThan(1)
  })

  it('writes side-by-side Markdown and JSON that replays to the same grades', async () => {
    const md = toMarkdown(bad)
    expect(md).toContain('| metric | good (replay) | bad (replay) |')
    expect(md).toContain('| accuracy | 100.0% | 0.0% |')
    expect(md).toMatch(/\| files \| \d+ \| 100\.0% \| 0\.0%/)
    expect(md).toContain('## bad (replay): first failures')
    // Model text never carries a terminal escape or breaks the table.
    expect(md.includes('\u001b') || md.includes('\u0007')).toBe(false)
    // Every row of a table has as many cells as its header.
    for (const block of md
      .split(/\n(?!\|)/)
      .map((b) => b.split('\n').filter((l) => l.startsWith('|')))) {
      const cells = block.map((l) => l.split('|').length)
      expect(new Set(cells).size).toBeLessThanOrEqual(1)
    }
    const saved = JSON.parse(JSON.stringify(bad)) as unknown
    const replayed = await evaluate(
      [() => replayTarget('again', answersFromReport(saved, 1), base())],
      tasks.filter((_, i) => i % 4 !== 1),
    )
    const before = new Map(bad.targets[1]!.results.map((r) => [r.id, r.grade.pass]))
    for (const r of replayed.targets[0]!.results) expect(r.grade.pass).toBe(before.get(r.id))
    expect(() => answersFromReport({ nope: 1 })).toThrow(/Not a cmdai eval report/)
  })
})

describe('report figures', () => {
  it('takes nearest-rank percentiles and summarises an empty group', () => {
    expect(percentile([], 50)).toBeNull()
    expect(percentile([5], 95)).toBe(5)
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5)
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10)
    expect(summarize([])).toMatchObject({ tasks: 0, accuracy: 0, tokensPerSecond: null })
  })
})

describe('evaluate on the tiny fixture model (real node-llama-cpp)', () => {
  it('answers every task with valid JSON through the real engine and reports timings', async () => {
    const tiny = ensureFixtureModel('tiny')
    const few = tasks.slice(0, 6)
    const report = await evaluate(
      [
        () =>
          modelTarget(tiny, { ...base(), settings: { gpu: 'cpu', threads: 1, contextSize: 2048 } }),
      ],
      few,
    )
    const t = report.targets[0]!
    expect(t.backend).toBe('local')
    expect(t.target).toBe('tiny-v2')
    expect(t.summary.errors).toBe(0)
    expect(t.results.every((r) => r.answer !== null && r.timings!.totalMs > 0)).toBe(true)
    // Random weights: the text is noise, so nothing is asserted about accuracy.
    expect(t.summary.tasks).toBe(few.length)
  }, 120_000)
})
