// Saves patterns to the personal library as fast as it can, printing "ack <n>" once each save
// resolved (committed). The test kills this process with SIGKILL mid-stream.
import { openLibraries } from '../open'

const dataDir = process.argv[2]!
const libs = await openLibraries({ dataDir, owner: 'app', connect: false, starter: [] })
let n = 0
const inflight = new Set<Promise<void>>()
for (;;) {
  const i = ++n
  const p = libs.hub
    .save('personal', { id: `p${i}`, title: `Pattern ${i}`, command: `echo {{x}} ${i}` })
    .then(() => {
      process.stdout.write(`ack ${i}\n`)
    })
  inflight.add(p)
  void p.finally(() => inflight.delete(p))
  // A few saves in flight at once, as a busy UI would have.
  if (inflight.size >= 4) await Promise.race(inflight)
}
