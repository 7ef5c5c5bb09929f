/**
 * The import part of `npm run bench:history` (issue 15 point 7, issue 17 point 5): the real CLI
 * (`cmdai history import --json`, the prebuilt bundle users run) imports a zsh extended-history
 * file of N synthetic lines into an empty database, in a child process. Reported per size:
 * rows/s (rows / the import's own time), rows per CPU-second of the child (the machine is shared:
 * wall time depends on the load, CPU time much less), the child's peak memory (VmHWM, Linux),
 * the data folder's size against the imported text, the WAL left, and how long the app's open
 * (search index included) of the imported database takes.
 */
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import type { ImportSummary } from '../contract/history'
import { redactForHistory } from '../main/history/redact'
import { HistoryStore } from '../main/history/store'
import { generateHistory } from '../main/history/synthetic'

const ROOT = join(import.meta.dirname, '..')

export interface ImportFigures {
  /** Which CLI ran: the prebuilt bundle users get, or the TypeScript sources through tsx. */
  cli: 'bundle' | 'source'
  rows: number
  fileBytes: number
  importMs: number
  rowsPerSec: number
  rowsPerCpuSec: number | null
  peakRssMb: number | null
  dataDirMb: number
  walMb: number
  dataDirToTextRatio: number
  openMs: number
  skipped: number
}

/** Bytes on disk (allocated blocks) under a folder. */
function diskBytes(dir: string): number {
  let total = 0
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const st = lstatSync(join(d, name))
      if (st.isDirectory()) walk(join(d, name))
      else total += st.blocks * 512
    }
  }
  walk(dir)
  return total
}

/** Peak resident memory (kB) of a live process, from /proc (null elsewhere). */
function peakRssKb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

/** CPU seconds (user + system) a live process has used, from /proc (null elsewhere). */
function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}

/** 'bundle' (what users run) when it builds, else the sources through tsx (more memory). */
let cliMode: 'bundle' | 'source' = 'bundle'

function cli(dataDir: string) {
  return { ...process.env, CMDAI_DATA_DIR: dataDir, CMDAI_CLI: cliMode }
}

/** Runs `cmdai history import --json` and samples the child's memory and CPU until it is done. */
async function runImport(dataDir: string, file: string) {
  const child = spawn(process.execPath, ['bin/cmdai.mjs', 'history', 'import', '--json', file], {
    cwd: ROOT,
    env: cli(dataDir),
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  let peak: number | null = null
  let cpu: number | null = null
  const sample = () => {
    const p = peakRssKb(child.pid!)
    if (p !== null) peak = Math.max(peak ?? 0, p)
    cpu = cpuSeconds(child.pid!) ?? cpu
  }
  const timer = setInterval(sample, 50)
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
    // The summary is printed just before exit: the last moment /proc still has the process.
    if (out.trimEnd().endsWith('}')) sample()
  })
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  clearInterval(timer)
  if (code !== 0) throw new Error(`import exited with ${code}`)
  return { summary: JSON.parse(out) as ImportSummary, peakKb: peak, cpuSec: cpu }
}

export async function benchImport(sizes: number[], workDir: string): Promise<ImportFigures[]> {
  const build = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, stdio: 'pipe' })
  if (build.status !== 0) {
    cliMode = 'source'
    console.log('The CLI bundle does not build right now: measuring the sources (tsx) instead.')
  }
  // An empty, initialised database (first open: initdb) copied for each size.
  const template = join(workDir, 'import-template')
  const t0 = performance.now()
  const init = spawnSync(process.execPath, ['bin/cmdai.mjs', 'history', 'stats', '--json'], {
    cwd: ROOT,
    env: cli(template),
    encoding: 'utf8',
  })
  if (init.status !== 0) throw new Error(`creating the database failed: ${init.stderr}`)
  console.log(
    `\n== import ==  first open through the CLI (initdb): ${(performance.now() - t0).toFixed(0)} ms`,
  )
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (2 cores)`,
  )
  const out: ImportFigures[] = []
  for (const rows of sizes) {
    const file = join(workDir, `zsh_history_${rows}`)
    const text = generateHistory({ count: rows, seed: 11 })
      .map(
        (r) =>
          `: ${Math.floor(r.startedAt / 1000)}:${Math.round((r.durationMs ?? 0) / 1000)};${r.command}`,
      )
      .join('\n')
    writeFileSync(file, text + '\n')
    const fileBytes = Buffer.byteLength(text) + 1
    const dataDir = join(workDir, `import-${rows}`)
    cpSync(template, dataDir, { recursive: true })
    const { summary, peakKb, cpuSec } = await runImport(dataDir, file)
    if (summary.imported !== rows) throw new Error(`imported ${summary.imported} of ${rows}`)
    const history = join(dataDir, 'history')
    const dirBytes = diskBytes(history)
    const walBytes = diskBytes(join(history, 'pg_wal'))
    const store = await HistoryStore.open({
      dir: history,
      redact: redactForHistory,
      owner: 'bench',
    })
    const openMs = store.openMs
    await store.close()
    const f: ImportFigures = {
      cli: cliMode,
      rows,
      fileBytes,
      importMs: summary.tookMs,
      rowsPerSec: Math.round(rows / (summary.tookMs / 1000)),
      rowsPerCpuSec: cpuSec ? Math.round(rows / cpuSec) : null,
      peakRssMb: peakKb === null ? null : Math.round(peakKb / 1024),
      dataDirMb: Math.round(dirBytes / 1e5) / 10,
      walMb: Math.round(walBytes / 1e5) / 10,
      dataDirToTextRatio: Math.round((dirBytes / fileBytes) * 100) / 100,
      openMs: Math.round(openMs),
      skipped: summary.skipped,
    }
    console.log(
      `${rows} lines (${(fileBytes / 1e6).toFixed(1)} MB): ${f.rowsPerSec} rows/s ` +
        `(${f.rowsPerCpuSec ?? '?'} per CPU-second), peak ${f.peakRssMb ?? '?'} MB, ` +
        `data dir ${f.dataDirMb} MB = ${f.dataDirToTextRatio}x the text (WAL ${f.walMb} MB), ` +
        `open ${f.openMs} ms`,
    )
    out.push(f)
    rmSync(dataDir, { recursive: true, force: true })
  }
  return out
}
