import type { IncomingMessage, ServerResponse } from 'node:http'
import { CONSOLE_ACCESS, type ConsoleArea } from '../../contract/console'
import { roleAtLeast } from '../../contract/sync'
import type { Admin } from '../admin/admin'
import type { AuditDraft } from '../audit/chain'
import type { ApprovalService } from '../approvals/approvals'
import type { ElevationService } from '../elevation'
import type { SsoExtension } from '../oidc'
import type { Principal } from '../rooms/connection'
import type { ExtensionDeps } from '../server'
import { ConsoleError } from './http'
import type { ConsoleSessionRow, SessionDeps } from './sessions'
import type { Webhooks } from './webhooks/webhooks'

export interface ConsoleOptions {
  /** The built console UI (`index.html` and `assets/`); without it only the API answers. */
  assetsDir?: string | null
  /**
   * The URL people reach this server at (invite links, links in Slack messages), e.g.
   * `https://sync.example.com` (or a function giving it once the server listens). Default: the
   * origin the console was last used from.
   */
  publicUrl?: string | (() => string)
  /** Single sign-on and elevation (`oidc/`, `elevation/`): the mapping editor and elevations. */
  identity?: () => { sso: SsoExtension | null; elevation: ElevationService | null }
  /** The server's approvals extension (shown and decided in the console). */
  approvals?: () => ApprovalService | null
  webhooks?: { retryDelaysMs?: number[]; pollMs?: number; timeoutMs?: number }
  /** Verify each team's audit chain this often and notify webhooks of a failure (0: never). */
  verifyEveryMs?: number
  /** Refresh the analytics rollups' planner statistics this often (0: never). */
  analyzeEveryMs?: number
  now?: () => number
}

/** What every console route gets. */
export interface ConsoleServices {
  deps: ExtensionDeps
  options: ConsoleOptions
  now(): number
  sessions: SessionDeps
  /** Team administration as `actor` (validated, audited, shared with the CLI). */
  admin(actor: string): Admin
  approvals(): ApprovalService | null
  webhooks: Webhooks
  /** Base URL for links (no trailing slash). */
  publicUrl(req?: IncomingMessage): string
  /** Records console changes in the audit log (through the group commit). */
  record(drafts: AuditDraft[]): Promise<void>
  /** The key of signed links (Slack approval links). */
  linkKey(): Promise<Buffer>
  /** Runs `fn` when the console closes (streams end). */
  onClose(fn: () => void): void
}

export interface RouteCall {
  session: ConsoleSessionRow
  /** The session as a principal (for services shared with token sign-in). */
  principal: Principal
  req: IncomingMessage
  res: ServerResponse
  url: URL
  params: Record<string, string>
  /** The JSON body (POST). */
  body: unknown
  ip: string
  /** Whether the session is still live (long streams re-check it). */
  stillValid(): Promise<boolean>
}

/** Returned by routes that answered themselves (streams, downloads). */
export const ANSWERED = Symbol('answered')

export interface Route {
  method: 'GET' | 'POST'
  /** Below `/admin/api`, with `:name` parameters. */
  path: string
  /** Who may call it (`CONSOLE_ACCESS`): checked before the handler runs. */
  area: ConsoleArea
  handler(call: RouteCall): Promise<unknown>
}

export function mayUse(role: ConsoleSessionRow['role'], area: ConsoleArea): boolean {
  return roleAtLeast(role, CONSOLE_ACCESS[area])
}

/** Matches a request path against a route path; the parameters or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/')
  const got = path.split('/')
  if (want.length !== got.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    const g = got[i]!
    if (w.startsWith(':')) {
      let value: string
      try {
        value = decodeURIComponent(g)
      } catch {
        return null
      }
      if (!value || value.length > 200) return null
      params[w.slice(1)] = value
    } else if (w !== g) return null
  }
  return params
}

export const notFound = (what: string) => new ConsoleError(404, 'not_found', `no such ${what}`)
