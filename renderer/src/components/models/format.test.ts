import { describe, expect, it } from 'vitest'
import { TEST_CATALOG } from './fake-api'
import { formatBytes, formatEta, formatSpeed, percentOf, ramFit } from './format'

describe('format', () => {
  it('formats sizes, speeds and ETAs with stable shapes', () => {
    expect(formatBytes(398_000_000)).toBe('398.0 MB')
    expect(formatBytes(4_680_000_000)).toBe('4.68 GB')
    expect(formatSpeed(12_345_678)).toBe('12.3 MB/s')
    expect(formatSpeed(0)).toBe('– MB/s')
    expect(formatEta(null)).toBe('–:––')
    expect(formatEta(5)).toBe('0:05')
    expect(formatEta(3725)).toBe('1:02:05')
    expect(percentOf(5, 0)).toBeNull()
    expect(percentOf(50, 200)).toBe(25)
  })

  // The recommended model comes from main (models:list `recommended`, catalog.ts's rule).
  it("says whether a model fits in this machine's memory", () => {
    expect(ramFit(TEST_CATALOG[2]!, 6)).toBe('needs 8 GB RAM')
    expect(ramFit(TEST_CATALOG[1]!, 6)).toBe('fits this machine')
  })
})
