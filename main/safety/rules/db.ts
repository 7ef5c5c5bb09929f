import type { CommandView, Rule } from '../rule'
import { parseOptions } from '../options'
import type { Arg, Risk, Span } from '../types'

interface SqlFinding {
  risk: Risk
  ruleId: string
  message: string
}

/** Rates SQL text statement by statement: DROP DATABASE, TRUNCATE, DELETE without WHERE... */
export function rateSql(sql: string): SqlFinding[] {
  const out: SqlFinding[] = []
  const statements = sql.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ').split(';')
  for (const raw of statements) {
    const s = raw.trim().replace(/\s+/g, ' ')
    if (!s) continue
    const u = s.toUpperCase()
    if (/^DROP (DATABASE|SCHEMA|KEYSPACE)\b/.test(u))
      out.push({
        risk: 'critical',
        ruleId: 'db.drop-database',
        message: `Drops a whole database: ${s.slice(0, 60)}`,
      })
    else if (/^DROP (TABLE|USER|ROLE|OWNED)\b/.test(u))
      out.push({ risk: 'high', ruleId: 'db.drop', message: `Drops data: ${s.slice(0, 60)}` })
    else if (/^DROP\b/.test(u))
      out.push({
        risk: 'moderate',
        ruleId: 'db.drop-object',
        message: `Drops an object: ${s.slice(0, 60)}`,
      })
    else if (/^TRUNCATE\b/.test(u))
      out.push({
        risk: 'high',
        ruleId: 'db.truncate',
        message: `Empties a table: ${s.slice(0, 60)}`,
      })
    else if (/^DELETE\b/.test(u)) {
      const unbounded = !/\bWHERE\b/.test(u) || /\bWHERE (1 ?= ?1|TRUE)\b/.test(u)
      out.push(
        unbounded
          ? {
              risk: 'high',
              ruleId: 'db.delete-all',
              message: `Deletes every row: ${s.slice(0, 60)}`,
            }
          : { risk: 'moderate', ruleId: 'db.delete', message: `Deletes rows: ${s.slice(0, 60)}` },
      )
    } else if (/^UPDATE\b/.test(u)) {
      const unbounded = !/\bWHERE\b/.test(u) || /\bWHERE (1 ?= ?1|TRUE)\b/.test(u)
      out.push(
        unbounded
          ? {
              risk: 'high',
              ruleId: 'db.update-all',
              message: `Updates every row: ${s.slice(0, 60)}`,
            }
          : { risk: 'moderate', ruleId: 'db.update', message: `Updates rows: ${s.slice(0, 60)}` },
      )
    } else if (/^ALTER\b.*\bDROP\b/.test(u))
      out.push({
        risk: 'high',
        ruleId: 'db.alter-drop',
        message: `Drops part of a table: ${s.slice(0, 60)}`,
      })
    else if (
      /^(SELECT|SHOW|EXPLAIN|DESCRIBE|DESC|WITH\b(?!.*\b(DELETE|UPDATE|INSERT)\b)|\\[a-z?]|VALUES|TABLE|PRAGMA (TABLE_INFO|INDEX_LIST)|USE|SET SEARCH_PATH|BEGIN|COMMIT|\.(TABLES|SCHEMA|HELP|MODE|HEADERS))/.test(
        u,
      )
    )
      continue
    else
      out.push({
        risk: 'moderate',
        ruleId: 'db.write',
        message: `Changes the database: ${s.slice(0, 60)}`,
      })
  }
  return out
}

const REDIS_RISK: Record<string, [Risk, string]> = {
  FLUSHALL: ['critical', 'Deletes every key in every Redis database on the server'],
  FLUSHDB: ['high', 'Deletes every key in the Redis database'],
  SHUTDOWN: ['high', 'Shuts the Redis server down'],
  DEBUG: ['high', 'Runs a Redis DEBUG command (can crash the server)'],
  DEL: ['moderate', 'Deletes Redis keys'],
  UNLINK: ['moderate', 'Deletes Redis keys'],
  SET: ['moderate', 'Writes a Redis key'],
  CONFIG: ['moderate', 'Changes the Redis configuration'],
  EXPIRE: ['moderate', 'Changes key expiry'],
  RENAME: ['moderate', 'Renames a key'],
  HSET: ['moderate', 'Writes a Redis hash'],
  LPUSH: ['moderate', 'Writes a Redis list'],
  RPUSH: ['moderate', 'Writes a Redis list'],
  SADD: ['moderate', 'Writes a Redis set'],
  ZADD: ['moderate', 'Writes a Redis sorted set'],
  INCR: ['moderate', 'Changes a counter'],
  EVAL: ['moderate', 'Runs a Lua script on the Redis server'],
  REPLICAOF: ['high', 'Makes the server a replica (drops its data)'],
  SLAVEOF: ['high', 'Makes the server a replica (drops its data)'],
}

function emitSql(c: CommandView, sql: string, at: Arg | Span): void {
  for (const f of rateSql(sql)) c.emit(f.ruleId, f.risk, f.message, at, { prod: true })
}

/** SQL clients: inline SQL (-c/-e), here-docs, piped literals; a script file is opaque. */
const sqlClient =
  (inline: { short: string; long: string[] }, valueOpts: string, positionalSql = false): Rule =>
  (c) => {
    const opts = parseOptions(c.args, {
      shortWithValue: valueOpts,
      longWithValue: [
        'host',
        'port',
        'user',
        'username',
        'dbname',
        'database',
        'password',
        'file',
        ...inline.long,
      ],
    })
    let found = false
    for (let i = 0; i < c.args.length; i++) {
      const a = c.args[i]!
      const eq = inline.long.map((l) => `--${l}=`).find((p) => a.value.startsWith(p))
      const sql = eq
        ? a.value.slice(eq.length)
        : inline.short.split('').some((s) => a.value === `-${s}`) ||
            inline.long.some((l) => a.value === `--${l}`)
          ? c.args[i + 1]?.value
          : /^-[a-z]$/.test(a.value.slice(0, 2)) &&
              inline.short.includes(a.value[1]!) &&
              a.value.length > 2
            ? a.value.slice(2)
            : undefined
      if (sql !== undefined) {
        found = true
        emitSql(c, sql, c.args[i + 1] && !eq ? c.args[i + 1]! : a)
      }
    }
    if (positionalSql && opts.operands.length >= 2) {
      found = true
      emitSql(
        c,
        opts.operands
          .slice(1)
          .map((o) => o.value)
          .join(' '),
        opts.operands[1]!,
      )
    }
    for (const r of c.cmd.redirects) {
      if (r.body) {
        found = true
        emitSql(c, r.body.text, r.body.span)
      } else if (r.op === '<' && r.target) {
        found = true
        c.emit(
          'db.script',
          'moderate',
          `Runs the SQL in ${r.target.value} (not inspected)`,
          r.target,
          { prod: true },
        )
      }
    }
    const stdin = c.cmd.stdin
    if (stdin.kind === 'literal') emitSql(c, stdin.text, stdin.span)
    else if (stdin.kind !== 'none' && !found)
      c.emit(
        'db.script',
        'moderate',
        'Runs SQL produced by another command (not inspected)',
        c.nameArg,
        { prod: true },
      )
    const file = opts.values.get('f') ?? opts.long.get('file')
    if (typeof file === 'string' && !found)
      c.emit('db.script', 'moderate', `Runs the SQL in ${file} (not inspected)`, c.nameArg, {
        prod: true,
      })
  }

const redisCli: Rule = (c) => {
  const opts = parseOptions(c.args, {
    shortWithValue: 'hpansuc',
    longWithValue: ['user', 'pass', 'tls', 'cacert'],
  })
  const words = opts.operands.map((o) => o.value.toUpperCase())
  const stdinText = c.cmd.stdin.kind === 'literal' ? c.cmd.stdin.text.toUpperCase() : ''
  const verbs = [
    words[0] ?? '',
    ...stdinText.split(/\n/).map((l) => l.trim().split(/\s+/)[0] ?? ''),
  ]
  for (const v of verbs) {
    const r = REDIS_RISK[v]
    if (r)
      c.emit(`db.redis.${v.toLowerCase()}`, r[0], r[1], opts.operands[0] ?? c.nameArg, {
        prod: true,
      })
  }
}

const mongo: Rule = (c) => {
  const idx = c.args.findIndex((a) => a.value === '--eval')
  const code =
    idx >= 0
      ? (c.args[idx + 1]?.value ?? '')
      : c.cmd.stdin.kind === 'literal'
        ? c.cmd.stdin.text
        : (c.cmd.redirects.find((r) => r.body)?.body?.text ?? '')
  const at = c.args[idx + 1] ?? c.nameArg
  if (/dropDatabase\s*\(/.test(code))
    c.emit('db.mongo.drop-database', 'critical', 'Drops a whole MongoDB database', at, {
      prod: true,
    })
  else if (/\.drop\s*\(|deleteMany\s*\(\s*\{\s*\}\s*\)|\.remove\s*\(\s*\{\s*\}\s*\)/.test(code))
    c.emit('db.mongo.drop', 'high', 'Drops a collection or deletes every document', at, {
      prod: true,
    })
  else if (
    /delete(One|Many)|remove\(|update(One|Many)|insert|replaceOne|createIndex|renameCollection/.test(
      code,
    )
  )
    c.emit('db.mongo.write', 'moderate', 'Changes MongoDB documents', at, { prod: true })
}

export const dbRules: Record<string, Rule> = {
  psql: sqlClient({ short: 'c', long: ['command'] }, 'hpUdfcvPoLT'),
  mysql: sqlClient({ short: 'e', long: ['execute'] }, 'hPuDepSo'),
  mariadb: sqlClient({ short: 'e', long: ['execute'] }, 'hPuDepSo'),
  sqlite3: sqlClient({ short: '', long: ['cmd'] }, '', true),
  sqlcmd: sqlClient({ short: 'Q', long: [] }, 'SUPdiQ'),
  'clickhouse-client': sqlClient({ short: 'q', long: ['query'] }, 'hudq'),
  cqlsh: sqlClient({ short: 'e', long: ['execute'] }, 'ukfe'),
  influx: (c) => {
    const i = c.args.findIndex((a) => /^--?execute$/.test(a.value))
    const sql = c.args[i + 1]
    if (i >= 0 && sql) emitSql(c, sql.value, sql)
  },
  duckdb: sqlClient({ short: 'c', long: [] }, 'c', true),
  'redis-cli': redisCli,
  'valkey-cli': redisCli,
  mongosh: mongo,
  mongo,
  dropdb: (c) =>
    c.emit(
      'db.drop-database',
      'critical',
      `Drops the database ${c.opts({ shortWithValue: 'hpU' }).operands[0]?.value ?? ''}`,
      c.nameArg,
      { prod: true },
    ),
  dropuser: (c) => c.emit('db.drop', 'high', 'Drops a database role', c.nameArg, { prod: true }),
  createdb: (c) => c.emit('db.write', 'moderate', 'Creates a database', c.nameArg),
  mysqladmin: (c) => {
    if (c.args.some((a) => /^drop$/i.test(a.value)))
      c.emit('db.drop-database', 'critical', 'Drops a whole database', c.nameArg, { prod: true })
    else if (c.args.some((a) => /^(shutdown|flush-.*|kill|password)$/i.test(a.value)))
      c.emit('db.admin', 'high', 'Shuts down, flushes or changes the MySQL server', c.nameArg, {
        prod: true,
      })
  },
  pg_restore: (c) =>
    c.emit(
      c.args.some((a) => /^(-c|--clean)$/.test(a.value)) ? 'db.restore.clean' : 'db.restore',
      c.args.some((a) => /^(-c|--clean)$/.test(a.value)) ? 'high' : 'moderate',
      'Restores a database dump over existing data',
      c.nameArg,
      { prod: true },
    ),
  mongorestore: (c) =>
    c.emit(
      'db.restore',
      c.args.some((a) => a.value === '--drop') ? 'high' : 'moderate',
      'Restores a MongoDB dump',
      c.nameArg,
      { prod: true },
    ),
}
