import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import {
  DOC_ROOT,
  SYNC_SCHEMA_VERSION,
  canWrite,
  canonicalJson,
  clientEventSchema,
  isPermanentClose,
  CLOSE,
  lowerRole,
  parseRoomName,
  readLibrary,
  readPattern,
  readPolicyDocument,
  roomName,
  templateParameterNames,
  writePattern,
  writePolicyDocument,
} from './sync'

const base = {
  id: 'p1',
  title: 'Restart a deployment',
  command: 'kubectl rollout restart deploy/{{name}} -n {{ns}}',
  parameters: [{ name: 'name' }, { name: 'ns', default: 'default', allowed: ['default', 'prod'] }],
  tags: ['k8s'],
  author: 'ana',
  createdAt: 1,
  updatedAt: 1,
}

describe('room names', () => {
  it('parses libraries and the policy room, and refuses everything else', () => {
    expect(parseRoomName('acme/deploy')).toMatchObject({ team: 'acme', kind: 'library' })
    expect(parseRoomName('acme/.policy')).toMatchObject({ team: 'acme', kind: 'policy' })
    expect(roomName('acme', 'ops.k8s')).toBe('acme/ops.k8s')
    for (const bad of [
      '',
      'acme',
      'acme/',
      '/lib',
      'Acme/lib',
      'acme/.hidden',
      'acme/lib/x',
      '../etc/passwd',
      'acme/li\u0000b',
      'acme/\u001b[31mred',
      'a'.repeat(100) + '/' + 'b'.repeat(100),
      '_server/lib',
    ])
      expect(parseRoomName(bad), JSON.stringify(bad)).toBeNull()
    expect(() => roomName('acme', '../x')).toThrow(/Invalid room/)
  })
})

describe('roles', () => {
  it('lets engineers write libraries and only admins write the policy', () => {
    expect(canWrite('engineer', 'library')).toBe(true)
    expect(canWrite('junior', 'library')).toBe(false)
    expect(canWrite('readonly', 'library')).toBe(false)
    expect(canWrite('engineer', 'policy')).toBe(false)
    expect(canWrite('admin', 'policy')).toBe(true)
    expect(lowerRole('admin', 'junior')).toBe('junior')
  })

  it('marks 44xx close codes permanent and the rest transient', () => {
    expect(isPermanentClose(CLOSE.revoked)).toBe(true)
    expect(isPermanentClose(CLOSE.storageUnavailable)).toBe(false)
    expect(isPermanentClose(CLOSE.goingAway)).toBe(false)
  })
})

describe('library document', () => {
  it('round-trips a pattern and lists template parameters', () => {
    const doc = new Y.Doc()
    writePattern(doc, base)
    const lib = readLibrary(doc)
    expect(lib.ok && lib.value.patterns[0]?.command).toBe(base.command)
    expect(lib.ok && lib.value.schema).toBe(SYNC_SCHEMA_VERSION)
    expect(templateParameterNames(base.command)).toEqual(['name', 'ns'])
  })

  it('refuses a command held as Y.Text (character merges could splice two commands)', () => {
    const doc = new Y.Doc()
    writePattern(doc, base)
    const map = doc.getMap(DOC_ROOT.patterns).get('p1') as Y.Map<unknown>
    map.set('command', new Y.Text('rm -rf /'))
    const r = readPattern('p1', map)
    expect(r.ok).toBe(false)
    expect(!r.ok && r.error).toMatch(/command: a shared type/)
    const lib = readLibrary(doc)
    expect(lib.ok && lib.value.invalid).toEqual([{ id: 'p1', error: expect.any(String) }])
  })

  it('keeps concurrent edits of different fields and resolves one field to one writer', () => {
    const a = new Y.Doc()
    const b = new Y.Doc()
    writePattern(a, base)
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    writePattern(a, { ...base, title: 'New title' })
    writePattern(b, { ...base, command: 'kubectl get pods -n {{ns}}' })
    writePattern(a, { ...base, title: 'New title', command: 'echo a' })
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a))
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b))
    const ra = readLibrary(a)
    const rb = readLibrary(b)
    expect(ra).toEqual(rb)
    const p = ra.ok ? ra.value.patterns[0] : undefined
    expect(p?.title).toBe('New title')
    expect(['echo a', 'kubectl get pods -n {{ns}}']).toContain(p?.command)
  })

  it('refuses documents from the future and invalid patterns with a reason', () => {
    const doc = new Y.Doc()
    doc.getMap(DOC_ROOT.meta).set('schema', SYNC_SCHEMA_VERSION + 1)
    const r = readLibrary(doc)
    expect(r.ok).toBe(false)
    expect(!r.ok && r.error).toMatch(/newer than this version/)
    expect(() => writePattern(doc, base)).toThrow(/newer/)
    expect(() => writePattern(new Y.Doc(), { ...base, command: '' })).toThrow()
    expect(() =>
      writePattern(new Y.Doc(), { ...base, parameters: [{ name: 'a' }, { name: 'a' }] }),
    ).toThrow(/duplicate parameter/)
  })
})

describe('policy document', () => {
  it('validates with the app policy schema', () => {
    const doc = new Y.Doc()
    expect(readPolicyDocument(doc)).toEqual({ ok: true, value: { policy: null } })
    writePolicyDocument(
      doc,
      { version: 1, rules: [{ id: 'r', effect: 'block', match: { command: 'rm' } }] },
      'ana',
    )
    const r = readPolicyDocument(doc)
    expect(r.ok && r.value.policy?.rules[0]?.id).toBe('r')
    expect(r.ok && r.value.updatedBy).toBe('ana')
    expect(() => writePolicyDocument(doc, { version: 2 }, 'ana')).toThrow()
    doc.getMap(DOC_ROOT.policy).set('document', { version: 1, rules: [{ id: 'x' }] })
    const bad = readPolicyDocument(doc)
    expect(!bad.ok && bad.error).toMatch(/invalid policy/)
  })
})

describe('client events and canonical JSON', () => {
  it('accepts a full event and refuses unknown fields or bad ids', () => {
    const ev = { id: 'ev-00000001', kind: 'command.run', ts: 1, team: 'acme', exitCode: 0 }
    expect(clientEventSchema.safeParse(ev).success).toBe(true)
    expect(clientEventSchema.safeParse({ ...ev, user: 'mallory' }).success).toBe(false)
    expect(clientEventSchema.safeParse({ ...ev, id: 'x' }).success).toBe(false)
    expect(clientEventSchema.safeParse({ ...ev, id: 'ev\u0000000000' }).success).toBe(false)
  })

  it('sorts keys and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: undefined, c: 'x' }] })).toBe(
      '{"a":[1,{"c":"x"}],"b":1}',
    )
    expect(() => canonicalJson({ a: Infinity })).toThrow()
  })
})
