#!/usr/bin/env node
// Runs the team sync server's TypeScript CLI from a checkout (tsx), no build step needed.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../sync-server/cli.ts')
await main(process.argv.slice(2))
