import { describe, expect, it } from 'vitest'
import { TEST_CATALOG } from './fake-api'
import { formatBytes, formatEta, formatSpeed, percentOf, ramFit, recommendedModel } from './format'

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

  it('recommends the highest RAM tier the machine reaches', () => {
    expect(recommendedModel(TEST_CATALOG, 0.5)?.id).toBe('tiny')
    expect(recommendedModel(TEST_CATALOG, 7.9)?.id).toBe('tiny')
    expect(recommendedModel(TEST_CATALOG, 8)?.id).toBe('mid')
    expect(recommendedModel(TEST_CATALOG, 64)?.id).toBe('big')
    // An embedding model (semantic history search) is never the recommended chat model.
    const embedding = { ...TEST_CATALOG[0]!, id: 'embed', kind: 'embedding' as const }
    expect(recommendedModel([embedding, ...TEST_CATALOG], 0.5)?.id).toBe('tiny')
    expect(recommendedModel([embedding], 64)).toBeNull()
    expect(ramFit(TEST_CATALOG[2]!, 6)).toBe('needs 8 GB RAM')
    expect(ramFit(TEST_CATALOG[1]!, 6)).toBe('fits this machine')
  })
})
