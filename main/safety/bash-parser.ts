import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter'

/**
 * tree-sitter-bash compiled to WASM, driven by web-tree-sitter. Loading is async (WASM
 * instantiation) and happens once in {@link initBashParser}; parsing afterwards is synchronous and
 * takes tens of microseconds, so the UI can re-check on every keystroke.
 *
 * Why not sh-syntax (mvdan/sh in WASM): its JSON AST carries only positions for commands (the
 * command node's words are not serialised, un-ts/sh-syntax#123), and each call instantiates a new
 * Go runtime (~11 ms per parse measured here).
 */
let parser: Parser | null = null
let loading: Promise<void> | null = null

const require = createRequire(import.meta.url)

export function initBashParser(): Promise<void> {
  if (parser) return Promise.resolve()
  loading ??= (async () => {
    const runtimeWasm = require.resolve('web-tree-sitter/tree-sitter.wasm')
    await Parser.init({ locateFile: () => runtimeWasm })
    const grammar = readFileSync(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'))
    const language = await Language.load(new Uint8Array(grammar))
    const p = new Parser()
    p.setLanguage(language)
    parser = p
  })().catch((err: unknown) => {
    loading = null
    throw err
  })
  return loading
}

export function isBashParserReady(): boolean {
  return parser !== null
}

/** Parses a bash/sh/zsh script; the caller must `tree.delete()` when done. */
export function parseBash(text: string): Tree {
  if (!parser) throw new Error('The safety engine is not initialised: await initSafety() first')
  const tree = parser.parse(text)
  if (!tree) throw new Error('tree-sitter returned no tree')
  return tree
}

/** The first syntax error in a tree, as a short message, or null. */
export function firstSyntaxError(root: Node): string | null {
  if (!root.hasError) return null
  const stack: Node[] = [root]
  while (stack.length) {
    const node = stack.pop()!
    if (node.isMissing) return `missing ${JSON.stringify(node.type)} at offset ${node.startIndex}`
    if (node.type === 'ERROR') {
      const text = node.text.length > 20 ? `${node.text.slice(0, 20)}…` : node.text
      return `unexpected ${JSON.stringify(text)} at offset ${node.startIndex}`
    }
    if (!node.hasError) continue
    for (let i = node.childCount - 1; i >= 0; i--) {
      const child = node.child(i)
      if (child) stack.push(child)
    }
  }
  return 'syntax error'
}

export type { Node, Tree }
