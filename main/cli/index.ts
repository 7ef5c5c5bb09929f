import { Command, CommanderError } from 'commander'
import { readPackageVersion } from '../config/paths'
import { commands, type RegisterCommands } from './commands'

const program = new Command()
  .name('cmdai')
  .description(
    'Turn what you mean into a shell command you can trust.\n' +
      'Data lives in $CMDAI_DATA_DIR (default: your platform data dir); $CMDAI_MODEL picks a model file.',
  )
  .version(readPackageVersion(), '-v, --version')
  .showHelpAfterError()
  .exitOverride()

/**
 * Only the module of the subcommand being run is loaded; help, `--version` and unknown commands
 * load them all (so help lists everything and typos get suggestions).
 */
async function registerCommands(argv: string[]): Promise<void> {
  const name = argv.slice(2).find((arg) => !arg.startsWith('-'))
  const owner = commands.find((c) => typeof c === 'object' && name && c.names.includes(name))
  const chosen = owner ? [owner] : commands
  const registers: RegisterCommands[] = await Promise.all(
    chosen.map((c) => (typeof c === 'function' ? c : c.load())),
  )
  // Plain register functions are loaded anyway; keep their commands available.
  if (owner) for (const c of commands) if (typeof c === 'function') registers.push(c)
  for (const register of registers) register(program)
}

try {
  await registerCommands(process.argv)
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode)
  console.error(`cmdai: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
}
