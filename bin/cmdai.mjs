#!/usr/bin/env node
// The `cmdai` command. Runs the prebuilt bundle (out/cli, built by `npm run build` and on
// `npm install`) when it is up to date with every source it was built from, and the TypeScript
// sources through tsx otherwise, so a checkout being edited never runs a stale bundle.
// CMDAI_CLI=source forces the sources; CMDAI_CLI=bundle refuses to run without a fresh bundle
// (the benchmark uses it to measure what users get).
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { freshBundle } from '../scripts/cli-bundle.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const mode = process.env.CMDAI_CLI ?? ''
const subcommand = process.argv.slice(2).find((arg) => !arg.startsWith('-'))

// Short-lived commands parse a command or two: compiling tree-sitter's WASM with the optimising
// tier costs far more than it saves (seconds on a busy machine), and compiling its functions on
// first use skips most of them. Long-running ones keep the defaults.
if (subcommand !== 'serve' && subcommand !== 'mcp') {
  setFlagsFromString('--liftoff-only')
  setFlagsFromString('--wasm-lazy-compilation')
}

const bundle = mode === 'source' ? { entry: null, reason: 'CMDAI_CLI=source' } : freshBundle(root)
if (bundle.entry) {
  await import(pathToFileURL(bundle.entry).href)
} else if (mode === 'bundle') {
  console.error(`cmdai: no up-to-date CLI bundle (${bundle.reason}); run \`npm run build:cli\``)
  process.exit(2)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../main/cli/index.ts')
}
