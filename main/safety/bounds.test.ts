import { beforeAll, describe, expect, it } from 'vitest'
import type { ShellDialect, Verdict } from '../../contract/safety'
import { analyzeCommand, initSafety } from './index'

beforeAll(async () => {
  await initSafety()
})

/**
 * Issue 14 point 9: whatever lies beyond the engine's bounds is rated critical and blocked at
 * every level, with one reason per bound, in bounded time. The time bounds are generous (this is
 * a shared 2-core machine); measured figures are in bench/safety.ts and the note.
 */
function timed(cmd: string, shell?: ShellDialect): { v: Verdict; ms: number } {
  const start = performance.now()
  const v = analyzeCommand(cmd, { shell, level: 'permissive' })
  return { v, ms: performance.now() - start }
}

function expectBlockedOnce(v: Verdict, ruleId: string): void {
  expect(v.risk).toBe('critical')
  expect(v.action).toBe('block')
  expect(v.reasons.filter((r) => r.ruleId === ruleId)).toHaveLength(1)
  const keys = v.reasons.map((r) => `${r.ruleId}|${r.message}`)
  expect(new Set(keys).size).toBe(keys.length)
  for (const r of v.reasons) expect(r.message).not.toContain('\n')
}

describe('bounds', () => {
  const nests: Array<[string, string, ShellDialect?]> = [
    ['$( … ) a thousand levels', '$('.repeat(1000) + 'ls' + ')'.repeat(1000)],
    ['( … ) a thousand levels', '( '.repeat(1000) + 'ls' + ' )'.repeat(1000)],
    ['{ …; } a thousand levels', '{ '.repeat(1000) + 'ls; ' + '}; '.repeat(1000)],
    ['${a:-…} two thousand levels', 'echo ' + '${a:-'.repeat(2000) + 'x' + '}'.repeat(2000)],
    ['zsh $( … )', '$('.repeat(1000) + 'ls' + ')'.repeat(1000), 'zsh'],
    ['fish ( … )', 'echo ' + '('.repeat(1000) + 'ls' + ')'.repeat(1000), 'fish'],
    ['PowerShell ( … )', '('.repeat(1000) + 'ls' + ')'.repeat(1000), 'powershell'],
  ]
  it.each(nests)('blocks %s, even at the permissive level', (_name, cmd, shell) => {
    const { v, ms } = timed(cmd, shell)
    expectBlockedOnce(v, 'limits.nesting')
    expect(v.reasons[0]!.message).toMatch(/too deep to analyse, blocked/)
    expect(ms).toBeLessThan(10_000)
  })

  it('finds rm -rf / after 20,000 chained commands, and stays quiet without it', () => {
    const bad = timed('true && '.repeat(20_000) + 'rm -rf /')
    expect(bad.v).toMatchObject({ risk: 'critical', action: 'block' })
    expect(bad.v.reasons).toHaveLength(1)
    expect(bad.v.reasons[0]!.ruleId).toBe('fs.rm.root')
    expect(bad.ms).toBeLessThan(15_000)
    const fine = timed('true && '.repeat(20_000) + 'ls')
    expect(fine.v).toMatchObject({ risk: 'safe', action: 'allow' })
    expect(fine.ms).toBeLessThan(15_000)
    const piped = timed('ls | '.repeat(5_000) + 'cat')
    expect(piped.v.risk).toBe('safe')
    expect(piped.ms).toBeLessThan(15_000)
  })

  it('blocks scripts nested in scripts past the bound, once', () => {
    let cmd = 'ls'
    for (let i = 0; i < 20; i++)
      cmd = `echo ${Buffer.from(cmd).toString('base64')} | base64 -d | sh`
    expectBlockedOnce(timed(cmd).v, 'limits.scripts')
  })

  it('blocks input longer than the bound without parsing it', () => {
    const { v, ms } = timed('ls '.repeat(100_000))
    expectBlockedOnce(v, 'limits.input')
    expect(ms).toBeLessThan(1_000)
  })

  it('survives self-referencing aliases and functions', () => {
    for (const cmd of ['alias a=b; alias b=a; a', 'f() { f; }; f', 'f() { g; }; g() { f; }; f']) {
      const { v, ms } = timed(cmd)
      expect(v.risk).toBe('safe')
      expect(ms).toBeLessThan(5_000)
    }
    expect(timed('f() { f | f & }; f').v.risk).toBe('critical')
  })

  it('a policy cannot relax a bound', () => {
    const v = analyzeCommand('$('.repeat(200) + ')'.repeat(200), {
      level: 'permissive',
      policy: {
        version: 1,
        rules: [{ id: 'allow-all', effect: 'allow', match: { minRisk: 'safe' } }],
      },
    })
    expect(v.action).toBe('block')
  })

  it('a parse error is never allowed without a confirmation', () => {
    expect(analyzeCommand('rm -rf "/tmp', { level: 'permissive' }).action).toBe('confirm')
  })
})
