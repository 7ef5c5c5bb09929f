#!/usr/bin/env node
// Runs the TypeScript CLI from a checkout without a separate build step.
import { register } from 'tsx/esm/api'

register()
await import('../main/cli/index.ts')
