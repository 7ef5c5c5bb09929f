// Placeholder entry for the team sync server (its own issue). It already answers --help.
const args = process.argv.slice(2)
if (args.includes('--help') || args.includes('-h') || args.length === 0) {
  console.log('Usage: cmdai-sync [options]\n\nThe cmdai team sync server is not built yet.')
  process.exit(args.length === 0 ? 1 : 0)
}
console.error('cmdai-sync: not built yet')
process.exit(1)
