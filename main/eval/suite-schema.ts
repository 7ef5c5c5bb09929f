import { z } from 'zod'

/**
 * The format of eval suites: YAML files (the built-in ones in resources/eval/, users' own passed
 * with `cmdai eval --suite FILE`). One file holds one category's tasks, or tasks that name their
 * own category. Everything is checked here; a bad file is refused with the path of the problem.
 */

export const EVAL_CATEGORIES = [
  'files',
  'text',
  'git',
  'processes',
  'network',
  'archives',
  'docker',
  'kubernetes',
] as const

const command = z.string().min(1).max(2000)
const relativePath = z
  .string()
  .min(1)
  .max(300)
  .refine(
    (p) =>
      !p.startsWith('/') && !p.split('/').includes('..') && !p.includes('\0') && !p.includes('\\'),
    'a relative path inside the sandbox (no leading /, no .., no NUL or backslash)',
  )

/** A seeded file: its text, or an object with a size (zero bytes) or text, an age and a mode. */
const seedFile = z.union([
  z.string().max(100_000),
  z
    .object({
      text: z.string().max(100_000).optional(),
      /** Size in bytes of a file of zeros (sparse), up to 64 MiB: "find files over 10MB". */
      size: z
        .number()
        .int()
        .min(0)
        .max(64 * 2 ** 20)
        .optional(),
      /** Age of its modification time: `3d`, `12h`, `30m` ago. */
      age: z
        .string()
        .regex(/^\d{1,5}[smhd]$/)
        .optional(),
      /** Octal permissions, e.g. `755`. */
      mode: z
        .string()
        .regex(/^[0-7]{3}$/)
        .optional(),
    })
    .strict()
    .refine((f) => !(f.text !== undefined && f.size !== undefined), 'text or size, not both'),
])

export type SeedFile = z.infer<typeof seedFile>

const matchOptions = z
  .object({
    /** Flags compared as a set (default), ignored, or the answer may add flags ('subset'). */
    flags: z.enum(['set', 'ignore', 'subset']).default('set'),
    /** Operands compared as a multiset (default), in order, or ignored. */
    targets: z.enum(['multiset', 'ordered', 'ignore']).default('multiset'),
  })
  .strict()

export type MatchOptions = z.infer<typeof matchOptions>

const runCheck = z
  .object({
    /** Files to create in the throwaway directory (path -> content); a path ending in / is a dir. */
    files: z
      .record(relativePath, seedFile)
      .refine((f) => Object.keys(f).length <= 200, 'at most 200 files')
      .default({}),
    /** Commands that prepare the directory (e.g. `git init`), run before the answer. */
    setup: z.array(command).max(20).default([]),
    /** The command whose result is the expected one (run in a fresh copy of the same seed). */
    reference: command.optional(),
    /** Or the expected stdout, literally. */
    stdout: z.string().max(100_000).optional(),
    /**
     * What is compared: 'stdout' (exact, trailing spaces ignored), 'lines' (stdout as a sorted
     * set of lines), 'files' (every path and content in the directory afterwards), or 'probe'
     * (the output of `probe` run afterwards, e.g. `tar -tzf out.tgz | sort`).
     */
    compare: z.enum(['stdout', 'lines', 'files', 'probe']).default('stdout'),
    probe: command.optional(),
  })
  .strict()
  .refine((r) => r.reference !== undefined || r.stdout !== undefined, {
    message: 'give a reference command or the expected stdout',
  })
  .refine((r) => r.compare !== 'probe' || r.probe !== undefined, {
    message: "compare: probe needs a 'probe' command",
  })
  .refine((r) => r.stdout === undefined || r.compare === 'stdout' || r.compare === 'lines', {
    message: 'a literal stdout is compared as stdout or lines',
  })

export type RunCheck = z.infer<typeof runCheck>

export const evalTaskSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,79}$/, 'lowercase letters, digits, . _ -; at most 80'),
    category: z.string().min(1).max(40).optional(),
    request: z.string().min(1).max(2000),
    /** What the model is told about the shell (cwd, file names...). */
    context: z
      .object({
        cwd: z.string().max(500).optional(),
        files: z.array(z.string().max(200)).max(50).optional(),
        gitBranch: z.string().max(200).optional(),
        gitStatus: z.string().max(200).optional(),
        recentCommands: z.array(z.string().max(500)).max(10).optional(),
      })
      .strict()
      .optional(),
    shell: z.enum(['bash', 'sh', 'zsh']).default('bash'),
    /** Accepted answers, compared by parsed structure; any one matching passes. */
    accept: z.array(command).max(50).default([]),
    match: matchOptions.default({ flags: 'set', targets: 'multiset' }),
    /** Or a run in a throwaway directory whose result is compared. */
    run: runCheck.optional(),
    /**
     * 'benign' (default): the answer must never be rated high or critical. 'ambiguous': the
     * model should ask (needsInput) instead of guessing. 'risky': the user asked for something
     * destructive; a high rating is expected, not a violation.
     */
    safety: z.enum(['benign', 'ambiguous', 'risky']).default('benign'),
  })
  .strict()
  .refine((t) => t.safety === 'ambiguous' || t.accept.length > 0 || t.run !== undefined, {
    message: 'a task needs accepted commands, a run check, or safety: ambiguous',
  })

export type EvalTask = z.infer<typeof evalTaskSchema> & { category: string }

export const suiteFileSchema = z
  .object({
    /** The category of every task in the file that does not name its own. */
    category: z.string().min(1).max(40).optional(),
    tasks: z.array(evalTaskSchema).min(1).max(2000),
  })
  .strict()
