import { useEffect, useMemo, useState } from 'react'
import * as Y from 'yjs'
import type { Approval, FieldConflict, LibraryInfo, Presence } from '../../../../contract'
import { readLibrary, type LibrarySnapshot } from '../../../../contract/sync'
import type { Api } from '../../api/client'

/** Every library with its sync state, kept current by `library:info` / `library:removed`. */
export function useLibraries(api: Api): { libraries: LibraryInfo[]; error: string | null } {
  const [libraries, setLibraries] = useState<LibraryInfo[]>([])
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    const upsert = (info: LibraryInfo) =>
      setLibraries((list) => {
        const i = list.findIndex((l) => l.id === info.id)
        if (i < 0) return [...list, info]
        const next = [...list]
        next[i] = info
        return next
      })
    const offInfo = api.on('library:info', upsert)
    const offRemoved = api.on('library:removed', ({ id }) =>
      setLibraries((list) => list.filter((l) => l.id !== id)),
    )
    api.call('library:list', {}).then(
      (list) => {
        if (!live) return
        setLibraries((current) => {
          // Events that arrived meanwhile are newer than the list.
          const byId = new Map(list.map((l) => [l.id, l]))
          for (const l of current) byId.set(l.id, l)
          return [...byId.values()]
        })
        setError(null)
      },
      (err: unknown) => live && setError(err instanceof Error ? err.message : String(err)),
    )
    return () => {
      live = false
      offInfo()
      offRemoved()
    }
  }, [api])
  return { libraries, error }
}

export interface LibraryReplica {
  snapshot: LibrarySnapshot | null
  error: string | null
  presence: Presence[]
  conflicts: FieldConflict[]
}

/**
 * A replica of one library document: the state main sends on open, then Yjs update deltas as
 * events. Updates are idempotent, so subscribing before asking for the state loses nothing.
 */
export function useLibraryReplica(api: Api, id: string | null): LibraryReplica {
  const [version, setVersion] = useState(0)
  const [error, setError] = useState<string | null>(null)
  const [presence, setPresence] = useState<Presence[]>([])
  const [conflicts, setConflicts] = useState<FieldConflict[]>([])
  const doc = useMemo(() => (id ? new Y.Doc() : null), [id])
  useEffect(() => {
    if (!doc || !id) return
    let live = true
    const bump = () => live && setVersion((v) => v + 1)
    doc.on('update', bump)
    const offUpdate = api.on('library:update', (e) => {
      if (e.id !== id) return
      try {
        Y.applyUpdate(doc, base64ToBytes(e.update))
      } catch (err) {
        setError(
          `A library update could not be applied: ${err instanceof Error ? err.message : String(err)}`,
        )
      }
    })
    const offPresence = api.on('library:presence', (e) => e.id === id && setPresence(e.peers))
    const offConflicts = api.on(
      'library:conflicts',
      (e) => e.id === id && setConflicts(e.conflicts),
    )
    api
      .call('library:open', { id, stateVector: bytesToBase64(Y.encodeStateVector(doc)) })
      .then((r) => {
        if (!live) return
        Y.applyUpdate(doc, base64ToBytes(r.update))
        setPresence(r.presence)
        setConflicts(r.conflicts)
        setError(null)
        bump()
      })
      .catch((err: unknown) => live && setError(err instanceof Error ? err.message : String(err)))
    return () => {
      live = false
      doc.off('update', bump)
      offUpdate()
      offPresence()
      offConflicts()
      doc.destroy()
    }
  }, [api, doc, id])
  const snapshot = useMemo(() => {
    void version
    if (!doc) return null
    const r = readLibrary(doc)
    return r.ok ? r.value : null
  }, [doc, version])
  return { snapshot, error, presence, conflicts }
}

/** Approvals the user can see, live. */
export function useApprovals(
  api: Api,
  enabled: boolean,
): { approvals: Approval[]; errors: string[]; refresh(): void } {
  const [approvals, setApprovals] = useState<Approval[]>([])
  const [errors, setErrors] = useState<string[]>([])
  const [tick, setTick] = useState(0)
  useEffect(() => {
    if (!enabled) return
    let live = true
    const off = api.on('approval:changed', (a) =>
      setApprovals((list) =>
        [a, ...list.filter((x) => x.id !== a.id)].sort((x, y) => y.createdAt - x.createdAt),
      ),
    )
    api.call('approval:list', {}).then(
      (r) => {
        if (!live) return
        setApprovals(r.approvals)
        setErrors(r.errors)
      },
      (err: unknown) => live && setErrors([err instanceof Error ? err.message : String(err)]),
    )
    return () => {
      live = false
      off()
    }
  }, [api, enabled, tick])
  return { approvals, errors, refresh: () => setTick((t) => t + 1) }
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x8000)
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(bin)
}
