import { beforeAll, describe, expect, it } from 'vitest'
import { templateParameterNames } from '../../contract/sync'
import { initSafety } from '../safety/analyze'
import { templateVerdict } from './decide'
import { loadStarter } from './open'
import { fillTemplate } from './template'

/** The starter library, checked by the safety engine and the template filler. */
const starter = loadStarter()
beforeAll(() => initSafety())

describe('starter library', () => {
  it('has at least 100 patterns across the common areas', () => {
    expect(starter.length).toBeGreaterThanOrEqual(100)
    const areas = new Set(starter.map((p) => p.tags[0]))
    for (const area of [
      'git',
      'docker',
      'kubernetes',
      'files',
      'network',
      'processes',
      'system',
      'cloud',
    ])
      expect(areas.has(area), area).toBe(true)
  })

  it('declares exactly the parameters each template uses', () => {
    for (const p of starter) {
      const used = templateParameterNames(p.command).sort()
      expect(p.parameters.map((x) => x.name).sort(), p.title).toEqual(used)
    }
  })

  it('parses every template, none critical, and warns where a pattern destroys or rewrites', () => {
    const risks: Record<string, number> = {}
    for (const p of starter) {
      const v = templateVerdict(p, { shell: 'bash', canRequestApproval: false })
      risks[v.risk] = (risks[v.risk] ?? 0) + 1
      expect(v.parseError, `${p.title}: ${v.command}`).toBeUndefined()
      expect(v.risk, p.title).not.toBe('critical')
      if (p.tags.includes('destructive'))
        expect(v.risk, `${p.title} is tagged destructive`).not.toBe('safe')
    }
    console.log('starter template risks:', risks)
  })

  it('fills every pattern whose parameters all have defaults, in each shell', () => {
    for (const p of starter) {
      if (!p.parameters.every((x) => x.default !== undefined)) continue
      for (const shell of ['bash', 'zsh', 'fish'] as const) {
        const r = fillTemplate(p.command, p.parameters, {}, shell)
        expect(r.errors, `${p.title} (${shell})`).toEqual({})
      }
    }
  })
})
