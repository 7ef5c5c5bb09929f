import { Command, InvalidArgumentError, Option } from 'commander'
import type { Approval } from '../../../contract/approvals'
import { CmdaiError } from '../../../contract/errors'
import { SHELL_DIALECTS } from '../../../contract/safety'

/**
 * `cmdai approval request --server URL --token T --reason "…" "<command>" [--wait 15m]`: asks the
 * team's approvers (in their apps) to allow one exact command, for pipelines. With `--wait` it
 * exits 0 once approved, 4 when denied, 5 when no decision came in time (or the request expired),
 * printing who decided and why. `cmdai approval status ID` looks one up (and can wait too).
 */
export const EXIT = { approved: 0, error: 1, denied: 4, timeout: 5 } as const

export function registerApprovalCommands(program: Command): void {
  const approval = program
    .command('approval')
    .description("Ask the team's approvers to allow a command")

  const common = (c: Command) =>
    c
      .addOption(
        new Option('--server <url>', 'team server, http(s)://host:port')
          .env('CMDAI_TEAM_SERVER')
          .makeOptionMandatory(),
      )
      .addOption(
        new Option('--token <token>', 'your team token')
          .env('CMDAI_TEAM_TOKEN')
          .makeOptionMandatory(),
      )
      .option('--wait <duration>', 'wait for the decision: 30s, 15m, 2h', parseDuration)
      .option('--json', 'print the approval as JSON')

  common(
    approval
      .command('request')
      .description('Request an approval for one exact command')
      .argument('<command>', 'the command, exactly as it will run')
      .requiredOption('--reason <text>', 'why it must run')
      .addOption(
        new Option('--shell <shell>', 'its shell').choices([...SHELL_DIALECTS]).default('bash'),
      ),
  ).action(async (command: string, o: Options & { reason: string; shell: 'bash' }) => {
    await run(o, async (endpoint, http) => {
      const asked = await http.requestApproval(endpoint, {
        command,
        shell: o.shell,
        reason: o.reason,
        ...(o.wait ? { ttlMs: Math.max(o.wait, 10_000) } : {}),
      })
      process.stderr.write(
        `Requested approval ${asked.id} (${asked.risk} risk); waiting for an approver…\n`,
      )
      return asked
    })
  })

  common(
    approval.command('status').description('Show (or wait for) an approval').argument('<id>'),
  ).action(async (id: string, o: Options) => {
    await run(o, (endpoint, http) => http.getApproval(endpoint, id))
  })
}

interface Options {
  server: string
  token: string
  wait?: number
  json?: boolean
}

async function run(
  o: Options,
  first: (
    endpoint: { server: string; token: string },
    http: typeof import('../../library/team-http'),
  ) => Promise<Approval>,
): Promise<void> {
  const http = await import('../../library/team-http')
  const endpoint = { server: o.server, token: o.token }
  try {
    let a = await first(endpoint, http)
    if (o.wait && a.status === 'pending') {
      const deadline = Date.now() + o.wait
      const ctl = new AbortController()
      process.once('SIGINT', () => ctl.abort())
      a = await http.waitForDecision(endpoint, a.id, deadline, ctl.signal)
    }
    report(a, o.json)
    // Fail closed: only an approval exits 0; still pending (no --wait, or out of time) is 5.
    process.exitCode =
      a.status === 'approved' ? EXIT.approved : a.status === 'denied' ? EXIT.denied : EXIT.timeout
  } catch (err) {
    process.stderr.write(`cmdai approval: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode =
      err instanceof CmdaiError && err.code === 'cancelled' ? EXIT.timeout : EXIT.error
  }
}

function report(a: Approval, json?: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(a, null, 2) + '\n')
    return
  }
  const who = a.decidedBy ? ` by ${a.decidedBy}` : ''
  const why = a.comment ? `: ${a.comment}` : ''
  const line =
    a.status === 'pending'
      ? `Approval ${a.id} is pending (no decision yet).`
      : a.status === 'expired'
        ? `Approval ${a.id} expired without a decision.`
        : `${a.status === 'approved' ? 'Approved' : 'Denied'}${who}${why}`
  process.stdout.write(line + '\n')
}

/** `90s`, `15m`, `2h`, `1d` or plain seconds → milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim())
  if (!m) throw new InvalidArgumentError('a duration like 30s, 15m or 2h')
  const n = Number(m[1])
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 's'] ?? 1_000
  const ms = n * unit
  if (ms < 1 || ms > 7 * 86_400_000) throw new InvalidArgumentError('between 1 ms and 7 days')
  return ms
}
