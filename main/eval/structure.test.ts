import { beforeAll, describe, expect, it } from 'vitest'
import { initSafety } from '../safety'
import { matchAccepted, normalizeOperand, splitFlag } from './structure'
import type { MatchOptions } from './suite-schema'

const loose: MatchOptions = { flags: 'set', targets: 'multiset' }

beforeAll(() => initSafety())

describe('splitFlag and normalizeOperand', () => {
  it('splits short clusters, attached values and --opt=value; keeps word options', () => {
    expect(splitFlag('ls', '-la')).toEqual({ flags: ['-l', '-a'], values: [] })
    expect(splitFlag('head', '-n5')).toEqual({ flags: ['-n'], values: ['5'] })
    expect(splitFlag('kubectl', '--namespace=prod')).toEqual({
      flags: ['--namespace'],
      values: ['prod'],
    })
    expect(splitFlag('find', '-name')).toEqual({ flags: ['-name'], values: [] })
    expect(splitFlag('ls', '-l')).toEqual({ flags: ['-l'], values: [] })
  })

  it('treats ./x as x, $HOME as ~, and ignores a trailing slash', () => {
    expect(normalizeOperand('./logs/')).toBe('logs')
    expect(normalizeOperand('$HOME/Downloads')).toBe('~/Downloads')
    expect(normalizeOperand('${HOME}')).toBe('~')
    expect(normalizeOperand('/')).toBe('/')
    expect(normalizeOperand('.')).toBe('.')
  })
})

describe('matchAccepted (structure from the safety engine parse)', () => {
  const matches = (answer: string, accepted: string[], options = loose) =>
    matchAccepted(answer, accepted, options).matched !== null

  it('accepts the same command written differently', () => {
    expect(matches('ls -al', ['ls -la'])).toBe(true)
    expect(matches('ls -l -a', ['ls -la'])).toBe(true)
    expect(matches('tar -zcf logs.tar.gz ./logs/', ['tar -czf logs.tar.gz logs'])).toBe(true)
    expect(matches(`grep "ERROR" app.log`, ['grep ERROR app.log'])).toBe(true)
    expect(matches('head -n5 README.md', ['head -n 5 README.md'])).toBe(true)
    expect(
      matches('kubectl get pods --namespace=prod', ['kubectl get pods --namespace prod']),
    ).toBe(true)
    expect(matches('/usr/bin/find . -type f -empty', ['find . -empty -type f'])).toBe(true)
  })

  it('rejects a different program, subcommand, flag, operand, pipeline or wrapper', () => {
    const why = (answer: string, accepted: string) =>
      matchAccepted(answer, [accepted], loose).reason
    expect(why('ls -la', 'ls -l')).toMatch(/flags/)
    expect(why('dir -la', 'ls -la')).toMatch(/runs dir instead of ls/)
    expect(why('git log', 'git status')).toMatch(/subcommand log/)
    expect(why('grep WARN app.log', 'grep ERROR app.log')).toMatch(/operands/)
    expect(why('sort names.txt', 'sort names.txt | uniq')).toMatch(/1 program/)
    expect(why('sudo systemctl restart nginx', 'systemctl restart nginx')).toMatch(/through sudo/)
    expect(why('grep ERROR app.log > out.txt', 'grep ERROR app.log')).toMatch(/redirects/)
    expect(why('ls && pwd', 'ls | pwd')).toMatch(/joined by &&/)
    expect(why('ls -la "', 'ls -la')).toMatch(/does not parse/)
  })

  it('honours the task options: ordered operands, extra flags, ignored flags', () => {
    expect(matches('mv b a', ['mv a b'])).toBe(true)
    expect(matches('mv b a', ['mv a b'], { flags: 'set', targets: 'ordered' })).toBe(false)
    expect(matches('ls -lt', ['ls -t'], { flags: 'subset', targets: 'multiset' })).toBe(true)
    expect(matches('ls -l', ['ls -t'], { flags: 'subset', targets: 'multiset' })).toBe(false)
    expect(matches('ls -R src', ['ls src'], { flags: 'ignore', targets: 'multiset' })).toBe(true)
  })

  it('stays bounded on hostile answers (huge, NUL bytes, escapes, deep nesting)', () => {
    const started = performance.now()
    const huge = `echo ${'a'.repeat(200_000)}`
    const nested = `${'$('.repeat(300)}ls${')'.repeat(300)}`
    for (const answer of [huge, 'ls\0 -la', '\u001b]0;pwned\u0007ls', nested, '|||;;&&']) {
      const result = matchAccepted(answer, ['ls -la'], loose)
      expect(result.matched).toBeNull()
      expect(typeof result.reason).toBe('string')
    }
    expect(performance.now() - started).toBeLessThan(10_000)
  })
})
