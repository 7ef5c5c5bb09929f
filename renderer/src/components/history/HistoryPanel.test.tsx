// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { HistoryCommand, HistorySearchHit } from '../../../../contract'
import { CmdaiError } from '../../../../contract/errors'
import { createFakeApi, type FakeApi } from '../models/fake-api'
import { HistoryPanel } from './HistoryPanel'

afterEach(cleanup)

const run = (id: number, command: string, durationMs: number | null = 1500): HistoryCommand => ({
  id,
  command,
  cwd: '/home/me',
  exitCode: 0,
  startedAt: Date.UTC(2026, 0, 1) + id,
  durationMs,
  shell: 'bash',
  host: null,
  sessionId: null,
  ptyId: null,
  source: 'terminal',
  aiRequestId: null,
})

/** An in-memory history: runs grouped into hits by text, as main does. */
function setup(runs: HistoryCommand[]) {
  let rows = [...runs]
  const fake: FakeApi = createFakeApi({
    'history:search': ({ query, mode }) => {
      if (mode === 'semantic')
        throw new CmdaiError('unavailable', 'Semantic search needs an embedding model')
      const texts = [...new Set(rows.map((r) => r.command))].filter((t) => t.includes(query ?? ''))
      const hits: HistorySearchHit[] = texts.map((command) => {
        const mine = rows.filter((r) => r.command === command)
        return { command, last: mine.at(-1)!, uses: mine.length, failures: 0, score: 1 }
      })
      return { mode: mode ?? 'text', hits, tookMs: 1 }
    },
    'history:delete': ({ filter }) => {
      const before = rows.length
      rows = rows.filter((r) => r.command !== filter?.command)
      return { deletedCommands: before - rows.length, deletedAiRequests: 0 }
    },
  })
  const onClose = vi.fn()
  render(<HistoryPanel api={fake.api} onInsert={vi.fn()} onExplain={vi.fn()} onClose={onClose} />)
  return { fake, onClose }
}

const options = () =>
  screen.queryAllByRole('option').map((o) => o.querySelector('code')!.textContent)
const search = () => screen.getByRole('textbox', { name: 'Search your command history' })

describe('HistoryPanel', () => {
  it('shows how long the last run took', async () => {
    setup([run(1, 'make build', 83_000), run(2, 'ls', 12)])
    await waitFor(() => expect(options()).toEqual(['make build', 'ls']))
    const [make, ls] = screen.getAllByRole('option')
    expect(make!.textContent).toContain('took 1 min 23 s')
    expect(ls!.textContent).toContain('took 12 ms')
  })

  it('deletes the selected entry, all its runs, with Shift+Delete twice', async () => {
    const { fake, onClose } = setup([run(1, 'git push'), run(2, 'ls'), run(3, 'git push')])
    await waitFor(() => expect(options()).toEqual(['git push', 'ls']))
    fireEvent.keyDown(search(), { key: 'Delete', shiftKey: true })
    const ask = screen.getByRole('alertdialog', { name: 'Confirm deleting an entry' })
    expect(ask.textContent).toMatch(/Delete all 2 runs of git push from your history\?/)
    expect(fake.callsTo('history:delete')).toEqual([])
    // Esc takes the question back without closing the panel.
    fireEvent.keyDown(search(), { key: 'Escape' })
    expect(screen.queryByRole('alertdialog')).toBeNull()
    expect(onClose).not.toHaveBeenCalled()

    fireEvent.keyDown(search(), { key: 'Delete', shiftKey: true })
    await act(async () => fireEvent.keyDown(search(), { key: 'Delete', shiftKey: true }))
    expect(fake.callsTo('history:delete')).toEqual([{ filter: { command: 'git push' } }])
    await waitFor(() => expect(options()).toEqual(['ls']))
    expect(screen.getByRole('status').textContent).toBe('Deleted 2 runs of “git push”.')
    // Plain Delete in the search box still edits the text.
    fireEvent.keyDown(search(), { key: 'Delete' })
    expect(screen.queryByRole('alertdialog')).toBeNull()
  })

  it('deletes an entry with the pointer: choose it, Delete, then confirm', async () => {
    const { fake } = setup([run(1, 'git push'), run(2, 'ls')])
    await waitFor(() => expect(options()).toHaveLength(2))
    fireEvent.click(screen.getAllByRole('option')[1]!)
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }))
    const ask = screen.getByRole('alertdialog')
    expect(ask.textContent).toMatch(/Delete the run of ls/)
    await act(async () => fireEvent.click(within(ask).getByRole('button', { name: 'Delete' })))
    expect(fake.callsTo('history:delete')).toEqual([{ filter: { command: 'ls' } }])
    await waitFor(() => expect(options()).toEqual(['git push']))
  })

  it('in Meaning mode without an embedding model, says so and lists nothing old', async () => {
    setup([run(1, 'git push'), run(2, 'ls')])
    await waitFor(() => expect(options()).toHaveLength(2))
    fireEvent.click(screen.getByRole('button', { name: 'Meaning' }))
    expect((await screen.findByRole('alert')).textContent).toMatch(/needs an embedding model/)
    expect(options()).toEqual([])
    expect(screen.queryByText('Nothing matches.')).toBeNull()
  })

  it('shows control characters in commands as escapes', async () => {
    setup([run(1, 'echo hi\x1b[2J\rrm -rf ~')])
    await waitFor(() => expect(options()).toEqual(['echo hi\\e[2J\\rrm -rf ~']))
  })
})
