import type { ShellContext } from '../../contract'

/**
 * The system prompt depends only on the shell and OS, so it stays the same across requests and
 * its evaluated KV state is reused (see runtime.ts). Everything that changes goes after it.
 */
export function buildSystemPrompt(shell: string, os: string): string {
  return [
    `You are cmdai, an expert in ${shell} on ${os}. You turn what the user means into exactly one`,
    `${shell} command line that does it, using the working directory and files shown.`,
    'Answer only with JSON: {"command": the command line, "explanation": one or two plain',
    'sentences saying what it does, "assumptions": short list of what you assumed,',
    '"needsInput": a question if something essential is missing, otherwise null}.',
    'Rules: prefer safe, read-only, standard tools; never add sudo unless asked; never delete,',
    'overwrite or force-push unless the user clearly asks; quote paths with spaces; keep the',
    'command short; do not invent file names that are not in the context unless asked.',
  ].join(' ')
}

/**
 * The context block goes first in the user message so that it too can be reused; inside it the
 * parts that change least come first (cwd, files, history) and git status, which changes with
 * every edit, comes last, so a change there costs only a few re-evaluated tokens.
 */
export function buildContextBlock(context: ShellContext): string {
  const lines = ['Context:']
  if (context.cwd) lines.push(`cwd: ${context.cwd}`)
  if (context.files?.length) lines.push(`files: ${context.files.join(' ')}`)
  if (context.examples?.length) {
    lines.push('team examples:')
    for (const ex of context.examples) lines.push(`  "${ex.request}" -> ${ex.command}`)
  }
  if (context.recentCommands?.length) {
    lines.push('recent commands:', ...context.recentCommands.slice(-5).map((c) => `  $ ${c}`))
  }
  if (context.gitBranch) {
    lines.push(`git: branch ${context.gitBranch}, ${context.gitStatus ?? 'status unknown'}`)
  }
  return lines.join('\n')
}

export function buildUserMessage(contextBlock: string, request: string): string {
  return `${contextBlock}\n\nRequest: ${request.trim()}`
}

export function buildExplainMessage(command: string, shell: string): string {
  return `Explain in plain language, for someone who is not a ${shell} expert, what this command does, including anything risky:\n${command}`
}
