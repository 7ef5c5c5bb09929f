import { Command, CommanderError } from 'commander'
import { readPackageVersion } from '../config/paths'
import { commands } from './commands'

const program = new Command()
  .name('cmdai')
  .description(
    'Turn what you mean into a shell command you can trust.\n' +
      'Data lives in $CMDAI_DATA_DIR (default: your platform data dir); $CMDAI_MODEL picks a model file.',
  )
  .version(readPackageVersion(), '-v, --version')
  .showHelpAfterError()
  .exitOverride()

for (const register of commands) register(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode)
  console.error(`cmdai: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
}
