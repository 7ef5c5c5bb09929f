import { parse as parseToml } from 'smol-toml'
import YAML from 'yaml'
import { z } from 'zod'
import type { LibraryFormat, PatternEdit } from '../../contract/library'
import {
  PARAMETER_NAME_RE,
  PATTERN_ID_RE,
  patternParameterSchema,
  type Pattern,
  type PatternParameter,
} from '../../contract/sync'

/**
 * Reading and writing libraries as files: cmdai's own YAML or JSON (`version: 1` and a list of
 * patterns), navi `.cheat` files and pet snippet TOML. Imports are parsed with size limits and
 * every pattern is validated; a bad entry is reported and skipped, never half-imported.
 */

export const FILE_VERSION = 1
const MAX_PATTERNS = 5_000

const filePatternSchema = z
  .object({
    id: z.string().regex(PATTERN_ID_RE).optional(),
    title: z.string().min(1).max(200),
    description: z.string().max(10_000).default(''),
    command: z.string().min(1).max(16_384),
    parameters: z.array(patternParameterSchema).max(50).default([]),
    tags: z.array(z.string().min(1).max(64)).max(50).default([]),
  })
  .strip()

export interface Parsed {
  patterns: PatternEdit[]
  errors: string[]
}

export function exportLibrary(name: string, patterns: Pattern[], format: 'yaml' | 'json'): string {
  const body = {
    version: FILE_VERSION,
    library: name,
    patterns: patterns.map((p) => ({
      id: p.id,
      title: p.title,
      ...(p.description ? { description: p.description } : {}),
      command: p.command,
      ...(p.parameters.length ? { parameters: p.parameters } : {}),
      ...(p.tags.length ? { tags: p.tags } : {}),
    })),
  }
  return format === 'json'
    ? JSON.stringify(body, null, 2) + '\n'
    : YAML.stringify(body, { lineWidth: 0 })
}

export function parseLibraryFile(text: string, format: LibraryFormat): Parsed {
  switch (format) {
    case 'yaml':
      return fromDocument(
        () => YAML.parse(text, { maxAliasCount: 100, uniqueKeys: false }) as unknown,
      )
    case 'json':
      return fromDocument(() => JSON.parse(text) as unknown)
    case 'navi':
      return parseNavi(text)
    case 'pet':
      return parsePet(text)
  }
}

function fromDocument(read: () => unknown): Parsed {
  let doc: unknown
  try {
    doc = read()
  } catch (err) {
    return {
      patterns: [],
      errors: [`cannot parse the file: ${(err as Error).message.slice(0, 200)}`],
    }
  }
  const list = Array.isArray(doc) ? doc : (doc as { patterns?: unknown } | null)?.patterns
  if (!Array.isArray(list))
    return { patterns: [], errors: ['expected a list of patterns (or { patterns: [...] })'] }
  const version = (doc as { version?: unknown }).version
  if (!Array.isArray(doc) && typeof version === 'number' && version > FILE_VERSION)
    return {
      patterns: [],
      errors: [`file version ${version} is newer than this cmdai reads (${FILE_VERSION})`],
    }
  return validate(list.slice(0, MAX_PATTERNS), list.length > MAX_PATTERNS)
}

function validate(list: unknown[], truncated: boolean): Parsed {
  const patterns: PatternEdit[] = []
  const errors: string[] = truncated ? [`only the first ${MAX_PATTERNS} patterns were read`] : []
  list.forEach((raw, i) => {
    const parsed = filePatternSchema.safeParse(raw)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      errors.push(
        `pattern ${i + 1}: ${issue?.path.join('.') || '(entry)'}: ${issue?.message ?? 'invalid'}`,
      )
      return
    }
    const names = new Set<string>()
    const dup = parsed.data.parameters.find((p) => names.has(p.name) || !names.add(p.name))
    if (dup) {
      errors.push(`pattern ${i + 1}: duplicate parameter "${dup.name}"`)
      return
    }
    patterns.push(parsed.data)
  })
  return { patterns, errors }
}

/** navi's `<name>` → cmdai's `{{name}}` (names made valid). */
function placeholders(
  command: string,
  defaults = false,
): { command: string; params: PatternParameter[] } {
  const params: PatternParameter[] = []
  const seen = new Set<string>()
  const out = command.replace(
    /<([A-Za-z_][\w-]{0,62})(?:=([^<>]*))?>/g,
    (_m, raw: string, def?: string) => {
      const name = raw.replace(/-/g, '_')
      if (!PARAMETER_NAME_RE.test(name)) return _m
      if (!seen.has(name)) {
        seen.add(name)
        params.push({
          name,
          description: '',
          ...(defaults && def !== undefined ? { default: def } : {}),
        })
      }
      return `{{${name}}}`
    },
  )
  return { command: out, params }
}

/**
 * navi cheat sheets: `% tags`, `# title` before each command, `;` comments, commands (joined when
 * a line ends with `\`), `$ name: command` for a variable's choices (its valuesFrom).
 */
export function parseNavi(text: string): Parsed {
  const patterns: PatternEdit[] = []
  const errors: string[] = []
  let tags: string[] = []
  let title: string | null = null
  let pending: PatternEdit | null = null
  const vars = new Map<string, string>()
  const finish = () => {
    if (!pending) return
    for (const p of pending.parameters ?? []) {
      const from = vars.get(p.name)
      if (from) p.valuesFrom = { command: from }
    }
    patterns.push(pending)
    pending = null
  }
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length && patterns.length < MAX_PATTERNS; i++) {
    const line = lines[i]!.trim()
    if (!line || line.startsWith(';')) continue
    if (line.startsWith('%')) {
      finish()
      vars.clear()
      tags = line
        .slice(1)
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0 && t.length <= 64)
        .slice(0, 50)
      continue
    }
    if (line.startsWith('#')) {
      finish()
      title = line.slice(1).trim().slice(0, 200)
      continue
    }
    if (line.startsWith('$')) {
      const m = /^\$\s*([A-Za-z_][\w-]*)\s*:\s*(.+)$/.exec(line)
      if (m) vars.set(m[1]!.replace(/-/g, '_'), m[2]!.split(' --- ')[0]!.trim())
      continue
    }
    if (line.startsWith('@')) continue
    let command = line
    while (command.endsWith('\\') && i + 1 < lines.length)
      command = command.slice(0, -1) + '\n' + lines[++i]!.trim()
    finish()
    const converted = placeholders(command)
    pending = {
      title: title ?? command.slice(0, 80),
      description: '',
      command: converted.command.slice(0, 16_384),
      parameters: converted.params,
      tags: [...tags],
    }
    title = null
  }
  finish()
  const checked = validate(patterns, false)
  return { patterns: checked.patterns, errors: [...errors, ...checked.errors] }
}

const petSchema = z.object({
  snippets: z
    .array(
      z
        .object({
          description: z.string().max(10_000).optional(),
          command: z.string().max(16_384),
          tag: z.array(z.string()).optional(),
          output: z.string().optional(),
        })
        .passthrough(),
    )
    .max(MAX_PATTERNS),
})

/** pet's snippet TOML: `[[snippets]]` with description, command (`<param=default>`), tag. */
export function parsePet(text: string): Parsed {
  let doc: unknown
  try {
    doc = parseToml(text)
  } catch (err) {
    return {
      patterns: [],
      errors: [`cannot parse the TOML: ${(err as Error).message.slice(0, 200)}`],
    }
  }
  const parsed = petSchema.safeParse(doc)
  if (!parsed.success)
    return { patterns: [], errors: ['expected [[snippets]] tables with a command'] }
  const list = parsed.data.snippets.map((s) => {
    const converted = placeholders(s.command, true)
    return {
      title: (s.description || s.command).slice(0, 200),
      description: '',
      command: converted.command,
      parameters: converted.params,
      tags: (s.tag ?? []).filter((t) => t.length > 0 && t.length <= 64).slice(0, 50),
    }
  })
  return validate(list, false)
}
