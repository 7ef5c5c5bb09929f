// Child process for the crash test: records commands one by one and prints the id of each row as
// soon as its write is acknowledged; the parent kills it with SIGKILL mid-stream.
import { redactForHistory } from '../redact'
import { HistoryStore } from '../store'

const dir = process.argv[2]!
const store = await HistoryStore.open({ dir, redact: redactForHistory, owner: 'crash-test' })
process.stdout.write('open\n')
for (let i = 0; ; i++) {
  const [row] = await store.recordCommands([
    { command: `echo crash-${i}`, startedAt: Date.now(), exitCode: 0, source: 'terminal' },
  ])
  process.stdout.write(`ack ${row!.id}\n`)
}
