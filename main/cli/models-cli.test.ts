import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { GenerateResult } from '../../contract'
import { formatGeneration, generationJson } from './commands/llm'

const dir = mkdtempSync(join(tmpdir(), 'cmdai-models-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs the CLI; resolves with its status, output and how long it took. */
function cmdai(...args: string[]) {
  const started = performance.now()
  return new Promise<{ status: number | null; stdout: string; stderr: string; ms: number }>(
    (resolve) => {
      const child = spawn(process.execPath, ['bin/cmdai.mjs', ...args], {
        env: { ...process.env, CMDAI_DATA_DIR: join(dir, 'data'), CMDAI_MODEL: '' },
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
      child.on('close', (status) => {
        clearTimeout(timer)
        resolve({ status, stdout, stderr, ms: performance.now() - started })
      })
    },
  )
}

describe('cmdai models', () => {
  it('import refuses broken GGUF files at once, with a sentence', async () => {
    const tiny = join(dir, 'four.gguf')
    writeFileSync(tiny, 'GGUF')
    const magic = join(dir, 'fifteen.gguf')
    writeFileSync(
      magic,
      Buffer.concat([Buffer.from('GGUF'), Buffer.from([3, 0, 0, 0]), Buffer.alloc(7)]),
    )
    const [four, fifteen] = await Promise.all([
      cmdai('models', 'import', tiny),
      cmdai('models', 'import', magic),
    ])
    expect(four.status).toBe(1)
    expect(four.stderr).toMatch(
      /four\.gguf is not a valid GGUF model file: the file is 4 bytes long/,
    )
    expect(four.stderr).not.toMatch(/Cannot read properties/)
    expect(fifteen.status).toBe(1)
    expect(fifteen.stderr).toMatch(/15 bytes long; a GGUF header alone takes 24/)
    expect(fifteen.ms).toBeLessThan(30_000)
  })

  it('pull says what it is doing and why it failed, in seconds', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise((resolve) => probe.close(resolve))
    const [refused, notUri] = await Promise.all([
      cmdai('models', 'pull', `http://127.0.0.1:${port}/model.gguf`),
      cmdai('models', 'pull', 'notacatalogid'),
    ])
    expect(refused.status).toBe(1)
    expect(refused.stderr).toContain(`Asking http://127.0.0.1:${port}/model.gguf`)
    expect(refused.stderr).toContain(
      `Could not connect to 127.0.0.1:${port}: the connection was refused`,
    )
    expect(refused.ms).toBeLessThan(30_000)
    expect(notUri.status).toBe(1)
    expect(notUri.stderr).toMatch(/“notacatalogid” is not a catalog model/)
    expect(notUri.stderr).not.toMatch(/Invalid URL/)
  })

  it('serve refuses an empty or malformed port as a usage error', async () => {
    for (const port of ['', '8o80', '-1']) {
      const result = await cmdai('serve', '--port', port)
      expect(result.status).toBe(1)
      expect(result.stderr).toMatch(/Invalid port/)
    }
  })
})

describe('cmdai generate output', () => {
  const result = (command: string): GenerateResult => ({
    requestId: 'cli',
    command,
    explanation: 'Nothing \x1b[2Jto see',
    assumptions: [],
    needsInput: null,
    verdict: { command, shell: 'bash', risk: 'safe', action: 'allow', reasons: [] },
    model: 'tiny',
    backend: 'local',
    timings: {
      loadMs: 0,
      contextMs: 0,
      firstTokenMs: 10,
      commandMs: 20,
      totalMs: 30,
      promptTokens: null,
      outputTokens: null,
    },
    redactions: 0,
  })

  it('says no command was proposed instead of "$ " and "safe (allow)"', () => {
    const lines = formatGeneration(result(''))
    expect(lines[0]).toBe('No command was proposed.')
    expect(lines.join('\n')).not.toMatch(/^\$ |safe \(allow\)/m)
    expect(generationJson(result(''))).toMatchObject({ command: '', risk: null, action: null })
  })

  it('shows control characters in the model text as escapes', () => {
    const lines = formatGeneration(result('echo hi\x1b]0;owned\x07'))
    expect(lines[0]).toBe('$ echo hi\\e]0;owned\\a')
    expect(lines[1]).toBe('  Nothing \\e[2Jto see')
    expect(lines.join('')).not.toContain('\x1b')
  })
})
