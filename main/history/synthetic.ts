import type { CommandInput } from './store'

/**
 * Realistic synthetic shell history for the benchmark and tests: a few hundred habitual commands
 * that repeat a lot (Zipf-like), plus a long tail of commands built from templates with varying
 * arguments, spread over two years, in a couple of hundred directories. Seeded: the same seed
 * gives the same history.
 */
export function createRng(seed: number): () => number {
  // mulberry32
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = (
  'api auth cache client config core data db deploy docs editor engine fix handler http index ' +
  'infra job lib log main model net parser plugin queue render report router schema server ' +
  'service session shell store sync task test theme token ui user util view worker app build'
).split(' ')
const EXTS = ['ts', 'js', 'json', 'md', 'py', 'go', 'rs', 'yaml', 'sh', 'css', 'tsx', 'txt']
const BRANCHES = ['main', 'develop', 'release/2.1', 'feature/search', 'fix/login', 'hotfix/crash']
const PKGS = ['react', 'zod', 'vitest', 'express', 'lodash', 'typescript', 'eslint', 'prettier']
const HOSTS = ['prod-1', 'staging', 'bastion', 'db-primary', 'build-box', 'pi']
const NAMESPACES = ['default', 'kube-system', 'monitoring', 'payments', 'search']
const IMAGES = ['nginx', 'postgres:16', 'redis:7', 'node:20', 'python:3.12', 'alpine']

export interface SyntheticOptions {
  count: number
  seed?: number
  /** Epoch ms of the newest command. */
  endAt?: number
}

export function generateHistory(options: SyntheticOptions): CommandInput[] {
  const rand = createRng(options.seed ?? 42)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const int = (n: number) => Math.floor(rand() * n)
  const word = () => pick(WORDS)
  const file = () => `src/${word()}/${word()}-${word()}.${pick(EXTS)}`
  const dirs = Array.from({ length: 200 }, (_, i) =>
    i % 3 === 0 ? `/home/dev/src/${word()}-${i}` : `/home/dev/src/${word()}-${i % 40}/${word()}`,
  )
  const templates: Array<() => string> = [
    () =>
      `git commit -m "${word()}: ${pick(['fix', 'add', 'update', 'remove'])} ${word()} ${word()}"`,
    () => `git checkout ${pick(BRANCHES)}`,
    () => `git checkout -b ${pick(['feature', 'fix', 'chore'])}/${word()}-${word()}`,
    () => `git add ${file()}`,
    () => `git diff ${file()}`,
    () => `git log --oneline -n ${5 + int(50)}`,
    () => `git rebase -i HEAD~${1 + int(9)}`,
    () => `vim ${file()}`,
    () => `code ${file()}`,
    () => `cat ${file()}`,
    () => `grep -rn "${word()}${pick(['', 'Handler', 'Error', 'Config'])}" src/`,
    () => `find . -name "*.${pick(EXTS)}" -mtime -${1 + int(30)}`,
    () => `ls -la ${pick(dirs)}`,
    () => `cd ${pick(dirs)}`,
    () => `npm install ${pick(PKGS)}@${1 + int(20)}.${int(10)}.${int(10)}`,
    () => `npx vitest run ${file()}`,
    () => `npm run ${pick(['build', 'test', 'lint', 'dev', 'typecheck', 'format'])}`,
    () => `docker run --rm -it -p ${3000 + int(100)}:80 ${pick(IMAGES)}`,
    () => `docker logs -f ${word()}-${word()}-${int(9)}`,
    () => `docker exec -it ${word()}-${int(9)} sh`,
    () => `kubectl get pods -n ${pick(NAMESPACES)}`,
    () => `kubectl logs -f deploy/${word()} -n ${pick(NAMESPACES)}`,
    () => `kubectl describe pod ${word()}-${int(99999).toString(36)} -n ${pick(NAMESPACES)}`,
    () => `ssh ${pick(['dev', 'root', 'deploy'])}@${pick(HOSTS)}`,
    () => `curl -s https://api.example.com/v${1 + int(3)}/${word()}/${int(1000)} | jq .`,
    () => `python3 scripts/${word()}_${word()}.py --${word()} ${int(100)}`,
    () => `cargo ${pick(['build', 'test', 'run', 'clippy'])} -p ${word()}`,
    () => `make ${pick(['all', 'test', 'clean', 'install', 'release'])}`,
    () => `tar -czf ${word()}-backup-${int(999)}.tar.gz ${pick(dirs)}`,
    () => `rsync -avz ${pick(dirs)}/ ${pick(HOSTS)}:/srv/${word()}/`,
    () => `psql -h ${pick(HOSTS)} -U ${word()} -c "select count(*) from ${word()}s"`,
    () => `htop`,
    () => `du -sh ${pick(dirs)}/*`,
  ]
  // The habits: commands typed again and again.
  const habits = [
    'ls',
    'll',
    'git status',
    'git diff',
    'git push',
    'git pull --rebase',
    'clear',
    'cd ..',
    'npm test',
    'npm run dev',
    'docker ps',
    'kubectl get pods',
    'exit',
    ...Array.from({ length: 300 }, () => pick(templates)()),
  ]
  const endAt = options.endAt ?? Date.UTC(2026, 10, 1)
  const span = 2 * 365 * 86_400_000
  const out: CommandInput[] = []
  let t = endAt - span
  const step = span / options.count
  for (let i = 0; i < options.count; i++) {
    t += step * (0.2 + 1.6 * rand())
    const r = rand()
    // Zipf-ish over the habits (rank^-1.1), else a fresh command from the templates.
    const command =
      r < 0.65 ? habits[Math.floor(Math.pow(rand(), 2.2) * habits.length)]! : pick(templates)()
    const fail = rand()
    out.push({
      command,
      cwd: pick(dirs.slice(0, 20 + int(180))),
      exitCode: fail < 0.88 ? 0 : pick([1, 1, 1, 2, 127, 130]),
      startedAt: Math.min(t, endAt),
      durationMs: Math.round(Math.exp(rand() * 9)),
      shell: pick(['zsh', 'zsh', 'bash', 'fish']),
      host: rand() < 0.9 ? 'laptop' : 'desktop',
      source: 'terminal',
    })
  }
  return out
}
