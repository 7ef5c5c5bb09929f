import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import { withHistory } from '../control/history-access'
import { waitFor } from '../testing/wait-for'
import { spoolPath } from './spool'

/** The SDK's own client over stdio against the real `cmdai mcp`, with no app running. */
const root = mkdtempSync(join(tmpdir(), 'cmdai-mcp-'))
const dataDir = join(root, 'data')
const work = join(root, 'work')
mkdirSync(work)
let client: Client

async function connect(env: Record<string, string> = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['bin/cmdai.mjs', 'mcp', '--cwd', work],
    env: { ...(process.env as Record<string, string>), CMDAI_DATA_DIR: dataDir, ...env },
    stderr: 'pipe',
  })
  const c = new Client({ name: 'cmdai-test-agent', version: '1.2.3' })
  await c.connect(transport)
  return c
}

type Structured = Record<string, unknown> & { status?: string; verdict?: Record<string, unknown> }
async function call(name: string, args: Record<string, unknown>, c = client) {
  const result = await c.callTool({ name, arguments: args })
  return result as {
    isError?: boolean
    structuredContent?: Structured
    content: Array<{ type: string; text: string }>
  }
}

beforeAll(async () => {
  client = await connect({ CMDAI_MODEL: ensureFixtureModel('tiny') })
}, 120_000)
afterAll(async () => {
  await client?.close()
  rmSync(root, { recursive: true, force: true })
})

describe('cmdai mcp (no app running)', () => {
  it('lists its tools with annotations and schemas', async () => {
    const { tools } = await client.listTools()
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]))
    expect(Object.keys(byName).sort()).toEqual([
      'check_command',
      'explain_command',
      'generate_command',
      'list_patterns',
      'run_command',
      'search_history',
    ])
    expect(byName.check_command?.annotations).toMatchObject({ readOnlyHint: true })
    expect(byName.run_command?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
    })
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object')
      expect(tool.outputSchema?.type).toBe('object')
    }
    expect(byName.run_command?.inputSchema.required).toEqual(['command'])
    expect(client.getInstructions()).toMatch(/check_command/)
  })

  it('check_command: verdict, reasons with spans and the text they point at', async () => {
    const blocked = await call('check_command', { command: 'ls && rm -rf /' })
    expect(blocked.isError).toBeFalsy()
    expect(blocked.structuredContent).toMatchObject({ risk: 'critical', action: 'block' })
    const reasons = blocked.structuredContent!.reasons as Array<{
      ruleId: string
      span: { start: number; end: number } | null
      text: string | null
    }>
    const root = reasons.find((r) => r.ruleId === 'fs.rm.root')
    expect(root?.text).toBe('/')
    expect('ls && rm -rf /'.slice(root!.span!.start, root!.span!.end)).toBe('/')
    expect(blocked.content[0]!.text).toMatch(/do not run it/)
    const safe = await call('check_command', { command: 'ls -la', shell: 'zsh' })
    expect(safe.structuredContent).toMatchObject({ risk: 'safe', action: 'allow' })
  })

  it('explain_command: programs seen through wrappers', async () => {
    const r = await call('explain_command', { command: 'sudo find . -name "*.tmp" -delete' })
    const parts = r.structuredContent!.parts as Array<{ program: string; via: string[] }>
    expect(parts.find((p) => p.program === 'find')?.via).toContain('sudo')
    expect(r.structuredContent!.verdict).toHaveProperty('risk')
  })

  it('generate_command: the local model, validated and judged', async () => {
    const r = await call('generate_command', { request: 'list files in this folder' })
    expect(r.isError).toBeFalsy()
    expect(typeof r.structuredContent!.command).toBe('string')
    expect(r.structuredContent!.verdict).toHaveProperty('action')
  }, 120_000)

  it('list_patterns says plainly that there is nothing to list without the app', async () => {
    const r = await call('list_patterns', { query: 'deploy' })
    expect(r.structuredContent).toMatchObject({ available: false, patterns: [] })
    expect(r.content[0]!.text).toMatch(/No cmdai app is running/)
  })

  it('run_command runs an allowed command in a non-interactive shell', async () => {
    const r = await call('run_command', {
      command: 'echo "out $0"; echo err >&2; test -t 0 || echo "no tty"; exit 3',
    })
    expect(r.isError).toBeFalsy()
    expect(r.structuredContent).toMatchObject({
      status: 'ran',
      approvedBy: 'policy',
      exitCode: 3,
      stdout: 'out bash\nno tty\n',
      stderr: 'err\n',
      truncated: false,
    })
    const cwd = await call('run_command', { command: 'pwd', cwd: work })
    expect(cwd.structuredContent!.stdout).toBe(`${work}\n`)
  })

  it('run_command never spawns a blocked command, nor one needing a human with no app', async () => {
    const marker = join(work, 'MARKER')
    const blocked = await call('run_command', { command: `touch ${marker} && rm -rf /` })
    expect(blocked.isError).toBe(true)
    expect(blocked.structuredContent).toMatchObject({
      status: 'blocked',
      verdict: { risk: 'critical', action: 'block' },
    })
    expect(blocked.content[0]!.text).toMatch(/^Not run: cmdai blocks this critical-risk command/)
    const refused = await call('run_command', { command: `touch ${marker} && rm -rf ./build` })
    expect(refused.isError).toBe(true)
    expect(refused.structuredContent).toMatchObject({ status: 'refused' })
    expect(refused.structuredContent!.reason).toMatch(/no cmdai app is running/)
    expect(existsSync(marker)).toBe(false)
  })

  it('run_command kills a command (and what it started) at the timeout', async () => {
    const started = Date.now()
    const r = await call('run_command', {
      command: `sleep 30 & echo $! > ${join(work, 'bg.pid')}; sleep 30`,
      timeoutMs: 1_000,
    })
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(r.structuredContent).toMatchObject({ status: 'ran', timedOut: true })
    const pid = Number(readFileSync(join(work, 'bg.pid'), 'utf8'))
    // Gone, or a zombie waiting for a container's init to reap it: not running either way.
    const running = () => {
      try {
        return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
      } catch {
        return false
      }
    }
    await waitFor('the background job to be killed', () => !running(), 5_000)
  })

  it('run_command caps output (head and tail kept) and redacts secrets in it', async () => {
    const r = await call('run_command', {
      command: `echo START; head -c 300000 /dev/zero | tr '\\0' a; echo; echo END`,
      maxOutputBytes: 2048,
    })
    const out = r.structuredContent!.stdout as string
    expect(out.length).toBeLessThan(2300)
    expect(out.startsWith('START\n')).toBe(true)
    expect(out.trimEnd().endsWith('END')).toBe(true)
    expect(out).toMatch(/bytes omitted by cmdai/)
    expect(r.structuredContent!.truncated).toBe(true)
    const token = `ghp_${'a1B2c3D4e5'.repeat(4)}`
    const secret = await call('run_command', { command: `echo "token=${token}"` })
    expect(secret.structuredContent!.stdout).not.toContain(token)
    expect(secret.structuredContent!.redactions).toBeGreaterThan(0)
  })

  it('bad arguments and unknown tools are MCP errors (InvalidParams)', async () => {
    const bad: Array<[string, Record<string, unknown>]> = [
      ['run_command', {}],
      ['run_command', { command: 42 }],
      ['run_command', { command: 'ls', extra: true }],
      ['run_command', { command: 'x'.repeat(100_001) }],
      ['run_command', { command: 'ls', timeoutMs: -5 }],
      ['check_command', { command: 'ls', shell: 'cmd.exe' }],
      ['search_history', { query: 'x', limit: 10_000 }],
      ['run_command', { command: 'x'.repeat(5_000_000) }],
      ['check_command', { command: 'ls', shell: { toString: 'bash' } }],
      ['no_such_tool', {}],
    ]
    for (const [name, args] of bad) {
      const error = await client.callTool({ name, arguments: args }).then(
        () => null,
        (err: unknown) => err,
      )
      expect(error, `${name} ${JSON.stringify(args).slice(0, 60)}`).toBeInstanceOf(McpError)
      expect((error as McpError).code).toBe(ErrorCode.InvalidParams)
    }
    const missingCwd = await client
      .callTool({ name: 'run_command', arguments: { command: 'ls', cwd: join(work, 'nope') } })
      .catch((err: unknown) => err)
    expect((missingCwd as McpError).code).toBe(ErrorCode.InvalidParams)
    // NUL bytes and terminal escapes are judged, not choked on; the server is still fine.
    const hostile = await call('check_command', { command: 'ls\0\x1b]0;x\x07; rm -rf /' })
    expect(hostile.structuredContent).toMatchObject({ action: 'block' })
    expect((await call('check_command', { command: 'ls' })).structuredContent).toMatchObject({
      risk: 'safe',
    })
  })

  it('survives hostile JSON-RPC on stdin (garbage, deep nesting); ends a session over 10 MB a line', async () => {
    const session = (lines: string[]) => {
      const child = spawn(process.execPath, ['bin/cmdai.mjs', 'mcp'], {
        env: { ...process.env, CMDAI_DATA_DIR: join(root, 'raw-data') },
      })
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      child.stdin.on('error', () => undefined)
      const init = {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }
      for (const line of [
        JSON.stringify(init),
        '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        ...lines,
      ]) {
        child.stdin.write(`${line}\n`)
      }
      const answers = () =>
        out
          .split('\n')
          .filter(Boolean)
          .map(
            (l) =>
              JSON.parse(l) as {
                id?: number
                error?: { code: number }
                result?: { structuredContent?: { risk?: string } }
              },
          )
      return { child, answers }
    }
    const check = (id: number, command: string) =>
      `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"check_command","arguments":{"command":${command}}}}`

    const started = Date.now()
    const a = session([
      'this is not json \u0000 \x1b[2J',
      check(2, `${'['.repeat(200_000)}${']'.repeat(200_000)}`),
      check(3, '"ls"'),
    ])
    const answers = await waitFor(
      'answers',
      () => a.answers().some((l) => l.id === 3) && a.answers(),
      60_000,
    )
    a.child.kill()
    expect(answers.find((l) => l.id === 2)?.error?.code).toBe(ErrorCode.InvalidParams)
    expect(answers.find((l) => l.id === 3)?.result?.structuredContent?.risk).toBe('safe')

    // The SDK's stdio transport buffers at most 10 MB of a line, then ends the session: bounded.
    const b = session([check(2, JSON.stringify('x'.repeat(20_000_000)))])
    const code = await new Promise((resolve) => b.child.once('exit', resolve))
    expect(code).toBe(0)
    expect(b.answers().some((l) => l.id === 2)).toBe(false)
    expect(Date.now() - started).toBeLessThan(80_000)
  }, 90_000)

  it('records every command it was asked about or ran, with the client name and decision', async () => {
    expect(readFileSync(spoolPath(dataDir), 'utf8')).toContain('cmdai-test-agent')
    const r = await call('search_history', { query: 'echo' })
    const hits = r.structuredContent!.hits as Array<{ command: string }>
    expect(hits.some((h) => h.command.startsWith('echo "out'))).toBe(true)
    const events = await withHistory(dataDir, { name: 't' }, (h) => h.agentEvents({}))
    expect(events.clients).toEqual(['cmdai-test-agent'])
    const decisions = events.events.map((e) => [e.tool, e.decision])
    expect(decisions).toContainEqual(['check_command', 'checked'])
    expect(decisions).toContainEqual(['run_command', 'blocked'])
    expect(decisions).toContainEqual(['run_command', 'refused'])
    expect(decisions).toContainEqual(['run_command', 'allowed'])
    expect(existsSync(spoolPath(dataDir))).toBe(false)
  }, 60_000)
})
