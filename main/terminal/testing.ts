import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { EventName, Events } from '../../contract'
import { resolveAppRoot } from '../config/paths'
import { EventHub } from '../ipc/event-hub'
import { PtyService, type PtyServiceOptions } from './pty-service'

/** Test helpers for real shells in real PTYs (no mocks). */

export interface Recorded {
  event: EventName
  payload: unknown
}

export interface ServiceUnderTest {
  service: PtyService
  seen: Recorded[]
  /** Everything a terminal has printed so far. */
  output(id: string): string
  prompted(id: string): boolean
}

export function startService(
  home: string,
  overrides: Partial<PtyServiceOptions> = {},
  /** `tail`: keep only the last 4 KB of each terminal's output (floods). */
  keep: 'all' | 'tail' = 'all',
): ServiceUnderTest {
  const events = new EventHub()
  const seen: Recorded[] = []
  const tails = new Map<string, string>()
  events.subscribe((event, payload) => {
    if (keep === 'tail' && event === 'pty:data') {
      const { id, data, seq } = payload as Events['pty:data']
      tails.set(id, ((tails.get(id) ?? '') + data).slice(-4096))
      seen.push({ event, payload: { id, data: '', seq } })
      return
    }
    seen.push({ event, payload })
  })
  const service = new PtyService({
    events,
    resourcesDir: join(resolveAppRoot(), 'resources'),
    env: { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', SHELL: '/bin/bash' },
    login: false,
    ...overrides,
  })
  const output = (id: string) =>
    (tails.get(id) ?? '') +
    seen
      .filter((r) => r.event === 'pty:data' && (r.payload as Events['pty:data']).id === id)
      .map((r) => (r.payload as Events['pty:data']).data)
      .join('')
  const prompted = (id: string) =>
    seen.some((r) => r.event === 'pty:prompt' && (r.payload as { id: string }).id === id)
  return { service, seen, output, prompted }
}

/** Pids of live processes whose command line is exactly these words (Linux /proc). */
export function pidsRunning(...argv: string[]): number[] {
  const wanted = argv.join('\0')
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0$/, '')
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
      if (cmdline === wanted && state !== 'Z') found.push(Number(entry))
    } catch {
      // exited while we looked
    }
  }
  return found
}

/** A number no other test run uses, for `sleep <n>` markers. */
export function uniqueSeconds(): string {
  return String(90_000 + Math.floor(Math.random() * 9_000_000))
}
