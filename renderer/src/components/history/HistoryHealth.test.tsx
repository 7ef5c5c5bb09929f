// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { HistoryStatus, ImportSummary } from '../../../../contract'
import { createFakeApi, type FakeApi } from '../models/fake-api'
import { StatusBar } from '../StatusBar'
import { HistoryPanel } from './HistoryPanel'

afterEach(cleanup)

const problem = {
  file: '/home/me/.local/share/cmdai/history/global/pg_control',
  meaning:
    'is 100 bytes instead of 8192: the control file was truncated: PostgreSQL cannot start from it',
  repair:
    'run `cmdai history doctor`: it checks the database, keeps the damaged folder aside, and restores the newest backup (--restore) or starts empty (--fresh) when you say so',
}
const failed: HistoryStatus = {
  state: 'failed',
  message: `History database problem: ${problem.file} ${problem.meaning}`,
  openMs: null,
  schemaVersion: null,
  problem,
}
const ready: HistoryStatus = { ...failed, state: 'ready', message: null, problem: null, openMs: 5 }

function panel(fake: FakeApi) {
  render(<HistoryPanel api={fake.api} onInsert={vi.fn()} onExplain={vi.fn()} onClose={vi.fn()} />)
}

describe('history that cannot be opened (issue 17, point 7)', () => {
  it('the panel says which file, what it means and what to run; Try again reopens', async () => {
    let status = failed
    const fake: FakeApi = createFakeApi({
      'history:status': () => status,
      'history:search': () => {
        if (status.state === 'failed') throw new Error(status.message!)
        return { mode: 'fuzzy', hits: [], tookMs: 1 }
      },
      'history:reopen': () => {
        status = ready
        fake.emit('history:state', ready)
        return ready
      },
    })
    panel(fake)
    const notice = await screen.findByTestId('history-problem')
    expect(notice.textContent).toContain(problem.file)
    expect(notice.textContent).toContain('the control file was truncated')
    expect(notice.querySelector('dd:last-of-type code')!.textContent).toBe('cmdai history doctor')
    // The raw search error is not shown on top of it.
    expect(screen.getAllByRole('alert')).toHaveLength(1)

    fireEvent.click(screen.getByRole('button', { name: 'Try again' }))
    await waitFor(() => expect(screen.queryByTestId('history-problem')).toBeNull())
    expect(fake.callsTo('history:reopen')).toHaveLength(1)
    await waitFor(() => expect(screen.getByText('Nothing matches.')).toBeTruthy())
  })

  it('the status bar names the file and the repair command; the tooltip has the rest', () => {
    render(<StatusBar info={null} status={null} connection="open" history={failed} />)
    const item = screen.getByTestId('status-db')
    expect(item.textContent).toBe('history: pg_control damaged · run cmdai history doctor')
    expect(item.getAttribute('title')).toContain(problem.meaning)
    expect(item.getAttribute('title')).toContain(problem.file)
  })
})

describe('importing from the history panel (issue 15, point 7)', () => {
  it('shows the progress events, then the summary with the skipped lines', async () => {
    let finish: (s: ImportSummary) => void = () => {}
    const fake: FakeApi = createFakeApi({
      'history:search': () => ({ mode: 'fuzzy', hits: [], tookMs: 1 }),
      'history:import': () => new Promise<ImportSummary>((resolve) => (finish = resolve)),
    })
    panel(fake)
    // The first search runs after a short debounce; wait for it so "searched again" below counts.
    await waitFor(() => expect(fake.callsTo('history:search')).toHaveLength(1))
    fireEvent.click(screen.getByRole('button', { name: 'Import…' }))
    const form = screen.getByRole('form', { name: 'Import history' })
    fireEvent.change(screen.getByRole('combobox'), { target: { value: 'bash' } })
    fireEvent.submit(form)
    await waitFor(() => expect(fake.callsTo('history:import')).toEqual([{ format: 'bash' }]))
    act(() =>
      fake.emit('history:importProgress', {
        id: 'x',
        path: '/home/me/.bash_history',
        bytesRead: 500,
        totalBytes: 1000,
        imported: 4000,
        duplicates: 0,
        skipped: 2,
        phase: 'reading',
      }),
    )
    const bar = screen.getByRole('progressbar', { name: 'Import progress' })
    expect(bar.getAttribute('value')).toBe('50')
    expect(screen.getByRole('status').textContent).toContain('4,000 imported · 2 skipped')
    await act(async () =>
      finish({
        format: 'bash',
        parsed: 8002,
        imported: 8000,
        duplicates: 0,
        skipped: 2,
        skips: [
          { line: 17, reason: 'the command contains a NUL byte' },
          { line: 90, reason: 'the line is not valid UTF-8' },
        ],
        tookMs: 400,
      }),
    )
    const summary = await screen.findByTestId('import-summary')
    expect(summary.textContent).toContain('Imported 8,000 new bash entries')
    expect(summary.textContent).toContain('line 17: the command contains a NUL byte')
    // The results are searched again.
    await waitFor(() => expect(fake.callsTo('history:search').length).toBeGreaterThan(1))
  })

  it('a cmdai export needs a path', () => {
    const fake = createFakeApi({
      'history:search': () => ({ mode: 'fuzzy', hits: [], tookMs: 1 }),
    })
    panel(fake)
    fireEvent.click(screen.getByRole('button', { name: 'Import…' }))
    fireEvent.change(screen.getByRole('combobox'), { target: { value: 'jsonl' } })
    expect(screen.getByRole('button', { name: 'Import' }).hasAttribute('disabled')).toBe(true)
  })
})
