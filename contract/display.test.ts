import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { controlSegments, displayOffset, hasHiddenCharacters, showControls } from './display'

describe('showControls', () => {
  it('shows terminal escapes, C0, DEL and C1 visibly', () => {
    expect(showControls('echo hi\x1b]0;pwned\x07\x1b[2J\x1b[8mrm -rf ~')).toBe(
      'echo hi\\e]0;pwned\\a\\e[2J\\e[8mrm -rf ~',
    )
    expect(showControls('a\0b\rc\x7fd\x85e\x9bf\x01')).toBe('a\\0b\\rc\\x7fd\\x85e\\x9bf\\x01')
    expect(showControls('line1\nline2\tx')).toBe('line1\\nline2\\tx')
    expect(showControls('line1\nline2\tx', { keepNewlines: true, keepTabs: true })).toBe(
      'line1\nline2\tx',
    )
  })

  it('shows bidi overrides, zero-width and invisible characters', () => {
    expect(showControls('ls \u202egnp.exe')).toBe('ls \\u{202e}gnp.exe')
    expect(showControls('r\u200bm -rf /')).toBe('r\\u{200b}m -rf /')
    expect(showControls('\ufeffx\u2066y\u2069\u00ad\u2028')).toBe(
      '\\u{feff}x\\u{2066}y\\u{2069}\\u{00ad}\\u{2028}',
    )
    // Unicode tag characters (invisible "ASCII smuggling") and a lone surrogate.
    expect(showControls('a\u{e0041}b\ud800c')).toBe('a\\u{e0041}b\\u{d800}c')
  })

  it('leaves ordinary text, emoji and non-Latin scripts alone', () => {
    for (const s of ['git commit -m "fix"', 'echo 😀 é 日本語 עברית', 'printf "\\e[1m"', ''])
      expect(showControls(s)).toBe(s)
    expect(hasHiddenCharacters('echo 😀')).toBe(false)
    expect(hasHiddenCharacters('echo \x1b[2J')).toBe(true)
  })

  it('never lets a control character through, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
        const shown = showControls(s)
        // eslint-disable-next-line no-control-regex
        expect(shown).not.toMatch(/[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/)
        // The segments cover the original exactly, in order.
        const segs = controlSegments(s)
        expect(segs.map((g) => (g.control ? s.slice(g.start, g.end) : g.text)).join('')).toBe(s)
      }),
    )
  })

  it('maps spans of the original onto the shown text', () => {
    const cmd = 'echo \x1b[8m; rm -rf ~'
    const segs = controlSegments(cmd)
    const shown = showControls(cmd)
    const start = cmd.indexOf('rm')
    const a = displayOffset(segs, start)
    const b = displayOffset(segs, cmd.length)
    expect(shown.slice(a, b)).toBe('rm -rf ~')
    expect(displayOffset(segs, 0)).toBe(0)
  })

  it('is linear on a megabyte of escapes', () => {
    const big = '\x1b[2J'.repeat(250_000)
    const t = performance.now()
    expect(showControls(big).length).toBe(big.length + 250_000)
    expect(performance.now() - t).toBeLessThan(2000)
  })
})
