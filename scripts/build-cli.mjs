// @ts-check
/**
 * Builds the CLI bundle (`out/cli/`): main/cli/index.ts and everything of ours it imports, bundled
 * by esbuild as ES modules split into lazily loaded chunks, so `cmdai check` loads the safety
 * engine and nothing else. Small pure-JS dependencies on the hot path (commander, zod) are bundled
 * in; every other package stays external (native addons, WASM located next to its package,
 * singletons such as yjs). Writes `current.json`, the manifest bin/cmdai.mjs checks before using
 * the bundle (see scripts/cli-bundle.mjs).
 *
 * Run by `npm run build`, `npm run build:cli` and on `npm install` (the `prepare` script). When
 * esbuild is missing (an install without dev dependencies) it says so and exits 0: the CLI then
 * runs from the TypeScript sources.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BUNDLE_DIR, MANIFEST_NAME, MANIFEST_VERSION, sha1File } from './cli-bundle.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const ENTRY = 'main/cli/index.ts'
/** Bundled into the CLI: pure JS, loaded by the fast commands. */
const BUNDLED = new Set(['commander', 'zod'])
/** Old chunks stay this long, for processes started before a rebuild that still load them. */
const KEEP_OLD_MS = 15 * 60_000

let esbuild
try {
  esbuild = await import('esbuild')
} catch {
  console.log('build-cli: esbuild is not installed; the CLI runs from its TypeScript sources.')
  process.exit(0)
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`])

/**
 * commander loads node:child_process (and with it net, dgram, streams) when it is imported, for
 * executable subcommands cmdai never uses; deferring it saves every start that work.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    build.onLoad({ filter: /commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8')
      const eager = "const childProcess = require('node:child_process');"
      if (!text.includes(eager)) throw new Error('commander changed: update lazyChildProcess')
      const lazy =
        "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"
      return { contents: text.replace(eager, lazy), loader: 'js' }
    })
  },
}

/**
 * zod re-exports its ~40 message translations (`z.locales`, half of its code); cmdai uses only
 * English, which zod registers by itself. Less code to compile on every start.
 */
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]/.test(args.importer)) return undefined
      return { path: join(dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-en' }
    })
    build.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)}`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }))
  },
}

const outDir = join(root, BUNDLE_DIR)
const started = performance.now()

async function buildOnce() {
  const tmp = join(outDir, `.tmp-${process.pid}-${Date.now()}`)
  mkdirSync(tmp, { recursive: true, mode: 0o755 })
  const builtAt = Date.now()
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { cmdai: ENTRY },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    outdir: tmp,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    external,
    metafile: true,
    sourcemap: 'linked',
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
    // Bundled CommonJS (commander) calls require() for Node's built-ins.
    plugins: [lazyChildProcess, englishOnlyZod],
    banner: {
      js: "import { createRequire as __cmdaiRequire } from 'node:module'; const require = __cmdaiRequire(import.meta.url);",
    },
  })
  const inputs = Object.keys(result.metafile.inputs)
    .concat(['package.json', 'scripts/build-cli.mjs', 'scripts/cli-bundle.mjs'])
    .filter((path, i, all) => all.indexOf(path) === i)
    // Virtual modules of the plugins (`zod-en:...`) are not files.
    .filter((path) => !/^[a-z-]+:/.test(path))
  // A source saved while esbuild ran may or may not be in the bundle: build again.
  const touched = inputs.find((path) => statSync(join(root, path)).mtimeMs >= builtAt)
  if (touched) {
    rmSync(tmp, { recursive: true, force: true })
    return { retry: touched }
  }
  const manifestInputs = inputs.map((path) => {
    const file = join(root, path)
    const stat = statSync(file)
    return [path.split('\\').join('/'), stat.size, stat.mtimeMs, sha1File(file)]
  })
  const entry = Object.entries(result.metafile.outputs).find(
    ([, out]) => out.entryPoint === ENTRY,
  )?.[0]
  if (!entry) throw new Error('esbuild produced no entry file')
  const written = readdirSync(tmp)
  // Same names mean the same content (hashes), so moving over an existing file changes nothing.
  for (const name of written) renameSync(join(tmp, name), join(outDir, name))
  rmSync(tmp, { recursive: true, force: true })
  const manifest = {
    version: MANIFEST_VERSION,
    entry: relative(tmp, join(root, entry)),
    builtAt,
    node: process.version,
    inputs: manifestInputs,
  }
  const manifestTmp = join(outDir, `.${MANIFEST_NAME}.${process.pid}`)
  writeFileSync(manifestTmp, JSON.stringify(manifest))
  renameSync(manifestTmp, join(outDir, MANIFEST_NAME))
  return { written: new Set(written), inputs: inputs.length }
}

mkdirSync(outDir, { recursive: true })
let outcome
for (let attempt = 1; ; attempt++) {
  outcome = await buildOnce()
  if (!('retry' in outcome)) break
  if (attempt >= 3) {
    console.error(`build-cli: ${outcome.retry} keeps changing during the build; try again`)
    process.exit(1)
  }
}

// Drop chunks of older builds once no process can still be loading them.
for (const name of readdirSync(outDir)) {
  if (name === MANIFEST_NAME || outcome.written.has(name)) continue
  const file = join(outDir, name)
  try {
    if (Date.now() - statSync(file).mtimeMs > KEEP_OLD_MS)
      rmSync(file, { recursive: true, force: true })
  } catch {
    // Removed meanwhile by a parallel build.
  }
}

const ms = Math.round(performance.now() - started)
if (!process.env.CMDAI_BUILD_QUIET) {
  console.log(`build-cli: ${outcome.inputs} sources -> ${relative(root, outDir)} in ${ms} ms`)
}
if (!existsSync(join(outDir, MANIFEST_NAME))) process.exit(1)
