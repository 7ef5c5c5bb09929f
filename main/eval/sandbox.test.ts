import { createServer } from 'node:net'
import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { networkIsolationAvailable, runInSandbox } from './sandbox'

const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('cmdai-eval-'))

describe('runInSandbox', () => {
  it('seeds files (text, size, age, mode), runs setup then the command, and snapshots the result', async () => {
    const run = await runInSandbox('chmod +x run.sh && find . -type f -mtime +1 && pwd && ls ~', {
      files: {
        'run.sh': { text: 'echo hi\n', mode: '644' },
        'big.bin': { size: 5 * 2 ** 20 },
        'old/notes.md': { text: 'x', age: '3d' },
        'empty/': '',
      },
      setup: ['echo made > setup.txt'],
    })
    expect(run.exitCode).toBe(0)
    expect(run.setupError).toBeNull()
    // Paths of the sandbox print as ./ (HOME is the working directory).
    expect(run.stdout.split('\n')).toEqual([
      './old/notes.md',
      '.',
      'big.bin',
      'empty',
      'old',
      'run.sh',
      'setup.txt',
      '',
    ])
    expect(run.tree['run.sh']).toMatch(/ 755$/)
    expect(run.tree['empty']).toBe('dir')
    expect(run.tree['setup.txt']).toMatch(/^[0-9a-f]{16} /)
  })

  it('gives the command a minimal environment: none of the caller’s variables', async () => {
    process.env.CMDAI_TEST_SECRET = 'hunter2'
    try {
      const run = await runInSandbox('env', { files: {} })
      expect(run.stdout).not.toContain('hunter2')
      expect(run.stdout).toMatch(/^PATH=/m)
      expect(run.stdout).toMatch(/^HOME=/m)
    } finally {
      delete process.env.CMDAI_TEST_SECRET
    }
  })

  it('kills the whole process group at the timeout', async () => {
    const started = performance.now()
    const run = await runInSandbox('sleep 30 & sleep 30; echo never', {
      files: {},
      timeoutMs: 500,
    })
    expect(run.timedOut).toBe(true)
    expect(run.stdout).not.toContain('never')
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('caps the output and stops a command that floods it', async () => {
    const run = await runInSandbox('yes cmdai', { files: {}, maxOutputBytes: 4096 })
    expect(run.truncated).toBe(true)
    expect(Buffer.byteLength(run.stdout)).toBeLessThanOrEqual(4096)
  })

  it('passes the command as data (no splicing) and survives terminal escapes and NULs in output', async () => {
    const run = await runInSandbox(
      `printf '%s\\n' "$(echo '$(touch pwned)')"; printf '\\033]0;x\\007\\000z'`,
      {
        files: {},
      },
    )
    expect(run.tree['pwned']).toBeUndefined()
    expect(run.stdout).toContain('$(touch pwned)')
  })

  it('removes the directory afterwards, even one the command locked itself out of', async () => {
    const before = leftovers().length
    await runInSandbox('mkdir -p locked/in && touch locked/in/f && chmod 000 locked/in locked', {
      files: {},
    })
    expect(leftovers().length).toBe(before)
  })

  it('does not follow links out of the sandbox when it snapshots', async () => {
    const run = await runInSandbox('ln -s / root-link && ln -s /etc/passwd pw', { files: {} })
    expect(run.tree['root-link']).toBe('link:/')
    expect(run.tree['pw']).toBe('link:/etc/passwd')
    expect(Object.keys(run.tree)).toHaveLength(2)
  })

  it.runIf(networkIsolationAvailable())(
    'has no network where user namespaces work: a loopback server here is unreachable',
    async () => {
      const server = createServer((s) => s.end('hello\n'))
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const port = (server.address() as { port: number }).port
      try {
        const run = await runInSandbox(
          `exec 3<>/dev/tcp/127.0.0.1/${port} && cat <&3 || echo unreachable`,
          { files: {} },
        )
        expect(run.isolation).toBe('netns')
        expect(run.stdout).toContain('unreachable')
        expect(run.stdout).not.toContain('hello')
      } finally {
        server.close()
      }
    },
  )

  it('reports a failing setup step instead of running the command', async () => {
    const run = await runInSandbox('touch ran', { files: {}, setup: ['exit 3'] })
    expect(run.setupError).toMatch(/setup `exit 3` failed \(3\)/)
    expect(run.tree['ran']).toBeUndefined()
  })
})
