// Child process for the crash test: imports a history file and prints how many rows are
// committed each time a batch is acknowledged; the parent kills it with SIGKILL mid-import.
import { importHistory } from '../import'
import { redactForHistory } from '../redact'
import { HistoryStore } from '../store'

const [dir, file] = process.argv.slice(2) as [string, string]
const store = await HistoryStore.open({ dir, redact: redactForHistory, searchIndex: false })
await importHistory(store, file, {
  onProgress: (p) => process.stdout.write(`ack ${p.imported}\n`),
})
process.stdout.write('finished\n')
