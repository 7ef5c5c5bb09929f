// @ts-check
/**
 * Where the prebuilt CLI bundle lives and whether it may be used. Shared by bin/cmdai.mjs (which
 * must decide within a millisecond or two, so this file imports nothing heavy) and
 * scripts/build-cli.mjs (which writes the manifest).
 *
 * The bundle is used only when every file it was built from is unchanged: same size, and either
 * the same mtime or (after a checkout touched it) the same content hash. Anything else means the
 * sources moved on, and the caller runs the TypeScript sources instead: never a stale bundle.
 */
import { readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(import.meta.url)

/** Relative to the repository (or installed package) root. Chunks are content-hashed, so builds coexist. */
export const BUNDLE_DIR = join('out', 'cli')
export const MANIFEST_NAME = 'current.json'
export const MANIFEST_VERSION = 1

/**
 * @typedef {[path: string, size: number, mtimeMs: number, sha1: string]} ManifestInput
 * @typedef {{ version: number, entry: string, builtAt: number, node: string, inputs: ManifestInput[] }} Manifest
 */

/** @param {string} file */
export function sha1File(file) {
  // Loaded only when an mtime differs: node:crypto costs every start a few milliseconds.
  /** @type {typeof import('node:crypto')} */
  const crypto = require('node:crypto')
  return crypto.createHash('sha1').update(readFileSync(file)).digest('hex')
}

/**
 * The bundle's entry file when it is up to date with its sources, otherwise null with the reason.
 * @param {string} root
 * @returns {{ entry: string | null, reason: string }}
 */
export function freshBundle(root) {
  /** @type {Manifest} */
  let manifest
  try {
    manifest = JSON.parse(readFileSync(join(root, BUNDLE_DIR, MANIFEST_NAME), 'utf8'))
  } catch {
    return { entry: null, reason: 'no bundle (run `npm run build:cli`)' }
  }
  if (
    !manifest ||
    manifest.version !== MANIFEST_VERSION ||
    typeof manifest.entry !== 'string' ||
    !Array.isArray(manifest.inputs) ||
    /[\\/]/.test(manifest.entry)
  ) {
    return { entry: null, reason: 'unreadable bundle manifest' }
  }
  for (const input of manifest.inputs) {
    const [path, size, mtimeMs, sha1] = input
    const file = join(root, path)
    let stat
    try {
      stat = statSync(file)
    } catch {
      return { entry: null, reason: `${path} is gone` }
    }
    if (stat.size !== size) return { entry: null, reason: `${path} changed` }
    if (stat.mtimeMs !== mtimeMs && sha1File(file) !== sha1) {
      return { entry: null, reason: `${path} changed` }
    }
  }
  const entry = join(root, BUNDLE_DIR, manifest.entry)
  try {
    statSync(entry)
  } catch {
    return { entry: null, reason: 'bundle entry missing' }
  }
  return { entry, reason: 'fresh' }
}
