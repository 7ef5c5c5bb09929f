// Child process for the permissions test: runs with the usual umask 022 (vitest's workers cannot
// change theirs), prepares the data directory as the app does, writes history and a backup.
import { join } from 'node:path'
import { prepareDataDir } from '../../config/private-fs'
import { redactForHistory } from '../redact'
import { HistoryStore } from '../store'

process.umask(0o022)
const dataDir = process.argv[2]!
prepareDataDir(dataDir)
const store = await HistoryStore.open({ dir: join(dataDir, 'history'), redact: redactForHistory })
await store.recordCommands(
  Array.from({ length: 200 }, (_, i) => ({
    command: `echo secret-ish ${i}`,
    startedAt: Date.now(),
    source: 'terminal',
  })),
)
await store.backup()
await store.close()
process.stdout.write('done\n')
