import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AgentApproval, AgentEvent } from '../../contract/agent'
import { ensureFixtureModel } from '../../scripts/fixture-model'
import { connectToApp } from '../control/client'
import { createServices, type Services } from '../services'
import { waitFor } from '../testing/wait-for'

/**
 * The whole agent journey against a real app (services with the control socket, real PGlite):
 * `cmdai mcp` asks, the app shows the request, the user decides in the app, the agent's call
 * returns; everything lands in history, which `cmdai history` reads through the running app.
 */
const root = mkdtempSync(join(tmpdir(), 'cmdai-approval-'))
const dataDir = join(root, 'data')
const work = join(root, 'work')
mkdirSync(work)
let services: Services | null
const approvals: AgentApproval[] = []
const settled: Array<{ id: string; decision: string }> = []
const recorded: AgentEvent[] = []
const generatedFor = new Set<string>()

function mcp(extraArgs: string[] = []) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['bin/cmdai.mjs', 'mcp', '--cwd', work, ...extraArgs],
    env: { ...(process.env as Record<string, string>), CMDAI_DATA_DIR: dataDir },
    stderr: 'pipe',
  })
  const client = new Client({ name: 'cmdai-test-agent', version: '0.1' })
  return client.connect(transport).then(() => client)
}

/** The CLI as a separate process; asynchronous, so that this process (the app) can answer it. */
function cli(
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/cmdai.mjs', ...args],
      { encoding: 'utf8', timeout: 120_000, env: { ...process.env, CMDAI_DATA_DIR: dataDir } },
      (err, stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

type RunResult = {
  isError?: boolean
  structuredContent?: { status: string; stdout?: string; reason?: string; approvedBy?: string }
}

beforeAll(async () => {
  services = createServices({
    dataDir,
    host: 'browser',
    version: '0.0.0-test',
    env: { ...process.env, CMDAI_MODEL: ensureFixtureModel('tiny') },
  })
  expect(await services.control).not.toBeNull()
  services.events.subscribe((name, payload) => {
    if (name === 'agent:approvalRequested') approvals.push(payload as AgentApproval)
    if (name === 'agent:approvalSettled') settled.push(payload as { id: string; decision: string })
    if (name === 'history:agent') recorded.push(payload as AgentEvent)
    if (name === 'llm:token') generatedFor.add((payload as { requestId: string }).requestId)
  })
  // History open (initdb) before the journey, so that events go straight into it.
  for (const deadline = Date.now() + 110_000; Date.now() < deadline;) {
    const status = await services.router.dispatch('history:status', {}, { clientId: 't' })
    if (status.ok && (status.value as { state: string }).state === 'ready') break
    await new Promise((r) => setTimeout(r, 200))
  }
}, 180_000)

afterAll(async () => {
  await services?.dispose()
  rmSync(root, { recursive: true, force: true })
})

const decide = (id: string, decision: 'approve' | 'deny', reason?: string) =>
  services!.router.dispatch(
    'agent:decide',
    { id, decision, ...(reason ? { reason } : {}) },
    { clientId: 'window-1' },
  )

describe('agent approvals through the running app', () => {
  it('a command needing confirmation waits for the user, runs once approved, and returns its output', async () => {
    const client = await mcp()
    try {
      const call = client.callTool({
        name: 'run_command',
        arguments: { command: 'mkdir -p build && rm -rf ./build && echo cleaned' },
      }) as Promise<RunResult>
      const approval = await waitFor('the approval request', () => approvals[0], 30_000)
      expect(approval).toMatchObject({
        client: { name: 'cmdai-test-agent', version: '0.1' },
        command: 'mkdir -p build && rm -rf ./build && echo cleaned',
        cwd: work,
        verdict: { risk: 'high', action: 'confirm' },
      })
      const pending = await services!.router.dispatch('agent:pending', {}, { clientId: 'w' })
      expect(pending).toMatchObject({ ok: true, value: { approvals: [{ id: approval.id }] } })
      // A local program cannot approve it, not even with the token.
      const other = await connectToApp(dataDir, { client: { name: 'sneaky' } })
      await expect(
        other!.call('agent:decide', { id: approval.id, decision: 'approve' }),
      ).rejects.toMatchObject({ code: 'forbidden' })
      other!.close()

      expect(await decide(approval.id, 'approve')).toMatchObject({ ok: true })
      const result = await call
      expect(result.isError).toBeFalsy()
      expect(result.structuredContent).toMatchObject({
        status: 'ran',
        approvedBy: 'user',
        stdout: 'cleaned\n',
      })
      expect(settled).toContainEqual({ id: approval.id, decision: 'approved' })
    } finally {
      await client.close()
    }
  }, 60_000)

  it('a denied command never runs, and the agent gets the reason', async () => {
    const client = await mcp()
    const marker = join(work, 'DENIED')
    try {
      const call = client.callTool({
        name: 'run_command',
        arguments: { command: `touch ${marker} && rm -rf ./build` },
      }) as Promise<RunResult>
      const approval = await waitFor('the approval', () => approvals[1], 30_000)
      await decide(approval.id, 'deny', 'not on a Friday')
      const result = await call
      expect(result.isError).toBe(true)
      expect(result.structuredContent).toMatchObject({ status: 'denied' })
      expect(result.structuredContent!.reason).toMatch(/not on a Friday/)
      expect(existsSync(marker)).toBe(false)
    } finally {
      await client.close()
    }
  }, 60_000)

  it('an agent that gives up withdraws its request; an unanswered one expires', async () => {
    const client = await mcp(['--approval-timeout', '2s'])
    try {
      const controller = new AbortController()
      const call = client
        .callTool({ name: 'run_command', arguments: { command: 'rm -rf ./a' } }, undefined, {
          signal: controller.signal,
        })
        .catch((err: unknown) => err)
      const approval = await waitFor('the approval', () => approvals[2], 30_000)
      controller.abort()
      await call
      await waitFor('withdrawn', () =>
        settled.find((s) => s.id === approval.id && s.decision === 'cancelled'),
      )
      const expiring = (await client.callTool({
        name: 'run_command',
        arguments: { command: 'rm -rf ./b' },
      })) as RunResult
      expect(expiring.structuredContent).toMatchObject({ status: 'expired' })
      const pending = await services!.router.dispatch('agent:pending', {}, { clientId: 'w' })
      expect(pending).toMatchObject({ ok: true, value: { approvals: [] } })
    } finally {
      await client.close()
    }
  }, 60_000)

  it('list_patterns reads the libraries through the running app, each pattern with its risk', async () => {
    const saved = await services!.router.dispatch(
      'library:save',
      {
        library: 'personal',
        pattern: {
          title: 'Restart the api deployment',
          command: 'kubectl rollout restart deployment/{{name}} -n {{namespace}}',
          tags: ['k8s'],
        },
      },
      { clientId: 'window-1' },
    )
    expect(saved.ok, JSON.stringify(saved)).toBe(true)
    const client = await mcp()
    try {
      const r = (await client.callTool({
        name: 'list_patterns',
        arguments: { query: 'rollout restart' },
      })) as {
        structuredContent?: { available: boolean; patterns: Array<Record<string, unknown>> }
      }
      expect(r.structuredContent?.available).toBe(true)
      const found = r.structuredContent!.patterns.find(
        (p) => p.title === 'Restart the api deployment',
      )
      expect(found).toMatchObject({ library: 'personal', tags: ['k8s'] })
      expect(['safe', 'moderate', 'high', 'critical']).toContain(found!.risk)
    } finally {
      await client.close()
    }
  }, 60_000)

  it('the app denies at once what its policy blocks, without asking', async () => {
    const app = await connectToApp(dataDir, { client: { name: 't' } })
    const before = approvals.length
    const outcome = await app!.call('agent:requestApproval', {
      client: { name: 'x' },
      command: 'rm -rf / --no-preserve-root',
    })
    app!.close()
    expect(outcome).toMatchObject({ decision: 'denied', verdict: { risk: 'critical' } })
    expect(approvals.length).toBe(before)
  })

  it('everything is in history, and `cmdai history` reads it through the running app', async () => {
    await waitFor('events recorded', () => recorded.length >= 4, 30_000)
    const decisions = recorded.map((e) => [e.client.name, e.decision])
    expect(decisions).toContainEqual(['cmdai-test-agent', 'approved'])
    expect(decisions).toContainEqual(['cmdai-test-agent', 'denied'])
    expect(decisions).toContainEqual(['cmdai-test-agent', 'expired'])

    const viaApp = await cli('history', 'search', '--json', 'cleaned')
    expect(viaApp.status, viaApp.stderr).toBe(0)
    const hits = (
      JSON.parse(viaApp.stdout) as { hits: Array<{ command: string; last: { source: string } }> }
    ).hits
    expect(hits.map((h) => [h.command, h.last.source])).toEqual([
      ['mkdir -p build && rm -rf ./build && echo cleaned', 'agent'],
    ])
    const stats = await cli('history', 'stats', '--json')
    expect(stats.status, stats.stderr).toBe(0)
    // Import needs the database itself: refused politely while the app holds it.
    const imported = await cli('history', 'import', join(work, 'nothing'))
    expect(imported.status).not.toBe(0)
    expect(imported.stderr).toMatch(/holds the history database/)

    // `cmdai generate` asks the app's (already loaded) model instead of loading one itself.
    const generated = await cli('generate', '--json', 'list the files here')
    expect(generated.stderr).not.toMatch(/cmdai:/)
    expect(typeof (JSON.parse(generated.stdout) as { command: string }).command).toBe('string')
    expect([...generatedFor].some((id) => id.startsWith('cli-'))).toBe(true)

    // With the app gone, the CLI opens the database itself: the same answer.
    await services!.dispose()
    services = null
    const local = await cli('history', 'search', '--json', 'cleaned')
    expect(local.status, local.stderr).toBe(0)
    // The same hits; only the time they took and the recency part of the score move on.
    const strip = (text: string) => {
      const r = JSON.parse(text) as { hits: Array<{ score: number }>; tookMs: number }
      return { ...r, tookMs: 0, hits: r.hits.map((h) => ({ ...h, score: Math.round(h.score) })) }
    }
    expect(strip(local.stdout)).toEqual(strip(viaApp.stdout))
  }, 180_000)
})
