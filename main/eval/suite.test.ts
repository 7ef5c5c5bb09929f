import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyzeCommand, initSafety } from '../safety'
import { gradeAnswer } from './checks'
import { combineSuites, loadBuiltinSuite, loadSuiteFile, parseSuite } from './suite'
import { EVAL_CATEGORIES, type EvalTask } from './suite-schema'

let suite: EvalTask[]
beforeAll(async () => {
  await initSafety()
  suite = loadBuiltinSuite()
})

describe('the built-in suite', () => {
  it('has at least 150 tasks over the eight categories, with unique ids', () => {
    expect(suite.length).toBeGreaterThanOrEqual(150)
    const counts = new Map<string, number>()
    for (const t of suite) counts.set(t.category, (counts.get(t.category) ?? 0) + 1)
    for (const c of EVAL_CATEGORIES) expect(counts.get(c) ?? 0).toBeGreaterThanOrEqual(15)
    expect(new Set(suite.map((t) => t.id)).size).toBe(suite.length)
    expect(suite.filter((t) => t.safety === 'ambiguous').length).toBeGreaterThanOrEqual(8)
    expect(suite.filter((t) => t.run).length).toBeGreaterThanOrEqual(40)
  })

  it('grades each accepted command as a pass; benign tasks accept nothing rated high or critical', async () => {
    const problems: string[] = []
    for (const task of suite) {
      for (const command of task.accept) {
        const verdict = analyzeCommand(command, { shell: task.shell })
        if (verdict.parseError) problems.push(`${task.id}: ${command} does not parse`)
        if (task.safety === 'benign' && (verdict.risk === 'high' || verdict.risk === 'critical'))
          problems.push(`${task.id}: ${command} is rated ${verdict.risk}`)
        const grade = await gradeAnswer(
          task,
          { command, needsInput: null, verdict },
          { run: false },
        )
        if (!grade.pass) problems.push(`${task.id}: ${command}: ${grade.reason}`)
      }
    }
    expect(problems).toEqual([])
  })

  it('every run check works here: its reference runs and its first runnable accepted answer passes it', async () => {
    const cache = new Map()
    const problems: string[] = []
    for (const task of suite.filter((t) => t.run)) {
      // Without the accepted list, the grade has to come from the run.
      const runOnly = { ...task, accept: [] }
      const command = task.accept[0] ?? task.run!.reference!
      const verdict = analyzeCommand(command, { shell: task.shell })
      const grade = await gradeAnswer(runOnly, { command, needsInput: null, verdict }, { cache })
      if (grade.reason?.startsWith('not run')) continue
      if (!grade.pass) problems.push(`${task.id}: ${command}: ${grade.reason}`)
    }
    expect(problems).toEqual([])
  }, 180_000)
})

describe('suite files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cmdai-suite-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('loads a user file, taking the category from the file or the task', () => {
    const path = join(dir, 'mine.yaml')
    writeFileSync(
      path,
      [
        'category: deploy',
        'tasks:',
        '  - id: my-deploy',
        '    request: deploy the app',
        '    accept: [make deploy]',
        '  - id: my-ask',
        '    category: team',
        '    request: do the thing',
        '    safety: ambiguous',
      ].join('\n'),
    )
    const tasks = loadSuiteFile(path)
    expect(tasks.map((t) => [t.id, t.category, t.safety])).toEqual([
      ['my-deploy', 'deploy', 'benign'],
      ['my-ask', 'team', 'ambiguous'],
    ])
    expect(() => combineSuites(tasks, tasks)).toThrow(/Two eval tasks have the id my-deploy/)
  })

  it('refuses bad files with the file, line or task and what is wrong', () => {
    const bad = (text: string) => () => parseSuite(text, 'x.yaml')
    expect(bad('tasks: [')).toThrow(/^x\.yaml:\d+:\d+: /)
    expect(bad('tasks:\n  - id: a\n    request: r\n')).toThrow(
      /x\.yaml: tasks\.0 \(a\): a task needs accepted commands/,
    )
    expect(bad('category: c\ntasks:\n  - id: Bad Id\n    request: r\n    accept: [ls]')).toThrow(
      /tasks\.0 \(Bad Id\)\.id: lowercase/,
    )
    expect(
      bad(
        'category: c\ntasks:\n  - id: a\n    request: r\n    run: { files: { /etc/passwd: x }, stdout: "" }',
      ),
    ).toThrow(/run\.files\.\/etc\/passwd: Invalid key/)
    expect(
      bad(
        'category: c\ntasks:\n  - id: a\n    request: r\n    run: { files: { ../x: x }, stdout: "" }',
      ),
    ).toThrow(/run\.files\.\.\.\/x: Invalid key/)
    expect(bad('tasks:\n  - id: a\n    request: r\n    accept: [ls]')).toThrow(/has no category/)
    expect(bad('category: c\ncategory: d\ntasks: []')).toThrow(/x\.yaml/)
    expect(bad('a\0b')).toThrow(/NUL byte/)
    expect(bad('x'.repeat(3 * 2 ** 20))).toThrow(/larger than/)
  })

  it('refuses an alias bomb and deep nesting quickly', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from({ length: 9 }, (_, i) => {
        const prev = i === 0 ? 'a' : `l${i - 1}`
        return `l${i}: &l${i} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`
      }),
      'category: c',
      'tasks: *l8',
    ].join('\n')
    const started = performance.now()
    expect(() => parseSuite(bomb, 'bomb.yaml')).toThrow(/bomb\.yaml/)
    expect(() => parseSuite(`${'['.repeat(5000)}${']'.repeat(5000)}`, 'deep.yaml')).toThrow(
      /deep\.yaml/,
    )
    expect(performance.now() - started).toBeLessThan(5000)
  })
})
