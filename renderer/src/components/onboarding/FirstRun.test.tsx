// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CmdaiError } from '../../../../contract/errors'
import type { LlmResults, ModelInfo } from '../../../../contract/llm'
import { settingsSchema } from '../../../../contract/settings'
import {
  appInfo,
  createFakeApi,
  emptyModelList,
  fakeSettings,
  TEST_CATALOG,
  type FakeApi,
  type Handlers,
} from '../models/fake-api'
import { formatBytes } from '../models/format'
import { FirstRun, shouldShowFirstRun } from './FirstRun'

afterEach(cleanup)

function setup(memory: number, extra: Handlers = {}, recommended = 'mid') {
  const settings = fakeSettings(() => fake)
  let pull: ((model: ModelInfo) => void) | null = null
  const fake: FakeApi = createFakeApi({
    ...settings.handlers,
    'models:list': () => emptyModelList(recommended),
    'app:info': () => appInfo(memory),
    'models:pull': () => new Promise<ModelInfo>((resolve) => (pull = resolve)),
    ...extra,
  })
  return { fake, settings, finishPull: (model: ModelInfo) => pull?.(model) }
}

describe('shouldShowFirstRun', () => {
  const defaults = settingsSchema.parse({})
  const list = (patch: Partial<LlmResults['models:list']> = {}) => ({
    ...emptyModelList(),
    ...patch,
  })
  const model: ModelInfo = {
    id: 'tiny',
    name: 'Tiny',
    path: '/m/tiny.gguf',
    sizeBytes: 1,
    origin: 'catalog',
    active: true,
  }

  it('shows on a fresh install and not once dismissed', () => {
    expect(shouldShowFirstRun(defaults, list())).toBe(true)
    expect(shouldShowFirstRun({ ...defaults, onboarding: { dismissed: true } }, list())).toBe(false)
  })

  it('does not show when a model is installed or CMDAI_MODEL names one elsewhere', () => {
    expect(shouldShowFirstRun(defaults, list({ models: [model] }))).toBe(false)
    // An embedding model for semantic search alone does not make a chat model.
    const embedding: ModelInfo = { ...model, id: 'embed', active: false, kind: 'embedding' }
    expect(shouldShowFirstRun(defaults, list({ models: [embedding] }))).toBe(true)
    const fromEnv = {
      id: 'x.gguf',
      path: '/opt/x.gguf',
      source: 'env' as const,
      reason: 'CMDAI_MODEL is set',
    }
    expect(shouldShowFirstRun(defaults, list({ active: fromEnv }))).toBe(false)
  })
})

describe('FirstRun', () => {
  it.each([
    [4, 'tiny', 'Tiny Coder 0.5B'],
    [8, 'mid', 'Mid Coder 1.5B'],
    [32, 'big', 'Big Coder 7B'],
  ])('recommends the model main recommends for %i GB of RAM', async (memory, id, name) => {
    const { fake } = setup(memory, {}, id)
    render(<FirstRun api={fake.api} onDismiss={vi.fn()} onOpenModels={vi.fn()} />)
    expect(screen.getByRole('complementary', { name: 'Your terminal is ready' })).toBeTruthy()
    expect(screen.queryByRole('dialog')).toBeNull()
    expect((await screen.findByText(name)).tagName).toBe('STRONG')
    const size = TEST_CATALOG.find((m) => m.name === name)!.sizeBytes
    expect(
      screen.getByRole('button', { name: new RegExp(`^Download [\\d.]+ [MG]B: ${name}$`) }),
    ).toBeTruthy()
    expect(screen.getByText(`(${formatBytes(size)}, Apache-2.0)`)).toBeTruthy()
    expect(screen.getByText(/answers from your history/)).toBeTruthy()
  })

  it('downloads the recommended model in the background with compact progress', async () => {
    const { fake, finishPull } = setup(8)
    const { rerender } = render(
      <FirstRun api={fake.api} onDismiss={vi.fn()} onOpenModels={vi.fn()} />,
    )
    fireEvent.click(await screen.findByRole('button', { name: /^Download 1\.12 GB: Mid Coder/ }))
    const [args] = fake.callsTo('models:pull') as Array<{ uri: string; downloadId: string }>
    expect(args!.uri).toBe(TEST_CATALOG[1]!.uri)
    act(() =>
      fake.emit('models:progress', {
        downloadId: args!.downloadId,
        uri: args!.uri,
        state: 'downloading',
        bytes: 504_000_000,
        totalBytes: 1_120_000_000,
        bytesPerSecond: 20_000_000,
        etaSeconds: 30,
        error: null,
      }),
    )
    expect(screen.getByText('45%')).toBeTruthy()
    expect(screen.getByText('504.0 MB / 1.12 GB')).toBeTruthy()
    expect(screen.getByText(/keep using the terminal/)).toBeTruthy()
    await act(async () =>
      finishPull({
        id: 'mid',
        name: 'Mid Coder 1.5B',
        path: '/m/mid.gguf',
        sizeBytes: 1_120_000_000,
        origin: 'catalog',
        active: false,
      }),
    )
    // The engine loads it and its state names it: the card then says it is ready.
    const active = { id: 'mid', path: '/m/mid.gguf', source: 'default' as const, reason: 'x' }
    rerender(<FirstRun api={fake.api} active={active} onDismiss={vi.fn()} onOpenModels={vi.fn()} />)
    expect(screen.getByRole('status').textContent).toMatch(/mid is ready/)
  })

  it('stops offering a download once a model is active', async () => {
    const { fake } = setup(8)
    const active = {
      id: 'mine.gguf',
      path: '/m/mine.gguf',
      source: 'default' as const,
      reason: 'x',
    }
    render(<FirstRun api={fake.api} active={active} onDismiss={vi.fn()} onOpenModels={vi.fn()} />)
    expect((await screen.findByRole('status')).textContent).toMatch(/mine\.gguf is ready/)
    expect(screen.queryByRole('button', { name: /^Download/ })).toBeNull()
    expect(screen.getByRole('button', { name: 'Done' })).toBeTruthy()
  })

  it('"Not now" persists the dismissal, then calls onDismiss', async () => {
    const { fake, settings } = setup(16)
    const onDismiss = vi.fn()
    const onOpenModels = vi.fn()
    render(<FirstRun api={fake.api} onDismiss={onDismiss} onOpenModels={onOpenModels} />)
    fireEvent.click(await screen.findByRole('button', { name: 'Choose another model' }))
    expect(onOpenModels).toHaveBeenCalledOnce()
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Not now' })))
    expect(settings.current().onboarding.dismissed).toBe(true)
    expect(onDismiss).toHaveBeenCalledOnce()
  })

  it('stays and says why when the dismissal cannot be saved', async () => {
    const { fake } = setup(16, {
      'settings:update': () => {
        throw new CmdaiError('unavailable', 'Could not save settings: disk full')
      },
    })
    const onDismiss = vi.fn()
    render(<FirstRun api={fake.api} onDismiss={onDismiss} onOpenModels={vi.fn()} />)
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Not now' })))
    expect(screen.getByRole('alert').textContent).toBe('Could not save settings: disk full')
    expect(onDismiss).not.toHaveBeenCalled()
  })
})
