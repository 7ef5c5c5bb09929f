import type { Approval } from '../../../contract/approvals'
import type { AuditVerifyView } from '../../../contract/console'
import type { AuditRecord } from '../../../contract/sync'
import type { Notice } from './payloads'

/** Turns what happened into webhook notices (the words people read in Slack). */

export function approvalNotice(a: Approval, link: string | null): Notice | null {
  const base = {
    team: a.team,
    command: a.command,
    data: {
      approval: a.id,
      requester: a.requester,
      risk: a.risk,
      status: a.status,
      ...(a.library ? { library: a.library } : {}),
      ...(a.patternId ? { patternId: a.patternId } : {}),
      ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}),
    },
    ...(link ? { link: { label: 'Review in the console', url: link } } : {}),
  }
  if (a.status === 'pending')
    return {
      ...base,
      event: 'approval.requested',
      title: `${a.requester} asks to run a ${a.risk}-risk command`,
      fields: [
        ['Reason', a.reason || '(none)'],
        ['Risk', a.risk],
        ...(a.library ? ([['Library', a.library]] as Array<[string, string]>) : []),
        ['Expires', new Date(a.expiresAt).toISOString()],
      ],
    }
  if (a.status === 'approved' || a.status === 'denied')
    return {
      ...base,
      event: 'approval.decided',
      title: `${a.decidedBy ?? 'an approver'} ${a.status} ${a.requester}'s request`,
      fields: [
        ['Decision', a.status],
        ['Comment', a.comment || '(none)'],
        ['Reason given', a.reason || '(none)'],
      ],
    }
  return null
}

/** Notices among a commit's audit records: critical commands blocked, policy changes. */
export function auditNotices(records: AuditRecord[]): Notice[] {
  const out: Notice[] = []
  for (const r of records) {
    const d = r.data
    if (r.kind === 'client.event' && d.decision === 'blocked' && d.risk === 'critical') {
      out.push({
        event: 'command.blocked',
        team: r.team,
        title: `A critical command of ${r.actor} was blocked`,
        ...(typeof d.command === 'string' ? { command: d.command } : {}),
        fields: [
          ['Member', r.actor],
          ['Risk', 'critical'],
          ...(typeof d.ruleId === 'string'
            ? ([['Rule', d.ruleId]] as Array<[string, string]>)
            : []),
          ...(typeof d.library === 'string'
            ? ([['Library', d.library]] as Array<[string, string]>)
            : []),
        ],
        data: { actor: r.actor, seq: r.seq, kind: d.kind ?? null, ruleId: d.ruleId ?? null },
      })
    }
    if (r.kind === 'policy.change') {
      const list = (k: string) => (Array.isArray(d[k]) ? (d[k] as string[]) : [])
      const parts = [
        list('added').length ? `added ${list('added').join(', ')}` : '',
        list('removed').length ? `removed ${list('removed').join(', ')}` : '',
        list('changed').length ? `changed ${list('changed').join(', ')}` : '',
      ].filter(Boolean)
      out.push({
        event: 'policy.changed',
        team: r.team,
        title: `${r.actor} changed the team policy${parts.length ? `: ${parts.join('; ')}` : ''}`,
        fields: [
          ['By', r.actor],
          ['Rules', String(d.rules ?? 0)],
          ['Level', String(d.level ?? 'default')],
        ],
        data: { actor: r.actor, seq: r.seq, ...d },
      })
    }
  }
  return out
}

export function verifyNotice(team: string, v: AuditVerifyView): Notice {
  return {
    event: 'audit.verify-failed',
    team,
    title: `The audit log of ${team} failed verification${v.problem?.seq !== undefined ? ` at record ${v.problem.seq}` : ''}`,
    fields: [
      ['Where', v.problem?.where ?? 'unknown'],
      ['Problem', v.problem?.reason ?? 'unknown'],
      ['Records checked', String(v.records)],
    ],
    data: {
      problem: v.problem,
      records: v.records,
      checkedAt: new Date(v.checkedAt).toISOString(),
    },
  }
}
