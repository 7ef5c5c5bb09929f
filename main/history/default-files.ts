import { homedir } from 'node:os'
import { join } from 'node:path'
import { CmdaiError } from '../../contract/errors'
import type { ImportFormat } from '../../contract/history'

/**
 * Where each shell keeps its history by default: `~/.bash_history`, `$HISTFILE` or
 * `~/.zsh_history`, fish's `$XDG_DATA_HOME/fish/fish_history`, Atuin's `history.db`.
 */
export function defaultHistoryFile(
  format: ImportFormat,
  env: NodeJS.ProcessEnv = process.env,
  home = homedir(),
): string {
  const data = env.XDG_DATA_HOME || join(home, '.local', 'share')
  switch (format) {
    case 'bash':
      return join(home, '.bash_history')
    case 'zsh':
      return env.HISTFILE && /zsh/.test(env.HISTFILE) ? env.HISTFILE : join(home, '.zsh_history')
    case 'fish':
      return join(data, 'fish', 'fish_history')
    case 'atuin':
      return join(data, 'atuin', 'history.db')
    default:
      throw new CmdaiError('invalid_input', `Give the path of the ${format} file to import`)
  }
}
