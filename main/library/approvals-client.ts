import { createHash } from 'node:crypto'
import { approvalCovers, type Approval, type ApprovalRequest } from '../../contract/approvals'
import { CmdaiError } from '../../contract/errors'
import type { ShellDialect } from '../../contract/safety'
import {
  decideApproval,
  listApprovals,
  requestApproval,
  watchApprovals,
  type TeamEndpoint,
} from './team-http'

/**
 * The app's side of team approvals: asks, decides, follows each team's approval stream (so a
 * requester hears the decision and approvers see new requests live) and remembers the approvals
 * that let this user run a command now.
 */
export class ApprovalsClient {
  private readonly known = new Map<string, Approval>()
  private readonly watching = new Map<string, AbortController>()

  constructor(
    private readonly endpoint: (team: string) => TeamEndpoint | null,
    private readonly onChange: (a: Approval) => void,
  ) {}

  private require(team: string): TeamEndpoint {
    const e = this.endpoint(team)
    if (!e) throw new CmdaiError('not_found', `Join a library of team ${team} first`)
    return e
  }

  private remember(a: Approval): Approval {
    const prev = this.known.get(a.id)
    this.known.set(a.id, a)
    if (!prev || prev.status !== a.status) this.onChange(a)
    return a
  }

  /** Follows the team's approvals until `stop`. */
  watch(team: string): void {
    if (this.watching.has(team)) return
    const endpoint = this.endpoint(team)
    if (!endpoint) return
    const ctl = new AbortController()
    this.watching.set(team, ctl)
    void watchApprovals(endpoint, (a) => this.remember(a), ctl.signal)
  }

  async request(team: string, body: ApprovalRequest): Promise<Approval> {
    return this.remember(await requestApproval(this.require(team), body))
  }

  async decide(
    team: string,
    id: string,
    decision: 'approve' | 'deny',
    comment: string,
  ): Promise<Approval> {
    return this.remember(await decideApproval(this.require(team), id, decision, comment))
  }

  async list(teams: string[]): Promise<{ approvals: Approval[]; errors: string[] }> {
    const errors: string[] = []
    await Promise.all(
      teams.map(async (team) => {
        try {
          for (const a of await listApprovals(this.require(team))) this.remember(a)
        } catch (err) {
          errors.push(`${team}: ${err instanceof Error ? err.message : String(err)}`)
        }
      }),
    )
    const approvals = [...this.known.values()]
      .filter((a) => teams.includes(a.team))
      .sort((a, b) => b.createdAt - a.createdAt)
    return { approvals, errors }
  }

  /** An approval of this user's that covers exactly this command now. */
  covering(team: string, user: string, command: string, shell: ShellDialect): Approval | undefined {
    const hash = commandHash(command)
    for (const a of this.known.values())
      if (a.team === team && a.requester === user && approvalCovers(a, hash, shell)) return a
    return undefined
  }

  stop(): void {
    for (const ctl of this.watching.values()) ctl.abort()
    this.watching.clear()
  }
}

export function commandHash(command: string): string {
  return createHash('sha256').update(command).digest('hex')
}
