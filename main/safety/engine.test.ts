import { beforeAll, describe, expect, it } from 'vitest'
import { analyzeCommand, explainCommand, initSafety, parsePolicy } from './index'

beforeAll(async () => {
  await initSafety()
})

const spanText = (cmd: string, ruleId: string) => {
  const r = analyzeCommand(cmd).reasons.find((x) => x.ruleId === ruleId)
  return r?.span ? cmd.slice(r.span.start, r.span.end) : null
}

describe('analyzeCommand', () => {
  it('tells rm -rf / from rm -rf ./build, with reasons and spans', () => {
    const root = analyzeCommand('rm -rf /')
    expect(root).toMatchObject({ risk: 'critical', action: 'block', shell: 'bash' })
    expect(root.reasons[0]).toMatchObject({ ruleId: 'fs.rm.root', risk: 'critical' })
    const build = analyzeCommand('rm -rf ./build')
    expect(build).toMatchObject({ risk: 'high', action: 'confirm' })
    expect(spanText('rm -rf ./build', 'fs.rm.relative')).toBe('./build')
  })

  it('maps spans of nested scripts back into the original text', () => {
    const cmd = `echo start && bash -c 'sudo rm -rf /etc'`
    expect(spanText(cmd, 'fs.rm.system-top')).toBe('/etc')
    const remote = `ssh web1 'rm -rf ~'`
    const v = analyzeCommand(remote)
    expect(v.risk).toBe('critical')
    expect(v.reasons[0]!.message).toContain('on web1')
    expect(v.tags).toContain('remote')
  })

  it('rates what executes, not text that is data', () => {
    expect(analyzeCommand('echo "rm -rf /"').risk).toBe('safe')
    expect(analyzeCommand('grep -r "mkfs" .').risk).toBe('safe')
    expect(analyzeCommand('echo $(rm -rf /)').risk).toBe('critical')
    expect(analyzeCommand('echo "rm -rf /" | sh').risk).toBe('critical')
  })

  it('fails closed on commands it cannot parse', () => {
    const v = analyzeCommand('rm -rf "/tmp')
    expect(v.risk).not.toBe('safe')
    expect(v.parseError).toBeTruthy()
    expect(
      v.reasons.some((r) => r.ruleId === 'parse.error' && /Could not parse/.test(r.message)),
    ).toBe(true)
  })

  it('raises the rating of production targets', () => {
    expect(analyzeCommand('kubectl rollout restart deploy/api -n staging').risk).toBe('moderate')
    const prod = analyzeCommand('kubectl rollout restart deploy/api -n production')
    expect(prod.risk).toBe('high')
    expect(prod.tags).toContain('production')
  })

  it('treats dry runs as changing nothing', () => {
    expect(analyzeCommand('terraform plan').risk).toBe('safe')
    expect(analyzeCommand('rsync -av --delete --dry-run a/ b/').risk).toBe('safe')
    expect(analyzeCommand('kubectl delete ns x --dry-run=client').risk).toBe('safe')
  })

  it('rates PowerShell and fish with their own rules', () => {
    expect(analyzeCommand('Remove-Item -Recurse -Force C:\\', { shell: 'powershell' }).risk).toBe(
      'critical',
    )
    expect(analyzeCommand('Get-ChildItem C:\\', { shell: 'powershell' }).risk).toBe('safe')
    expect(analyzeCommand('set X /; rm -rf $X', { shell: 'fish' }).risk).toBe('critical')
  })

  it('is synchronous and fast enough for every keystroke', () => {
    // The median, so a shared machine's preemptions do not decide it (the bench measures p99).
    const times: number[] = []
    for (let i = 0; i < 200; i++) {
      const start = performance.now()
      analyzeCommand(`sudo find /var/log -name '*.gz' -mtime +${i} -delete`)
      times.push(performance.now() - start)
    }
    times.sort((a, b) => a - b)
    expect(times[100]).toBeLessThan(5)
  })
})

describe('levels and policy', () => {
  it('maps risk to action by level; critical is blocked at every level', () => {
    expect(analyzeCommand('git commit -m x', { level: 'strict' }).action).toBe('confirm')
    expect(analyzeCommand('git commit -m x', { level: 'moderate' }).action).toBe('allow')
    expect(analyzeCommand('git push --force', { level: 'permissive' }).action).toBe('allow')
    expect(analyzeCommand('rm -rf ~', { level: 'permissive' }).action).toBe('block')
  })

  it('applies team rules by command, subcommand, flag, path, tag and role', () => {
    const policy = parsePolicy({
      version: 1,
      roles: { junior: { level: 'strict' } },
      rules: [
        {
          id: 'no-force-push',
          effect: 'block',
          match: { command: 'git', subcommand: 'push', flag: '--force' },
          reason: 'Use --force-with-lease',
        },
        { id: 'junior-no-high', effect: 'block', match: { minRisk: 'high' }, roles: ['junior'] },
        { id: 'etc-confirm', effect: 'confirm', match: { path: '/etc/**' } },
        { id: 'prod-confirm', effect: 'confirm', match: { tag: 'production' } },
        { id: 'allow-build-clean', effect: 'allow', match: { command: 'rm', path: 'build' } },
      ],
    })
    const force = analyzeCommand('git push --force', { policy })
    expect(force.action).toBe('block')
    expect(force.policy).toMatchObject({
      source: 'rule',
      ruleId: 'no-force-push',
      reason: 'Use --force-with-lease',
    })
    expect(analyzeCommand('rm -rf ./old', { policy, role: 'junior' }).policy?.ruleId).toBe(
      'junior-no-high',
    )
    expect(analyzeCommand('rm -rf ./old', { policy, role: 'engineer' }).action).toBe('confirm')
    expect(analyzeCommand('cat /etc/hosts', { policy }).action).toBe('confirm')
    expect(
      analyzeCommand('helm upgrade api ./chart -n production', { policy }).policy?.ruleId,
    ).toBe('prod-confirm')
    const allowed = analyzeCommand('rm -rf build', { policy })
    expect(allowed).toMatchObject({ risk: 'high', action: 'allow' })
    expect(analyzeCommand('git status', { policy, role: 'junior' }).action).toBe('allow')
  })

  it('rejects an invalid policy', () => {
    expect(() =>
      parsePolicy({ version: 1, rules: [{ id: 'x', effect: 'nuke', match: {} }] }),
    ).toThrow()
    expect(() => parsePolicy({ version: 2 })).toThrow()
  })
})

describe('explainCommand', () => {
  it('lists each program with its flags, targets and wrappers', () => {
    const b = explainCommand(`sudo rm -rf /tmp/x && git push --force origin main | tee log.txt`)
    expect(b.parts.map((p) => p.program)).toEqual(['rm', 'git', 'tee'])
    expect(b.parts[0]).toMatchObject({ flags: ['-rf'], targets: ['/tmp/x'], via: ['sudo'] })
    expect(b.parts[1]).toMatchObject({
      subcommand: 'push',
      flags: ['--force'],
      targets: ['origin', 'main'],
      connector: '&&',
    })
    expect(b.parts[2]).toMatchObject({ connector: '|', targets: ['log.txt'] })
  })
})
