import { spawn } from 'node:child_process'
import { Command, InvalidArgumentError, Option } from 'commander'
import { CmdaiError } from '../../../contract/errors'
import {
  MAX_ELEVATION_MS,
  MIN_ELEVATION_MS,
  parseElevationDuration,
  type Elevation,
  type IdentityView,
} from '../../../contract/identity'
import { ROLES, type Role } from '../../../contract/sync'

/**
 * `cmdai team login|logout|status|elevate|end-elevation`: single sign-on and just-in-time
 * elevation from the command line. `login` uses the device flow (RFC 8628) when the team server's
 * IdP offers it (headless machines: open the printed address anywhere, enter the code), the
 * browser with a loopback redirect otherwise (or with `--browser`). The session is stored as the
 * app stores team tokens (the library folder of the data dir, 0600) and refreshed when needed.
 */
export const EXIT = { ok: 0, error: 1, denied: 4, pending: 5 } as const

export function registerTeamCommands(program: Command): void {
  const team = program
    .command('team')
    .description('Sign in to a team server with its identity provider; elevated access')

  team
    .command('login')
    .description('Sign in (device code, or the browser with --browser)')
    .addOption(
      new Option('--server <url>', 'team server, http(s)://host:port')
        .env('CMDAI_TEAM_SERVER')
        .makeOptionMandatory(),
    )
    .option('--team <team>', 'the team, when your groups grant several')
    .option('--browser', 'sign in in a browser on this machine (loopback redirect)')
    .option('--no-open', 'print the address instead of opening a browser')
    .action(async (o: { server: string; team?: string; browser?: boolean; open: boolean }) => {
      await run(async ({ sso, creds, normalise }) => {
        const server = normalise(o.server)
        const config = await sso.ssoConfig(server)
        if (!config.enabled)
          throw new CmdaiError(
            'unavailable',
            `${server} does not sign in with an identity provider: ask an admin for a token`,
          )
        let tokens
        if (config.deviceFlow && !o.browser) {
          tokens = await sso.deviceSignIn(server, {
            ...(o.team ? { team: o.team } : {}),
            onCode: (d) => {
              process.stderr.write(
                `To sign in, open ${d.verification_uri_complete ?? d.verification_uri}\n` +
                  `and enter the code ${d.user_code} (valid ${Math.round(d.expires_in / 60)} minutes).\n`,
              )
            },
            chooseTeam: async (teams) => {
              process.stderr.write(
                `Your groups grant several teams (${teams.join(', ')}): run again with --team.\n`,
              )
              return null
            },
          })
        } else {
          const signIn = await sso.startLoopbackSignIn(server, o.team ? { team: o.team } : {})
          process.stderr.write(`Sign in at:\n  ${signIn.url}\n`)
          if (o.open) openBrowser(signIn.url)
          process.once('SIGINT', () => signIn.cancel())
          tokens = await signIn.result
        }
        creds.setSession(server, tokens.team, tokens.access_token, tokens.refresh_token)
        process.stdout.write(`Signed in to ${tokens.team} as ${tokens.user} (${tokens.role}).\n`)
      })
    })

  team
    .command('logout')
    .description('Sign out: the server revokes the session')
    .option('--team <team>', 'only this team')
    .action(async (o: { team?: string }) => {
      await run(async ({ sso, creds }) => {
        const mine = creds.list().filter((c) => c.refresh && (!o.team || c.team === o.team))
        if (mine.length === 0) throw new CmdaiError('not_found', 'Not signed in')
        for (const c of mine) {
          await sso.revokeSession(c.server, c.refresh!).catch((err: Error) => {
            process.stderr.write(`${c.team}: the server could not be told (${err.message})\n`)
          })
          creds.remove(c.server, c.team)
          process.stdout.write(`Signed out of ${c.team} (${c.server}).\n`)
        }
      })
    })

  team
    .command('status')
    .description('Your role in each team, and any elevation with the time left')
    .option('--team <team>', 'only this team')
    .option('--json', 'print JSON')
    .action(async (o: { team?: string; json?: boolean }) => {
      await run(async (ctx) => {
        const list = ctx.creds.list().filter((c) => !o.team || c.team === o.team)
        if (list.length === 0) throw new CmdaiError('not_found', 'Not signed in to any team')
        const out: Array<IdentityView | { team: string; error: string }> = []
        for (const c of list) {
          try {
            out.push(await ctx.http.whoAmI(await ctx.endpoint(c.team)))
          } catch (err) {
            out.push({ team: c.team, error: (err as Error).message })
          }
        }
        if (o.json) return void process.stdout.write(JSON.stringify(out, null, 2) + '\n')
        for (const v of out) process.stdout.write(describe(v) + '\n')
      })
    })

  team
    .command('elevate')
    .description('Ask for a higher role for a while (approved by an admin, or by a team rule)')
    .addOption(
      new Option('--role <role>', 'the role you need').choices([...ROLES]).makeOptionMandatory(),
    )
    .requiredOption('--for <duration>', 'how long: 30m, 1h, 2h30m', parseFor)
    .requiredOption('--reason <text>', 'why (an incident, a ticket)')
    .option('--team <team>', 'the team (when signed in to several)')
    .option('--production', 'production work: a second person must approve')
    .option('--wait <duration>', 'wait this long for the decision: 10m', parseFor)
    .option('--json', 'print the elevation as JSON')
    .action(
      async (o: {
        role: Role
        for: number
        reason: string
        team?: string
        production?: boolean
        wait?: number
        json?: boolean
      }) => {
        await run(async (ctx) => {
          const endpoint = await ctx.endpoint(ctx.teamOf(o.team))
          let e = await ctx.http.requestElevation(endpoint, {
            role: o.role,
            durationMs: o.for,
            reason: o.reason,
            production: !!o.production,
          })
          if (e.status === 'pending' && o.wait) {
            process.stderr.write(
              `Requested ${e.role} for ${minutes(e.durationMs)}; waiting for ${e.approvalsNeeded} approval(s)…\n`,
            )
            const deadline = Date.now() + o.wait
            while (e.status === 'pending' && Date.now() < deadline)
              e = await ctx.http.getElevation(
                await ctx.endpoint(e.team),
                e.id,
                Math.min(30_000, deadline - Date.now()),
              )
          }
          report(e, o.json)
          process.exitCode =
            e.status === 'active' ? EXIT.ok : e.status === 'pending' ? EXIT.pending : EXIT.denied
        })
      },
    )

  team
    .command('end-elevation')
    .description('End your active elevation (or withdraw a pending request) now')
    .option('--team <team>', 'the team (when signed in to several)')
    .action(async (o: { team?: string }) => {
      await run(async (ctx) => {
        const endpoint = await ctx.endpoint(ctx.teamOf(o.team))
        const me = await ctx.http.whoAmI(endpoint)
        const open = me.elevation ?? me.pending
        if (!open) throw new CmdaiError('not_found', `No elevation to end in ${me.team}`)
        report(await ctx.http.endElevation(endpoint, open.id), false)
      })
    })
}

function parseFor(value: string): number {
  const ms = parseElevationDuration(value)
  if (ms === null || ms < MIN_ELEVATION_MS || ms > MAX_ELEVATION_MS)
    throw new InvalidArgumentError('a duration from 1m to 24h, like 30m, 1h or 2h30m')
  return ms
}

const minutes = (ms: number) =>
  ms >= 3600_000 && ms % 3600_000 === 0 ? `${ms / 3600_000} h` : `${Math.round(ms / 60_000)} min`

function describe(v: IdentityView | { team: string; error: string }): string {
  if ('error' in v) return `${v.team}: ${v.error}`
  let line = `${v.team}: ${v.user}, ${v.role}`
  if (v.elevation?.expiresAt) {
    const left = Math.max(0, v.elevation.expiresAt - Date.now())
    line += ` (elevated from ${v.baseRole}, ${minutes(left)} left, until ${new Date(v.elevation.expiresAt).toLocaleTimeString()})`
  }
  if (v.pending) line += `; asked for ${v.pending.role}, waiting for approval`
  return `${line} [${v.via === 'sso' ? 'single sign-on' : 'token'}]`
}

function report(e: Elevation, json?: boolean): void {
  if (json) return void process.stdout.write(JSON.stringify(e, null, 2) + '\n')
  const text: Record<Elevation['status'], string> = {
    active: `Elevated to ${e.role} until ${new Date(e.expiresAt ?? 0).toLocaleString()}${e.approvals.length ? ` (approved by ${e.approvals.map((a) => a.by).join(', ')})` : ' (granted by a team rule)'}.`,
    pending: `Asked for ${e.role} (${e.id}); waiting for ${e.approvalsNeeded - e.approvals.length} more approval(s).`,
    denied: `Denied by ${e.closedBy ?? 'an admin'}${e.comment ? `: ${e.comment}` : ''}.`,
    lapsed: 'Nobody decided in time; the request lapsed.',
    expired: `The elevation to ${e.role} has ended (time ran out).`,
    ended: `The elevation to ${e.role} was ended by ${e.closedBy ?? 'someone'}.`,
  }
  process.stdout.write(text[e.status] + '\n')
}

/** Best effort: the printed address is what counts (headless machines have no browser). */
function openBrowser(url: string): void {
  const cmd =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
  try {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true })
    child.on('error', () => {})
    child.unref()
  } catch {
    // No browser here.
  }
}

interface Context {
  sso: typeof import('../../library/sso-client')
  http: typeof import('../../library/elevation-http')
  creds: import('../../library/credentials').CredentialStore
  normalise(server: string): string
  /** A server and valid token for a team (refreshed first when needed). */
  endpoint(team: string): Promise<{ server: string; token: string }>
  /** The team asked for, or the only one signed in to. */
  teamOf(team?: string): string
}

async function run(fn: (ctx: Context) => Promise<void>): Promise<void> {
  try {
    const [
      sso,
      http,
      { CredentialStore },
      { SessionKeeper },
      { normaliseServer },
      paths,
      open,
      fs,
    ] = await Promise.all([
      import('../../library/sso-client'),
      import('../../library/elevation-http'),
      import('../../library/credentials'),
      import('../../library/sso-keeper'),
      import('../../library/hub'),
      import('../../config/paths'),
      import('../../library/open'),
      import('../../config/private-fs'),
    ])
    const dir = open.libraryDir(paths.resolveDataDir())
    fs.ensurePrivateDir(dir)
    let creds = new CredentialStore(dir, null)
    try {
      creds.list()
    } catch (err) {
      // The desktop app keeps its tokens in the OS keychain, which the CLI cannot open: the
      // CLI's own sessions then live beside them.
      if (!(err instanceof CmdaiError && /keychain/.test(err.message))) throw err
      const own = `${dir}/cli`
      fs.ensurePrivateDir(own)
      creds = new CredentialStore(own, null)
    }
    const keeper = new SessionKeeper(creds, { token() {}, lost() {} })
    await fn({
      sso,
      http,
      creds,
      normalise: normaliseServer,
      async endpoint(team) {
        const c = creds.list().find((x) => x.team === team)
        if (!c) throw new CmdaiError('not_found', `Not signed in to ${team}: cmdai team login`)
        const token = await keeper.freshToken(c.server, team)
        if (!token)
          throw new CmdaiError('forbidden', `The sign-in to ${team} has ended: cmdai team login`)
        return { server: c.server, token }
      },
      teamOf(team) {
        if (team) return team
        const teams = [...new Set(creds.list().map((c) => c.team))]
        if (teams.length === 1) return teams[0]!
        throw new CmdaiError(
          'invalid_input',
          teams.length === 0
            ? 'Not signed in to any team: cmdai team login --server URL'
            : `Signed in to several teams (${teams.join(', ')}): give --team`,
        )
      },
    })
  } catch (err) {
    process.stderr.write(`cmdai team: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = EXIT.error
  }
}
