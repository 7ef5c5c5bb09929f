import { randomBytes } from 'node:crypto'
import * as Y from 'yjs'
import { CmdaiError } from '../../contract/errors'
import {
  PERSONAL_LIBRARY,
  STARTER_LIBRARY,
  type FieldConflict,
  type LibraryInfo,
  type LibrarySync,
  type PatternEdit,
  type Presence,
} from '../../contract/library'
import type { Policy } from '../../contract/policy'
import {
  DOC_ROOT,
  POLICY_ROOM,
  SERVER_AWARENESS_CLIENT_ID,
  deletePattern,
  isFromTheFuture,
  parseRoomName,
  readLibrary,
  readPolicyDocument,
  roomName,
  writePattern,
  type Pattern,
  type ServerAwarenessState,
} from '../../contract/sync'
import {
  DEFAULT_TELEMETRY,
  readTeamTelemetry,
  type TelemetrySnapshot,
} from '../../contract/telemetry'
import { detectConflicts } from './conflicts'
import { peekToken, type CredentialStore } from './credentials'
import type { LibraryStore } from './store'
import { SyncClient } from './sync-client'

/**
 * Owns the library documents of the main process: the personal library, the read-only starter
 * library, joined team libraries and their teams' policy documents. Each document's updates are
 * stored (acknowledged once committed) and forwarded to the renderer replicas as deltas; team
 * documents sync with the server through `SyncClient`.
 */
export interface HubEvents {
  update(id: string, update: Uint8Array): void
  info(info: LibraryInfo): void
  removed(id: string): void
  presence(id: string, peers: Presence[]): void
  conflicts(id: string, conflicts: FieldConflict[]): void
}

export interface HubOptions {
  store: LibraryStore
  credentials: CredentialStore
  events: HubEvents
  /** Author name for the personal library (the OS user). */
  localUser: string
  starter: Pattern[]
  /** Connect team documents on open (false: the CLI, which only reads local state). */
  connect: boolean
  maxBackoffMs?: number
}

type Kind = 'personal' | 'starter' | 'team' | 'policy'

interface Entry {
  id: string
  kind: Kind
  doc: Y.Doc
  server?: string
  team?: string
  library?: string
  client?: SyncClient
  sync: LibrarySync
  lastWrite: Promise<void>
  conflicts: FieldConflict[]
}

const LOAD = Symbol('load')
const LOCAL_SYNC: LibrarySync = {
  state: 'local',
  readOnly: false,
  unsynced: false,
  refusedWrites: 0,
}

export class LibraryHub {
  private readonly entries = new Map<string, Entry>()
  private readonly teamStates = new Map<string, Record<string, unknown>>()
  /** Yjs client ids seen in awareness, and their users (names the author of a conflicting edit). */
  private readonly clients = new Map<number, string>()
  private closed = false

  private constructor(private readonly options: HubOptions) {}

  static async open(options: HubOptions): Promise<LibraryHub> {
    const hub = new LibraryHub(options)
    await hub.load()
    return hub
  }

  private async load(): Promise<void> {
    const { store } = this.options
    const starter = new Y.Doc()
    starter.transact(() => {
      for (const p of this.options.starter) writePattern(starter, p)
    })
    this.entries.set(STARTER_LIBRARY, this.entry(STARTER_LIBRARY, 'starter', starter))
    const rows = await store.docs()
    if (!rows.some((r) => r.id === PERSONAL_LIBRARY))
      await store.upsertDoc({ id: PERSONAL_LIBRARY, kind: 'personal', config: {} })
    for (const row of await store.docs()) {
      const doc = new Y.Doc()
      const updates = await store.loadDoc(row.id)
      if (updates.length > 0) Y.applyUpdate(doc, Y.mergeUpdates(updates), LOAD)
      const cfg = row.config as { server?: string; team?: string; library?: string }
      const entry = this.entry(row.id, row.kind, doc, cfg)
      this.entries.set(row.id, entry)
      this.attach(entry)
      if (cfg.team) {
        const state = await store.teamState(cfg.team)
        if (state) this.teamStates.set(cfg.team, state)
      }
      entry.conflicts = (await store.conflicts(row.id)) as FieldConflict[]
      void store.compact(row.id).catch(() => {})
    }
    if (this.options.connect) for (const e of this.entries.values()) this.startSync(e)
  }

  private entry(
    id: string,
    kind: Kind,
    doc: Y.Doc,
    cfg: { server?: string; team?: string; library?: string } = {},
  ): Entry {
    return {
      id,
      kind,
      doc,
      ...cfg,
      sync:
        kind === 'team' || kind === 'policy'
          ? { ...LOCAL_SYNC, state: 'offline' }
          : { ...LOCAL_SYNC },
      lastWrite: Promise.resolve(),
      conflicts: [],
    }
  }

  /** Stores every update, forwards it to the renderers, watches for concurrent edits. */
  private attach(entry: Entry): void {
    entry.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === LOAD) return
      entry.lastWrite = this.options.store.appendUpdate(entry.id, update)
      entry.lastWrite.catch((err: unknown) => {
        console.error(`[cmdai] storing a change of library ${entry.id} failed:`, err)
      })
      if (entry.kind !== 'policy') this.options.events.update(entry.id, update)
      if (entry.kind === 'team') this.options.events.info(this.info(entry))
    })
    entry.doc.on('afterTransaction', (tr: Y.Transaction) => {
      if (!entry.client || tr.origin !== entry.client.provider || entry.kind !== 'team') return
      const found = detectConflicts(tr)
      if (found.length === 0) return
      for (const c of found) {
        const { client, ...rest } = c
        const by = rest.by ?? this.clients.get(client)
        const conflict: FieldConflict = {
          library: entry.id,
          ...rest,
          ...(by ? { by } : {}),
          at: Date.now(),
        }
        entry.conflicts = [
          ...entry.conflicts.filter((x) => !(x.patternId === c.patternId && x.field === c.field)),
          conflict,
        ]
        void this.options.store.saveConflict(entry.id, c.patternId, c.field, conflict)
      }
      this.options.events.conflicts(entry.id, entry.conflicts)
    })
  }

  private startSync(entry: Entry): void {
    if ((entry.kind !== 'team' && entry.kind !== 'policy') || entry.client || this.closed) return
    const token = this.options.credentials.get(entry.server!, entry.team!)
    if (!token) {
      entry.sync = { ...entry.sync, state: 'refused', reason: 'no token for this team: join again' }
      return
    }
    const known = this.teamStates.get(entry.team!)
    if (known && entry.kind === 'team') entry.sync = { ...entry.sync, ...knownState(known) }
    entry.client = new SyncClient({
      server: entry.server!,
      room: entry.id,
      token,
      doc: entry.doc,
      maxBackoffMs: this.options.maxBackoffMs,
      onChange: (sync) => {
        entry.sync = entry.kind === 'team' ? sync : { ...sync, readOnly: true }
        if (entry.kind === 'team') this.options.events.info(this.info(entry))
      },
      onServerState: (state) => this.rememberServerState(entry, state),
    })
    const user = peekToken(token)?.user ?? this.options.localUser
    entry.client.awareness.setLocalStateField('user', { name: user, color: colorOf(user) })
    entry.client.awareness.on('change', () => {
      if (entry.kind !== 'team') return
      for (const peer of this.presence(entry.id)) {
        if (this.clients.size > 10_000) this.clients.clear()
        this.clients.set(peer.clientId, peer.user)
      }
      this.options.events.presence(entry.id, this.presence(entry.id))
    })
    entry.client.connect()
  }

  private rememberServerState(entry: Entry, state: ServerAwarenessState): void {
    if (entry.kind !== 'team') return
    const body = { role: state.role, user: state.user, readOnly: state.readOnly, at: Date.now() }
    const prev = this.teamStates.get(state.team)
    if (prev && prev.role === body.role && prev.readOnly === body.readOnly) return
    this.teamStates.set(state.team, body)
    void this.options.store.saveTeamState(state.team, body)
  }

  // --- reading --------------------------------------------------------------------------------

  list(): LibraryInfo[] {
    return [...this.entries.values()].filter((e) => e.kind !== 'policy').map((e) => this.info(e))
  }

  get(id: string): LibraryInfo {
    return this.info(this.require(id))
  }

  private require(id: string): Entry {
    const e = this.entries.get(id)
    if (!e || e.kind === 'policy') throw new CmdaiError('not_found', `No library "${id}"`)
    return e
  }

  info(e: Entry): LibraryInfo {
    const snapshot = readLibrary(e.doc)
    const readOnlyReason =
      e.kind === 'starter'
        ? 'the starter library is read-only: duplicate a pattern to change it'
        : isFromTheFuture(e.doc)
          ? 'written by a newer cmdai: update to edit it'
          : this.roleReadOnly(e)
            ? `your role (${this.role(e) ?? 'unknown'}) cannot change team libraries`
            : undefined
    return {
      id: e.id,
      kind: e.kind === 'policy' ? 'team' : e.kind,
      title: e.kind === 'personal' ? 'Personal' : e.kind === 'starter' ? 'Starter' : e.id,
      ...(e.team ? { team: e.team } : {}),
      ...(e.library ? { library: e.library } : {}),
      ...(e.server ? { server: e.server } : {}),
      readOnly: readOnlyReason !== undefined,
      ...(readOnlyReason ? { readOnlyReason } : {}),
      sync: { ...e.sync, ...(this.roleReadOnly(e) ? { readOnly: true } : {}) },
      patternCount: snapshot.ok ? snapshot.value.patterns.length : 0,
    }
  }

  private role(e: Entry): string | undefined {
    if (!e.team) return undefined
    const known = this.teamStates.get(e.team)?.role
    if (typeof known === 'string') return known
    const token = this.options.credentials.get(e.server!, e.team)
    return token ? peekToken(token)?.role : undefined
  }

  private roleReadOnly(e: Entry): boolean {
    if (e.kind !== 'team') return false
    if (e.sync.readOnly) return true
    const role = this.role(e)
    return role === 'junior' || role === 'readonly'
  }

  /** The user's role in the team a library belongs to (for policy decisions). */
  teamContext(id: string): {
    team?: string
    server?: string
    role?: string
    policy: Policy | null
  } {
    const e = this.require(id)
    if (e.kind !== 'team') return { policy: null }
    const policyDoc = this.entries.get(roomName(e.team!, POLICY_ROOM))
    const read = policyDoc ? readPolicyDocument(policyDoc.doc) : null
    return {
      team: e.team,
      server: e.server,
      role: this.role(e),
      // A policy document that cannot be read is not "no policy": refuse to guess.
      policy: read === null ? null : read.ok ? read.value.policy : failClosedPolicy(read.error),
    }
  }

  patterns(id: string): Pattern[] {
    const snapshot = readLibrary(this.require(id).doc)
    if (!snapshot.ok) throw new CmdaiError('unavailable', snapshot.error)
    return snapshot.value.patterns
  }

  pattern(id: string, patternId: string): Pattern {
    const p = this.patterns(id).find((x) => x.id === patternId)
    if (!p) throw new CmdaiError('not_found', `No pattern "${patternId}" in ${id}`)
    return p
  }

  /** Every readable pattern of every library. */
  all(): Array<{ library: string; pattern: Pattern }> {
    const out: Array<{ library: string; pattern: Pattern }> = []
    for (const e of this.entries.values()) {
      if (e.kind === 'policy') continue
      const snapshot = readLibrary(e.doc)
      if (snapshot.ok)
        for (const pattern of snapshot.value.patterns) out.push({ library: e.id, pattern })
    }
    return out
  }

  /** What the renderer replica lacks, as one Yjs update. */
  stateFor(id: string, stateVector?: Uint8Array): Uint8Array {
    return Y.encodeStateAsUpdate(this.require(id).doc, stateVector)
  }

  presence(id: string): Presence[] {
    const e = this.require(id)
    if (!e.client) return []
    const peers: Presence[] = []
    e.client.awareness.getStates().forEach((state, clientId) => {
      if (clientId === SERVER_AWARENESS_CLIENT_ID || clientId === e.doc.clientID) return
      const s = state as {
        user?: { name?: unknown }
        cmdai?: { patternId?: unknown; editing?: unknown }
      }
      const name = typeof s.user?.name === 'string' ? s.user.name.slice(0, 100) : null
      if (!name) return
      const patternId =
        typeof s.cmdai?.patternId === 'string' ? s.cmdai.patternId.slice(0, 64) : null
      peers.push({
        clientId,
        user: name,
        color: colorOf(name),
        patternId,
        editing: s.cmdai?.editing === true,
      })
    })
    return peers
  }

  conflicts(id: string): FieldConflict[] {
    return this.require(id).conflicts
  }

  // --- writing --------------------------------------------------------------------------------

  private writable(id: string): Entry {
    const e = this.require(id)
    const info = this.info(e)
    if (info.readOnly)
      throw new CmdaiError('forbidden', `Library ${id} is read-only: ${info.readOnlyReason ?? ''}`)
    return e
  }

  private author(e: Entry): string {
    if (e.kind !== 'team') return this.options.localUser
    const token = this.options.credentials.get(e.server!, e.team!)
    return (token ? peekToken(token)?.user : undefined) ?? this.options.localUser
  }

  /** Creates or changes a pattern; resolves once the change is stored. */
  async save(id: string, edit: PatternEdit): Promise<Pattern> {
    const e = this.writable(id)
    const now = Date.now()
    const existing = edit.id ? readLibrary(e.doc) : null
    const prev = existing?.ok ? existing.value.patterns.find((p) => p.id === edit.id) : undefined
    const user = this.author(e)
    const pattern = writePattern(e.doc, {
      ...edit,
      id: edit.id ?? newPatternId(),
      author: prev?.author ?? user,
      createdAt: prev?.createdAt ?? now,
      updatedAt: Math.max(now, (prev?.updatedAt ?? 0) + 1),
      updatedBy: user,
    })
    // Writing a field settles any marker on it.
    const settled = e.conflicts.filter(
      (c) => c.patternId === pattern.id && prev && changed(prev, pattern, c.field),
    )
    for (const c of settled) await this.dropConflict(e, c.patternId, c.field)
    await e.lastWrite
    return pattern
  }

  async remove(id: string, patternId: string): Promise<void> {
    const e = this.writable(id)
    if (!(e.doc.getMap(DOC_ROOT.patterns).get(patternId) instanceof Y.Map))
      throw new CmdaiError('not_found', `No pattern "${patternId}" in ${id}`)
    deletePattern(e.doc, patternId)
    await e.lastWrite
  }

  async resolveConflict(
    id: string,
    patternId: string,
    field: string,
    keep: 'mine' | 'theirs',
  ): Promise<void> {
    const e = this.require(id)
    const c = e.conflicts.find((x) => x.patternId === patternId && x.field === field)
    if (!c) throw new CmdaiError('not_found', 'That conflict is already settled')
    if (c.kept !== keep) {
      const p = this.pattern(id, patternId)
      await this.save(id, { ...p, [field]: keep === 'mine' ? c.mine : c.theirs } as PatternEdit)
    }
    await this.dropConflict(e, patternId, field)
  }

  private async dropConflict(e: Entry, patternId: string, field: string): Promise<void> {
    e.conflicts = e.conflicts.filter((x) => !(x.patternId === patternId && x.field === field))
    await this.options.store.deleteConflict(e.id, patternId, field)
    this.options.events.conflicts(e.id, e.conflicts)
  }

  setPresence(id: string, patternId: string | null, editing: boolean): void {
    const e = this.require(id)
    e.client?.awareness.setLocalStateField('cmdai', { patternId, editing })
  }

  // --- team libraries -------------------------------------------------------------------------

  async join(server: string, token: string, library: string): Promise<LibraryInfo> {
    const claims = peekToken(token)
    if (!claims) throw new CmdaiError('invalid_input', 'That is not a cmdai team token')
    if (claims.exp && claims.exp * 1000 < Date.now())
      throw new CmdaiError('invalid_input', 'That token has expired: ask your admin for a new one')
    const base = normaliseServer(server)
    const id = roomName(claims.team, library)
    this.options.credentials.set(base, claims.team, token)
    for (const [docId, kind] of [
      [id, 'team'],
      [roomName(claims.team, POLICY_ROOM), 'policy'],
    ] as const) {
      const existing = this.entries.get(docId)
      if (existing) {
        // A new token: reconnect with it.
        existing.client?.destroy()
        existing.client = undefined
        existing.server = base
        this.startSync(existing)
        continue
      }
      const ref = parseRoomName(docId)!
      const cfg = { server: base, team: ref.team, library: ref.library }
      await this.options.store.upsertDoc({ id: docId, kind, config: cfg })
      const entry = this.entry(docId, kind, new Y.Doc(), cfg)
      this.entries.set(docId, entry)
      this.attach(entry)
      if (this.options.connect) this.startSync(entry)
    }
    const info = this.get(id)
    this.options.events.info(info)
    return info
  }

  async leave(id: string): Promise<void> {
    const e = this.require(id)
    if (e.kind !== 'team') throw new CmdaiError('invalid_input', `${id} is not a team library`)
    e.client?.destroy()
    this.entries.delete(id)
    await this.options.store.removeDoc(id)
    this.options.events.removed(id)
    // The team's policy goes when its last library does.
    if (![...this.entries.values()].some((x) => x.kind === 'team' && x.team === e.team)) {
      const policyId = roomName(e.team!, POLICY_ROOM)
      this.entries.get(policyId)?.client?.destroy()
      this.entries.delete(policyId)
      await this.options.store.removeDoc(policyId)
    }
  }

  /** Go offline or back online with a team (both the library and its team's policy). */
  setOnline(id: string, online: boolean): LibraryInfo {
    const e = this.require(id)
    if (e.kind !== 'team') throw new CmdaiError('invalid_input', `${id} is not a team library`)
    for (const x of this.entries.values()) {
      if (x.team !== e.team || x.server !== e.server) continue
      if (!x.client) this.startSync(x)
      if (online) x.client?.connect()
      else x.client?.disconnect()
    }
    return this.get(id)
  }

  /** The server and token of a team (approvals, events). */
  teamCredentials(team: string): { server: string; token: string } | null {
    for (const e of this.entries.values()) {
      if (e.team !== team || !e.server) continue
      const token = this.options.credentials.get(e.server, team)
      if (token) return { server: e.server, token }
    }
    return null
  }

  /** What the team chose its members' apps send (from its policy document; the default without one). */
  teamTelemetry(team: string): TelemetrySnapshot {
    const policyDoc = this.entries.get(roomName(team, POLICY_ROOM))
    return policyDoc
      ? readTeamTelemetry(policyDoc.doc)
      : { telemetry: DEFAULT_TELEMETRY, chosen: false }
  }

  /** A team's token changed (a refreshed sign-in): its documents reconnect with it. */
  tokenChanged(server: string, team: string): void {
    const token = this.options.credentials.get(server, team)
    if (!token) return
    for (const e of this.entries.values())
      if (e.team === team && e.server === server) {
        if (e.client) e.client.setToken(token)
        else if (this.options.connect) this.startSync(e)
      }
  }

  /** A team's sign-in ended (refused at refresh): its documents stop, saying why. */
  signedOut(server: string, team: string, reason: string): void {
    for (const e of this.entries.values()) {
      if (e.team !== team || e.server !== server) continue
      e.client?.destroy()
      e.client = undefined
      e.sync = { ...e.sync, state: 'refused', reason }
      if (e.kind === 'team') this.options.events.info(this.info(e))
    }
  }

  teams(): string[] {
    return [...new Set([...this.entries.values()].filter((e) => e.team).map((e) => e.team!))]
  }

  /** True while the team's documents are connected (events can go now). */
  isTeamOnline(team: string): boolean {
    return [...this.entries.values()].some((e) => e.team === team && e.sync.state === 'synced')
  }

  async close(): Promise<void> {
    this.closed = true
    for (const e of this.entries.values()) e.client?.destroy()
    await Promise.all([...this.entries.values()].map((e) => e.lastWrite.catch(() => {})))
  }
}

function changed(prev: Pattern, next: Pattern, field: string): boolean {
  const key = field as keyof Pattern
  return JSON.stringify(prev[key]) !== JSON.stringify(next[key])
}

function knownState(state: Record<string, unknown>): Partial<LibrarySync> {
  return {
    ...(typeof state.role === 'string' ? { role: state.role as LibrarySync['role'] } : {}),
    ...(typeof state.user === 'string' ? { user: state.user } : {}),
    readOnly: state.readOnly === true,
  }
}

/** A policy that blocks everything, naming why: an unreadable team policy never means "none". */
function failClosedPolicy(error: string): Policy {
  return {
    version: 1,
    rules: [
      {
        id: 'team-policy-unreadable',
        effect: 'block',
        match: { minRisk: 'safe' },
        reason: `the team policy cannot be read (${error.slice(0, 200)})`,
      },
    ],
  }
}

export function newPatternId(): string {
  return randomBytes(9).toString('base64url')
}

export function normaliseServer(server: string): string {
  const url = new URL(server)
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CmdaiError('invalid_input', 'The team server URL must start with http:// or https://')
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`
}

const COLORS = [
  '#e06c75',
  '#61afef',
  '#98c379',
  '#c678dd',
  '#d19a66',
  '#56b6c2',
  '#e5c07b',
  '#be5046',
]

export function colorOf(name: string): string {
  let h = 0
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0
  return COLORS[h % COLORS.length]!
}
