import type { Command } from 'commander'
import { registerHistoryCommands } from './history'
import { registerLlmCommands } from './llm'
import { registerSafetyCommands } from './safety'
import { registerServe } from './serve'

/** Each domain adds its subcommands in its own file and lists its register function here. */
export const commands: Array<(program: Command) => void> = [
  registerServe,
  registerSafetyCommands,
  registerLlmCommands,
  registerHistoryCommands,
]
