import { readPackageVersion } from '../../main/config/paths'
import { openBackend, type BackendConfig } from '../backend'
import { Committer } from '../rooms/committer'
import { DataDirBusyError } from '../storage/paths'
import { consoleSigninOperation } from '../console/signin-operation'
import { createAdmin } from './admin'
import { writeBackup } from './backup'
import { runOperation, streamExport, type OperationContext } from './operations'

/** Where an admin command runs: the running server's control channel, or storage opened here. */
export interface Target {
  call(op: string, input: unknown): Promise<unknown>
  stream(op: string, input: unknown, onChunk: (chunk: string) => void): Promise<void>
  close(): Promise<void>
}

/** Opens the storage itself (no server owns it) and runs operations with a local group commit. */
export async function openLocalTarget(config: BackendConfig, actor: string): Promise<Target> {
  let backend
  try {
    backend = await openBackend(config, 'cli')
  } catch (err) {
    if (err instanceof DataDirBusyError)
      throw new Error(
        `${err.message}, and its control channel does not answer: is it still starting?`,
      )
    throw err
  }
  const b = backend
  const keys = await b.keys()
  const committer = new Committer(b.storage, b.audit)
  const ctx: OperationContext = {
    admin: createAdmin(
      { storage: b.storage, keys, audit: b.audit, commit: (e) => committer.commit(e) },
      actor,
    ),
    audit: b.audit,
    version: readPackageVersion(),
    actor,
    consoleSignin: consoleSigninOperation(b.storage, (e) => committer.commit(e), null),
    backup: (out) =>
      writeBackup(out, {
        storage: b.storage,
        audit: b.audit,
        snapshot: (fn) => b.storage.transaction(fn, { readOnly: true }),
      }),
  }
  return {
    call: (op, input) => runOperation(ctx, op, input),
    stream: (op, input, onChunk) => streamExport(ctx, input, onChunk),
    close: async () => {
      await committer.stop()
      await b.close()
    },
  }
}
