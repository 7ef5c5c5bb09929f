import type { HistoryFilter } from '../../contract/history'

/** A SQL fragment over `commands c` with its positional parameters, starting at `$offset+1`. */
export interface SqlFragment {
  sql: string
  params: unknown[]
}

export function isEmptyFilter(filter: HistoryFilter | undefined): boolean {
  if (!filter) return true
  return Object.values(filter).every((v) => v === undefined)
}

/** Escapes LIKE metacharacters so user text matches literally (the escape character is `\`). */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (m) => `\\${m}`)
}

/** Builds `cond AND cond ...` over the `commands` alias `c` (or 'TRUE'). */
export function filterSql(filter: HistoryFilter | undefined, offset = 0): SqlFragment {
  const conds: string[] = []
  const params: unknown[] = []
  const p = (value: unknown) => {
    params.push(value)
    return `$${offset + params.length}`
  }
  if (!filter) return { sql: 'TRUE', params }
  if (filter.cwd !== undefined) {
    const dir = filter.cwd.length > 1 ? filter.cwd.replace(/\/+$/, '') : filter.cwd
    const below = dir === '/' ? '/%' : `${escapeLike(dir)}/%`
    conds.push(`(c.cwd = ${p(dir)} OR c.cwd LIKE ${p(below)})`)
  }
  if (filter.exit === 'ok') conds.push('c.exit_code = 0')
  else if (filter.exit === 'fail') conds.push('c.exit_code <> 0')
  else if (typeof filter.exit === 'number') conds.push(`c.exit_code = ${p(filter.exit)}`)
  if (filter.since !== undefined) conds.push(`c.started_at >= ${p(filter.since)}`)
  if (filter.until !== undefined) conds.push(`c.started_at < ${p(filter.until)}`)
  if (filter.sessionId !== undefined) conds.push(`c.session_id = ${p(filter.sessionId)}`)
  if (filter.host !== undefined) conds.push(`c.host = ${p(filter.host)}`)
  if (filter.shell !== undefined) conds.push(`c.shell = ${p(filter.shell)}`)
  if (filter.origin === 'ai') conds.push('c.ai_request_id IS NOT NULL')
  else if (filter.origin === 'typed') conds.push('c.ai_request_id IS NULL')
  if (filter.command !== undefined)
    conds.push(`c.text_id IN (SELECT id FROM command_texts WHERE text = ${p(filter.command)})`)
  return { sql: conds.length ? conds.join(' AND ') : 'TRUE', params }
}
