// @vitest-environment jsdom
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { createFakeApi, emptyModelList, type FakeApi } from '../components/models/fake-api'
import { useModelsSummary } from './use-models-summary'

afterEach(cleanup)

function Probe({ fake }: { fake: FakeApi }) {
  const summary = useModelsSummary(fake.api)
  return (
    <p data-testid="summary">{`${summary?.active?.id ?? 'none'} / ${summary?.recommendedName}`}</p>
  )
}

describe('useModelsSummary', () => {
  it('asks main again after each llm:state snapshot (a deletion, a download)', async () => {
    let active: { id: string; path: string; source: 'default'; reason: string } | null = {
      id: 'a.gguf',
      path: '/m/a.gguf',
      source: 'default',
      reason: 'the only model on disk',
    }
    const fake: FakeApi = createFakeApi({ 'models:list': () => ({ ...emptyModelList(), active }) })
    render(<Probe fake={fake} />)
    await waitFor(() =>
      expect(screen.getByTestId('summary').textContent).toBe('a.gguf / Mid Coder 1.5B'),
    )
    active = null
    act(() =>
      fake.emit('llm:state', {
        state: 'idle',
        backend: 'local',
        model: null,
        compute: null,
        error: null,
      }),
    )
    await waitFor(() =>
      expect(screen.getByTestId('summary').textContent).toBe('none / Mid Coder 1.5B'),
    )
  })
})
