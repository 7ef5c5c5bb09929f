import type { Logger } from 'pino'
import { initSafety } from '../main/safety/analyze'
import { readPackageVersion } from '../main/config/paths'
import { createAdmin } from './admin/admin'
import { createApprovals, type ApprovalService } from './approvals/approvals'
import { createConsole } from './console'
import { createElevation, type ElevationService } from './elevation'
import { createSso, type SsoExtension } from './oidc'
import type { SsoSettings } from './oidc/config'
import { ensureConsoleSchema } from './console/schema'
import { consoleSigninOperation } from './console/signin-operation'
import { writeBackup } from './admin/backup'
import { startControl } from './admin/control'
import { runOperation, streamExport, type OperationContext } from './admin/operations'
import { openBackend, type BackendConfig } from './backend'
import type { Limits, Timings } from './config'
import { DEFAULT_TIMINGS } from './config'
import { RedisRelay } from './relay/redis-relay'
import { createSyncServer, type ExtensionDeps, type SyncServer } from './server'
import { dataPaths, ensurePrivateDir } from './storage/paths'

export interface RunConfig extends BackendConfig {
  port: number
  host: string
  redisUrl?: string
  logger: Logger
  limits?: Partial<Limits>
  timings?: Partial<Timings>
  trustProxy?: boolean
  /** The built admin console (`out/console-ui`); null serves only its API. */
  consoleAssets?: string | null
  /** The URL people reach the server at (links in invites and Slack messages). */
  publicUrl?: string
  /** Single sign-on with an OpenID provider (`oidc/config.ts`); none without. */
  sso?: SsoSettings | null
}

export interface RunningServer {
  port: number
  server: SyncServer
  close(): Promise<void>
}

/**
 * Opens storage, keys and (optionally) Redis, starts the server and, with a data dir, the loopback
 * control channel the CLI uses while the server runs; `close` undoes it all in reverse.
 */
export async function runServer(config: RunConfig): Promise<RunningServer> {
  const backend = await openBackend(config, 'server')
  const cleanup: Array<() => Promise<void>> = [() => backend.close()]
  const undo = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {})
  }
  try {
    const keys = await backend.keys()
    const relay = config.redisUrl ? await RedisRelay.connect(config.redisUrl, config.logger) : null
    if (relay) cleanup.push(() => relay.close())
    // The safety engine rates pattern commands in audit records (a WASM parser: load it once).
    await initSafety().catch((err: Error) =>
      config.logger.warn({ err: err.message }, 'safety engine unavailable'),
    )
    // Before the first event arrives: the console's analytics rollups are fed by a trigger.
    await ensureConsoleSchema(backend.storage)
    let approvals: ApprovalService | null = null
    let elevation: ElevationService | null = null
    let sso: SsoExtension | null = null
    // Single sign-on's redirect URI is built on the public URL (the port is known once listening).
    let listening = `http://${config.host}:${config.port}`
    const server = createSyncServer({
      storage: backend.storage,
      keys,
      audit: backend.audit,
      relay,
      logger: config.logger,
      limits: config.limits,
      timings: config.timings,
      trustProxy: config.trustProxy,
      extensions: [
        (deps) => (approvals = createApprovals(deps)),
        (deps) => (elevation = createElevation(deps)),
        ...(config.sso
          ? [
              (deps: ExtensionDeps) =>
                (sso = createSso(deps, {
                  ...config.sso!,
                  publicUrl: () => config.publicUrl ?? listening,
                })),
            ]
          : []),
        (deps) =>
          createConsole(deps, {
            assetsDir: config.consoleAssets ?? null,
            // Links in invites and Slack messages: the configured URL, else this server's own.
            publicUrl: () => config.publicUrl ?? listening,
            approvals: () => approvals,
            identity: () => ({ sso, elevation }),
          }),
      ],
    })
    const { port } = await server.listen(config.port, config.host)
    listening = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`
    if (config.sso)
      config.logger.info(
        {
          issuer: config.sso.issuer,
          redirectUri: `${config.publicUrl ?? listening}/auth/sso/callback`,
          ...(config.publicUrl ? {} : { hint: 'set --public-url to the address people use' }),
        },
        'single sign-on: register this redirect URI at the identity provider',
      )
    cleanup.push(() => server.close())
    const version = readPackageVersion()
    const adminFor = (actor: string) =>
      createAdmin(
        {
          storage: backend.storage,
          keys,
          audit: backend.audit,
          commit: (entry) => server.commit(entry),
          afterDirectoryChange: () => server.recheckConnections(),
        },
        actor,
      )
    const consoleSignin = consoleSigninOperation(
      backend.storage,
      (entry) => server.commit(entry),
      port,
    )
    const context = (actor: string): OperationContext => ({
      admin: adminFor(actor),
      actor,
      consoleSignin,
      audit: backend.audit,
      version,
      backup: (out) =>
        writeBackup(out, {
          storage: backend.storage,
          audit: backend.audit,
          // Embedded: inside the group commit, so no write lands half in the backup.
          // Postgres: one repeatable-read snapshot (other instances keep writing).
          snapshot: (fn) =>
            backend.storage.kind === 'postgres'
              ? backend.storage.transaction(fn, { readOnly: true })
              : new Promise((resolve, reject) => {
                  server.commit({ run: async (tx) => (resolve(await fn(tx)), []) }).catch(reject)
                }),
        }),
    })
    const retention = adminFor('system')
    const timer = setInterval(() => {
      retention
        .applyRetention()
        .catch((err: Error) => config.logger.error({ err: err.message }, 'retention failed'))
    }, config.timings?.retentionEveryMs ?? DEFAULT_TIMINGS.retentionEveryMs)
    timer.unref()
    cleanup.push(async () => clearInterval(timer))
    if (config.dataDir) {
      ensurePrivateDir(dataPaths(config.dataDir).run)
      const control = await startControl(dataPaths(config.dataDir).control, {
        call: (op, input, actor) => runOperation(context(actor), op, input),
        stream: (op, input, write) => {
          if (op !== 'auditExport') throw new Error(`Unknown stream ${op}`)
          return streamExport(context('control'), input, write)
        },
      })
      cleanup.push(() => control.close())
    }
    return { port, server, close: undo }
  } catch (err) {
    await undo()
    throw err
  }
}
