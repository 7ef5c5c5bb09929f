// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CmdaiError } from '../../../../contract/errors'
import type { DownloadProgress, LlmResults, LlmState, ModelInfo } from '../../../../contract/llm'
import {
  appInfo,
  createFakeApi,
  emptyModelList,
  fakeSettings,
  TEST_CATALOG,
  type FakeApi,
  type Handlers,
} from './fake-api'
import { ModelManager } from './ModelManager'

afterEach(cleanup)

const mid = TEST_CATALOG[1]!

function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

function setup(
  options: {
    memory?: number
    list?: LlmResults['models:list']
    privacy?: object
    extra?: Handlers
    host?: 'electron' | 'browser'
  } = {},
) {
  const settings = fakeSettings(() => fake, options.privacy ? { privacy: options.privacy } : {})
  const pulls: Array<ReturnType<typeof deferred<ModelInfo>>> = []
  const idle: LlmState = {
    state: 'idle',
    backend: 'local',
    model: null,
    compute: null,
    error: null,
  }
  const fake: FakeApi = createFakeApi({
    ...settings.handlers,
    'models:list': () => options.list ?? emptyModelList(),
    'app:info': () => appInfo(options.memory ?? 16, options.host),
    'llm:status': () => idle,
    'models:pull': () => {
      const d = deferred<ModelInfo>()
      pulls.push(d)
      return d.promise
    },
    'models:cancelDownload': () => ({ cancelled: true }),
    ...options.extra,
  })
  return { fake, settings, pulls }
}

function progress(downloadId: string, patch: Partial<DownloadProgress>): DownloadProgress {
  return {
    downloadId,
    uri: mid.uri,
    state: 'downloading',
    bytes: 0,
    totalBytes: mid.sizeBytes,
    bytesPerSecond: 0,
    etaSeconds: null,
    error: null,
    ...patch,
  }
}

async function startMidDownload(fake: FakeApi) {
  fireEvent.click(await screen.findByRole('button', { name: `Download ${mid.name}` }))
  const [args] = fake.callsTo('models:pull') as Array<{ uri: string; downloadId: string }>
  expect(args?.uri).toBe(mid.uri)
  expect(args?.downloadId).toMatch(/^[0-9a-f-]{36}$/)
  return args!.downloadId
}

describe('ModelManager', () => {
  it('is a labelled modal dialog that closes on Escape', async () => {
    const { fake } = setup()
    const onClose = vi.fn()
    render(<ModelManager api={fake.api} onClose={onClose} />)
    const dialog = screen.getByRole('dialog', { name: 'Models' })
    expect(dialog.getAttribute('aria-modal')).toBe('true')
    await screen.findByText(mid.name)
    fireEvent.keyDown(dialog, { key: 'Escape' })
    expect(onClose).toHaveBeenCalledOnce()
  })

  it('marks the default for this RAM as recommended and says what does not fit', async () => {
    const { fake } = setup({ memory: 6, list: emptyModelList('tiny') })
    render(<ModelManager api={fake.api} onClose={vi.fn()} />)
    const tiny = await screen.findByRole('listitem', { name: 'Tiny Coder 0.5B' })
    expect(within(tiny).getByText('Recommended')).toBeTruthy()
    expect(within(tiny).getByText('fits this machine')).toBeTruthy()
    const big = screen.getByRole('listitem', { name: 'Big Coder 7B' })
    expect(within(big).queryByText('Recommended')).toBeNull()
    expect(within(big).getByText('needs 8 GB RAM')).toBeTruthy()
    expect(within(big).getByText('4.68 GB download')).toBeTruthy()
  })

  it('renders bytes, speed, ETA and percentage from models:progress events', async () => {
    const { fake } = setup()
    render(<ModelManager api={fake.api} onClose={vi.fn()} />)
    const downloadId = await startMidDownload(fake)
    act(() =>
      fake.emit(
        'models:progress',
        progress(downloadId, { bytes: 100_000_000, bytesPerSecond: 12_500_000, etaSeconds: 82 }),
      ),
    )
    const row = screen.getByRole('listitem', { name: mid.name })
    const bar = within(row).getByRole('progressbar', { name: `Download of ${mid.name}` })
    expect(bar.getAttribute('aria-valuenow')).toBe('9')
    expect(within(row).getByText('100.0 MB / 1.12 GB')).toBeTruthy()
    expect(within(row).getByText('12.5 MB/s')).toBeTruthy()
    expect(within(row).getByText('ETA 1:22')).toBeTruthy()
    expect(within(row).getByText('Downloading')).toBeTruthy()

    act(() =>
      fake.emit(
        'models:progress',
        progress(downloadId, { bytes: 1_000_000_000, bytesPerSecond: 9_000_000, etaSeconds: 3725 }),
      ),
    )
    expect(bar.getAttribute('aria-valuenow')).toBe('89')
    expect(within(row).getByText('9.0 MB/s')).toBeTruthy()
    expect(within(row).getByText('ETA 1:02:05')).toBeTruthy()
  })

  it('cancels through models:cancelDownload and offers the download again', async () => {
    const { fake, pulls } = setup()
    render(<ModelManager api={fake.api} onClose={vi.fn()} />)
    const downloadId = await startMidDownload(fake)
    fireEvent.click(screen.getByRole('button', { name: `Cancel download of ${mid.name}` }))
    expect(fake.callsTo('models:cancelDownload')).toEqual([{ downloadId }])
    await act(async () => pulls[0]!.reject(new CmdaiError('cancelled', 'cancelled')))
    expect(screen.queryByRole('progressbar')).toBeNull()
    expect(screen.getByRole('button', { name: `Download ${mid.name}` })).toBeTruthy()
  })

  it('pauses (cancel keeping the partial file) and resumes by pulling the same uri again', async () => {
    const { fake, pulls } = setup()
    render(<ModelManager api={fake.api} onClose={vi.fn()} />)
    const first = await startMidDownload(fake)
    act(() => fake.emit('models:progress', progress(first, { bytes: 500_000_000 })))
    const pause = screen.getByRole('button', { name: `Pause download of ${mid.name}` })
    expect(pause.getAttribute('title')).toMatch(/partial file/)
    fireEvent.click(pause)
    expect(fake.callsTo('models:cancelDownload')).toEqual([{ downloadId: first }])
    await act(async () => pulls[0]!.reject(new CmdaiError('cancelled', 'cancelled')))
    expect(screen.getByText('Paused')).toBeTruthy()
    expect(screen.getByText('500.0 MB / 1.12 GB')).toBeTruthy()

    fireEvent.click(screen.getByRole('button', { name: `Resume download of ${mid.name}` }))
    const pullArgs = fake.callsTo('models:pull') as Array<{ uri: string; downloadId: string }>
    expect(pullArgs).toHaveLength(2)
    expect(pullArgs[1]!.uri).toBe(mid.uri)
    expect(pullArgs[1]!.downloadId).not.toBe(first)
  })

  it('keeps the address in a failed row, says why, and retries on demand', async () => {
    const { fake, pulls } = setup()
    render(<ModelManager api={fake.api} onClose={vi.fn()} />)
    const first = await startMidDownload(fake)
    const row = screen.getByRole('listitem', { name: mid.name })
    expect(within(row).getByText('Connecting')).toBeTruthy()
    expect(within(row).getByTestId('download-uri').textContent).toBe(mid.uri)
    const reason =
      'Could not find the host of huggingface.co (no DNS answer: is this machine offline?)'
    act(() =>
      fake.emit(
        'models:progress',
        progress(first, { state: 'error', error: { code: 'unavailable', message: reason } }),
      ),
    )
    await act(async () => pulls[0]!.reject(new CmdaiError('unavailable', reason)))
    expect(within(row).getByRole('alert').textContent).toBe(reason)
    expect(within(row).getByText('Failed')).toBeTruthy()
    expect(within(row).getByTestId('download-uri').textContent).toBe(mid.uri)
    fireEvent.click(within(row).getByRole('button', { name: `Retry download of ${mid.name}` }))
    const pullArgs = fake.callsTo('models:pull') as Array<{ uri: string; downloadId: string }>
    expect(pullArgs.map((a) => a.uri)).toEqual([mid.uri, mid.uri])
    expect(pullArgs[1]!.downloadId).not.toBe(first)
    expect(within(row).queryByRole('alert')).toBeNull()
    expect(within(row).getByText('Connecting')).toBeTruthy()
  })

  it('warns before deleting the model in use, and keeps the keyboard in the dialog after Use', async () => {
    const models: ModelInfo[] = [
      {
        id: 'a.gguf',
        name: 'a',
        path: '/m/a.gguf',
        sizeBytes: 1e6,
        origin: 'imported',
        active: true,
      },
      {
        id: 'b.gguf',
        name: 'b',
        path: '/m/b.gguf',
        sizeBytes: 1e6,
        origin: 'imported',
        active: false,
      },
    ]
    let active = {
      id: 'a.gguf',
      path: '/m/a.gguf',
      source: 'default' as const,
      reason: 'the first of 2 models on disk, by name',
    }
    const onClose = vi.fn()
    const { fake } = setup({
      extra: {
        'models:list': () => ({
          models: models.map((m) => ({ ...m, active: m.path === active.path })),
          catalog: TEST_CATALOG,
          active,
          recommended: 'mid',
        }),
        'models:setActive': ({ id }) => {
          active = { id, path: `/m/${id}`, source: 'default', reason: 'chosen in settings' }
          return active
        },
        'models:remove': () => ({ removed: true }),
      },
    })
    render(<ModelManager api={fake.api} onClose={onClose} />)
    const installed = screen.getByRole('region', { name: 'Installed' })
    const a = await within(installed).findByRole('listitem', { name: 'a' })
    expect(screen.getByTestId('active-model').textContent).toMatch(
      /Active: a\.gguf \(the first of 2 models/,
    )
    fireEvent.click(within(a).getByRole('button', { name: 'Delete a' }))
    expect(within(a).getByRole('group', { name: 'Confirm deleting a' }).textContent).toMatch(
      /This is the model in use: another installed model takes over/,
    )
    fireEvent.click(within(a).getByRole('button', { name: 'Keep' }))

    const b = within(installed).getByRole('listitem', { name: 'b' })
    const use = within(b).getByRole('button', { name: 'Use b' })
    use.focus()
    await act(async () => fireEvent.click(use))
    await waitFor(() =>
      expect(screen.getByTestId('active-model').textContent).toMatch(/Active: b\.gguf/),
    )
    expect(document.activeElement).toBe(screen.getByTestId('active-model'))
    fireEvent.keyDown(document.activeElement!, { key: 'Escape' })
    expect(onClose).toHaveBeenCalledOnce()
  })

  it('shows a download error inline', async () => {
    const { fake, pulls } = setup()
    render(<ModelManager api={fake.api} onClose={vi.fn()} />)
    await startMidDownload(fake)
    await act(async () =>
      pulls[0]!.reject(
        new CmdaiError('unavailable', 'Not enough disk space: the model needs 1.12 GB'),
      ),
    )
    expect(screen.getByRole('alert').textContent).toContain('Not enough disk space')
    expect(screen.getByRole('button', { name: `Retry download of ${mid.name}` })).toBeTruthy()
  })

  it('shows the import error from the server and says where the file must be in browser mode', async () => {
    const { fake } = setup({
      host: 'browser',
      extra: {
        'models:import': () => {
          throw new CmdaiError('invalid_input', '/tmp/x.bin is not a GGUF file (bad magic)')
        },
      },
    })
    render(<ModelManager api={fake.api} onClose={vi.fn()} />)
    const input = await screen.findByLabelText('Path of a GGUF file')
    expect(await screen.findByText(/machine running cmdai serve/)).toBeTruthy()
    fireEvent.change(input, { target: { value: '/tmp/x.bin' } })
    fireEvent.click(screen.getByRole('button', { name: 'Import' }))
    expect((await screen.findByRole('alert')).textContent).toBe(
      '/tmp/x.bin is not a GGUF file (bad magic)',
    )
    expect(fake.callsTo('models:import')).toEqual([{ path: '/tmp/x.bin' }])
  })

  it('lists installed models, switches the active one and deletes only after confirming', async () => {
    const models: ModelInfo[] = [
      {
        id: 'tiny',
        name: 'Tiny Coder 0.5B',
        path: '/m/tiny.gguf',
        sizeBytes: 398_000_000,
        origin: 'catalog',
        active: true,
      },
      {
        id: 'mine.gguf',
        name: 'mine',
        path: '/m/mine.gguf',
        sizeBytes: 50_000_000,
        origin: 'imported',
        active: false,
      },
    ]
    const list = {
      models,
      catalog: TEST_CATALOG,
      active: {
        id: 'tiny',
        path: '/m/tiny.gguf',
        source: 'default' as const,
        reason: 'the first of 2 models on disk, by name',
      },
      recommended: 'mid',
    }
    const setActive = vi.fn(() => list.active)
    const remove = vi.fn(() => ({ removed: true }))
    const { fake } = setup({
      list,
      extra: { 'models:setActive': setActive, 'models:remove': remove },
    })
    render(<ModelManager api={fake.api} onClose={vi.fn()} />)
    const installed = screen.getByRole('region', { name: 'Installed' })
    const mine = await within(installed).findByRole('listitem', { name: 'mine' })
    expect(within(mine).getByText('imported')).toBeTruthy()
    expect(within(installed).getByRole('button', { name: 'Use Tiny Coder 0.5B' })).toHaveProperty(
      'disabled',
      true,
    )
    await act(async () => fireEvent.click(within(mine).getByRole('button', { name: 'Use mine' })))
    expect(setActive).toHaveBeenCalledWith({ id: 'mine.gguf' })

    fireEvent.click(within(mine).getByRole('button', { name: 'Delete mine' }))
    expect(remove).not.toHaveBeenCalled()
    fireEvent.click(within(mine).getByRole('button', { name: 'Keep' }))
    fireEvent.click(within(mine).getByRole('button', { name: 'Delete mine' }))
    await act(async () =>
      fireEvent.click(within(mine).getByRole('button', { name: 'Delete for good' })),
    )
    expect(remove).toHaveBeenCalledWith({ id: 'mine.gguf' })
  })

  it('offers no "Use" for an embedding model: it serves semantic search, not commands', async () => {
    const list = {
      models: [
        {
          id: 'nomic-embed-text-v1.5',
          name: 'Nomic Embed',
          path: '/m/nomic.gguf',
          sizeBytes: 146_000_000,
          origin: 'catalog' as const,
          active: false,
          kind: 'embedding' as const,
        },
      ],
      catalog: TEST_CATALOG,
      active: null,
      recommended: 'mid',
    }
    const { fake } = setup({ list })
    render(<ModelManager api={fake.api} onClose={vi.fn()} />)
    const installed = screen.getByRole('region', { name: 'Installed' })
    const item = await within(installed).findByRole('listitem', { name: 'Nomic Embed' })
    expect(within(item).getByText('semantic search')).toBeTruthy()
    expect(within(item).queryByRole('button', { name: 'Use Nomic Embed' })).toBeNull()
    expect(within(item).getByRole('button', { name: 'Delete Nomic Embed' })).toBeTruthy()
  })

  it('follows llm:state and shows the compute layer and why the model is active', async () => {
    const { fake } = setup()
    render(<ModelManager api={fake.api} onClose={vi.fn()} />)
    await screen.findByText('idle')
    act(() =>
      fake.emit('llm:state', {
        state: 'ready',
        backend: 'local',
        model: { id: 'mid', path: '/m/mid.gguf', source: 'env', reason: 'CMDAI_MODEL is set' },
        compute: 'cuda',
        error: null,
      }),
    )
    expect(screen.getByText('ready')).toBeTruthy()
    expect(screen.getByText('CUDA (NVIDIA GPU)')).toBeTruthy()
    expect(screen.getByText('(CMDAI_MODEL is set)')).toBeTruthy()
  })

  it('keeps the OpenAI-compatible backend off until Privacy allows remote backends', async () => {
    const { fake, settings } = setup()
    const onOpenSettings = vi.fn()
    render(<ModelManager api={fake.api} onClose={vi.fn()} onOpenSettings={onOpenSettings} />)
    const remote = await screen.findByRole('radio', { name: /OpenAI-compatible/ })
    await screen.findByText(/Remote backends are off/)
    expect(remote).toHaveProperty('disabled', true)
    fireEvent.click(screen.getByRole('button', { name: 'Settings › Privacy' }))
    expect(onOpenSettings).toHaveBeenCalledOnce()

    // Turned on elsewhere (the settings panel): the option follows settings:changed.
    await act(() => fake.api.call('settings:update', { privacy: { allowRemoteBackends: true } }))
    expect(remote).toHaveProperty('disabled', false)
    fireEvent.click(remote)
    fireEvent.change(screen.getByLabelText('Base URL'), {
      target: { value: 'http://127.0.0.1:8080/v1' },
    })
    fireEvent.change(screen.getByLabelText('Model name'), { target: { value: 'qwen' } })
    await act(async () =>
      fireEvent.click(screen.getByRole('button', { name: 'Use this endpoint' })),
    )
    expect(settings.current().llm).toEqual({
      backend: 'openai',
      openai: {
        baseUrl: 'http://127.0.0.1:8080/v1',
        model: 'qwen',
        apiKeyEnv: 'CMDAI_OPENAI_API_KEY',
      },
    })
  })

  it('renders the speed of the last requests it is given', async () => {
    const { fake } = setup()
    render(
      <ModelManager
        api={fake.api}
        onClose={vi.fn()}
        recentTimings={[{ model: 'mid', firstTokenMs: 180, totalMs: 1450 }]}
      />,
    )
    const table = await screen.findByRole('table')
    expect(within(table).getByText('180 ms')).toBeTruthy()
    expect(within(table).getByText('1.45 s')).toBeTruthy()
  })
})
