import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { ShellDialect } from '../../contract/safety'
import { startService } from '../terminal/testing'
import { waitFor } from '../testing/wait-for'
import { fillTemplate } from './template'

/**
 * The quoting as the app uses it: each filled command is typed into an interactive shell in a
 * real PTY (bash, zsh and fish with the app's shell integration), exactly as `library:run` writes
 * it (Ctrl+U, the command, Enter). Values that would act on an interactive line editor (history
 * expansion `!`, ^C, ^U, ESC, a bracketed-paste end) must reach the program unchanged, as one
 * argument.
 */
const root = mkdtempSync(join(tmpdir(), 'cmdai-quote-pty-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const VALUES = [
  '!!',
  'a!b !$ !#',
  'x; rm -rf ~ \'q\' "d"',
  '$(id) `id` ${HOME}',
  'line1\nline2',
  '\u0003\u0015\u0004ctrl',
  '\u001b[201~esc',
  'tab\there',
  'ünïcødé 🚀',
  '\u007f',
  '',
]

describe('quoting typed into interactive shells', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const satisfies readonly ShellDialect[]) {
    it(`${shell}: every value arrives as one argument`, async () => {
      const home = mkdtempSync(join(root, `${shell}-`))
      const { service, seen } = startService(home)
      const info = service.create({ cols: 200, rows: 40, cwd: home, shell }, 'test')
      try {
        await waitFor('prompt', () => seen.some((r) => r.event === 'pty:prompt'), 30_000)
        for (const [i, value] of VALUES.entries()) {
          const out = join(home, `out-${i}`)
          const r = fillTemplate(
            `/usr/bin/printf 'A%s\\0' -- {{x}} > ${out}`,
            [],
            { x: value },
            shell,
          )
          expect(r.errors).toEqual({})
          // eslint-disable-next-line no-control-regex
          expect(r.command).not.toMatch(/[\u0000-\u001f\u007f]/)
          service.write(info.id, `\x15${r.command}\r`)
          await waitFor(
            `output of ${JSON.stringify(value)}`,
            () => existsSync(out) && readFileSync(out).length > 0,
            15_000,
          )
          await waitFor(
            'complete output',
            () => readFileSync(out, 'utf8').split('\0').length === 3,
            5_000,
          )
          expect(readFileSync(out, 'utf8').split('\0'), `${shell}: ${r.command}`).toEqual([
            'A--',
            `A${value}`,
            '',
          ])
        }
      } finally {
        await service.disposeAll()
      }
    }, 120_000)
  }
})
