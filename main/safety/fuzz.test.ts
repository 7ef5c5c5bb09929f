import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { RISKS, SHELL_DIALECTS, type Verdict } from '../../contract/safety'
import { analyzeCommand, explainCommand, initSafety, redactSecrets } from './index'
import { loadCorpus } from './corpus'

beforeAll(async () => {
  await initSafety()
})

const corpus = loadCorpus().map((c) => c.cmd)
const SHELL_CHARS = [...`abcrmf -/~.*$'"\`\\|&;<>(){}[]!#=%:@,\n\t0123456789`]

function checkVerdict(v: Verdict): void {
  expect(RISKS).toContain(v.risk)
  expect(['allow', 'confirm', 'block']).toContain(v.action)
  expect(Array.isArray(v.reasons)).toBe(true)
  for (const r of v.reasons) {
    expect(RISKS).toContain(r.risk)
    expect(r.message).not.toMatch(/[\r\n]/)
    if (r.span) {
      expect(r.span.start).toBeGreaterThanOrEqual(0)
      expect(r.span.end).toBeLessThanOrEqual(v.command.length)
      expect(r.span.start).toBeLessThanOrEqual(r.span.end)
    }
  }
  // Fail closed: whatever could not be parsed is never safe.
  if (v.parseError) expect(v.risk).not.toBe('safe')
  expect(v.reasons.some((r) => r.ruleId === 'engine.error')).toBe(false)
}

const mutate = fc
  .tuple(
    fc.constantFrom(...corpus),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom('insert', 'delete', 'replace'),
        fc.constantFrom(...SHELL_CHARS),
      ),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([cmd, edits]) => {
    let s = cmd
    for (const [pos, kind, ch] of edits) {
      const i = s.length ? pos % (s.length + 1) : 0
      if (kind === 'insert') s = s.slice(0, i) + ch + s.slice(i)
      else if (kind === 'delete') s = s.slice(0, i) + s.slice(i + 1)
      else s = s.slice(0, i) + ch + s.slice(i + 1)
    }
    return s
  })

describe('fuzz', () => {
  it('random shell-like input never throws and always gets a verdict', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...SHELL_CHARS), { maxLength: 80 }).map((a) => a.join('')),
        fc.constantFrom(...SHELL_DIALECTS),
        (cmd, shell) => {
          checkVerdict(analyzeCommand(cmd, { shell }))
          expect(explainCommand(cmd, shell).parts).toBeDefined()
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('arbitrary unicode input never throws', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 120 }),
        fc.constantFrom(...SHELL_DIALECTS),
        (cmd, shell) => {
          checkVerdict(analyzeCommand(cmd, { shell }))
          redactSecrets(cmd)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('mutated corpus commands never throw and stay consistent', () => {
    fc.assert(
      fc.property(mutate, fc.constantFrom(...SHELL_DIALECTS), (cmd, shell) => {
        checkVerdict(analyzeCommand(cmd, { shell }))
      }),
      { numRuns: 3000 },
    )
  })

  it('treats Object.prototype names as plain names (found by this fuzz test)', () => {
    for (const shell of SHELL_DIALECTS) {
      const names = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty']
      const shapes = (n: string) => [
        n,
        `${n} -rf /`,
        `rm -rf $${n}`,
        `echo \${${n}}`,
        `echo ${n} | base64 -d | sh`,
        `python3 -c "${n}('x')"`,
        `node -e "require('fs').${n}('/')"`,
        `ansible all -m service -a 'name=x state=${n}'`,
        `apt remove '${n}*'`,
        `alias ${n}='rm -rf /'; ${n}`,
        `${n}() { ls; }; ${n}`,
      ]
      for (const cmd of names.flatMap(shapes)) {
        const verdict = analyzeCommand(cmd, { shell })
        checkVerdict(verdict)
        expect(verdict.reasons.map((r) => r.ruleId)).not.toContain('engine.error')
      }
    }
  })

  it('handles long and deeply nested input', () => {
    checkVerdict(analyzeCommand('ls | '.repeat(2000) + 'cat'))
    let nested = 'rm -rf /'
    for (let i = 0; i < 12; i++) nested = `bash -c ${JSON.stringify(nested)}`
    const v = analyzeCommand(nested)
    checkVerdict(v)
    expect(['high', 'critical']).toContain(v.risk)
    checkVerdict(analyzeCommand('$('.repeat(300) + ')'.repeat(300)))
    checkVerdict(analyzeCommand('((((((((((('.repeat(50), { shell: 'powershell' }))
  })
})
