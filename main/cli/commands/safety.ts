import type { Command } from 'commander'

/** The safety subcommands. Filled in by the safety issue. */
export function registerSafetyCommands(program: Command): void {
  void program
}
