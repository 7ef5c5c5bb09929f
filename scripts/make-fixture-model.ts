/**
 * `npm run fixtures:model -- --shape tiny|qwen2.5-0.5b [--out FILE]`
 * Writes a GGUF with random weights and a real tokenizer (see scripts/fixture-model.ts).
 */
import { statSync } from 'node:fs'
import { parseArgs } from 'node:util'
import {
  ensureFixtureModel,
  FIXTURE_SHAPES,
  makeFixtureModel,
  type FixtureShapeName,
} from './fixture-model'

const { values } = parseArgs({
  options: { shape: { type: 'string', default: 'tiny' }, out: { type: 'string' } },
})
const shape = values.shape as FixtureShapeName
if (!(shape in FIXTURE_SHAPES)) {
  console.error(`Unknown shape ${shape}; use one of: ${Object.keys(FIXTURE_SHAPES).join(', ')}`)
  process.exit(2)
}
const started = performance.now()
// Without --out: the cached fixture that tests and benchmarks use.
const out = values.out ? makeFixtureModel(shape, values.out) : ensureFixtureModel(shape)
const seconds = ((performance.now() - started) / 1000).toFixed(1)
console.log(`${out}: ${(statSync(out).size / 1e6).toFixed(1)} MB in ${seconds}s`)
