import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { writePattern } from '../../contract/sync'
import { detectConflicts, type DetectedConflict } from './conflicts'

const base = {
  id: 'p1',
  title: 'Deploy',
  command: 'deploy {{env}}',
  author: 'ann',
  createdAt: 1,
  updatedAt: 1,
}

function pair(): { a: Y.Doc; b: Y.Doc; seen: Map<Y.Doc, DetectedConflict[]> } {
  const a = new Y.Doc()
  const b = new Y.Doc()
  const seen = new Map<Y.Doc, DetectedConflict[]>([
    [a, []],
    [b, []],
  ])
  for (const doc of [a, b])
    doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (tr.origin === 'remote') seen.get(doc)!.push(...detectConflicts(tr))
    })
  writePattern(a, base)
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a), 'remote')
  return { a, b, seen }
}

const exchange = (a: Y.Doc, b: Y.Doc) => {
  const toB = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b))
  const toA = Y.encodeStateAsUpdate(b, Y.encodeStateVector(a))
  Y.applyUpdate(b, toB, 'remote')
  Y.applyUpdate(a, toA, 'remote')
}

describe('detectConflicts', () => {
  it('reports a concurrent edit of one field on both sides, with both values', () => {
    const { a, b, seen } = pair()
    writePattern(a, { ...base, command: 'deploy --fast {{env}}', updatedAt: 2, updatedBy: 'ann' })
    writePattern(b, { ...base, command: 'deploy --safe {{env}}', updatedAt: 3, updatedBy: 'bob' })
    exchange(a, b)
    const fa = seen.get(a)!.find((c) => c.field === 'command')
    const fb = seen.get(b)!.find((c) => c.field === 'command')
    expect(fa).toMatchObject({
      patternId: 'p1',
      mine: 'deploy --fast {{env}}',
      theirs: 'deploy --safe {{env}}',
      by: 'bob',
    })
    expect(fb).toMatchObject({
      patternId: 'p1',
      mine: 'deploy --safe {{env}}',
      theirs: 'deploy --fast {{env}}',
      by: 'ann',
    })
    // Exactly one side kept its own value, and both documents agree.
    expect([fa!.kept, fb!.kept].sort()).toEqual(['mine', 'theirs'])
    expect(a.getMap('patterns').toJSON()).toEqual(b.getMap('patterns').toJSON())
    // Bookkeeping fields never make a marker.
    expect(seen.get(a)!.map((c) => c.field)).toEqual(['command'])
  })

  it('does not report edits of different fields, or sequential edits', () => {
    const { a, b, seen } = pair()
    writePattern(a, { ...base, title: 'Deploy it', updatedAt: 2 })
    writePattern(b, { ...base, command: 'deploy -v {{env}}', updatedAt: 2 })
    exchange(a, b)
    writePattern(a, { ...base, title: 'Deploy it', command: 'deploy -q {{env}}', updatedAt: 4 })
    exchange(a, b)
    expect(seen.get(a)).toEqual([])
    expect(seen.get(b)).toEqual([])
    expect(b.getMap('patterns').toJSON()['p1']).toMatchObject({
      title: 'Deploy it',
      command: 'deploy -q {{env}}',
    })
  })
})
