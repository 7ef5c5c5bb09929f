import type { z } from 'zod'
import type { SqlClient } from '../storage/sql-client'

/**
 * A team's list of rules kept as JSON in one row (the sign-in mapping, the elevation rules), in a
 * table `(team PRIMARY KEY, rules, updated_by, updated_at)`. Rules that no longer validate are
 * read as none: they grant nothing (fail closed).
 */
export type RulesTable = 'sso_mappings' | 'elevation_policies'

export async function readTeamRules<S extends z.ZodType<{ rules: unknown[] }>>(
  db: SqlClient,
  table: RulesTable,
  team: string,
  schema: S,
): Promise<z.output<S>['rules']> {
  const r = await db.query<{ rules: string }>(`SELECT rules FROM ${table} WHERE team = $1`, [team])
  return parseRules(r.rows[0]?.rules, schema)
}

export function parseRules<S extends z.ZodType<{ rules: unknown[] }>>(
  text: unknown,
  schema: S,
): z.output<S>['rules'] {
  if (typeof text !== 'string') return []
  try {
    const parsed = schema.safeParse({ rules: JSON.parse(text) })
    return parsed.success ? parsed.data.rules : []
  } catch {
    return []
  }
}

export async function writeTeamRules(
  db: SqlClient,
  table: RulesTable,
  team: string,
  rules: unknown[],
  by: string,
  now: number,
): Promise<void> {
  await db.query(
    `INSERT INTO ${table} (team, rules, updated_by, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (team) DO UPDATE SET rules = EXCLUDED.rules, updated_by = EXCLUDED.updated_by,
       updated_at = EXCLUDED.updated_at`,
    [team, JSON.stringify(rules), by, now],
  )
}
