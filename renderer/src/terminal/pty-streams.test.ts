import { describe, expect, it, vi } from 'vitest'
import type { EventName, Events } from '../../../contract'
import type { Api } from '../api/client'
import { PtyStreams, type PtyHandlers } from './pty-streams'

function fakeApi() {
  const listeners = new Map<string, Set<(payload: unknown) => void>>()
  const api = {
    call: vi.fn(),
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void) {
      const set = listeners.get(event) ?? new Set()
      listeners.set(event, set)
      set.add(listener as (payload: unknown) => void)
      return () => set.delete(listener as (payload: unknown) => void)
    },
  } as unknown as Api
  const emit = <E extends EventName>(event: E, payload: Events[E]) => {
    for (const listener of listeners.get(event) ?? []) listener(payload)
  }
  return { api, emit, listeners }
}

function recorder(): PtyHandlers & { log: string[] } {
  const log: string[] = []
  return {
    log,
    data: ({ data, seq }) => log.push(`data:${data}@${seq}`),
    exit: ({ exitCode }) => log.push(`exit:${exitCode}`),
    cwd: ({ cwd }) => log.push(`cwd:${cwd}`),
    prompt: () => log.push('prompt'),
    busy: () => log.push('busy'),
    title: (title) => log.push(`title:${title}`),
  }
}

describe('PtyStreams', () => {
  it('keeps events of a terminal no pane has claimed, and hands them over in order', () => {
    const { api, emit } = fakeApi()
    const streams = new PtyStreams(api)
    emit('pty:data', { id: 't1', data: 'a', seq: 1 })
    emit('pty:prompt', { id: 't1' })
    emit('pty:data', { id: 't2', data: 'other', seq: 5 })
    const one = recorder()
    streams.claim('t1', one)
    emit('pty:data', { id: 't1', data: 'b', seq: 2 })
    emit('pty:title', { id: 't1', title: 'vim' })
    expect(one.log).toEqual(['data:a@1', 'prompt', 'data:b@2', 'title:vim'])
    const two = recorder()
    streams.claim('t2', two)
    expect(two.log).toEqual(['data:other@5'])
  })

  it('stops delivering after release and drops what a new attach made stale', () => {
    const { api, emit, listeners } = fakeApi()
    const streams = new PtyStreams(api)
    const one = recorder()
    const release = streams.claim('t1', one)
    release()
    emit('pty:exit', { id: 't1', exitCode: 0, signal: 1, signalName: 'SIGHUP' })
    expect(one.log).toEqual([])
    streams.dropUnclaimed()
    const again = recorder()
    streams.claim('t1', again)
    expect(again.log).toEqual([])
    streams.dispose()
    expect([...listeners.values()].every((set) => set.size === 0)).toBe(true)
  })

  it('bounds what it keeps for unclaimed terminals', () => {
    const { api, emit } = fakeApi()
    const streams = new PtyStreams(api)
    const big = 'x'.repeat(1024 * 1024)
    for (let i = 0; i < 40; i++)
      emit('pty:data', { id: 't9', data: big, seq: (i + 1) * big.length })
    const late = recorder()
    streams.claim('t9', late)
    expect(late.log.length).toBeLessThanOrEqual(16)
  })
})
