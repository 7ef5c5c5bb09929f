import { CONSOLE_COOKIE, CSRF_HEADER, type ConsoleSession } from '../../contract/console'
import type { Role } from '../../contract/sync'
import { createApprovals, type ApprovalService } from '../approvals/approvals'
import { startTestServer, type TestServer, type TestServerOptions } from '../testing/harness'
import { createConsole, type AdminConsole, type ConsoleOptions } from './index'
import { ensureConsoleSchema } from './schema'
import { issueSigninCode } from './sessions'

/** A test server with the approvals and console extensions, over real storage. */
export interface ConsoleTestServer extends TestServer {
  base: string
  console: AdminConsole
  approvals: ApprovalService
  /** Signs a member in to the console (creating them with `role` when new). */
  signIn(team: string, user: string, role: Role): Promise<ConsoleClient>
  /** A one-time sign-in link for a member. */
  link(team: string, user: string): Promise<string>
}

export async function startConsoleServer(
  options: TestServerOptions & { console?: ConsoleOptions },
): Promise<ConsoleTestServer> {
  let consoleExt: AdminConsole | null = null
  let approvals: ApprovalService | null = null
  const srv = await startTestServer({
    ...options,
    extensions: [
      (deps) => (approvals = createApprovals(deps)),
      (deps) =>
        (consoleExt = createConsole(deps, {
          approvals: () => approvals,
          verifyEveryMs: 0,
          ...options.console,
        })),
    ],
  })
  await ensureConsoleSchema(srv.storage)
  const base = `http://127.0.0.1:${srv.port}`
  const link = async (team: string, user: string) => {
    const { code } = await issueSigninCode(
      { storage: srv.storage, commit: (e) => srv.server.commit(e), now: () => Date.now() },
      { team, user, createdBy: 'test' },
    )
    return `${base}/admin/signin?code=${code}`
  }
  return {
    ...srv,
    base,
    console: consoleExt!,
    approvals: approvals!,
    link,
    async signIn(team, user, role) {
      if (!(await srv.storage.getMember(team, user))) await srv.token(team, user, role)
      const res = await fetch(await link(team, user), { redirect: 'manual' })
      if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`)
      const cookie = /^([^;]+)/.exec(res.headers.get('set-cookie') ?? '')![1]!
      const client = new ConsoleClient(base, cookie, '')
      const session = (await client.get('/session')).json as ConsoleSession
      client.csrf = session.csrf
      return client
    },
  }
}

export interface Answer {
  status: number
  json: unknown
  text: string
  headers: Headers
}

/** A browser-like client of the console API: the session cookie, and the CSRF header on POST. */
export class ConsoleClient {
  constructor(
    readonly base: string,
    /** `cmdai_console=<value>`. */
    readonly cookie: string,
    public csrf: string,
  ) {}

  get cookieValue(): string {
    return this.cookie.slice(CONSOLE_COOKIE.length + 1)
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('GET', path, undefined, headers)
  }

  async post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('POST', path, JSON.stringify(body), {
      'content-type': 'application/json',
      [CSRF_HEADER]: this.csrf,
      ...headers,
    })
  }

  async send(
    method: string,
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
  ): Promise<Answer> {
    const res = await fetch(`${this.base}/admin/api${path}`, {
      method,
      headers: { cookie: this.cookie, ...headers },
      ...(body !== undefined ? { body } : {}),
      redirect: 'manual',
    })
    const text = await res.text()
    let json: unknown = null
    try {
      json = text ? JSON.parse(text) : null
    } catch {
      json = null
    }
    return { status: res.status, json, text, headers: res.headers }
  }
}
