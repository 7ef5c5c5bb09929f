import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Platform, Risk, ShellDialect } from '../../contract/safety'

/** One labelled case of the safety corpus (`main/safety/corpus/*.jsonl`). */
export interface CorpusCase {
  cmd: string
  shell?: ShellDialect
  /** The host OS the shell runs on (PowerShell's `rm` is a cmdlet on Windows, /bin/rm elsewhere). */
  platform?: Platform
  expect: Risk
  note?: string
  /** The file it came from, e.g. `evasions`. */
  category: string
}

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'corpus')

/** Files of the second corpus, written as adversarial cases without looking at the rules. */
export const ADVERSARIAL_PREFIX = 'adversarial-'

export function loadCorpus(
  dir = CORPUS_DIR,
  which: 'all' | 'original' | 'adversarial' = 'all',
): CorpusCase[] {
  const cases: CorpusCase[] = []
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .filter(
      (f) => which === 'all' || f.startsWith(ADVERSARIAL_PREFIX) === (which === 'adversarial'),
    )
    .sort()) {
    const category = file.replace(/\.jsonl$/, '')
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.trim()) continue
      cases.push({ ...(JSON.parse(line) as Omit<CorpusCase, 'category'>), category })
    }
  }
  return cases
}
