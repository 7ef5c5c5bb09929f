import { Command, CommanderError } from 'commander'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { resolveAppRoot } from '../config/paths'
import { commands } from './commands'

const pkg = JSON.parse(readFileSync(join(resolveAppRoot(), 'package.json'), 'utf8')) as {
  version: string
}

const program = new Command()
  .name('cmdai')
  .description(
    'Turn what you mean into a shell command you can trust.\n' +
      'Data lives in $CMDAI_DATA_DIR (default: your platform data dir); $CMDAI_MODEL picks a model file.',
  )
  .version(pkg.version, '-v, --version')
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
