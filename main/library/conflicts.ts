import * as Y from 'yjs'
import { DOC_ROOT, PATTERN_FIELDS } from '../../contract/sync'

/**
 * Finds concurrent edits of one pattern field in a transaction that brought remote changes.
 *
 * A Y.Map key is a chain of items; each new value records as its `origin` the item that was
 * visible when it was written. Two values with the same origin were written without either
 * author seeing the other's: a concurrent edit. Yjs keeps one of them (deterministically); this
 * reports both so the app can show a marker instead of losing one silently. It reads the items
 * before Yjs garbage-collects deleted content (observers and `afterTransaction` run first).
 */
export interface DetectedConflict {
  patternId: string
  field: string
  mine: unknown
  theirs: unknown
  kept: 'mine' | 'theirs'
  /** Who wrote `theirs`: the `updatedBy` their client wrote with it, when it can be read. */
  by?: string
  /** The Yjs client that wrote `theirs` (to name it from awareness when `by` is unknown). */
  client: number
}

const FIELDS = new Set<string>(PATTERN_FIELDS)
// Bookkeeping fields change on every edit; a clash there is not news to a person.
const IGNORED = new Set(['updatedAt', 'updatedBy', 'createdAt', 'author'])

export function detectConflicts(tr: Y.Transaction): DetectedConflict[] {
  const doc = tr.doc
  const local = doc.clientID
  const patterns = doc.getMap(DOC_ROOT.patterns)
  const found = new Map<string, DetectedConflict>()
  tr.afterState.forEach((after, client) => {
    if (client === local) return
    const before = tr.beforeState.get(client) ?? 0
    if (after <= before) return
    const structs = doc.store.clients.get(client)
    if (!structs) return
    for (let i = Y.findIndexSS(structs, before); i < structs.length; i++) {
      const item = structs[i]
      if (!(item instanceof Y.Item) || item.parentSub === null) continue
      const field = item.parentSub
      if (!FIELDS.has(field) || IGNORED.has(field)) continue
      const parent = item.parent
      if (!(parent instanceof Y.Map)) continue
      const patternItem = parent._item
      if (!patternItem || patternItem.parent !== patterns || patternItem.parentSub === null)
        continue
      const conflict = compare(item, parent, field, local)
      if (conflict)
        found.set(`${patternItem.parentSub}\u0000${field}`, {
          patternId: patternItem.parentSub,
          ...conflict,
        })
    }
  })
  return [...found.values()]
}

function compare(
  theirs: Y.Item,
  map: Y.Map<unknown>,
  field: string,
  local: number,
): Omit<DetectedConflict, 'patternId'> | null {
  const visible = map._map.get(field)
  if (!visible) return null
  let sibling = false
  let latestLocal: Y.Item | null = null
  // Walk the key's chain from the newest value back.
  for (let item: Y.Item | null = visible; item; item = item.left as Y.Item | null) {
    if (item.id.client !== local) continue
    latestLocal ??= item
    if (sameId(item.origin, theirs.origin)) sibling = true
  }
  if (!sibling || !latestLocal) return null
  const theirValue = valueOf(theirs)
  const myValue = valueOf(latestLocal)
  if (theirValue === undefined || myValue === undefined) return null
  if (JSON.stringify(theirValue) === JSON.stringify(myValue)) return null
  const kept = visible.id.client === local ? 'mine' : visible === theirs ? 'theirs' : null
  if (!kept) return null
  const by = authorOf(map, theirs.id.client)
  return {
    field,
    mine: myValue,
    theirs: theirValue,
    kept,
    client: theirs.id.client,
    ...(by ? { by } : {}),
  }
}

/** The newest `updatedBy` value a client wrote in this pattern (its author), if still readable. */
function authorOf(map: Y.Map<unknown>, client: number): string | undefined {
  for (let item = map._map.get('updatedBy') ?? null; item; item = item.left as Y.Item | null) {
    if (item.id.client !== client) continue
    const v = valueOf(item)
    if (typeof v === 'string') return v
  }
  return undefined
}

function sameId(a: Y.ID | null, b: Y.ID | null): boolean {
  if (a === null || b === null) return a === b
  return a.client === b.client && a.clock === b.clock
}

function valueOf(item: Y.Item): unknown {
  if (!(item.content instanceof Y.ContentAny)) return undefined
  return item.content.getContent()[0]
}
