/**
 * The team format shared by the app and the sync server (`sync-server/`): room names, the library
 * and policy documents (Yjs), roles, WebSocket close codes, the server's awareness state (read-only
 * signal), audit record kinds and checkpoints, the client event envelope and the HTTP paths.
 *
 * Transport: the stock y-websocket protocol (`y-protocols` sync + awareness). A client connects
 * with `new WebsocketProvider(serverUrl + SYNC_WS_PATH, roomName(team, library), doc,
 * { params: { token } })`.
 *
 * Free of Node-only imports: the renderer imports it too.
 */
import * as Y from 'yjs'
import { z } from 'zod'
import { parsePolicy, type Policy } from './policy'
import { RISKS, SHELL_DIALECTS } from './safety'

// ---------------------------------------------------------------------------------------------
// Versions

/**
 * Version of the document format this build reads and writes, stored as `meta.schema` in every
 * document. A document whose schema is newer is refused (never half-read, never overwritten):
 * the server fails the room with `CLOSE.unsupportedSchema`, the app shows it read-only.
 */
export const SYNC_SCHEMA_VERSION = 1

// ---------------------------------------------------------------------------------------------
// Roles

/** Roles within a team, most to least privileged. */
export const ROLES = ['admin', 'engineer', 'junior', 'readonly'] as const
export type Role = (typeof ROLES)[number]
export const roleSchema = z.enum(ROLES)

const ROLE_RANK: Record<Role, number> = { admin: 3, engineer: 2, junior: 1, readonly: 0 }

/** True when `role` has at least the rights of `min`. */
export function roleAtLeast(role: Role, min: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[min]
}

/** The less privileged of two roles (a token never grants more than the member's role). */
export function lowerRole(a: Role, b: Role): Role {
  return ROLE_RANK[a] <= ROLE_RANK[b] ? a : b
}

/** Who may write which document: libraries need engineer, the policy document admin. */
export function canWrite(role: Role, kind: RoomKind): boolean {
  return roleAtLeast(role, kind === 'policy' ? 'admin' : 'engineer')
}

// ---------------------------------------------------------------------------------------------
// Rooms

/** Team names: lowercase letters, digits, `-` and `_`, starting with a letter or digit. */
export const TEAM_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/
/** Library names: as teams, plus `.` inside; a leading `.` is reserved for team documents. */
export const LIBRARY_NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,62}$/
export const teamNameSchema = z.string().regex(TEAM_NAME_RE, 'a team name like "platform"')
export const libraryNameSchema = z.string().regex(LIBRARY_NAME_RE, 'a library name like "deploy"')

/** The team's policy document: `<team>/.policy`. Only admins write it. */
export const POLICY_ROOM = '.policy'

/** Where the WebSocket endpoint lives on the server; rooms are paths below it. */
export const SYNC_WS_PATH = '/sync'

export type RoomKind = 'library' | 'policy'

export interface RoomRef {
  /** `<team>/<library>` or `<team>/.policy`. */
  name: string
  team: string
  /** The library name, or `.policy`. */
  library: string
  kind: RoomKind
}

/** The room of a team's library (or, with `POLICY_ROOM`, of its policy). Throws on bad names. */
export function roomName(team: string, library: string): string {
  const ref = parseRoomName(`${team}/${library}`)
  if (!ref) throw new Error(`Invalid room: team "${team}", library "${library}"`)
  return ref.name
}

/** Parses `<team>/<library>` or `<team>/.policy`; null for anything else. */
export function parseRoomName(name: string): RoomRef | null {
  if (name.length > 127) return null
  const slash = name.indexOf('/')
  if (slash < 0) return null
  const team = name.slice(0, slash)
  const library = name.slice(slash + 1)
  if (!TEAM_NAME_RE.test(team)) return null
  if (library === POLICY_ROOM) return { name, team, library, kind: 'policy' }
  if (!LIBRARY_NAME_RE.test(library)) return null
  return { name, team, library, kind: 'library' }
}

// ---------------------------------------------------------------------------------------------
// Library document
//
// Root Y.Map `meta`: { schema: number }.
// Root Y.Map `patterns`: pattern id -> Y.Map whose keys are the fields of `Pattern`, each a plain
// value (strings, numbers, JSON arrays/objects). `command` is a plain string, never Y.Text: two
// concurrent edits of a command then resolve to one of the two commands (last writer wins), never
// to a character-merged command neither author wrote.

/** Names of the root types. */
export const DOC_ROOT = { meta: 'meta', patterns: 'patterns', policy: 'policy' } as const

/** Template parameters are written `{{name}}` in a pattern's command. */
export const PARAMETER_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const TEMPLATE_PARAM_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}/g

export const PATTERN_ID_RE = /^[A-Za-z0-9_-]{1,64}$/

export const patternParameterSchema = z
  .object({
    name: z.string().regex(PARAMETER_NAME_RE, 'a parameter name like "namespace"'),
    description: z.string().max(1_000).default(''),
    /** Filled in when the user gives no value. */
    default: z.string().max(4_096).optional(),
    /** When present, the value must be one of these. */
    allowed: z.array(z.string().max(4_096)).max(500).optional(),
    /**
     * A command whose output lines are the choices (e.g. `kubectl config get-contexts -o name`).
     * The app runs it only after the user approved this exact command once.
     */
    valuesFrom: z
      .object({ command: z.string().min(1).max(4_096) })
      .strict()
      .optional(),
  })
  .strict()

export const patternSchema = z
  .object({
    id: z.string().regex(PATTERN_ID_RE),
    title: z.string().min(1).max(200),
    description: z.string().max(10_000).default(''),
    /** The command template, `{{name}}` for parameters. A plain string, never Y.Text. */
    command: z.string().min(1).max(16_384),
    parameters: z.array(patternParameterSchema).max(50).default([]),
    tags: z.array(z.string().min(1).max(64)).max(50).default([]),
    /** User id of the creator (from the creator's token). */
    author: z.string().min(1).max(200),
    /** Epoch milliseconds. */
    createdAt: z.number().int().nonnegative(),
    updatedAt: z.number().int().nonnegative(),
    /** User id of the last editor. */
    updatedBy: z.string().max(200).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const names = new Set<string>()
    for (const param of p.parameters) {
      if (names.has(param.name))
        ctx.addIssue({ code: 'custom', message: `duplicate parameter "${param.name}"` })
      names.add(param.name)
    }
  })

export type PatternParameter = z.output<typeof patternParameterSchema>
export type Pattern = z.output<typeof patternSchema>
export type PatternInput = z.input<typeof patternSchema>

/** The fields a pattern map may hold (anything else is ignored by readers and flagged in audit). */
export const PATTERN_FIELDS = [
  'title',
  'description',
  'command',
  'parameters',
  'tags',
  'author',
  'createdAt',
  'updatedAt',
  'updatedBy',
] as const

/** Parameter names used in a template, in order of first use, without duplicates. */
export function templateParameterNames(command: string): string[] {
  const seen = new Set<string>()
  for (const m of command.matchAll(TEMPLATE_PARAM_RE)) seen.add(m[1]!)
  return [...seen]
}

export type ReadResult<T> = { ok: true; value: T } | { ok: false; error: string }

/**
 * Reads and validates one pattern from its Y.Map. Any field that is not a plain value (a Y.Text
 * command, a nested Y type) or fails the schema makes the whole pattern invalid: readers show it
 * as broken rather than guess.
 */
export function readPattern(id: string, map: unknown): ReadResult<Pattern> {
  if (!(map instanceof Y.Map)) return { ok: false, error: 'not a map' }
  const raw: Record<string, unknown> = { id }
  for (const field of PATTERN_FIELDS) {
    const value: unknown = map.get(field)
    if (value === undefined) continue
    if (value instanceof Y.AbstractType)
      return { ok: false, error: `${field}: a shared type where a plain value belongs` }
    raw[field] = value
  }
  const parsed = patternSchema.safeParse(raw)
  if (!parsed.success) return { ok: false, error: formatIssues(parsed.error) }
  return { ok: true, value: parsed.data }
}

/** Schema version of a document; 0 when it has none yet (new, empty document). */
export function documentSchema(doc: Y.Doc): number {
  const v: unknown = doc.getMap(DOC_ROOT.meta).get('schema')
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0
}

/** True when this build must not read or write the document (written by a newer version). */
export function isFromTheFuture(doc: Y.Doc): boolean {
  const v: unknown = doc.getMap(DOC_ROOT.meta).get('schema')
  if (v === undefined) return false
  return !(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= SYNC_SCHEMA_VERSION)
}

export interface LibrarySnapshot {
  schema: number
  patterns: Pattern[]
  /** Patterns that failed validation, with the reason. */
  invalid: Array<{ id: string; error: string }>
}

/** Reads a whole library document; an error when it comes from a newer version. */
export function readLibrary(doc: Y.Doc): ReadResult<LibrarySnapshot> {
  if (isFromTheFuture(doc)) return { ok: false, error: futureError(doc) }
  const patterns: Pattern[] = []
  const invalid: LibrarySnapshot['invalid'] = []
  doc.getMap(DOC_ROOT.patterns).forEach((value, id) => {
    const r = PATTERN_ID_RE.test(id) ? readPattern(id, value) : { ok: false as const, error: 'id' }
    if (r.ok) patterns.push(r.value)
    else invalid.push({ id, error: r.error })
  })
  patterns.sort((a, b) => a.title.localeCompare(b.title) || a.id.localeCompare(b.id))
  return { ok: true, value: { schema: documentSchema(doc), patterns, invalid } }
}

/**
 * Writes (creates or replaces field by field) a pattern; only fields that changed are set, so
 * concurrent edits of different fields both survive. Validates first; throws on invalid input.
 */
export function writePattern(doc: Y.Doc, input: PatternInput): Pattern {
  const pattern = patternSchema.parse(input)
  if (isFromTheFuture(doc)) throw new Error(futureError(doc))
  doc.transact(() => {
    const meta = doc.getMap(DOC_ROOT.meta)
    if (meta.get('schema') === undefined) meta.set('schema', SYNC_SCHEMA_VERSION)
    const patterns = doc.getMap(DOC_ROOT.patterns)
    let map = patterns.get(pattern.id)
    if (!(map instanceof Y.Map)) {
      map = new Y.Map<unknown>()
      patterns.set(pattern.id, map)
    }
    const target = map as Y.Map<unknown>
    for (const field of PATTERN_FIELDS) {
      const value = pattern[field]
      if (value === undefined) {
        if (target.has(field)) target.delete(field)
      } else if (JSON.stringify(target.get(field)) !== JSON.stringify(value)) {
        target.set(field, value)
      }
    }
  })
  return pattern
}

/** Removes a pattern. */
export function deletePattern(doc: Y.Doc, id: string): void {
  doc.getMap(DOC_ROOT.patterns).delete(id)
}

// ---------------------------------------------------------------------------------------------
// Policy document (`<team>/.policy`)
//
// Root Y.Map `meta`: { schema }. Root Y.Map `policy`: { document: Policy (plain JSON, validated
// with the same schema as the app's policy.json), updatedBy: string, updatedAt: number }. The whole
// policy is one value: concurrent edits resolve to one admin's policy, never to a merge of two.

export interface PolicySnapshot {
  policy: Policy | null
  updatedBy?: string
  updatedAt?: number
}

/** Reads the team policy; null policy when none is set yet; an error when invalid or future. */
export function readPolicyDocument(doc: Y.Doc): ReadResult<PolicySnapshot> {
  if (isFromTheFuture(doc)) return { ok: false, error: futureError(doc) }
  const map = doc.getMap(DOC_ROOT.policy)
  const raw: unknown = map.get('document')
  if (raw === undefined) return { ok: true, value: { policy: null } }
  try {
    const policy = parsePolicy(raw instanceof Y.AbstractType ? null : raw)
    const by: unknown = map.get('updatedBy')
    const at: unknown = map.get('updatedAt')
    return {
      ok: true,
      value: {
        policy,
        ...(typeof by === 'string' ? { updatedBy: by } : {}),
        ...(typeof at === 'number' ? { updatedAt: at } : {}),
      },
    }
  } catch (err) {
    const issues = err instanceof z.ZodError ? formatIssues(err) : String(err)
    return { ok: false, error: `invalid policy: ${issues}` }
  }
}

/** Replaces the team policy (validated first; throws on invalid input). */
export function writePolicyDocument(doc: Y.Doc, policy: unknown, updatedBy: string): Policy {
  const parsed = parsePolicy(policy)
  if (isFromTheFuture(doc)) throw new Error(futureError(doc))
  doc.transact(() => {
    const meta = doc.getMap(DOC_ROOT.meta)
    if (meta.get('schema') === undefined) meta.set('schema', SYNC_SCHEMA_VERSION)
    const map = doc.getMap(DOC_ROOT.policy)
    map.set('document', parsed)
    map.set('updatedBy', updatedBy)
    map.set('updatedAt', Date.now())
  })
  return parsed
}

// ---------------------------------------------------------------------------------------------
// Close codes (RFC 6455 private range). 4400-4499 are permanent: the stock y-websocket client
// stops reconnecting and emits `closed` with the code and reason. 4500-4599 are transient.

export const CLOSE = {
  /** A message that does not decode, or a room name that is not `<team>/<library>`. */
  malformed: 4400,
  /** No token, a token that does not verify, or one this server did not issue. */
  unauthenticated: 4401,
  /** The token has expired: sign in again. */
  expired: 4402,
  /** The token belongs to another team than the room. */
  wrongTeam: 4403,
  /** The team does not exist on this server. */
  unknownTeam: 4404,
  /** The token's user is not (or no longer) a member of the team. */
  notMember: 4405,
  /** The token was revoked. */
  revoked: 4406,
  /** A read-only member kept sending writes after being told it is read-only. */
  readOnly: 4407,
  /** A single message above the size limit. */
  tooLarge: 4413,
  /** The document was written by a newer version of cmdai. */
  unsupportedSchema: 4426,
  /** Too many messages per second on this connection. */
  rateLimited: 4429,
  /** Too many open rooms (connections) for this token. */
  tooManyRooms: 4430,
  /** An awareness state above the size limit. */
  awarenessTooLarge: 4431,
  /** The server reloaded the document after refusing another client's update; reconnect. */
  reload: 4500,
  /** Storage could not load or save the document; retry later (transient). */
  storageUnavailable: 4503,
  /** The server is shutting down; reconnect (standard code, transient). */
  goingAway: 1001,
} as const

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE]

/** True when a client should not reconnect on its own after this close code. */
export function isPermanentClose(code: number): boolean {
  return code >= 4400 && code < 4500
}

// ---------------------------------------------------------------------------------------------
// The server's awareness state: how a client learns its role and whether it is read-only
// without any change to the stock y-websocket client.

/**
 * The server publishes its state to each connection (and only to it) as an awareness entry with
 * this client id; Yjs client ids are random 32-bit numbers, and the server drops any client's
 * attempt to set this id.
 */
export const SERVER_AWARENESS_CLIENT_ID = 0

export const serverAwarenessSchema = z
  .object({
    cmdaiServer: z
      .object({
        /** Version of this state's shape. */
        v: z.literal(1),
        team: z.string(),
        user: z.string(),
        /** The effective role for this connection. */
        role: roleSchema,
        /** With a just-in-time elevation: the member's own role, and when the elevation ends. */
        baseRole: roleSchema.optional(),
        elevatedUntil: z.number().int().optional(),
        /** Writes to this document will be refused (not applied, not stored, not relayed). */
        readOnly: z.boolean(),
        /** Document schema this server supports. */
        schema: z.number().int(),
      })
      .strict(),
  })
  .passthrough()

export type ServerAwarenessState = z.output<typeof serverAwarenessSchema>['cmdaiServer']

/** Finds the server's state among a provider's awareness states (`awareness.getStates()`). */
export function readServerState(states: Map<number, unknown>): ServerAwarenessState | null {
  const parsed = serverAwarenessSchema.safeParse(states.get(SERVER_AWARENESS_CLIENT_ID))
  return parsed.success ? parsed.data.cmdaiServer : null
}

/**
 * Reason of the y-protocols auth "permission denied" message the server sends for each refused
 * write. (The stock client's default handler logs it with the URL, token included: apps should
 * install their own handler for message type 2, and read `readServerState` for the role.)
 */
export const READ_ONLY_REASON = 'read-only: your role cannot write this document'

/**
 * The server adds this field to every awareness state it relays: the authenticated user and role
 * of the connection that set it, so presence cannot be spoofed by another client's `user` field.
 */
export const AWARENESS_USER_FIELD = 'cmdaiUser'

// ---------------------------------------------------------------------------------------------
// Tokens

/** Claims of a server-issued access token (JWT, EdDSA, `kid` in the header). */
export interface TokenClaims {
  iss: string
  /** The user id. */
  sub: string
  team: string
  /** The role the token was minted with; the effective role is the lower of this and the member's. */
  role: Role
  /** Token id, for listing and revocation. */
  jti: string
  iat: number
  exp: number
}

export const TOKEN_ISSUER = 'cmdai-sync'
export const TOKEN_AUDIENCE = 'cmdai'

// ---------------------------------------------------------------------------------------------
// HTTP API

export const HTTP_PATHS = {
  /** Liveness: 200 while the process serves. */
  healthz: '/healthz',
  /** Readiness: 200 once storage (and Redis, when used) answer; 503 otherwise. */
  readyz: '/readyz',
  /** Prometheus metrics. */
  metrics: '/metrics',
  /** POST client events (`eventsRequestSchema`), `Authorization: Bearer <token>`. */
  events: '/api/v1/events',
  /** GET the team's latest signed audit checkpoint (`?team=`), with a member's bearer token. */
  auditCheckpoint: '/audit/checkpoint',
  /** GET the public keys (JWKS) that sign tokens and audit checkpoints. */
  keys: '/.well-known/jwks.json',
} as const

// ---------------------------------------------------------------------------------------------
// Audit log

/** Every kind of audit record. */
export const AUDIT_KINDS = [
  'auth.success',
  'auth.failure',
  'connection.open',
  'connection.close',
  /** A library change summarised per pattern (added, changed fields, removed). */
  'library.change',
  /** A write refused (role, limits). */
  'write.refused',
  'policy.change',
  'token.create',
  'token.revoke',
  'team.create',
  'member.add',
  'member.set-role',
  'member.remove',
  'key.rotate',
  /** A client event posted to `/api/v1/events` (command run, AI decision, approval). */
  'client.event',
  /** Retention removed old segments; records where the kept chain starts. */
  'audit.retention',
  'server.start',
  'server.stop',
  'backup.restore',
  /** The admin console (`contract/console.ts`): sign-in and out, invites, webhooks, settings. */
  'console.signin',
  'console.signout',
  'invite.create',
  'invite.revoke',
  'invite.redeem',
  'webhook.change',
  'settings.change',
  'audit.export',
  /** Single sign-on (`contract/identity.ts`): sessions, sign-out, revocation, the claim mapping. */
  'sso.signin',
  'sso.signout',
  'sso.revoke',
  'sso.mapping',
  /** A console sign-in with a printed link while SSO is on (the break-glass path). */
  'sso.break-glass',
  /** Just-in-time elevation: every step, and the team's elevation rules. */
  'elevation.request',
  'elevation.approve',
  'elevation.deny',
  'elevation.grant',
  'elevation.end',
  'elevation.expire',
  'elevation.lapse',
  'elevation.policy',
] as const
export type AuditKind = (typeof AUDIT_KINDS)[number]

/** The chain of the server itself (events not tied to one team). */
export const SERVER_AUDIT_CHAIN = '_server'

/**
 * One audit record as stored (a JSON line in `<data>/audit/<team>/*.jsonl`, or a row). `hash` is
 * the SHA-256 (hex) of the canonical JSON encoding (keys sorted, no spaces) of every other field;
 * `prev` is the previous record's `hash` (64 zeros for the first).
 */
export interface AuditRecord {
  v: 1
  team: string
  /** 1, 2, 3... within the team's chain. */
  seq: number
  /** ISO 8601 UTC time the server wrote it. */
  ts: string
  kind: AuditKind
  /** The authenticated user (never a Yjs client id), or `system`. */
  actor: string
  role?: Role
  /** The room (`<team>/<library>`) when it concerns a document. */
  room?: string
  /** Kind-specific details, secrets redacted. */
  data: Record<string, unknown>
  prev: string
  hash: string
}

/** A library change, as summarised in a `library.change` record's `data.patterns`. */
export interface PatternChange {
  id: string
  change: 'added' | 'changed' | 'removed'
  /** Changed fields (for `changed`). */
  fields?: string[]
  title?: string
  /** The command after the change, redacted. */
  command?: string
  /** The safety engine's rating of the template (parameters as unknown words). */
  risk?: (typeof RISKS)[number]
}

/** A signed statement of the chain head: the app keeps the latest it saw to detect truncation. */
export const auditCheckpointSchema = z
  .object({
    team: z.string().min(1).max(100),
    seq: z.number().int().nonnegative(),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    ts: z.string().max(40),
    /** Key id of the Ed25519 key that signed it (see `HTTP_PATHS.keys`). */
    kid: z.string().min(1).max(100),
    /** base64url Ed25519 signature over the canonical JSON of the other fields. */
    sig: z.string().min(1).max(200),
  })
  .strict()
export type AuditCheckpoint = z.output<typeof auditCheckpointSchema>

// ---------------------------------------------------------------------------------------------
// Client events (`POST /api/v1/events`)

export const CLIENT_EVENT_KINDS = [
  /** A command (or a filled-in pattern) ran in the terminal. */
  'command.run',
  /** What the user did with an AI suggestion. */
  'ai.decision',
  /** The safety engine or the team policy decided (e.g. blocked) a command. */
  'policy.decision',
  'approval.request',
  'approval.decision',
] as const
export type ClientEventKind = (typeof CLIENT_EVENT_KINDS)[number]

/**
 * One event from an app. The server takes the user and team from the token, never from the
 * event; `id` makes a replay of an offline queue idempotent. Commands are redacted by the app
 * and again by the server. Never command output or file contents.
 */
export const clientEventSchema = z
  .object({
    /** Client-generated unique id (e.g. a UUID). */
    id: z.string().regex(/^[A-Za-z0-9_.:-]{8,128}$/),
    kind: z.enum(CLIENT_EVENT_KINDS),
    /** When it happened on the client, epoch milliseconds. */
    ts: z.number().int().nonnegative(),
    /** Must match the token's team. */
    team: teamNameSchema,
    library: libraryNameSchema.optional(),
    patternId: z.string().regex(PATTERN_ID_RE).optional(),
    command: z.string().max(16_384).optional(),
    shell: z.enum(SHELL_DIALECTS).optional(),
    risk: z.enum(RISKS).optional(),
    /** The action the policy chose. */
    action: z.enum(['allow', 'confirm', 'block']).optional(),
    /** What happened: for `ai.decision` ran/edited/copied/cancelled/blocked; approvals below. */
    decision: z
      .enum(['ran', 'edited', 'copied', 'cancelled', 'blocked', 'requested', 'approved', 'denied'])
      .optional(),
    /** The policy rule that applied. */
    ruleId: z.string().max(100).optional(),
    exitCode: z.number().int().min(-1_000_000).max(1_000_000).optional(),
    durationMs: z.number().nonnegative().max(1e12).optional(),
    /** Model id for AI suggestions, and how long the suggestion took. */
    model: z.string().max(200).optional(),
    latencyMs: z.number().nonnegative().max(1e9).optional(),
    /** Approval id linking request and decision. */
    approvalId: z.string().max(128).optional(),
    /** Free text (approval reason or comment), redacted. */
    reason: z.string().max(2_000).optional(),
  })
  .strict()
export type ClientEvent = z.output<typeof clientEventSchema>

export const MAX_EVENTS_PER_REQUEST = 500

export const eventsRequestSchema = z
  .object({ events: z.array(clientEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST) })
  .strict()

export interface EventsResponse {
  /** Newly recorded events. */
  accepted: number
  /** Ids already recorded earlier (replays): not recorded twice. */
  duplicates: number
}

/**
 * The canonical JSON encoding that audit hashes and checkpoint signatures cover: object keys
 * sorted by UTF-16 code units, no whitespace, `undefined` members dropped, strings and numbers as
 * `JSON.stringify` writes them (RFC 8785's rules for the integer and string values used here).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new Error('canonicalJson: not a finite number')
    const out = JSON.stringify(value)
    if (out === undefined) throw new Error(`canonicalJson: cannot encode ${typeof value}`)
    return out
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`
  const keys = Object.keys(value).sort()
  const parts: string[] = []
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key]
    if (v === undefined) continue
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`)
  }
  return `{${parts.join(',')}}`
}

function formatIssues(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ')
}

function futureError(doc: Y.Doc): string {
  return (
    `document schema ${String(doc.getMap(DOC_ROOT.meta).get('schema'))} is newer than this ` +
    `version supports (${SYNC_SCHEMA_VERSION}): update cmdai`
  )
}
