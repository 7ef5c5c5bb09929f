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
      const v = analyzeCommand(c.cmd, { shell: c.shell })
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
      const v = analyzeCommand(c.cmd, { shell: c.shell })
      if (c.expect === 'critical') expect(v.action, c.cmd).toBe('block')
      if (c.expect === 'safe' && v.risk === 'safe') expect(v.action, c.cmd).toBe('allow')
    }
  })
})
