import type { LibraryDetail, LibrarySummary, PatternVerdictView } from '../../../contract/console'
import { LIBRARY_NAME_RE, readLibrary, roomName, type Pattern } from '../../../contract/sync'
import type { Risk } from '../../../contract/safety'
import { templateForVerdict } from '../../../main/library/template'
import { analyzeCommand, initSafety } from '../../../main/safety/analyze'
import { notFound, type ConsoleServices, type Route } from '../services'
import { loadStoredDoc } from '../sync-write'

/** The team's libraries (from storage: what is durable now) and each pattern with its verdict. */
export function libraryRoutes(s: ConsoleServices): Route[] {
  const names = async (team: string) =>
    (await s.deps.storage.listRooms())
      .map((r) => r.room)
      .filter((room) => room.startsWith(`${team}/`))
      .map((room) => room.slice(team.length + 1))
      .filter((name) => LIBRARY_NAME_RE.test(name))

  const read = async (team: string, name: string) => {
    const doc = await loadStoredDoc(s.deps.storage, roomName(team, name))
    try {
      return readLibrary(doc)
    } finally {
      doc.destroy()
    }
  }

  return [
    {
      method: 'GET',
      path: '/libraries',
      area: 'libraries',
      handler: async ({ session }): Promise<{ libraries: LibrarySummary[] }> => {
        await initSafety()
        const out: LibrarySummary[] = []
        for (const name of await names(session.team)) {
          const lib = await read(session.team, name)
          if (!lib.ok) continue
          const risks: Record<Risk, number> = { safe: 0, moderate: 0, high: 0, critical: 0 }
          let last: Pattern | null = null
          for (const p of lib.value.patterns) {
            risks[rate(p).risk]++
            if (!last || p.updatedAt > last.updatedAt) last = p
          }
          out.push({
            name,
            patterns: lib.value.patterns.length,
            invalid: lib.value.invalid.length,
            lastChangedAt: last?.updatedAt ?? null,
            lastChangedBy: last ? (last.updatedBy ?? last.author) : null,
            risks,
          })
        }
        return { libraries: out }
      },
    },
    {
      method: 'GET',
      path: '/libraries/:name',
      area: 'libraries',
      handler: async ({ session, params }): Promise<LibraryDetail> => {
        const name = params.name!
        if (!LIBRARY_NAME_RE.test(name) || !(await names(session.team)).includes(name))
          throw notFound('library')
        await initSafety()
        const lib = await read(session.team, name)
        if (!lib.ok) throw notFound(`readable library (${lib.error})`)
        return {
          name,
          patterns: lib.value.patterns.map((p): PatternVerdictView => {
            const v = rate(p)
            return {
              id: p.id,
              title: p.title,
              description: p.description,
              command: p.command,
              tags: p.tags,
              parameters: p.parameters.map((x) => x.name),
              author: p.author,
              updatedAt: p.updatedAt,
              updatedBy: p.updatedBy ?? null,
              risk: v.risk,
              reasons: v.reasons.slice(0, 5).map((r) => r.message),
            }
          }),
          invalid: lib.value.invalid,
        }
      },
    },
  ]
}

/** The template's verdict, each parameter an unknown word (as the app rates it). */
function rate(p: Pattern) {
  return analyzeCommand(templateForVerdict(p.command, 'bash'), { shell: 'bash' })
}
