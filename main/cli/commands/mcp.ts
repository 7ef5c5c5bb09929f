import { InvalidArgumentError, type Command } from 'commander'
import { readPackageVersion, resolveDataDir } from '../../config/paths'

/** `cmdai mcp`: the MCP server for coding agents (main/agent/mcp-server.ts). */
export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description(
      'MCP server over stdio for coding agents: check, explain, generate, search history,\n' +
        'list team patterns and run commands through the same safety engine and policy as yours',
    )
    .option('--cwd <dir>', 'directory commands run in when the agent gives none', process.cwd())
    .option(
      '--approval-timeout <duration>',
      'how long run_command waits for your approval in the app (e.g. 90s, 5m)',
      parseDuration,
      300_000,
    )
    .addHelpText(
      'after',
      `
Wire it into an MCP client, e.g. Claude Code:
  claude mcp add cmdai -- cmdai mcp
or any client's JSON config: {"command": "cmdai", "args": ["mcp"]}.
Commands that need confirmation wait for you in the running cmdai app (desktop or
\`cmdai serve\`); with no app running they are refused with the reason.`,
    )
    .action(async (options: { cwd: string; approvalTimeout: number }) => {
      const { serveMcpOverStdio } = await import('../../agent/mcp-server')
      await serveMcpOverStdio({
        dataDir: resolveDataDir(),
        version: readPackageVersion(),
        cwd: options.cwd,
        approvalTimeoutMs: options.approvalTimeout,
      })
      process.exit(0)
    })
}

/** `90s`, `5m`, `1h` or milliseconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value.trim())
  if (!match) throw new InvalidArgumentError('Use e.g. 90s, 5m or 1h')
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms']!
  const ms = Number(match[1]) * unit
  if (ms < 1_000 || ms > 3_600_000) throw new InvalidArgumentError('Between 1s and 1h')
  return ms
}
