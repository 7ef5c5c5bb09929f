import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../testing/wait-for'
import { resolveShell } from './shells'
import { pidsRunning, startService, uniqueSeconds, type ServiceUnderTest } from './testing'

let home: string
let sut: ServiceUnderTest | null = null

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cmdai-pgroup-'))
  writeFileSync(join(home, '.bashrc'), 'PS1="pg$ "\n')
})
afterAll(() => rmSync(home, { recursive: true, force: true }))
afterEach(async () => {
  await sut?.service.disposeAll()
  sut = null
})

/** Starts three kinds of jobs that outlive a plain SIGKILL of the shell. */
async function startJobs(id: string): Promise<{ plain: string; deaf: string; stopped: string }> {
  const s = sut!
  const plain = uniqueSeconds()
  const deaf = uniqueSeconds()
  const stopped = uniqueSeconds()
  // A background job, one that ignores SIGHUP, and a stopped foreground job (Ctrl+Z).
  s.service.write(id, `sleep ${plain} &\r`)
  s.service.write(id, `sh -c 'trap "" HUP; exec sleep ${deaf}' &\r`)
  await waitFor('background jobs', () => pidsRunning('sleep', plain).length === 1)
  await waitFor('deaf job', () => pidsRunning('sleep', deaf).length === 1)
  s.service.write(id, `sleep ${stopped}\r`)
  await waitFor('foreground job', () => pidsRunning('sleep', stopped).length === 1)
  s.service.write(id, '\x1a')
  await new Promise((r) => setTimeout(r, 300))
  return { plain, deaf, stopped }
}

const gone = (seconds: string) => pidsRunning('sleep', seconds).length === 0

describe.each(['bash', 'zsh', 'fish'] as const)('closing a %s tab', (name) => {
  const shell = resolveShell(name, process.env)
  // zsh and fish are installed by .ci/run; a machine without them runs bash only.
  it.runIf(shell !== null)(
    'ends background, HUP-ignoring and stopped jobs with the shell',
    async () => {
      sut = startService(home, { hangupGraceMs: 800 })
      const info = sut.service.create({ cols: 80, rows: 24, cwd: home, shell: shell! }, 'test')
      await waitFor('prompt', () => sut!.prompted(info.id))
      const jobs = await startJobs(info.id)
      const closing = sut.service.dispose(info.id)
      // SIGHUP ends the plain and the stopped job at once; the deaf one waits for SIGKILL.
      await waitFor('plain job ended', () => gone(jobs.plain), 5000)
      await waitFor('stopped job ended', () => gone(jobs.stopped), 5000)
      await closing
      expect(gone(jobs.deaf)).toBe(true)
    },
  )
})

describe('ending shells', () => {
  it('Kill ends the jobs too, and the tab can restart', async () => {
    sut = startService(home, { hangupGraceMs: 500 })
    const info = sut.service.create({ cols: 80, rows: 24, cwd: home, shell: 'bash' }, 'test')
    await waitFor('prompt', () => sut!.prompted(info.id))
    const job = uniqueSeconds()
    sut.service.write(info.id, `sleep ${job} &\r`)
    await waitFor('job', () => !gone(job))
    sut.service.kill(info.id)
    await waitFor('job ended', () => gone(job), 5000)
    await waitFor('exit', () => !sut!.service.infoOf(info.id).running)
    const again = sut.service.restart(info.id, 80, 24)
    expect(again.running).toBe(true)
  })

  it('restart ends the old shell and its jobs', async () => {
    sut = startService(home, { hangupGraceMs: 500 })
    const info = sut.service.create({ cols: 80, rows: 24, cwd: home, shell: 'bash' }, 'test')
    await waitFor('prompt', () => sut!.prompted(info.id))
    const job = uniqueSeconds()
    sut.service.write(info.id, `sleep ${job} &\r`)
    await waitFor('job', () => !gone(job))
    const restarted = sut.service.restart(info.id, 80, 24)
    expect(restarted.pid).not.toBe(info.pid)
    await waitFor('old job ended', () => gone(job), 5000)
  })

  it('a job left behind by a shell that exited on its own ends when the tab closes', async () => {
    sut = startService(home, { hangupGraceMs: 500 })
    const info = sut.service.create({ cols: 80, rows: 24, cwd: home, shell: 'bash' }, 'test')
    await waitFor('prompt', () => sut!.prompted(info.id))
    const job = uniqueSeconds()
    sut.service.write(info.id, `sleep ${job} & disown; exit\r`)
    await waitFor('shell exited', () => !sut!.service.infoOf(info.id).running)
    expect(gone(job)).toBe(false)
    await sut.service.dispose(info.id)
    expect(gone(job)).toBe(true)
  })

  it('disposeAll (the app stopping) waits until every session has ended', async () => {
    sut = startService(home, { hangupGraceMs: 600 })
    const jobs: string[] = []
    for (let i = 0; i < 3; i++) {
      const info = sut.service.create({ cols: 80, rows: 24, cwd: home, shell: 'bash' }, 'test')
      await waitFor('prompt', () => sut!.prompted(info.id))
      const job = uniqueSeconds()
      sut.service.write(info.id, `sh -c 'trap "" HUP; exec sleep ${job}' &\r`)
      await waitFor('job', () => !gone(job))
      jobs.push(job)
    }
    const started = Date.now()
    await sut.service.disposeAll()
    expect(jobs.filter((j) => !gone(j))).toEqual([])
    // The sessions end side by side, not one grace period after another.
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
