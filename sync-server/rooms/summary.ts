import * as Y from 'yjs'
import {
  DOC_ROOT,
  PATTERN_FIELDS,
  isFromTheFuture,
  readPolicyDocument,
  type PatternChange,
} from '../../contract/sync'
import type { Policy } from '../../contract/policy'
import { readTeamTelemetry } from '../../contract/telemetry'
import type { AuditDraft } from '../audit/chain'

export type Redact = (text: string) => string
/** The safety engine's rating of a command template, when the engine is loaded. */
export type Assess = (command: string) => PatternChange['risk'] | null

/** What one client update did to a document, for the audit log and for refusal. */
export interface ChangeCapture {
  patterns: Map<string, { change: PatternChange['change']; fields: Set<string> }>
  metaChanged: boolean
  policyChanged: boolean
  /** Set when the update broke the format (shared types where plain values belong). */
  violation: string | null
  /** The update marked the document as written by a newer version. */
  future: boolean
}

export function newCapture(): ChangeCapture {
  return {
    patterns: new Map(),
    metaChanged: false,
    policyChanged: false,
    violation: null,
    future: false,
  }
}

const PLAIN_FIELDS = new Set<string>(PATTERN_FIELDS)

/**
 * Watches a document and records, into `sink()` (when it returns a capture), which patterns were
 * added, changed (and which fields) or removed, and whether the update broke the format: a
 * pattern that is not a map, or a field holding a shared type (a Y.Text command would let two
 * concurrent edits splice into a command neither wrote).
 */
export function watchDocument(doc: Y.Doc, sink: () => ChangeCapture | null): void {
  const patterns = doc.getMap(DOC_ROOT.patterns)
  patterns.observeDeep((events) => {
    const cap = sink()
    if (!cap) return
    for (const event of events) {
      if (event.target === patterns) {
        for (const [id, change] of event.changes.keys) {
          const value = patterns.get(id)
          if (change.action === 'delete') {
            cap.patterns.set(id, { change: 'removed', fields: new Set() })
            continue
          }
          cap.patterns.set(id, { change: 'added', fields: new Set() })
          if (!(value instanceof Y.Map)) cap.violation ??= `pattern ${id} is not a map`
          else
            value.forEach((v, key) => {
              if (v instanceof Y.AbstractType && PLAIN_FIELDS.has(key))
                cap.violation ??= `pattern ${id}: ${key} must be a plain value, not a shared type`
            })
        }
        continue
      }
      const target = event.target
      const id = target.parent === patterns ? target._item?.parentSub : null
      if (!id || !(target instanceof Y.Map)) {
        cap.violation ??= 'a shared type nested inside a pattern field'
        continue
      }
      const entry = cap.patterns.get(id) ?? {
        change: 'changed' as const,
        fields: new Set<string>(),
      }
      for (const key of (event as Y.YMapEvent<unknown>).keysChanged) {
        entry.fields.add(key)
        if (target.get(key) instanceof Y.AbstractType && PLAIN_FIELDS.has(key))
          cap.violation ??= `pattern ${id}: ${key} must be a plain value, not a shared type`
      }
      cap.patterns.set(id, entry)
    }
  })
  doc.getMap(DOC_ROOT.meta).observe(() => {
    const cap = sink()
    if (!cap) return
    cap.metaChanged = true
    if (isFromTheFuture(doc)) {
      cap.future = true
      cap.violation ??= 'meta.schema is newer than this server supports'
    }
  })
  doc.getMap(DOC_ROOT.policy).observe((event) => {
    const cap = sink()
    if (!cap) return
    cap.policyChanged = true
    for (const key of event.keysChanged)
      if (doc.getMap(DOC_ROOT.policy).get(key) instanceof Y.AbstractType)
        cap.violation ??= `policy.${key} must be a plain value`
  })
}

/** The audit details of a library change: per pattern, with title and redacted command. */
export function describeLibraryChange(
  doc: Y.Doc,
  cap: ChangeCapture,
  redact: Redact,
  assess: Assess,
): PatternChange[] {
  const patterns = doc.getMap(DOC_ROOT.patterns)
  const out: PatternChange[] = []
  for (const [id, entry] of cap.patterns) {
    const change: PatternChange = { id, change: entry.change }
    if (entry.change === 'changed') change.fields = [...entry.fields].sort()
    const map = patterns.get(id)
    if (map instanceof Y.Map) {
      const title: unknown = map.get('title')
      const command: unknown = map.get('command')
      if (typeof title === 'string') change.title = redact(title.slice(0, 200))
      if (
        typeof command === 'string' &&
        (entry.change === 'added' || entry.fields.has('command'))
      ) {
        change.command = redact(command.slice(0, 4_096))
        const risk = assess(command)
        if (risk) change.risk = risk
      }
    }
    out.push(change)
  }
  return out
}

/** The audit details of a policy change: what the new policy is, and which rules moved. */
export function describePolicyChange(
  doc: Y.Doc,
  before: Policy | null,
): { details: Record<string, unknown>; policy: Policy | null } {
  const read = readPolicyDocument(doc)
  if (!read.ok) return { details: { valid: false, error: read.error }, policy: before }
  const after = read.value.policy
  const ids = (p: Policy | null) => new Map((p?.rules ?? []).map((r) => [r.id, JSON.stringify(r)]))
  const a = ids(before)
  const b = ids(after)
  return {
    policy: after,
    details: {
      valid: true,
      level: after?.level ?? null,
      rules: after?.rules.length ?? 0,
      added: [...b.keys()].filter((k) => !a.has(k)),
      removed: [...a.keys()].filter((k) => !b.has(k)),
      changed: [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k)),
      roles: after?.roles ?? {},
      // What members' apps send (contract/telemetry.ts), as it stands after the change.
      telemetry: readTeamTelemetry(doc).telemetry,
    },
  }
}

/**
 * Merges the `library.change` drafts of one group commit per (room, actor): many keystrokes
 * become one record listing each pattern once (added wins over changed; fields are unioned).
 * Other drafts keep their order.
 */
export function coalesceDrafts(drafts: AuditDraft[]): AuditDraft[] {
  const out: AuditDraft[] = []
  const merged = new Map<string, { draft: AuditDraft; byId: Map<string, PatternChange> }>()
  for (const d of drafts) {
    if (d.kind !== 'library.change') {
      out.push(d)
      continue
    }
    const key = `${d.room}\u0000${d.actor}`
    let m = merged.get(key)
    if (!m) {
      m = {
        draft: { ...d, data: { ...d.data, patterns: [] as PatternChange[], updates: 0 } },
        byId: new Map(),
      }
      merged.set(key, m)
      out.push(m.draft)
    }
    m.draft.data!.updates = Number(m.draft.data!.updates) + Number(d.data?.updates ?? 1)
    for (const p of (d.data?.patterns as PatternChange[] | undefined) ?? []) {
      const prev = m.byId.get(p.id)
      if (!prev) {
        const copy = { ...p, ...(p.fields ? { fields: [...p.fields] } : {}) }
        m.byId.set(p.id, copy)
        ;(m.draft.data!.patterns as PatternChange[]).push(copy)
        continue
      }
      if (p.change !== 'changed') {
        // Removed, or (re)created as a new map: the latest action is what happened.
        prev.change = p.change
        delete prev.fields
      } else if (prev.change === 'changed') {
        prev.fields = [...new Set([...(prev.fields ?? []), ...(p.fields ?? [])])].sort()
      } else if (prev.change === 'removed') {
        prev.change = 'changed'
        prev.fields = [...(p.fields ?? [])]
      }
      if (p.title !== undefined) prev.title = p.title
      if (p.command !== undefined) prev.command = p.command
    }
  }
  return out
}
