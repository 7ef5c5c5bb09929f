import type { Command } from 'commander'

/** The history subcommands. Filled in by the history issue. */
export function registerHistoryCommands(program: Command): void {
  void program
}
