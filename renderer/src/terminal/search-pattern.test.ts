import { describe, expect, it } from 'vitest'
import { checkSearchPattern, hasNestedRepetition, MAX_SEARCH_CHARS } from './search-pattern'

describe('checkSearchPattern', () => {
  it('accepts plain text (any characters) and ordinary regular expressions', () => {
    expect(checkSearchPattern('(a+)+ is just text', false)).toBeNull()
    expect(checkSearchPattern('\0\x1b[31m', false)).toBeNull()
    for (const pattern of [
      'error:\\s+\\d+',
      '^\\$ ',
      'fo[o+]+',
      '(ab)?c+',
      'a{2,3}b',
      '\\(x+\\)+',
    ]) {
      expect(checkSearchPattern(pattern, true)).toBeNull()
    }
  })

  it('refuses patterns that backtrack exponentially, quickly', () => {
    const hostile = ['(a+)+$', '(a*)*b', '((ab)*)+', '(a|aa)*c', '(x+x+)+y', '(.*a){20}', '((a+))+']
    const started = performance.now()
    for (const pattern of hostile) expect(checkSearchPattern(pattern, true)).toMatch(/exponential/)
    const deep = '('.repeat(5000) + 'a+' + ')+'.repeat(5000)
    expect(hasNestedRepetition(deep)).toBe(true)
    expect(performance.now() - started).toBeLessThan(200)
  })

  it('says what is wrong with an invalid or oversized pattern', () => {
    expect(checkSearchPattern('(unclosed', true)).toMatch(/^Invalid pattern/)
    expect(checkSearchPattern('x'.repeat(MAX_SEARCH_CHARS + 1), false)).toMatch(/limited/)
  })
})
