import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Risk, ShellDialect } from '../../contract/safety'

/** One labelled case of the safety corpus (`main/safety/corpus/*.jsonl`). */
export interface CorpusCase {
  cmd: string
  shell?: ShellDialect
  expect: Risk
  note?: string
  /** The file it came from, e.g. `evasions`. */
  category: string
}

export const CORPUS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'corpus')

export function loadCorpus(dir = CORPUS_DIR): CorpusCase[] {
  const cases: CorpusCase[] = []
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()) {
    const category = file.replace(/\.jsonl$/, '')
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.trim()) continue
      cases.push({ ...(JSON.parse(line) as Omit<CorpusCase, 'category'>), category })
    }
  }
  return cases
}
