import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decideApproval, listApprovals } from './team-http'
import { startTeamServer, type TeamServer } from './testing/team-server'

/** `cmdai patterns …` and `cmdai approval request … --wait` as a user runs them. */
const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'cmdai.mjs')
const root = mkdtempSync(join(tmpdir(), 'cmdai-patterns-cli-'))
const env = { ...process.env, CMDAI_DATA_DIR: join(root, 'data') }
afterAll(() => rmSync(root, { recursive: true, force: true }))

function cmdai(args: string[]): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 120_000 })
  return { stdout: r.stdout, stderr: r.stderr, status: r.status }
}

describe('cmdai patterns', () => {
  it('lists every pattern as one JSON array with its risk, adds, shows, imports, exports and removes', () => {
    const list = cmdai(['patterns', 'list', '--json'])
    expect(list.status, list.stderr).toBe(0)
    const all = JSON.parse(list.stdout) as Array<{ id: string; library: string; risk: string }>
    expect(all.length).toBeGreaterThanOrEqual(100)
    expect(all.every((p) => ['safe', 'moderate', 'high', 'critical'].includes(p.risk))).toBe(true)

    const add = cmdai([
      'patterns',
      'add',
      '--title',
      'Wipe a dir',
      '--command',
      'rm -rf -- {{dir}}',
      '--param',
      'dir=./build',
      '--tag',
      'files',
      '--json',
    ])
    expect(add.status, add.stderr).toBe(0)
    const id = (JSON.parse(add.stdout) as { id: string }).id
    const show = JSON.parse(cmdai(['patterns', 'show', id, '--json']).stdout) as {
      risk: string
      check: { command: string; verdict: { risk: string } }
    }
    expect(show.check.command).toBe('rm -rf -- ./build')
    expect(['high', 'critical']).toContain(show.risk)

    const navi = join(root, 'git.cheat')
    writeFileSync(
      navi,
      '% git, vcs\n\n# Checkout a branch\ngit checkout <branch>\n\n$ branch: git branch | cut -c3-\n',
    )
    const pet = join(root, 'snippet.toml')
    writeFileSync(
      pet,
      '[[snippets]]\n  description = "ping a host"\n  command = "ping -c <count=3> <host>"\n  tag = ["network"]\n  output = ""\n',
    )
    expect(cmdai(['patterns', 'import', navi]).stdout).toMatch(/Imported 1/)
    expect(cmdai(['patterns', 'import', pet]).stdout).toMatch(/Imported 1/)
    const mine = JSON.parse(
      cmdai(['patterns', 'list', '--library', 'personal', '--json']).stdout,
    ) as Array<{
      title: string
      command: string
      parameters: Array<{ name: string; default?: string; valuesFrom?: { command: string } }>
    }>
    const checkout = mine.find((p) => p.title === 'Checkout a branch')!
    expect(checkout.command).toBe('git checkout {{branch}}')
    expect(checkout.parameters[0]!.valuesFrom?.command).toBe('git branch | cut -c3-')
    expect(mine.find((p) => p.title === 'ping a host')!.parameters).toEqual([
      { name: 'count', description: '', default: '3' },
      { name: 'host', description: '' },
    ])

    const yaml = cmdai(['patterns', 'export']).stdout
    expect(yaml).toMatch(/^version: 1/)
    writeFileSync(join(root, 'mine.yaml'), yaml)
    // Importing the same patterns again adds nothing.
    expect(cmdai(['patterns', 'import', join(root, 'mine.yaml')]).stdout).toMatch(
      /Imported 0 .* 3 already there/,
    )
    // Bad files are refused with the reason.
    writeFileSync(join(root, 'bad.json'), '{"patterns":[{"title":""}]}')
    const bad = cmdai(['patterns', 'import', join(root, 'bad.json')])
    expect(bad.status).toBe(1)
    expect(bad.stderr).toMatch(/pattern 1/)

    expect(cmdai(['patterns', 'rm', id]).status).toBe(0)
    expect(cmdai(['patterns', 'show', id]).status).toBe(2)
  }, 240_000)
})

describe('cmdai approval request --wait', () => {
  let server: TeamServer
  let junior: string
  let engineer: string
  beforeAll(async () => {
    server = await startTeamServer()
    junior = server.token('ops', 'jun', 'junior')
    engineer = server.token('ops', 'eve', 'engineer')
  }, 180_000)
  afterAll(() => server?.stop())

  const request = (command: string, wait: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(
        process.execPath,
        [
          BIN,
          'approval',
          'request',
          '--server',
          server.url,
          '--token',
          junior,
          '--reason',
          'deploy hotfix',
          command,
          '--wait',
          wait,
        ],
        { env },
      )
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('exit', (status) => done({ status, stdout, stderr }))
    })

  async function decideWhenAsked(command: string, decision: 'approve' | 'deny', comment: string) {
    const endpoint = { server: server.url, token: engineer }
    let id: string | undefined
    for (let i = 0; i < 200 && !id; i++) {
      id = (await listApprovals(endpoint)).find(
        (a) => a.status === 'pending' && a.command === command,
      )?.id
      if (!id) await new Promise((r) => setTimeout(r, 100))
    }
    await decideApproval(endpoint, id!, decision, comment)
  }

  it('exits 0 when approved, 4 when denied, 5 on timeout, saying who decided and why', async () => {
    const approved = request('kubectl rollout restart deploy/web', '2m')
    await decideWhenAsked('kubectl rollout restart deploy/web', 'approve', 'ok for the hotfix')
    const a = await approved
    expect(a.status, a.stderr).toBe(0)
    expect(a.stdout).toMatch(/Approved by eve: ok for the hotfix/)

    const denied = request('kubectl delete ns web', '2m')
    await decideWhenAsked('kubectl delete ns web', 'deny', 'not during the freeze')
    const d = await denied
    expect(d.status).toBe(4)
    expect(d.stdout).toMatch(/Denied by eve: not during the freeze/)

    const t = await request('echo nobody answers', '2s')
    expect(t.status).toBe(5)
  }, 180_000)
})
