import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { AgentEvent } from '../../contract/agent'
import { CmdaiError } from '../../contract/errors'
import type { HistoryCommand } from '../../contract/history'
import {
  isTeamLibraryId,
  type PatternDecision,
  type PatternRunResult,
} from '../../contract/library'
import type { ShellDialect, Verdict } from '../../contract/safety'
import type { Pattern } from '../../contract/sync'
import { agentAuditEvent } from '../agent/team-audit'
import type { Domain, DomainDeps } from '../domain'
import type { RequestContext } from '../ipc/router'
import { initSafety } from '../safety/analyze'
import { PolicyFile, policyPath } from '../safety/policy-file'
import { redactSecrets } from '../safety/secrets'
import { createSettingsStore } from '../settings/domain'
import { ApprovalsClient } from './approvals-client'
import { peekToken, type SecretCipher } from './credentials'
import { decide, templateVerdict, type DecideContext } from './decide'
import { EventQueue } from './event-queue'
import { exportLibrary, parseLibraryFile } from './formats'
import { libraryDir, openLibraries, type Libraries } from './open'
import { searchPatterns } from './search'
import { suggestTemplate } from './suggest'
import { TeamTelemetry } from './telemetry'
import { fillTemplate } from './template'
import { registerIdentityHandlers } from './identity-domain'

export interface LibraryDomainOptions {
  /** Electron's safeStorage, where the desktop app has it. */
  cipher?: SecretCipher | null
  maxBackoffMs?: number
}

const OPEN_WAIT_MS = 20_000
// eslint-disable-next-line no-control-regex
const TYPED_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/

/**
 * The `library` and `approval` requests: patterns in the personal, starter and team libraries,
 * their verdicts, filling and running them in a terminal, team sync state, approvals.
 */
export function createLibraryDomain(deps: DomainDeps, options: LibraryDomainOptions = {}): Domain {
  const policyFile = new PolicyFile(policyPath(deps.dataDir))
  const settings = createSettingsStore(deps.dataDir)
  const safetyReady = initSafety()
  safetyReady.catch(() => {})
  let libs: Libraries | null = null
  let failure: unknown = null
  const opening = openLibraries({
    dataDir: deps.dataDir,
    owner: deps.host === 'cli' ? 'cli' : 'app',
    cipher: options.cipher ?? null,
    connect: deps.host !== 'cli',
    maxBackoffMs: options.maxBackoffMs,
    events: {
      update: (id, update) =>
        deps.events.emit('library:update', { id, update: Buffer.from(update).toString('base64') }),
      info: (info) => deps.events.emit('library:info', info),
      removed: (id) => deps.events.emit('library:removed', { id }),
      presence: (id, peers) => deps.events.emit('library:presence', { id, peers }),
      conflicts: (id, conflicts) => deps.events.emit('library:conflicts', { id, conflicts }),
    },
  }).then(
    (opened) => {
      libs = opened
      return opened
    },
    (err: unknown) => {
      failure = err
      console.error('[cmdai] the library database could not open:', err)
      return null
    },
  )

  let queue: EventQueue | null = null
  let telemetry: TeamTelemetry | null = null
  let approvals: ApprovalsClient | null = null
  let stopAgentAudit: (() => void) | null = null
  let disposed = false
  void opening.then((l) => {
    if (!l || disposed) return
    queue = new EventQueue(
      l.store,
      (team) => l.hub.teamCredentials(team),
      (sent) => telemetry?.noteSent(sent),
    )
    queue.schedule(1_000)
    // What the team chose members' apps send (AI decisions, their outcomes), and a log of it.
    if (deps.host !== 'cli')
      telemetry = new TeamTelemetry({
        teams: () => l.hub.teams(),
        setting: (team) => l.hub.teamTelemetry(team),
        server: (team) => l.hub.teamCredentials(team)?.server ?? null,
        add: (team, draft) => queue!.add(team, draft),
        subscribe: (listener) => deps.events.subscribe(listener),
        logPath: join(libraryDir(deps.dataDir), 'sent-events.jsonl'),
      })
    approvals = new ApprovalsClient(
      (team) => l.hub.teamCredentials(team),
      (a) => deps.events.emit('approval:changed', a),
    )
    if (deps.host !== 'cli') for (const team of l.hub.teams()) approvals.watch(team)
    // What coding agents asked about or ran (main/agent) goes to each team's audit log too.
    stopAgentAudit = deps.events.subscribe((event, payload) => {
      if (event !== 'history:agent') return
      const draft = agentAuditEvent(payload as AgentEvent)
      for (const team of l.hub.teams()) void queue?.add(team, draft).catch(() => undefined)
    })
  })

  async function ready(): Promise<Libraries> {
    if (libs) return libs
    if (failure) throw unavailable()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), OPEN_WAIT_MS)))
    const opened = await Promise.race([opening, timeout])
    clearTimeout(timer)
    if (opened) return opened
    throw unavailable()
  }

  function unavailable(): CmdaiError {
    if (failure instanceof CmdaiError) return failure
    const why = failure instanceof Error ? failure.message : 'still opening'
    return new CmdaiError('unavailable', `Libraries are unavailable (${why})`)
  }

  function level() {
    try {
      return settings.read().safety.level
    } catch {
      return 'strict' as const
    }
  }

  function context(
    l: Libraries,
    library: string,
    shell: ShellDialect,
  ): DecideContext & { team?: string; user?: string } {
    const team = l.hub.teamContext(library)
    const creds = team.team ? l.hub.teamCredentials(team.team) : null
    return {
      shell,
      level: level(),
      localPolicy: policyFile.get(),
      teamPolicy: team.policy,
      role: team.role,
      canRequestApproval: !!team.team,
      ...(team.team ? { team: team.team } : {}),
      ...(creds ? { user: peekToken(creds.token)?.user } : {}),
    }
  }

  function judge(
    l: Libraries,
    library: string,
    pattern: Pattern,
    command: string,
    shell: ShellDialect,
  ) {
    const ctx = context(l, library, shell)
    const approved =
      ctx.team && ctx.user ? approvals?.covering(ctx.team, ctx.user, command, shell)?.id : undefined
    return { ctx, ...decide(pattern, command, ctx, approved) }
  }

  const { router } = deps
  // Single sign-on and elevation (`identity:*`), on the same libraries and credentials.
  const stopIdentity = registerIdentityHandlers(router, ready)
  router.handle('library:list', async () => (await ready()).hub.list())
  router.handle('library:open', async ({ id, stateVector }) => {
    const l = await ready()
    const sv = stateVector ? new Uint8Array(Buffer.from(stateVector, 'base64')) : undefined
    let update: Uint8Array
    try {
      update = l.hub.stateFor(id, sv)
    } catch (err) {
      if (err instanceof CmdaiError) throw err
      throw new CmdaiError('invalid_input', 'That state vector cannot be read')
    }
    return {
      id,
      update: Buffer.from(update).toString('base64'),
      presence: l.hub.presence(id),
      conflicts: l.hub.conflicts(id),
    }
  })
  router.handle('library:save', async ({ library, pattern }) =>
    (await ready()).hub.save(library, pattern),
  )
  router.handle('library:delete', async ({ library, id }) => {
    await (await ready()).hub.remove(library, id)
    return null
  })
  router.handle('library:search', async (args) => {
    const l = await ready()
    await safetyReady
    const t0 = performance.now()
    const items = l.hub
      .all()
      .filter((x) => !args.library || x.library === args.library)
      .map((x) => ({
        ...x,
        risk: l.risk(
          x.library,
          x.pattern,
          () => templateVerdict(x.pattern, context(l, x.library, 'bash')).risk,
        ),
      }))
    const hits = searchPatterns(items, args.query, { tags: args.tags, limit: args.limit })
    return { hits, tookMs: performance.now() - t0 }
  })
  router.handle('library:check', async ({ library, id, values, shell }) => {
    const l = await ready()
    await safetyReady
    const pattern = l.hub.pattern(library, id)
    const ctx = context(l, library, shell)
    const template = templateVerdict(pattern, ctx)
    const filled = fillTemplate(pattern.command, pattern.parameters, values, shell)
    if (!filled.command)
      return { template, command: null, errors: filled.errors, verdict: null, decision: null }
    const { verdict, decision } = judge(l, library, pattern, filled.command, shell)
    return { template, command: filled.command, errors: {}, verdict, decision }
  })
  router.handle('library:run', async (args, ctx) => runPattern(args, ctx))
  router.handle('library:values', async ({ library, id, parameter, approve }) => {
    const l = await ready()
    await safetyReady
    const pattern = l.hub.pattern(library, id)
    const param = pattern.parameters.find((p) => p.name === parameter)
    const command = param?.valuesFrom?.command
    if (!command)
      throw new CmdaiError('not_found', `{{${parameter}}} has no command for its values`)
    let approved = await l.store.isCommandApproved(library, command)
    if (!approved && approve) {
      await l.store.approveCommand(library, command)
      approved = true
    }
    if (!approved) return { approved: false, command, values: [] }
    const { verdict } = judge(l, library, pattern, command, 'bash')
    if (verdict.action !== 'allow' || verdict.risk === 'high' || verdict.risk === 'critical')
      return {
        approved,
        command,
        values: [],
        error: `Not run: ${verdict.risk} risk (${verdict.reasons[0]?.message ?? 'policy'})`,
      }
    try {
      return { approved, command, values: await runForValues(command) }
    } catch (err) {
      return {
        approved,
        command,
        values: [],
        error: err instanceof Error ? err.message : String(err),
      }
    }
  })
  router.handle('library:join', async ({ server, token, library }) => {
    const l = await ready()
    const info = await l.hub.join(server, token, library)
    if (info.team && deps.host !== 'cli') approvals?.watch(info.team)
    return info
  })
  router.handle('library:leave', async ({ id }) => {
    await (await ready()).hub.leave(id)
    return null
  })
  router.handle('library:connect', async ({ id, online }) => {
    const l = await ready()
    const info = l.hub.setOnline(id, online)
    if (online) queue?.schedule(500)
    return info
  })
  router.handle('library:presence', async ({ library, patternId, editing }) => {
    ;(await ready()).hub.setPresence(library, patternId, editing)
    return null
  })
  router.handle('library:resolveConflict', async ({ library, patternId, field, keep }) => {
    await (await ready()).hub.resolveConflict(library, patternId, field, keep)
    return null
  })
  router.handle('library:import', async ({ library, format, text }) => {
    const l = await ready()
    const parsed = parseLibraryFile(text, format)
    const existing = new Set(l.hub.patterns(library).map((p) => `${p.title}\u0000${p.command}`))
    let added = 0
    let skipped = 0
    for (const p of parsed.patterns) {
      if (existing.has(`${p.title}\u0000${p.command}`)) {
        skipped++
        continue
      }
      // Imported ids may collide with another library's: new ones here.
      await l.hub.save(library, { ...p, id: undefined })
      added++
    }
    return { added, skipped, errors: parsed.errors }
  })
  router.handle('library:export', async ({ library, format }) => {
    const l = await ready()
    return { format, text: exportLibrary(library, l.hub.patterns(library), format) }
  })
  router.handle('library:suggest', ({ commands }) =>
    suggestTemplate(commands.map((c) => redactSecrets(c).text)),
  )

  router.handle('approval:request', async (args) => {
    const l = await ready()
    const team =
      args.team ??
      (args.library && isTeamLibraryId(args.library) ? args.library.split('/')[0] : undefined)
    if (!team)
      throw new CmdaiError(
        'invalid_input',
        'Approvals are asked of a team: give the team or a team library',
      )
    if (!approvals) throw unavailable()
    const approval = await approvals.request(team, {
      command: args.command,
      shell: args.shell,
      reason: args.reason,
      ...(args.library && isTeamLibraryId(args.library)
        ? { library: args.library.split('/')[1] }
        : {}),
      ...(args.id ? { patternId: args.id } : {}),
    })
    void l
    return approval
  })
  router.handle('library:telemetry', async () => {
    await ready()
    return telemetry?.view() ?? { teams: [], sent: [] }
  })
  router.handle('approval:list', async () => {
    const l = await ready()
    if (!approvals) throw unavailable()
    return approvals.list(l.hub.teams())
  })
  router.handle('approval:decide', async ({ team, id, decision, comment }, ctx) => {
    if (ctx.transport === 'control')
      throw new CmdaiError('forbidden', 'Approvals are decided in the app, not by other programs')
    await ready()
    if (!approvals) throw unavailable()
    return approvals.decide(team, id, decision, comment)
  })

  async function runPattern(
    args: {
      library: string
      id: string
      values: Record<string, string>
      shell: ShellDialect
      ptyId: string
      confirmed: boolean
    },
    ctx: RequestContext,
  ): Promise<PatternRunResult> {
    const l = await ready()
    await safetyReady
    const pattern = l.hub.pattern(args.library, args.id)
    const filled = fillTemplate(pattern.command, pattern.parameters, args.values, args.shell)
    if (!filled.command)
      throw new CmdaiError(
        'invalid_input',
        Object.entries(filled.errors)
          .map(([k, v]) => `{{${k}}} ${v}`)
          .join('; '),
      )
    const command = filled.command
    if (TYPED_CONTROL.test(command))
      throw new CmdaiError(
        'invalid_input',
        'The command holds control characters, which a terminal would act on',
      )
    const { verdict, decision, ctx: dc } = judge(l, args.library, pattern, command, args.shell)
    const report = (d: 'ran' | 'blocked') => {
      if (!dc.team) return
      void queue
        ?.add(dc.team, {
          kind: d === 'ran' ? 'command.run' : 'policy.decision',
          library: args.library.split('/')[1],
          patternId: pattern.id,
          command,
          shell: args.shell,
          risk: verdict.risk,
          action: verdict.action,
          decision: d,
          ...(decision.ruleId ? { ruleId: decision.ruleId.slice(0, 100) } : {}),
          ...(decision.approvalId ? { approvalId: decision.approvalId } : {}),
        })
        .catch((err: unknown) => console.error('[cmdai] queueing a team event failed:', err))
    }
    const answer = (outcome: PatternRunResult['outcome']): PatternRunResult => ({
      outcome,
      command,
      verdict,
      decision,
    })
    if (decision.action === 'block') {
      report('blocked')
      return answer('blocked')
    }
    if (decision.action === 'approval') return answer('needs-approval')
    if (decision.action === 'confirm' && !args.confirmed) return answer('needs-confirmation')
    const startedAt = Date.now()
    const runId = await l.store.recordRun({
      doc: args.library,
      pattern: pattern.id,
      command: redactSecrets(command).text,
      shell: args.shell,
      pty: args.ptyId,
      startedAt,
      approvalId: decision.approvalId ?? null,
    })
    watchRun(
      l,
      runId,
      args.ptyId,
      command,
      startedAt,
      dc.team
        ? { team: dc.team, library: args.library, pattern, verdict, decision, shell: args.shell }
        : null,
    )
    const written = await router.dispatch(
      'pty:write',
      { id: args.ptyId, data: `\x15${command}\r` },
      ctx,
    )
    if (!written.ok) throw new CmdaiError(written.error.code, written.error.message)
    return answer('ran')
  }

  /** Links the history row of the run to the pattern and reports the run to the team. */
  function watchRun(
    l: Libraries,
    runId: number,
    ptyId: string,
    command: string,
    startedAt: number,
    team: {
      team: string
      library: string
      pattern: Pattern
      verdict: Verdict
      decision: PatternDecision
      shell: ShellDialect
    } | null,
  ): void {
    const redacted = redactSecrets(command).text.trim()
    const timer = setTimeout(() => stop(), 6 * 3600_000)
    timer.unref()
    const stop = deps.events.subscribe((event, payload) => {
      if (event !== 'history:recorded') return
      const row = payload as HistoryCommand
      if (row.ptyId !== ptyId || row.startedAt < startedAt - 2_000) return
      if (row.command.trim() !== redacted && row.command.trim() !== command.trim()) return
      stop()
      clearTimeout(timer)
      void l.store.finishRun(runId, row.id, row.exitCode, row.durationMs)
      if (team)
        void queue
          ?.add(team.team, {
            kind: 'command.run',
            library: team.library.split('/')[1],
            patternId: team.pattern.id,
            command,
            shell: team.shell,
            risk: team.verdict.risk,
            action: team.verdict.action,
            decision: 'ran',
            ...(team.decision.ruleId ? { ruleId: team.decision.ruleId.slice(0, 100) } : {}),
            ...(team.decision.approvalId ? { approvalId: team.decision.approvalId } : {}),
            ...(row.exitCode !== null ? { exitCode: row.exitCode } : {}),
            ...(row.durationMs !== null ? { durationMs: row.durationMs } : {}),
          })
          .catch(() => undefined)
    })
  }

  return {
    name: 'library',
    async dispose() {
      disposed = true
      stopIdentity()
      stopAgentAudit?.()
      telemetry?.stop()
      approvals?.stop()
      const l = await opening
      // A send in flight finishes before the database closes under it.
      await queue?.stop()
      await l?.close()
    },
  }
}

/** Runs a parameter's values command (approved by the user) and returns its output lines. */
function runForValues(command: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
      env: { ...process.env, TERM: 'dumb' },
    })
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      out += chunk
      if (out.length > 262_144) child.kill('SIGKILL')
    })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (signal) return reject(new Error(`stopped (${signal}): too slow or too much output`))
      if (code !== 0) return reject(new Error(`exited with ${code}`))
      const values = out
        .split('\n')
        // eslint-disable-next-line no-control-regex
        .map((v) => v.replace(/[\u0000-\u001f\u007f]/g, '').trim())
        .filter(Boolean)
      resolve([...new Set(values)].slice(0, 500))
    })
  })
}
