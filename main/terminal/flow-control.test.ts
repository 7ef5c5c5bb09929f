import { describe, expect, it } from 'vitest'
import { FlowControl } from './flow-control'

function flow(high = 100, low = 20) {
  const changes: boolean[] = []
  const fc = new FlowControl((paused) => changes.push(paused), { high, low })
  return { fc, changes }
}

describe('FlowControl', () => {
  it('pauses above the high watermark of unacknowledged output and resumes below the low one', () => {
    const { fc, changes } = flow()
    fc.attach(0)
    fc.emit(60)
    fc.mirrorDone(60)
    expect(changes).toEqual([])
    fc.emit(60)
    fc.mirrorDone(60)
    expect(changes).toEqual([true])
    fc.ack(50) // 70 behind: still above low
    expect(changes).toEqual([true])
    fc.ack(110) // 10 behind
    expect(changes).toEqual([true, false])
    expect(fc.offset).toBe(120)
  })

  it('the mirror alone holds the PTY back while no page is attached', () => {
    const { fc, changes } = flow()
    fc.emit(150)
    expect(changes).toEqual([true])
    fc.mirrorDone(140)
    expect(changes).toEqual([true, false])
    expect(fc.clientLag).toBe(0)
  })

  it('a detached page no longer holds it back; a new page starts from its snapshot', () => {
    const { fc, changes } = flow()
    fc.attach(0)
    fc.emit(200)
    fc.mirrorDone(200)
    expect(fc.isPaused).toBe(true)
    fc.detach()
    expect(changes).toEqual([true, false])
    fc.attach(200)
    expect(fc.clientLag).toBe(0)
  })

  it('ignores stale, repeated, future and non-finite acknowledgements', () => {
    const { fc } = flow()
    fc.attach(0)
    fc.emit(80)
    fc.ack(50)
    fc.ack(10)
    expect(fc.clientLag).toBe(30)
    fc.ack(1e12)
    expect(fc.clientLag).toBe(0)
    fc.ack(Number.NaN)
    fc.ack(Number.POSITIVE_INFINITY)
    expect(fc.clientLag).toBe(0)
    fc.detach()
    fc.ack(5) // without a page there is nothing to acknowledge
    expect(fc.clientLag).toBe(0)
  })

  it('refuses watermarks that cannot work', () => {
    expect(() => new FlowControl(() => undefined, { high: 10, low: 10 })).toThrow(/Watermarks/)
  })
})
