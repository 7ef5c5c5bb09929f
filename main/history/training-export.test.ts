import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildSystemPrompt } from '../llm/prompt'
import { redactForHistory } from './redact'
import { HistoryStore } from './store'
import { exportTraining, trainingExamples, type TrainingExample } from './training-export'

// One real PGlite database in a data dir the CLI can open afterwards.
let dataDir: string
let store: HistoryStore | null
const now = Date.now()

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cmdai-training-'))
  store = await HistoryStore.open({ dir: join(dataDir, 'history'), redact: redactForHistory })
  const s = store
  // ran, and it succeeded
  await s.recordAi({
    request: 'list files',
    proposedCommand: 'ls -la',
    decision: 'ran',
    model: 'm',
    risk: 'safe',
  })
  await s.recordCommands([
    {
      command: 'ls -la',
      cwd: '/home/u/app',
      exitCode: 0,
      startedAt: now,
      durationMs: 5,
      shell: 'zsh',
      source: 'terminal',
    },
  ])
  // edited: the user ran something else; it failed
  await s.recordAi({
    request: 'show big files',
    proposedCommand: 'du -sh *',
    decision: 'edited',
    finalCommand: 'du -ah . | sort -rh | head',
  })
  await s.recordCommands([
    {
      command: 'du -ah . | sort -rh | head',
      cwd: '/home/u',
      exitCode: 1,
      startedAt: now + 1,
      durationMs: 5,
      shell: 'bash',
      source: 'terminal',
    },
  ])
  // cancelled and blocked: negatives; a secret in the request and the command
  await s.recordAi({
    request: 'push with token ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    proposedCommand: 'git push https://user:hunter2secret@github.com/me/app.git',
    decision: 'cancelled',
  })
  await s.recordAi({
    request: 'wipe the disk',
    proposedCommand: 'rm -rf /',
    decision: 'blocked',
    risk: 'critical',
  })
  // left out: copied, undecided, and no proposal at all
  await s.recordAi({ request: 'copy me', proposedCommand: 'pwd', decision: 'copied' })
  await s.recordAi({ request: 'not decided', proposedCommand: 'whoami' })
  await s.recordAi({ request: 'model failed', decision: 'cancelled' })
  // Terminal escapes and NULs in a recorded request are data, not instructions.
  await s.recordAi({
    request: 'evil \u001b]0;title\u0007 req',
    proposedCommand: 'echo hi',
    decision: 'ran',
  })
})
afterAll(async () => {
  await store?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

async function all(options = {}): Promise<TrainingExample[]> {
  const out: TrainingExample[] = []
  for await (const e of trainingExamples(store!, { os: 'linux', ...options })) out.push(e)
  return out
}

describe('training examples', () => {
  it('writes ran as accepted, edited as corrected, cancelled/blocked as rejected; leaves the rest out', async () => {
    const examples = await all()
    expect(examples.map((e) => [e.label, JSON.parse(e.messages[2]!.content).command])).toEqual([
      ['accepted', 'ls -la'],
      ['corrected', 'du -ah . | sort -rh | head'],
      ['rejected', expect.stringContaining('git push')],
      ['rejected', 'rm -rf /'],
      ['accepted', 'echo hi'],
    ])
    const [ran, edited] = examples
    expect(ran!.messages[0]).toEqual({ role: 'system', content: buildSystemPrompt('zsh', 'linux') })
    expect(ran!.messages[1]!.content).toBe('Context:\ncwd: /home/u/app\n\nRequest: list files')
    expect(JSON.parse(ran!.messages[2]!.content)).toEqual({
      command: 'ls -la',
      explanation: '',
      assumptions: [],
      needsInput: null,
    })
    expect(ran!.meta).toMatchObject({ decision: 'ran', model: 'm', risk: 'safe', exitCode: 0 })
    expect(edited!.meta).toMatchObject({ proposed: 'du -sh *', exitCode: 1 })
  })

  it('redacts secrets in requests and commands', async () => {
    const text = JSON.stringify(await all())
    expect(text).not.toContain('ghp_abcdefghijklmnopqrstuvwxyz0123456789')
    expect(text).not.toContain('hunter2secret')
    expect(text).toContain('[REDACTED')
  })

  it('can leave out commands that failed, and stops at a limit', async () => {
    const ok = await all({ onlySucceeded: true })
    expect(ok.map((e) => e.label)).toEqual(['accepted', 'rejected', 'rejected', 'accepted'])
    expect(await all({ limit: 2 })).toHaveLength(2)
    expect(await all({ since: now + 60_000 })).toEqual([])
  })

  it('refuses without consent, except a bounded preview', async () => {
    const chunks: string[] = []
    const write = (c: string) => void chunks.push(c)
    await expect(
      exportTraining(store!, write, { consented: false, settingsFile: '/x/settings.json' }),
    ).rejects.toMatchObject({
      code: 'forbidden',
      message: expect.stringMatching(/Settings → Privacy.*\/x\/settings\.json/),
    })
    expect(chunks).toEqual([])
    const preview = await exportTraining(store!, write, {
      consented: false,
      preview: 2,
      settingsFile: 'x',
    })
    expect(preview.written).toBe(2)
    expect(chunks.join('').trim().split('\n')).toHaveLength(2)
    chunks.length = 0
    const full = await exportTraining(store!, write, { consented: true, settingsFile: 'x' })
    expect(full).toEqual({ written: 5, byLabel: { accepted: 2, corrected: 1, rejected: 2 } })
    for (const line of chunks.join('').trim().split('\n'))
      expect(() => JSON.parse(line)).not.toThrow()
  })
})

describe('cmdai history export --format training', () => {
  function cmdai(args: string[]) {
    return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['bin/cmdai.mjs', ...args], {
        env: { ...process.env, CMDAI_DATA_DIR: dataDir },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('close', (status) => resolve({ status, stdout, stderr }))
    })
  }

  it('is off by default, previews exactly what it would write, and exports once turned on', async () => {
    await store!.close()
    store = null
    const off = await cmdai(['history', 'export', '--format', 'training'])
    expect(off.status).not.toBe(0)
    expect(off.stderr).toMatch(/Training export is off/)
    expect(off.stdout).toBe('')

    const preview = await cmdai(['history', 'export', '--format', 'training', '--preview', '3'])
    expect(preview.status).toBe(0)
    expect(preview.stdout.trim().split('\n')).toHaveLength(3)
    expect(preview.stderr).toMatch(
      /Preview: the first 3 examples .*nothing was saved\. Training export is off/,
    )

    mkdirSync(dataDir, { recursive: true })
    writeFileSync(
      join(dataDir, 'settings.json'),
      JSON.stringify({ privacy: { trainingExport: true } }),
    )
    const on = await cmdai(['history', 'export', '--format', 'training'])
    expect(on.status).toBe(0)
    const lines = on.stdout.trim().split('\n')
    expect(lines).toHaveLength(5)
    // The preview's lines are the export's first lines, byte for byte.
    expect(lines.slice(0, 3).join('\n')).toBe(preview.stdout.trim())
    expect(on.stderr).toMatch(/Wrote 5 training examples: 2 accepted, 1 corrected, 2 rejected/)
    const bad = await cmdai(['history', 'export', '--format', 'training', '--preview', '0'])
    expect(bad.status).not.toBe(0)
  }, 120_000)
})
