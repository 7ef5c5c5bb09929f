import type { Command } from 'commander'

/** Adds one domain's subcommands to the program. */
export type RegisterCommands = (program: Command) => void

/**
 * A domain's subcommands, loaded only when one of them runs (or for help and unknown commands),
 * so `cmdai check` never loads the database, the model engine or the MCP SDK.
 */
export interface LazyCommands {
  /** The top-level subcommand names the module registers. */
  names: readonly string[]
  load: () => Promise<RegisterCommands>
}

/**
 * Each domain adds its subcommands in its own file and lists them here, lazily: a plain register
 * function (still accepted) is imported with everything it imports by every cmdai start.
 */
export const commands: Array<RegisterCommands | LazyCommands> = [
  { names: ['serve'], load: async () => (await import('./serve')).registerServe },
  {
    names: ['check', 'explain', 'redact'],
    load: async () => (await import('./safety')).registerSafetyCommands,
  },
  {
    names: ['generate', 'models'],
    load: async () => (await import('./llm')).registerLlmCommands,
  },
  { names: ['history'], load: async () => (await import('./history')).registerHistoryCommands },
  { names: ['eval'], load: async () => (await import('./eval')).registerEvalCommands },
  { names: ['patterns'], load: async () => (await import('./patterns')).registerPatternsCommands },
  { names: ['approval'], load: async () => (await import('./approval')).registerApprovalCommands },
  { names: ['team'], load: async () => (await import('./team')).registerTeamCommands },
  { names: ['mcp'], load: async () => (await import('./mcp')).registerMcpCommand },
  { names: ['hook'], load: async () => (await import('./hook')).registerHookCommands },
]
