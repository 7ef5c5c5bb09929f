import fc from 'fast-check'

// Property and fuzz tests explore new random inputs on every developer run. CI pins the seed
// (FC_SEED, set in .ci/run) so that a landing is reproducible; a failure prints its seed, and
// `FC_SEED=<seed> npx vitest run <file>` replays it.
const seed = process.env.FC_SEED
if (seed !== undefined && seed !== '') fc.configureGlobal({ seed: Number(seed) })
