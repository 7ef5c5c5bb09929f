/**
 * Safety engine benchmark: commands per second and per-command latency (p50/p99) over a large
 * mixed corpus (the labelled corpus, repeated with deterministic mutations to 10k+ commands),
 * single thread; and, in the same run, a plain regex denylist pass (~50 patterns in the style of
 * the original cmdai/caro) over the same commands for comparison. Last line: one JSON object.
 */
import { cpus, loadavg } from 'node:os'
import { analyzeCommand, initSafety } from '../main/safety'
import { ADVERSARIAL_PREFIX, loadCorpus, type CorpusCase } from '../main/safety/corpus'

const TARGET = Number(process.env.BENCH_COMMANDS ?? 12_000)

/** A caro-style denylist: regular expressions over the raw text. */
const DENYLIST: RegExp[] = [
  /rm\s+-[a-zA-Z]*r[a-zA-Z]*f[a-zA-Z]*\s+\/(\s|$)/,
  /rm\s+-[a-zA-Z]*f[a-zA-Z]*r[a-zA-Z]*\s+\/(\s|$)/,
  /rm\s+-rf\s+\/\*/,
  /rm\s+-rf\s+~/,
  /rm\s+-rf\s+\$HOME/,
  /rm\s+-rf\s+\*/,
  /rm\s+-rf\s+\./,
  /rm\s+-rf\s+\.\./,
  /rm\s+--no-preserve-root/,
  /:\(\)\s*\{\s*:\|:&\s*\};:/,
  /mkfs(\.\w+)?\s/,
  /dd\s+.*of=\/dev\/(sd|hd|nvme|disk)/,
  />\s*\/dev\/(sd|hd|nvme|disk)/,
  /wipefs\s/,
  /shred\s/,
  /fdisk\s+\/dev/,
  /parted\s+\/dev/,
  /chmod\s+-R\s+777\s+\//,
  /chmod\s+777\s+\//,
  /chown\s+-R\s+\S+\s+\/(\s|$)/,
  /chmod\s+-R\s+000/,
  /curl\s+.*\|\s*(sudo\s+)?(ba)?sh/,
  /wget\s+.*\|\s*(sudo\s+)?(ba)?sh/,
  /base64\s+-d\s*\|\s*(ba)?sh/,
  /eval\s+"\$\(curl/,
  /python\s+-c\s+.*os\.system/,
  /sudo\s+rm\s+-rf/,
  /shutdown\s/,
  /reboot/,
  /halt(\s|$)/,
  /poweroff/,
  /init\s+0/,
  /kill\s+-9\s+-1/,
  /killall\s/,
  /iptables\s+-F/,
  /ufw\s+disable/,
  /crontab\s+-r/,
  /userdel\s/,
  /passwd\s+-d/,
  /git\s+reset\s+--hard/,
  /git\s+clean\s+-[a-z]*f/,
  /git\s+push\s+.*(-f|--force)/,
  /docker\s+system\s+prune/,
  /docker\s+rm\s+-f/,
  /kubectl\s+delete/,
  /terraform\s+destroy/,
  /aws\s+s3\s+rm\s+.*--recursive/,
  /DROP\s+(DATABASE|TABLE)/i,
  /TRUNCATE\s/i,
  /FLUSHALL/i,
  /Remove-Item\s+.*-Recurse/i,
  /Format-Volume/i,
]
const regexRate = (cmd: string): boolean => DENYLIST.some((re) => re.test(cmd))

function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const MUTATIONS: Array<(c: string, r: () => number) => string> = [
  (c) => c,
  (c) => `sudo ${c}`,
  (c) => `${c} && echo done`,
  (c) => `cd /srv/app && ${c}`,
  (c) => `${c} 2>&1 | tee -a build.log`,
  (c) => `timeout 60 ${c}`,
  (c, r) => c.replace(/\b(build|tmp|app|data)\b/g, (m) => `${m}${Math.floor(r() * 100)}`),
  (c) => `bash -c '${c.replace(/'/g, `'\\''`)}'`,
  (c) => `if [ -d .git ]; then ${c}; fi`,
  (c, r) => `ssh deploy@web-${Math.floor(r() * 9)} '${c.replace(/'/g, `'\\''`)}'`,
]

function buildWorkload(cases: CorpusCase[]): CorpusCase[] {
  const r = prng(42)
  const out: CorpusCase[] = []
  while (out.length < TARGET) {
    for (const c of cases) {
      if (out.length >= TARGET) break
      const m =
        c.shell === 'powershell' || c.shell === 'fish' ? 0 : Math.floor(r() * MUTATIONS.length)
      out.push({ ...c, cmd: MUTATIONS[m]!(c.cmd, r) })
    }
  }
  return out
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

function measure(work: CorpusCase[], fn: (c: CorpusCase) => void) {
  const lat = new Float64Array(work.length)
  const start = performance.now()
  for (let i = 0; i < work.length; i++) {
    const t = performance.now()
    fn(work[i]!)
    lat[i] = performance.now() - t
  }
  const total = performance.now() - start
  lat.sort()
  return {
    commands: work.length,
    perSecond: Math.round(work.length / (total / 1000)),
    p50Ms: +percentile(lat, 50).toFixed(4),
    p99Ms: +percentile(lat, 99).toFixed(4),
    maxMs: +(lat[lat.length - 1] ?? 0).toFixed(3),
  }
}

const t0 = performance.now()
await initSafety()
const initMs = performance.now() - t0
const corpus = loadCorpus()
const work = buildWorkload(corpus)

// Warm up the JIT on a slice, then measure.
for (const c of work.slice(0, 2000)) analyzeCommand(c.cmd, { shell: c.shell, platform: c.platform })
// This machine is shared (2 cores, other jobs running): a command that straddles a preemption
// costs milliseconds of wall time. Measure ROUNDS passes and report the round with the median p99;
// every round's p99 is printed too.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const pickMedian = <T extends { p99Ms: number }>(rounds: T[]): T =>
  [...rounds].sort((a, b) => a.p99Ms - b.p99Ms)[Math.floor(rounds.length / 2)]!
const engineRounds = Array.from({ length: ROUNDS }, () =>
  measure(work, (c) => void analyzeCommand(c.cmd, { shell: c.shell, platform: c.platform })),
)
const engine = pickMedian(engineRounds)
// Each command's fastest time over three passes: what the engine itself costs, without the
// milliseconds a preempted process waits on a busy machine (reported beside, not instead).
const best = new Float64Array(work.length).fill(Infinity)
for (let pass = 0; pass < 3; pass++)
  for (let i = 0; i < work.length; i++) {
    const c = work[i]!
    const t = performance.now()
    analyzeCommand(c.cmd, { shell: c.shell, platform: c.platform })
    best[i] = Math.min(best[i]!, performance.now() - t)
  }
best.sort()
const intrinsic = {
  p50Ms: +percentile(best, 50).toFixed(4),
  p99Ms: +percentile(best, 99).toFixed(4),
  maxMs: +(best[best.length - 1] ?? 0).toFixed(3),
}
for (const c of work.slice(0, 2000)) regexRate(c.cmd)
const regexRounds = Array.from({ length: ROUNDS }, () =>
  measure(work, (c) => void regexRate(c.cmd)),
)
const regex = pickMedian(regexRounds)

// Quality on the labelled corpus itself: what each approach says about critical and safe cases.
let engineMissed = 0
let regexMissed = 0
let engineFalse = 0
let regexFalse = 0
const critical = corpus.filter((c) => c.expect === 'critical')
const safe = corpus.filter((c) => c.expect === 'safe')
for (const c of critical) {
  if (analyzeCommand(c.cmd, { shell: c.shell, platform: c.platform }).risk !== 'critical')
    engineMissed++
  if (!regexRate(c.cmd)) regexMissed++
}
for (const c of safe) {
  const r = analyzeCommand(c.cmd, { shell: c.shell, platform: c.platform }).risk
  if (r === 'high' || r === 'critical') engineFalse++
  if (regexRate(c.cmd)) regexFalse++
}

/** The issue's four figures for one labelled set. */
function scores(cases: CorpusCase[]) {
  const order = { safe: 0, moderate: 1, high: 2, critical: 3 } as const
  let crit = 0,
    critHit = 0,
    dang = 0,
    dangHit = 0,
    safeN = 0,
    safeFlagged = 0,
    exact = 0
  for (const c of cases) {
    const r = analyzeCommand(c.cmd, { shell: c.shell, platform: c.platform }).risk
    if (r === c.expect) exact++
    if (c.expect === 'critical') {
      crit++
      if (r === 'critical') critHit++
    }
    if (order[c.expect] >= 2) {
      dang++
      if (order[r] >= 2) dangHit++
    }
    if (c.expect === 'safe') {
      safeN++
      if (order[r] >= 2) safeFlagged++
    }
  }
  const f = (n: number) => +n.toFixed(3)
  return {
    cases: cases.length,
    criticalAsCritical: f(critHit / crit),
    dangerousAtLeastHigh: f(dangHit / dang),
    safeFlaggedHigh: f(safeFlagged / safeN),
    exact: f(exact / cases.length),
  }
}
const original = scores(corpus.filter((c) => !c.category.startsWith(ADVERSARIAL_PREFIX)))
const adversarial = scores(corpus.filter((c) => c.category.startsWith(ADVERSARIAL_PREFIX)))

console.log(`safety engine init (WASM parser load): ${initMs.toFixed(1)} ms`)
for (const [name, s] of [
  ['original corpus', original],
  ['adversarial corpus', adversarial],
] as const)
  console.log(
    `${name} (${s.cases}): critical→critical ${s.criticalAsCritical}, dangerous→≥high ${s.dangerousAtLeastHigh}, safe flagged high+ ${s.safeFlaggedHigh}, exact ${s.exact}`,
  )
console.log(
  `workload: ${work.length} commands (corpus of ${corpus.length}, mutated), single thread`,
)
console.log(
  `engine: ${engine.perSecond} cmd/s, p50 ${engine.p50Ms} ms, p99 ${engine.p99Ms} ms, max ${engine.maxMs} ms`,
)
console.log(
  `regex denylist (${DENYLIST.length} patterns): ${regex.perSecond} cmd/s, p50 ${regex.p50Ms} ms, p99 ${regex.p99Ms} ms`,
)
console.log(
  `critical cases missed: engine ${engineMissed}/${critical.length}, regex ${regexMissed}/${critical.length}`,
)
console.log(
  `safe cases flagged: engine ${engineFalse}/${safe.length} (as high+), regex ${regexFalse}/${safe.length} (any match)`,
)
console.log(
  `engine p99 per round: ${engineRounds.map((r) => r.p99Ms).join(', ')} ms (load average ${loadavg()[0]!.toFixed(2)} on ${cpus().length} cores)`,
)
console.log(
  `engine per command, fastest of 3 passes: p50 ${intrinsic.p50Ms} ms, p99 ${intrinsic.p99Ms} ms, max ${intrinsic.maxMs} ms`,
)
console.log(`p99 target (< 1 ms): ${engine.p99Ms < 1 ? 'met' : 'NOT met'}`)
console.log(
  JSON.stringify({
    bench: 'safety',
    commands: work.length,
    initMs: +initMs.toFixed(1),
    engine,
    regex: { patterns: DENYLIST.length, ...regex },
    corpora: { original, adversarial },
    quality: {
      critical: critical.length,
      engineMissedCritical: engineMissed,
      regexMissedCritical: regexMissed,
      safe: safe.length,
      engineFlaggedSafe: engineFalse,
      regexFlaggedSafe: regexFalse,
    },
    engineP99PerRound: engineRounds.map((r) => r.p99Ms),
    loadAverage: +loadavg()[0]!.toFixed(2),
    engineFastestOf3: intrinsic,
    p99TargetMet: engine.p99Ms < 1,
  }),
)
