import { describe, expect, it } from 'vitest'
import { globMatch } from './glob'
import { analyzeCommand, initSafety, parsePolicy } from './index'

describe('globMatch', () => {
  it.each([
    ['/etc/**', '/etc/hosts', true],
    ['/etc/**', '/etc/a/b', true],
    ['/etc/**', '/var/x', false],
    ['~/.ssh/*', '~/.ssh/id_rsa', true],
    ['~/.ssh/*', '~/.ssh/a/b', false],
    ['**/prod/**', 'srv/prod/app', true],
    ['**/prod/**', 'prod/x', true],
    ['build', 'build', true],
    ['build', 'builds', false],
    ['*.{log,txt}', 'a.txt', true],
    ['file[0-9].txt', 'file7.txt', true],
    ['file[!0-9].txt', 'file7.txt', false],
    ['/data/**/*.db', '/data/a/b/x.db', true],
    ['/data/**/*.db', '/data/x.db', true],
    ['a?c', 'ac', false],
  ])('%s against %s is %s', (pattern, path, expected) => {
    expect(globMatch(pattern, path)).toBe(expected)
  })

  it('matches pathological patterns in bounded time (no backtracking blow-up)', () => {
    const cases: Array<[string, string]> = [
      ['**/'.repeat(30) + 'a', '/x'.repeat(5_000) + '/b'],
      ['*a'.repeat(40) + 'b', 'a'.repeat(20_000)],
      ['**/*a*a*a*a*a*a*a*a*b', ('a'.repeat(500) + '/').repeat(100)],
      ['{a,b}'.repeat(10) + 'c', 'ab'.repeat(20)],
    ]
    for (const [pattern, path] of cases) {
      const start = performance.now()
      expect(globMatch(pattern, path)).toBe(false)
      expect(performance.now() - start).toBeLessThan(2_000)
    }
  })

  it('keeps a check with a pathological path rule fast', async () => {
    await initSafety()
    const policy = parsePolicy({
      version: 1,
      rules: [{ id: 'deep', effect: 'block', match: { path: '**/'.repeat(8) + 'a' } }],
    })
    const path = '/' + Array.from({ length: 30 }, (_, i) => `d${i}`).join('/')
    const start = performance.now()
    expect(analyzeCommand(`cat ${path}`, { policy }).action).toBe('allow')
    expect(analyzeCommand(`cat ${path}/a`, { policy }).action).toBe('block')
    expect(performance.now() - start).toBeLessThan(2_000)
  })
})
