import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Events } from '../../contract'
import { waitFor } from '../testing/wait-for'
import { startService, type ServiceUnderTest } from './testing'

let home: string
let sut: ServiceUnderTest | null = null
const marks = { high: 200_000, low: 50_000 }

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cmdai-flow-'))
  writeFileSync(join(home, '.bashrc'), 'PS1="flow$ "\n')
})
afterAll(() => rmSync(home, { recursive: true, force: true }))
afterEach(async () => {
  await sut?.service.disposeAll()
  sut = null
})

function lastSeq(id: string): number {
  const data = sut!.seen.filter(
    (r) => r.event === 'pty:data' && (r.payload as Events['pty:data']).id === id,
  )
  return data.length ? (data[data.length - 1]!.payload as Events['pty:data']).seq : 0
}

const FLOOD = 'yes cmdai-flood-line | head -c 300000000; echo flood-done\r'

describe('flow control with a real flood', () => {
  it('stops reading a flooding program while the page is behind, and resumes on acks', async () => {
    sut = startService(home, { watermarks: marks })
    const info = sut.service.create(
      { cols: 100, rows: 30, cwd: home, shell: 'bash', acknowledged: true },
      'page',
    )
    await waitFor('prompt', () => sut!.prompted(info.id))
    sut.service.write(info.id, FLOOD)
    // Nothing is acknowledged: output stops just past the high watermark (one batch over at most).
    await waitFor('paused', () => lastSeq(info.id) > marks.high)
    await new Promise((r) => setTimeout(r, 500))
    const stalled = lastSeq(info.id)
    expect(stalled).toBeLessThan(marks.high + 200_000)
    await new Promise((r) => setTimeout(r, 300))
    expect(lastSeq(info.id)).toBe(stalled)

    // The page catches up: output flows again, and again only as far as the acks allow.
    sut.service.ack(info.id, stalled)
    await waitFor('resumed', () => lastSeq(info.id) > stalled + marks.high / 2)
    await new Promise((r) => setTimeout(r, 300))
    expect(lastSeq(info.id)).toBeLessThan(stalled + marks.high + 200_000)
  })

  it('Ctrl+C during a flood stops it within a second while the page keeps acknowledging', async () => {
    sut = startService(home, { watermarks: marks }, 'tail')
    const info = sut.service.create(
      { cols: 100, rows: 30, cwd: home, shell: 'bash', acknowledged: true },
      'page',
    )
    await waitFor('prompt', () => sut!.prompted(info.id))
    // A page that keeps up: acknowledges everything every 20 ms.
    const acker = setInterval(() => sut!.service.ack(info.id, lastSeq(info.id)), 20)
    try {
      sut.service.write(info.id, 'yes cmdai-flood-line\r')
      await waitFor('flooding', () => lastSeq(info.id) > 5_000_000, 30_000)
      const before = sut.seen.length
      const sent = Date.now()
      sut.service.write(info.id, '\x03')
      const prompt = await waitFor('prompt after Ctrl+C', () =>
        sut!.seen
          .slice(before)
          .some((r) => r.event === 'pty:prompt' && (r.payload as { id: string }).id === info.id),
      )
      expect(prompt).toBe(true)
      expect(Date.now() - sent).toBeLessThan(1000)
    } finally {
      clearInterval(acker)
    }
  })

  it('without a page, the screen mirror alone paces the PTY and its memory stays bounded', async () => {
    sut = startService(home, { watermarks: marks }, 'tail')
    const info = sut.service.create({ cols: 100, rows: 30, cwd: home, shell: 'bash' }, 'nobody')
    await waitFor('prompt', () => sut!.prompted(info.id))
    const rssBefore = process.memoryUsage().rss
    sut.service.write(info.id, 'yes cmdai-flood-line | head -c 30000000; echo flood-done\r')
    await waitFor('flood done', () => /flood-done\r?\n/.test(sut!.output(info.id)), 60_000)
    // 30 MB went through the mirror; what it keeps is its scrollback, not the stream.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150 * 1024 * 1024)
    const snapshot = await sut.service.attach(info.id, { scrollback: 50 })
    expect(snapshot.seq).toBe(lastSeq(info.id))
    expect(snapshot.screen).toContain('cmdai-flood-line')
  })
})
