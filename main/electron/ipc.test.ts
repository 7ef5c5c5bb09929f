import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'

// Electron's binary is not available here; the glue's decisions (which frames may call, what is
// sent to which window) are checked against a stand-in ipcMain and WebContents.
const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>()
vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, fn: (event: unknown, ...args: unknown[]) => unknown) =>
      handlers.set(channel, fn),
    removeHandler: (channel: string) => handlers.delete(channel),
  },
}))

const { registerIpc } = await import('./ipc')
const { createServices } = await import('../services')
const { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } = await import('../../contract/transport')

const dataDir = mkdtempSync(join(tmpdir(), 'cmdai-ipc-'))
const services = createServices({ dataDir, host: 'electron', version: '0.0.0-test' })
afterAll(async () => {
  await services.dispose()
  rmSync(dataDir, { recursive: true, force: true })
})

const OWN_URL = 'file:///app/out/renderer/index.html'

function fakeContents(id: number) {
  const sent: unknown[][] = []
  const listeners = new Map<string, () => void>()
  const mainFrame = { url: OWN_URL }
  return {
    id,
    mainFrame,
    sent,
    isDestroyed: () => false,
    send: (...args: unknown[]) => sent.push(args),
    once: (event: string, fn: () => void) => listeners.set(event, fn),
    destroy: () => listeners.get('destroyed')?.(),
  }
}

describe('Electron IPC glue', () => {
  const bridge = registerIpc(services, (url) => url === OWN_URL)
  const invoke = handlers.get(IPC_INVOKE_CHANNEL)!

  it('answers requests from the main frame of an attached window at our own URL', async () => {
    const win = fakeContents(1)
    bridge.attach(win as never)
    const result = await invoke({ sender: win, senderFrame: win.mainFrame }, 'app:info', {})
    expect(result).toMatchObject({ ok: true, value: { host: 'electron' } })
  })

  it('refuses subframes, foreign URLs and windows it does not know', async () => {
    const win = fakeContents(2)
    bridge.attach(win as never)
    const subframe = { url: OWN_URL }
    const forbidden = { ok: false, error: { code: 'forbidden', message: expect.any(String) } }
    expect(await invoke({ sender: win, senderFrame: subframe }, 'app:info', {})).toEqual(forbidden)
    const elsewhere = fakeContents(3)
    elsewhere.mainFrame.url = 'https://evil.example/'
    bridge.attach(elsewhere as never)
    expect(
      await invoke({ sender: elsewhere, senderFrame: elsewhere.mainFrame }, 'app:info', {}),
    ).toEqual(forbidden)
    const stranger = fakeContents(4)
    expect(
      await invoke({ sender: stranger, senderFrame: stranger.mainFrame }, 'app:info', {}),
    ).toEqual(forbidden)
  })

  it('validates arguments like every other transport', async () => {
    const win = fakeContents(5)
    bridge.attach(win as never)
    const result = await invoke({ sender: win, senderFrame: win.mainFrame }, 'pty:resize', {
      id: 'x',
    })
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_input' } })
  })

  it('sends events to attached windows and stops when a window is destroyed', () => {
    const win = fakeContents(6)
    bridge.attach(win as never)
    services.events.emit('app:notice', { level: 'info', message: 'hello' })
    expect(win.sent).toContainEqual([
      IPC_EVENT_CHANNEL,
      'app:notice',
      { level: 'info', message: 'hello' },
    ])
    win.destroy()
    const before = win.sent.length
    services.events.emit('app:notice', { level: 'info', message: 'again' })
    expect(win.sent.length).toBe(before)
  })

  it("sends a terminal's events only to the window that shows it", () => {
    const a = fakeContents(7)
    const b = fakeContents(8)
    bridge.attach(a as never)
    bridge.attach(b as never)
    services.events.emit('pty:prompt', { id: 't1' }, 'window-7')
    services.events.emit('pty:prompt', { id: 't2' }, null)
    expect(a.sent).toEqual([[IPC_EVENT_CHANNEL, 'pty:prompt', { id: 't1' }]])
    expect(b.sent).toEqual([])
  })
})
