import { execStatements, moduleSchema } from '../storage/module-schema'

/**
 * The tables of single sign-on and elevation, the same SQL for PGlite and PostgreSQL, versioned
 * apart from the server's and the console's schemas (`identity_schema`). Secrets are stored as
 * SHA-256 hashes (state, codes, refresh tokens), except the IdP's refresh token, which the server
 * must send back to the IdP (it sits beside the server's own signing keys in the same database).
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE sso_flows (
    id_hash text PRIMARY KEY,
    kind text NOT NULL,
    nonce text NOT NULL,
    verifier text NOT NULL,
    team text,
    client_redirect text,
    client_state text,
    client_challenge text,
    device_code text,
    device_interval integer,
    status text NOT NULL,
    identity text,
    code_hash text UNIQUE,
    session_id text,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    polled_at bigint,
    used_at bigint
  );
  CREATE INDEX sso_flows_expiry ON sso_flows (expires_at);
  CREATE TABLE sso_sessions (
    id text PRIMARY KEY,
    team text NOT NULL,
    user_id text NOT NULL,
    issuer text NOT NULL,
    subject text NOT NULL,
    via text NOT NULL,
    role text NOT NULL,
    idp_refresh text,
    console_session text,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    refreshed_at bigint NOT NULL,
    revoked_at bigint,
    revoked_reason text
  );
  CREATE INDEX sso_sessions_user ON sso_sessions (team, user_id);
  CREATE TABLE sso_refresh_tokens (
    hash text PRIMARY KEY,
    session_id text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at bigint
  );
  CREATE INDEX sso_refresh_session ON sso_refresh_tokens (session_id);
  CREATE TABLE sso_identities (
    issuer text NOT NULL,
    subject text NOT NULL,
    user_id text NOT NULL UNIQUE,
    created_at bigint NOT NULL,
    PRIMARY KEY (issuer, subject)
  );
  CREATE TABLE sso_mappings (
    team text PRIMARY KEY,
    rules text NOT NULL,
    updated_by text NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE TABLE elevations (
    id text PRIMARY KEY,
    team text NOT NULL,
    user_id text NOT NULL,
    status text NOT NULL,
    requested_at bigint NOT NULL,
    request_expires_at bigint NOT NULL,
    starts_at bigint,
    expires_at bigint,
    closed_at bigint,
    body text NOT NULL
  );
  CREATE INDEX elevations_team ON elevations (team, status, requested_at);
  CREATE INDEX elevations_live ON elevations (status, expires_at);
  CREATE TABLE elevation_policies (
    team text PRIMARY KEY,
    rules text NOT NULL,
    updated_by text NOT NULL,
    updated_at bigint NOT NULL
  )
  `,
]

export const IDENTITY_SCHEMA_VERSION = MIGRATIONS.length

/** Brings the tables up to date (once per storage; concurrent callers share it). */
export const ensureIdentitySchema = moduleSchema(
  'identity',
  'The sign-in tables',
  MIGRATIONS.map((sql) => (tx) => execStatements(tx, sql)),
)
