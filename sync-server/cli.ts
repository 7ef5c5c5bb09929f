import { createWriteStream, readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { join, resolve } from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import pino from 'pino'
import { ROLES } from '../contract/sync'
import { connectControl, type ControlClient } from './admin/control'
import type { VerifyReport } from './audit/chain'
import { parseCheckpoint } from './audit/chain'
import { EXPORT_FORMATS } from './audit/export'
import type { TokenInfo } from './admin/admin'
import { dataPaths } from './storage/paths'
import type { BackendConfig } from './backend'
import type { Target } from './admin/local-target'
import { redactUrl } from './relay/url'
import { readPackageVersion, resolveOutDir } from '../main/config/paths'

/** Files the server and CLI write are private whatever the caller's umask. */
process.umask(0o077)

const actor = `cli:${safeUser()}`

function safeUser(): string {
  try {
    return (
      userInfo()
        .username.replace(/[^A-Za-z0-9._-]/g, '')
        .slice(0, 64) || 'unknown'
    )
  } catch {
    return 'unknown'
  }
}

/** Strips terminal control characters from text we echo (labels are free text). */
// eslint-disable-next-line no-control-regex -- control characters are what we strip
const clean = (s: unknown) => String(s).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')

interface TargetOptions {
  data?: string
  databaseUrl?: string
}

/** The running server's control channel when it owns the data dir, else the storage itself. */
async function openTarget(opts: TargetOptions): Promise<Target> {
  const config = backendConfig(opts)
  if (!config.databaseUrl && config.dataDir) {
    const control: ControlClient | null = await connectControl(
      dataPaths(config.dataDir).control,
      actor,
    )
    if (control) return { ...control, close: async () => {} }
  }
  // Loaded only when needed: the embedded database is heavy to import.
  const { openLocalTarget } = await import('./admin/local-target')
  return openLocalTarget(config, actor)
}

function backendConfig(opts: TargetOptions): BackendConfig {
  const databaseUrl = opts.databaseUrl ?? process.env.CMDAI_SYNC_DATABASE_URL
  const data = opts.data ?? process.env.CMDAI_SYNC_DATA
  return { ...(data ? { dataDir: resolve(data) } : {}), ...(databaseUrl ? { databaseUrl } : {}) }
}

async function withTarget(opts: TargetOptions, fn: (t: Target) => Promise<void>): Promise<void> {
  const target = await openTarget(opts)
  try {
    await fn(target)
  } finally {
    await target.close()
  }
}

const storageOptions = (cmd: Command) =>
  cmd
    .option('--data <dir>', 'data directory (embedded storage); env CMDAI_SYNC_DATA')
    .option(
      '--database-url <url>',
      'PostgreSQL URL instead of embedded storage; env CMDAI_SYNC_DATABASE_URL',
    )

const roleOption = () =>
  new Option('--role <role>', 'admin, engineer, junior or readonly').choices(ROLES)

function parseTime(text: string): number {
  const rel = /^(\d+)([smhdw])$/.exec(text)
  if (rel) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[
      rel[2] as 's' | 'm' | 'h' | 'd' | 'w'
    ]
    return Date.now() - Number(rel[1]) * unit * 1000
  }
  const t = Date.parse(text)
  if (Number.isNaN(t))
    throw new InvalidArgumentError(
      'an ISO date (2026-01-31, 2026-01-31T12:00:00Z) or an age (7d, 12h)',
    )
  return t
}

function parseIntArg(text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer')
  return n
}

function parsePort(text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new InvalidArgumentError('a port number')
  return n
}

/** A base URL (http or https, no trailing slash). */
function publicUrl(text: string): string {
  let u: URL
  try {
    u = new URL(text)
  } catch {
    throw new InvalidArgumentError('a URL like https://sync.example.com')
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InvalidArgumentError('an http or https URL')
  return u.origin + u.pathname.replace(/\/+$/, '')
}

/** The console build beside this package's app build (`npm run build` writes it). */
function defaultConsoleDir(): string {
  return join(resolveOutDir(), 'console-ui')
}

function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

function printTokens(rows: TokenInfo[]): void {
  if (rows.length === 0) return console.log('No tokens.')
  for (const t of rows)
    console.log(
      [
        t.jti,
        t.team,
        t.user,
        t.role,
        t.status,
        `expires ${new Date(t.expiresAt).toISOString()}`,
        t.label ? clean(t.label) : '',
      ]
        .join('  ')
        .trimEnd(),
    )
}

function printVerify(reports: VerifyReport[]): boolean {
  let ok = true
  if (reports.length === 0) console.log('No audit records.')
  for (const r of reports) {
    if (r.ok)
      console.log(
        `${r.team}: intact, ${r.records} records (seq ${r.firstSeq ?? 0}..${r.head?.seq ?? 0}), ${r.checkpointsChecked} checkpoints matched`,
      )
    else {
      ok = false
      const p = r.problem!
      console.log(
        `${r.team}: TAMPERED at ${p.seq !== undefined ? `record ${p.seq}` : 'the log'} (${clean(p.where)}): ${clean(p.reason)}`,
      )
    }
  }
  return ok
}

export function buildProgram(): Command {
  const program = new Command('cmdai-sync')
    .description(
      'The cmdai team sync server: y-websocket with sign-in, roles, storage and a tamper-evident audit log',
    )
    .version(readPackageVersion())
    .showHelpAfterError()

  program
    .command('start')
    .description('run the server')
    .option('--port <port>', 'port to listen on', (v) => Number(v), 4455)
    .option(
      '--host <host>',
      'address to bind (a reverse proxy in front terminates TLS)',
      '127.0.0.1',
    )
    .option(
      '--data <dir>',
      'data directory: embedded database, audit segments, control file; env CMDAI_SYNC_DATA',
    )
    .option(
      '--database-url <url>',
      'PostgreSQL instead of embedded storage (several instances); env CMDAI_SYNC_DATABASE_URL',
    )
    .option('--redis-url <url>', 'Redis for relaying between instances; env CMDAI_SYNC_REDIS_URL')
    .option('--log-level <level>', 'fatal, error, warn, info, debug', 'info')
    .option('--trust-proxy', 'take client addresses from X-Forwarded-For')
    .option('--fsync-audit', 'fsync audit segments after each append (embedded mode)')
    .option('--max-message-bytes <n>', 'largest WebSocket message', parseIntArg)
    .option('--messages-per-second <n>', 'per connection', parseIntArg)
    .option('--max-rooms-per-token <n>', 'open rooms per token', parseIntArg)
    .option(
      '--public-url <url>',
      'the URL people reach this server at (links in invites and Slack messages)',
    )
    .option('--console-dir <dir>', 'the built admin console (default: the build in this package)')
    .option('--oidc-issuer <url>', 'single sign-on: the identity provider’s issuer URL')
    .option('--oidc-client-id <id>', 'single sign-on: this server’s client id at the IdP')
    .option('--oidc-client-secret-file <file>', 'single sign-on: a file holding the client secret')
    .option('--oidc-config <file>', 'single sign-on settings in YAML or JSON (see the README)')
    .action(async (opts) => {
      const logger = pino({
        level: opts.logLevel,
        redact: {
          paths: ['token', '*.token', 'authorization', '*.authorization'],
          censor: '[redacted]',
        },
      })
      const config = backendConfig(opts)
      const redisUrl = opts.redisUrl ?? process.env.CMDAI_SYNC_REDIS_URL
      const { loadSsoSettings } = await import('./oidc/config')
      let sso
      try {
        sso = loadSsoSettings(opts)
      } catch (err) {
        program.error(`cmdai-sync start: ${(err as Error).message}`, { exitCode: 2 })
      }
      const { runServer } = await import('./start')
      const running = await runServer({
        ...config,
        port: opts.port,
        host: opts.host,
        logger,
        trustProxy: !!opts.trustProxy,
        fsyncAudit: !!opts.fsyncAudit,
        consoleAssets: opts.consoleDir ? resolve(opts.consoleDir) : defaultConsoleDir(),
        ...(opts.publicUrl ? { publicUrl: publicUrl(opts.publicUrl) } : {}),
        ...(redisUrl ? { redisUrl } : {}),
        sso,
        limits: {
          ...(opts.maxMessageBytes ? { maxMessageBytes: opts.maxMessageBytes } : {}),
          ...(opts.messagesPerSecond
            ? {
                messagesPerSecond: opts.messagesPerSecond,
                messageBurst: opts.messagesPerSecond * 2,
              }
            : {}),
          ...(opts.maxRoomsPerToken ? { maxRoomsPerToken: opts.maxRoomsPerToken } : {}),
        },
      })
      logger.info(
        {
          url: `ws://${opts.host}:${running.port}/sync`,
          storage: config.databaseUrl ? redactUrl(config.databaseUrl) : config.dataDir,
        },
        'ready',
      )
      let stopping = false
      const stop = (signal: string) => {
        if (stopping) return
        stopping = true
        logger.info({ signal }, 'stopping')
        running.close().then(
          () => process.exit(0),
          (err: Error) => {
            logger.error({ err: err.message }, 'stop failed')
            process.exit(1)
          },
        )
      }
      process.on('SIGTERM', () => stop('SIGTERM'))
      process.on('SIGINT', () => stop('SIGINT'))
    })

  storageOptions(
    program
      .command('admin-url')
      .description(
        'print a one-time sign-in link to the admin console for a member (valid 10 minutes, usable once)',
      )
      .requiredOption('--team <team>', 'team name')
      .requiredOption('--user <user>', 'the member signing in')
      .option('--port <port>', 'the server’s port (default: the running server’s, else 4455)')
      .option('--url <url>', 'the server’s public URL (e.g. https://sync.example.com)'),
  ).action((opts) => {
    // Checked before a code is issued: a bad option must not leave a usable link behind.
    const url = opts.url !== undefined ? publicUrl(opts.url) : null
    const givenPort = opts.port !== undefined ? parsePort(opts.port) : null
    return withTarget(opts, async (t) => {
      const r = (await t.call('consoleSignin', { team: opts.team, user: opts.user })) as {
        code: string
        expiresAt: number
        role: string
        port: number | null
      }
      const base = url ?? `http://127.0.0.1:${givenPort ?? r.port ?? 4455}`
      console.error(
        `one-time link for ${opts.user} (${r.role} in ${opts.team}), valid until ${new Date(r.expiresAt).toISOString()}:`,
      )
      console.log(`${base}/admin/signin?code=${r.code}`)
    })
  })

  const token = program.command('token').description('mint, list and revoke access tokens')
  storageOptions(
    token
      .command('create')
      .description(
        'mint a token (prints it on the last line); creates the team and member if missing',
      )
      .requiredOption('--team <team>', 'team name')
      .requiredOption('--user <user>', 'user id')
      .addOption(roleOption().makeOptionMandatory())
      .option('--ttl <duration>', 'lifetime: 30d, 12h, 15m...', '30d')
      .option('--label <text>', 'a note shown in `token list`'),
  ).action((opts) =>
    withTarget(opts, async (t) => {
      const r = (await t.call('tokenCreate', {
        team: opts.team,
        user: opts.user,
        role: opts.role,
        ttl: opts.ttl,
        ...(opts.label ? { label: opts.label } : {}),
      })) as { token: string; info: TokenInfo; notes: string[] }
      for (const n of r.notes) console.error(n)
      console.error(
        `token ${r.info.jti} for ${r.info.user} (${r.info.role} in ${r.info.team}), expires ${new Date(r.info.expiresAt).toISOString()}`,
      )
      console.log(r.token)
    }),
  )
  storageOptions(
    token
      .command('list')
      .description('list tokens (ids, never the tokens themselves)')
      .option('--team <team>')
      .option('--user <user>')
      .option('--json', 'JSON output'),
  ).action((opts) =>
    withTarget(opts, async (t) => {
      const rows = (await t.call('tokenList', {
        ...(opts.team ? { team: opts.team } : {}),
        ...(opts.user ? { user: opts.user } : {}),
      })) as TokenInfo[]
      if (opts.json) printJson(rows)
      else printTokens(rows)
    }),
  )
  storageOptions(
    token
      .command('revoke')
      .description(
        'revoke a token by id, or all of a member’s tokens; open connections close within seconds',
      )
      .argument('[jti]', 'token id (from `token list`)')
      .option('--team <team>')
      .option('--user <user>'),
  ).action((jti: string | undefined, opts) =>
    withTarget(opts, async (t) => {
      const r = (await t.call('tokenRevoke', {
        ...(jti ? { jti } : {}),
        ...(opts.team ? { team: opts.team } : {}),
        ...(opts.user ? { user: opts.user } : {}),
      })) as { revoked: string[] }
      console.log(r.revoked.length ? `revoked ${r.revoked.join(', ')}` : 'already revoked')
    }),
  )

  const team = program.command('team').description('teams')
  storageOptions(team.command('create').argument('<name>')).action((name: string, opts) =>
    withTarget(opts, async (t) => {
      const r = (await t.call('teamCreate', { team: name })) as { created: boolean }
      console.log(r.created ? `created team ${name}` : `team ${name} exists`)
    }),
  )
  storageOptions(team.command('list').option('--json')).action((opts) =>
    withTarget(opts, async (t) => {
      const rows = (await t.call('teamList', {})) as Array<{
        name: string
        retentionDays: number | null
      }>
      if (opts.json) return printJson(rows)
      for (const r of rows)
        console.log(`${r.name}${r.retentionDays ? `  audit retention ${r.retentionDays}d` : ''}`)
    }),
  )

  const member = program.command('member').description('team members and their roles')
  storageOptions(
    member
      .command('add')
      .requiredOption('--team <team>')
      .requiredOption('--user <user>')
      .addOption(roleOption().makeOptionMandatory()),
  ).action((opts) =>
    withTarget(opts, async (t) => {
      await t.call('memberAdd', { team: opts.team, user: opts.user, role: opts.role })
      console.log(`added ${opts.user} to ${opts.team} as ${opts.role}`)
    }),
  )
  storageOptions(
    member
      .command('set-role')
      .requiredOption('--team <team>')
      .requiredOption('--user <user>')
      .addOption(roleOption().makeOptionMandatory()),
  ).action((opts) =>
    withTarget(opts, async (t) => {
      const r = (await t.call('memberSetRole', {
        team: opts.team,
        user: opts.user,
        role: opts.role,
      })) as {
        previous: string | null
      }
      console.log(`${opts.user} in ${opts.team}: ${r.previous ?? 'none'} -> ${opts.role}`)
    }),
  )
  storageOptions(
    member.command('remove').requiredOption('--team <team>').requiredOption('--user <user>'),
  ).action((opts) =>
    withTarget(opts, async (t) => {
      const r = (await t.call('memberRemove', { team: opts.team, user: opts.user })) as {
        revokedTokens: number
      }
      console.log(`removed ${opts.user} from ${opts.team}; revoked ${r.revokedTokens} token(s)`)
    }),
  )
  storageOptions(member.command('list').requiredOption('--team <team>').option('--json')).action(
    (opts) =>
      withTarget(opts, async (t) => {
        const rows = (await t.call('memberList', { team: opts.team })) as Array<{
          user: string
          role: string
        }>
        if (opts.json) return printJson(rows)
        for (const r of rows) console.log(`${r.user}  ${r.role}`)
      }),
  )

  const key = program.command('key').description('signing keys (tokens, audit checkpoints)')
  storageOptions(
    key
      .command('rotate')
      .description('add a new signing key; older ones keep verifying what they signed')
      .addOption(new Option('--purpose <purpose>').choices(['token', 'audit']).default('token')),
  ).action((opts) =>
    withTarget(opts, async (t) => {
      const r = (await t.call('keyRotate', { purpose: opts.purpose })) as { kid: string }
      console.log(`new ${opts.purpose} key ${r.kid}`)
    }),
  )
  storageOptions(key.command('list')).action((opts) =>
    withTarget(opts, async (t) => {
      const rows = (await t.call('keyList', {})) as Array<{
        kid: string
        purpose: string
        createdAt: number
        active: boolean
      }>
      for (const r of rows)
        console.log(
          `${r.kid}  ${r.purpose}  ${new Date(r.createdAt).toISOString()}${r.active ? '  active' : ''}`,
        )
    }),
  )

  const audit = program.command('audit').description('verify and export the audit log')
  storageOptions(
    audit
      .command('verify')
      .description(
        'check the hash chain and signed checkpoints; exit 0 when intact, 2 naming the first bad record',
      )
      .option('--team <team>', 'one team (default: every chain)')
      .option(
        '--checkpoint <file>',
        'a checkpoint the app kept (GET /audit/checkpoint): detects truncation',
      )
      .option('--json'),
  ).action((opts) =>
    withTarget(opts, async (t) => {
      let checkpoint: unknown
      if (opts.checkpoint) {
        try {
          checkpoint = parseCheckpoint(readFileSync(opts.checkpoint, 'utf8'))
        } catch (err) {
          throw new Error(`${opts.checkpoint} is not a checkpoint: ${(err as Error).message}`)
        }
      }
      const reports = (await t.call('auditVerify', {
        ...(opts.team ? { team: opts.team } : {}),
        ...(checkpoint ? { checkpoint } : {}),
      })) as VerifyReport[]
      const ok = opts.json ? reports.every((r) => r.ok) : printVerify(reports)
      if (opts.json) printJson(reports)
      process.exitCode = ok ? 0 : 2
    }),
  )
  storageOptions(
    audit
      .command('export')
      .description('export records as JSON lines, CSV, syslog (RFC 5424) or CEF')
      .addOption(new Option('--format <format>').choices(EXPORT_FORMATS).default('jsonl'))
      .option('--team <team>', 'one team (default: every chain)')
      .option('--since <time>', 'ISO date or age (7d)', parseTime)
      .option('--until <time>', 'ISO date or age', parseTime)
      .option('--out <file>', 'write to a file (0600) instead of stdout'),
  ).action((opts) =>
    withTarget(opts, async (t) => {
      const out = opts.out ? createWriteStream(opts.out, { mode: 0o600 }) : process.stdout
      await t.stream(
        'auditExport',
        {
          format: opts.format,
          ...(opts.team ? { team: opts.team } : {}),
          ...(opts.since !== undefined ? { since: opts.since } : {}),
          ...(opts.until !== undefined ? { until: opts.until } : {}),
        },
        (chunk) => out.write(chunk),
      )
      if (opts.out)
        await new Promise<void>((r) => (out as ReturnType<typeof createWriteStream>).end(r))
    }),
  )
  storageOptions(
    audit
      .command('retention')
      .description(
        'keep a team’s audit records for N days (whole old segments are removed, the cut is recorded)',
      )
      .requiredOption('--team <team>')
      .requiredOption('--days <n>', 'days, or "off"'),
  ).action((opts) =>
    withTarget(opts, async (t) => {
      const days = opts.days === 'off' ? null : parseIntArg(opts.days)
      const r = (await t.call('auditRetention', { team: opts.team, days })) as {
        removed: number
        keptFromSeq: number | null
      }
      console.log(
        days === null
          ? `${opts.team}: audit kept forever`
          : `${opts.team}: keeping ${days} days; removed ${r.removed} record(s)${r.keptFromSeq ? `, log starts at seq ${r.keptFromSeq}` : ''}`,
      )
    }),
  )

  storageOptions(
    program
      .command('backup')
      .description('write a consistent backup (documents, directory, keys, audit) to a file (0600)')
      .requiredOption('--out <file>'),
  ).action((opts) =>
    withTarget(opts, async (t) => {
      const counts = await t.call('backup', { out: resolve(opts.out) })
      console.log(`backup written to ${resolve(opts.out)}: ${JSON.stringify(counts)}`)
    }),
  )
  storageOptions(
    program
      .command('restore')
      .description(
        'restore a backup into a new data dir or an empty database (the server must not be running)',
      )
      .requiredOption('--in <file>'),
  ).action(async (opts) => {
    const config = backendConfig(opts)
    const { openBackend } = await import('./backend')
    const { restoreBackup } = await import('./admin/backup')
    const backend = await openBackend(config, 'cli')
    try {
      const r = await restoreBackup(resolve(opts.in), {
        storage: backend.storage,
        audit: backend.audit,
        keys: () => backend.keys(),
        ...(config.dataDir ? { auditDir: dataPaths(config.dataDir).audit } : {}),
      })
      console.log(`restored: ${JSON.stringify(r.counts)}`)
      if (!printVerify(r.verify)) process.exitCode = 2
    } finally {
      await backend.close()
    }
  })
  return program
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' })
  } catch (err) {
    console.error(`cmdai-sync: ${clean((err as Error).message)}`)
    process.exitCode = 1
  }
}
