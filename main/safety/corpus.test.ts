import { beforeAll, describe, expect, it } from 'vitest'
import { analyzeCommand, initSafety } from './index'
import { loadCorpus } from './corpus'
import { RISK_ORDER } from './types'

const cases = loadCorpus(undefined, 'original')

beforeAll(async () => {
  await initSafety()
})

describe('labelled corpus', () => {
  it('has several hundred cases across every category', () => {
    expect(cases.length).toBeGreaterThanOrEqual(500)
    const categories = new Set(cases.map((c) => c.category))
    for (const c of [
      'files',
      'disk',
      'git',
      'evasions',
      'false-positives',
      'powershell',
      'fish',
      'db',
    ]) {
      expect(categories).toContain(c)
    }
  })

  it('rates no critical command below critical and no safe command high or critical', () => {
    const missedCritical: string[] = []
    const falseAlarms: string[] = []
    let exact = 0
    for (const c of cases) {
      const v = analyzeCommand(c.cmd, { shell: c.shell, platform: c.platform })
      if (v.risk === c.expect) exact++
      if (c.expect === 'critical' && v.risk !== 'critical')
        missedCritical.push(`${c.cmd} -> ${v.risk}`)
      if (c.expect === 'safe' && RISK_ORDER[v.risk] >= RISK_ORDER.high)
        falseAlarms.push(`${c.cmd} -> ${v.risk}`)
    }
    const rate = exact / cases.length
    console.log(`safety corpus: ${exact}/${cases.length} exact (${(rate * 100).toFixed(1)}%)`)
    expect(missedCritical).toEqual([])
    expect(falseAlarms).toEqual([])
    expect(rate).toBeGreaterThan(0.9)
  })

  it('blocks every critical case and allows every safe case at the default level', () => {
    for (const c of cases) {
      const v = analyzeCommand(c.cmd, { shell: c.shell, platform: c.platform })
      if (c.expect === 'critical') expect(v.action, c.cmd).toBe('block')
      if (c.expect === 'safe' && v.risk === 'safe') expect(v.action, c.cmd).toBe('allow')
    }
  })
})

/**
 * The second corpus (issue 14): adversarial cases written before the round-two rule work, by what
 * each command does, across every shell. Held to the targets for the independent corpus.
 */
describe('adversarial corpus', () => {
  const adversarial = loadCorpus(undefined, 'adversarial')

  it('covers every class of the issue in every shell', () => {
    expect(adversarial.length).toBeGreaterThanOrEqual(700)
    const shells = new Set(adversarial.map((c) => c.shell ?? 'bash'))
    for (const s of ['bash', 'zsh', 'fish', 'powershell']) expect(shells).toContain(s)
    const categories = new Set(adversarial.map((c) => c.category))
    for (const c of ['hidden', 'interpreters', 'cwd', 'remote', 'exposure', 'calibration', 'zsh'])
      expect(categories).toContain(`adversarial-${c}`)
  })

  it('meets the targets: critical 1.00, dangerous ≥ 0.97, safe flagged ≤ 2%, exact ≥ 0.85', () => {
    let critical = 0
    let criticalHit = 0
    let dangerous = 0
    let dangerousHit = 0
    let safe = 0
    let safeFlagged = 0
    let exact = 0
    const misses: string[] = []
    for (const c of adversarial) {
      const v = analyzeCommand(c.cmd, { shell: c.shell, platform: c.platform })
      if (v.risk === c.expect) exact++
      else misses.push(`${c.cmd} [${c.shell ?? 'bash'}]: ${v.risk}, expected ${c.expect}`)
      if (c.expect === 'critical') {
        critical++
        if (v.risk === 'critical') criticalHit++
      }
      if (RISK_ORDER[c.expect] >= RISK_ORDER.high) {
        dangerous++
        if (RISK_ORDER[v.risk] >= RISK_ORDER.high) dangerousHit++
      }
      if (c.expect === 'safe') {
        safe++
        if (RISK_ORDER[v.risk] >= RISK_ORDER.high) safeFlagged++
      }
    }
    console.log(
      `adversarial corpus (${adversarial.length}): critical ${criticalHit}/${critical}, ` +
        `dangerous ≥ high ${dangerousHit}/${dangerous}, safe flagged ${safeFlagged}/${safe}, ` +
        `exact ${exact}/${adversarial.length}` +
        (misses.length ? `\n  ${misses.slice(0, 20).join('\n  ')}` : ''),
    )
    expect(criticalHit / critical).toBe(1)
    expect(dangerousHit / dangerous).toBeGreaterThanOrEqual(0.97)
    expect(safeFlagged / safe).toBeLessThanOrEqual(0.02)
    expect(exact / adversarial.length).toBeGreaterThanOrEqual(0.85)
  })
})
