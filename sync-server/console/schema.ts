import { LATENCY_BUCKETS_MS, SUGGESTION_DECISIONS } from '../../contract/console'
import { execStatements, moduleSchema, type Migration } from '../storage/module-schema'

/**
 * The console's tables (sessions, invites, approvals, webhooks, analytics rollups), the same SQL
 * for PGlite and PostgreSQL, versioned apart from the server's own schema (`console_schema`) so
 * the two evolve independently. Analytics are pre-aggregated per day and dimension by a
 * statement-level trigger on `client_events`: every batch of events the server accepts (the
 * events endpoint, approvals) updates the rollups in the same transaction, and a replay (an
 * event id seen before, skipped by `ON CONFLICT DO NOTHING`) is not counted twice, because the
 * trigger sees only the rows actually inserted. The widest rollups (per member, per pattern, per
 * failing command) are also kept per week (`day / 7`): a long period reads whole weeks from those
 * and only its ragged ends from the daily ones.
 */
const DAY_MS = 86_400_000
/** AI decisions are counted in one column each (a row per day and member, not per decision). */
export const DECISION_COLUMNS = SUGGESTION_DECISIONS.join(', ')
const DECISION_COUNTS = SUGGESTION_DECISIONS.map(
  (d) => `count(*) FILTER (WHERE decision = '${d}')`,
).join(', ')
const DECISION_TABLE_COLUMNS = SUGGESTION_DECISIONS.map((d) => `${d} bigint NOT NULL`).join(', ')

/**
 * One statement that folds a set of client events into every rollup (used by the trigger over
 * the inserted rows, and once over the whole table when the rollups are created).
 */
export function rollupSql(source: string): string {
  const bounds = `ARRAY[${LATENCY_BUCKETS_MS.join(',')}]::double precision[]`
  const upsert = (table: string, keys: string, sets: string) =>
    `ON CONFLICT (${keys}) DO UPDATE SET ${sets
      .split(',')
      .map((c) => `${c.trim()} = ${table}.${c.trim()} + EXCLUDED.${c.trim()}`)
      .join(', ')}`
  return `
  WITH ev AS (
    SELECT team, user_id, kind, (ts / ${DAY_MS})::int AS day, event::jsonb AS e
    FROM ${source}
    WHERE kind IN ('ai.decision', 'command.run', 'policy.decision')
  ),
  ai AS (
    SELECT team, user_id, day, e->>'decision' AS decision,
      coalesce(nullif(e->>'model', ''), 'unknown') AS model,
      CASE WHEN jsonb_typeof(e->'latencyMs') = 'number' THEN (e->>'latencyMs')::double precision END
        AS latency
    FROM ev WHERE kind = 'ai.decision'
      AND e->>'decision' IN ('ran', 'edited', 'copied', 'cancelled', 'blocked')
  ),
  runs AS (
    SELECT team, day, kind, coalesce(e->>'risk', 'unknown') AS risk, e->>'library' AS library,
      e->>'patternId' AS pattern_id, left(e->>'command', 500) AS command,
      CASE WHEN e->>'exitCode' ~ '^-?[0-9]{1,9}$' THEN (e->>'exitCode')::int END AS exit_code
    FROM ev WHERE kind = 'command.run' OR (kind = 'policy.decision' AND e->>'decision' = 'blocked')
  ),
  a1 AS (
    INSERT INTO analytics_ai_day (team, day, ${DECISION_COLUMNS})
    SELECT team, day, ${DECISION_COUNTS}
    FROM ai GROUP BY 1, 2
    ${upsert('analytics_ai_day', 'team, day', DECISION_COLUMNS)}
  ),
  a2 AS (
    INSERT INTO analytics_ai_member (team, day, user_id, ${DECISION_COLUMNS})
    SELECT team, day, user_id, ${DECISION_COUNTS}
    FROM ai GROUP BY 1, 2, 3
    ${upsert('analytics_ai_member', 'team, day, user_id', DECISION_COLUMNS)}
  ),
  a2w AS (
    INSERT INTO analytics_ai_member_week (team, week, user_id, ${DECISION_COLUMNS})
    SELECT team, day / 7, user_id, ${DECISION_COUNTS}
    FROM ai GROUP BY 1, 2, 3
    ${upsert('analytics_ai_member_week', 'team, week, user_id', DECISION_COLUMNS)}
  ),
  a3 AS (
    INSERT INTO analytics_ai_model (team, day, model, ${DECISION_COLUMNS}, latency_sum, latency_n)
    SELECT team, day, model, ${DECISION_COUNTS},
      coalesce(sum(latency), 0), count(latency)
    FROM ai GROUP BY 1, 2, 3
    ${upsert('analytics_ai_model', 'team, day, model', `${DECISION_COLUMNS}, latency_sum, latency_n`)}
  ),
  a4 AS (
    INSERT INTO analytics_latency (team, day, model, bucket, n)
    SELECT team, day, model, width_bucket(latency, ${bounds}), count(*)
    FROM ai WHERE latency IS NOT NULL GROUP BY 1, 2, 3, 4
    ${upsert('analytics_latency', 'team, day, model, bucket', 'n')}
  ),
  r1 AS (
    INSERT INTO analytics_outcomes (team, day, outcome, risk, n, failures)
    SELECT team, day, CASE WHEN kind = 'command.run' THEN 'ran' ELSE 'blocked' END, risk,
      count(*), count(*) FILTER (WHERE exit_code <> 0)
    FROM runs GROUP BY 1, 2, 3, 4
    ${upsert('analytics_outcomes', 'team, day, outcome, risk', 'n, failures')}
  ),
  r2 AS (
    INSERT INTO analytics_patterns (team, day, library, pattern_id, runs, failures)
    SELECT team, day, library, pattern_id, count(*), count(*) FILTER (WHERE exit_code <> 0)
    FROM runs WHERE kind = 'command.run' AND library IS NOT NULL AND pattern_id IS NOT NULL
    GROUP BY 1, 2, 3, 4
    ${upsert('analytics_patterns', 'team, day, library, pattern_id', 'runs, failures')}
  ),
  r2w AS (
    INSERT INTO analytics_patterns_week (team, week, library, pattern_id, runs, failures)
    SELECT team, day / 7, library, pattern_id, count(*), count(*) FILTER (WHERE exit_code <> 0)
    FROM runs WHERE kind = 'command.run' AND library IS NOT NULL AND pattern_id IS NOT NULL
    GROUP BY 1, 2, 3, 4
    ${upsert('analytics_patterns_week', 'team, week, library, pattern_id', 'runs, failures')}
  ),
  r4w AS (
    INSERT INTO analytics_command_exits_week (team, week, command, exit_code, n)
    SELECT team, day / 7, command, exit_code, count(*)
    FROM runs WHERE kind = 'command.run' AND command IS NOT NULL AND exit_code <> 0
    GROUP BY 1, 2, 3, 4
    ${upsert('analytics_command_exits_week', 'team, week, command, exit_code', 'n')}
  ),
  r3 AS (
    INSERT INTO analytics_pattern_exits (team, day, library, pattern_id, exit_code, n)
    SELECT team, day, library, pattern_id, exit_code, count(*)
    FROM runs WHERE kind = 'command.run' AND library IS NOT NULL AND pattern_id IS NOT NULL
      AND exit_code <> 0
    GROUP BY 1, 2, 3, 4, 5
    ${upsert('analytics_pattern_exits', 'team, day, library, pattern_id, exit_code', 'n')}
  )
  INSERT INTO analytics_command_exits (team, day, command, exit_code, n)
  SELECT team, day, command, exit_code, count(*)
  FROM runs WHERE kind = 'command.run' AND command IS NOT NULL AND exit_code <> 0
  GROUP BY 1, 2, 3, 4
  ${upsert('analytics_command_exits', 'team, day, command, exit_code', 'n')}
  `
}

const MIGRATIONS: Migration[] = [
  async (db, kind) => {
    await execStatements(
      db,
      `
      CREATE TABLE console_secrets (
        name text PRIMARY KEY,
        value text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE console_signin_codes (
        code_hash text PRIMARY KEY,
        team text NOT NULL,
        user_id text NOT NULL,
        created_by text NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        used_at bigint
      );
      CREATE TABLE console_sessions (
        id text PRIMARY KEY,
        secret_hash text NOT NULL,
        team text NOT NULL,
        user_id text NOT NULL,
        csrf text NOT NULL,
        ip text NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        ended_at bigint
      );
      CREATE INDEX console_sessions_team ON console_sessions (team, user_id);
      CREATE TABLE console_invites (
        id text PRIMARY KEY,
        code_hash text NOT NULL UNIQUE,
        team text NOT NULL,
        role text NOT NULL,
        token_days integer NOT NULL,
        note text NOT NULL,
        created_by text NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        used_by text,
        used_at bigint,
        revoked_at bigint
      );
      CREATE INDEX console_invites_team ON console_invites (team, created_at);
      CREATE TABLE approvals (
        id text PRIMARY KEY,
        team text NOT NULL,
        requester text NOT NULL,
        status text NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        decided_by text,
        decided_at bigint,
        comment text,
        valid_until bigint,
        request text NOT NULL
      );
      CREATE INDEX approvals_team ON approvals (team, status, created_at);
      CREATE TABLE console_webhooks (
        id text PRIMARY KEY,
        team text NOT NULL,
        url text NOT NULL,
        format text NOT NULL,
        events text NOT NULL,
        enabled boolean NOT NULL,
        description text NOT NULL,
        secret text NOT NULL,
        created_by text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE TABLE console_deliveries (
        id text PRIMARY KEY,
        team text NOT NULL,
        webhook_id text NOT NULL,
        event text NOT NULL,
        payload text NOT NULL,
        status text NOT NULL,
        attempts integer NOT NULL,
        next_attempt_at bigint,
        created_at bigint NOT NULL,
        delivered_at bigint,
        last_status integer,
        last_error text
      );
      CREATE INDEX console_deliveries_due ON console_deliveries (status, next_attempt_at);
      CREATE INDEX console_deliveries_team ON console_deliveries (team, created_at);
      CREATE TABLE analytics_ai_day (
        team text NOT NULL, day integer NOT NULL, ${DECISION_TABLE_COLUMNS},
        PRIMARY KEY (team, day)
      );
      CREATE TABLE analytics_ai_member (
        team text NOT NULL, day integer NOT NULL, user_id text NOT NULL, ${DECISION_TABLE_COLUMNS},
        PRIMARY KEY (team, day, user_id)
      );
      CREATE TABLE analytics_ai_member_week (
        team text NOT NULL, week integer NOT NULL, user_id text NOT NULL, ${DECISION_TABLE_COLUMNS},
        PRIMARY KEY (team, week, user_id)
      );
      CREATE TABLE analytics_ai_model (
        team text NOT NULL, day integer NOT NULL, model text NOT NULL, ${DECISION_TABLE_COLUMNS},
        latency_sum double precision NOT NULL, latency_n bigint NOT NULL,
        PRIMARY KEY (team, day, model)
      );
      CREATE TABLE analytics_latency (
        team text NOT NULL, day integer NOT NULL, model text NOT NULL, bucket integer NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (team, day, model, bucket)
      );
      CREATE TABLE analytics_outcomes (
        team text NOT NULL, day integer NOT NULL, outcome text NOT NULL, risk text NOT NULL,
        n bigint NOT NULL, failures bigint NOT NULL,
        PRIMARY KEY (team, day, outcome, risk)
      );
      CREATE TABLE analytics_patterns (
        team text NOT NULL, day integer NOT NULL, library text NOT NULL, pattern_id text NOT NULL,
        runs bigint NOT NULL, failures bigint NOT NULL,
        PRIMARY KEY (team, day, library, pattern_id)
      );
      CREATE TABLE analytics_patterns_week (
        team text NOT NULL, week integer NOT NULL, library text NOT NULL, pattern_id text NOT NULL,
        runs bigint NOT NULL, failures bigint NOT NULL,
        PRIMARY KEY (team, week, library, pattern_id)
      );
      CREATE TABLE analytics_pattern_exits (
        team text NOT NULL, day integer NOT NULL, library text NOT NULL, pattern_id text NOT NULL,
        exit_code integer NOT NULL, n bigint NOT NULL,
        PRIMARY KEY (team, day, library, pattern_id, exit_code)
      );
      CREATE TABLE analytics_command_exits (
        team text NOT NULL, day integer NOT NULL, command text NOT NULL, exit_code integer NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (team, day, command, exit_code)
      );
      CREATE TABLE analytics_command_exits_week (
        team text NOT NULL, week integer NOT NULL, command text NOT NULL, exit_code integer NOT NULL,
        n bigint NOT NULL,
        PRIMARY KEY (team, week, command, exit_code)
      )
      `,
    )
    // Inserts into client_events wait while the trigger is created and the rollups filled, so
    // no event is counted twice or missed.
    if (kind === 'postgres') await db.query('LOCK TABLE client_events IN SHARE ROW EXCLUSIVE MODE')
    await db.query(`
      CREATE FUNCTION console_rollup_events() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        ${rollupSql('new_events')};
        RETURN NULL;
      END
      $fn$`)
    await db.query(`
      CREATE TRIGGER console_rollup AFTER INSERT ON client_events
      REFERENCING NEW TABLE AS new_events
      FOR EACH STATEMENT EXECUTE FUNCTION console_rollup_events()`)
    await db.query(rollupSql('client_events'))
  },
]

export const CONSOLE_SCHEMA_VERSION = MIGRATIONS.length

/** Brings the console's tables up to date (once per storage; concurrent callers share it). */
export const ensureConsoleSchema = moduleSchema('console', "The console's tables", MIGRATIONS)
