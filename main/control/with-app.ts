import { connectToApp, type ControlClient } from './client'

/**
 * Runs `fn` against the app running on this data dir, or returns null when none runs (the caller
 * then does the work itself). For CLI commands whose answer the app already has at hand (its
 * loaded model, its open databases).
 */
export async function withApp<T>(
  dataDir: string,
  fn: (app: ControlClient) => Promise<T>,
): Promise<T | null> {
  const app = await connectToApp(dataDir, { client: { name: 'cmdai-cli' }, timeoutMs: 15_000 })
  if (!app) return null
  try {
    return await fn(app)
  } finally {
    app.close()
  }
}
