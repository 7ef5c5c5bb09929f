import type { Command } from 'commander'

/** The llm subcommands. Filled in by the llm issue. */
export function registerLlmCommands(program: Command): void {
  void program
}
