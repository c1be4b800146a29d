import type { PoolClient } from 'pg';
import { StoreError } from '../errors.ts';
import { commit, quoteIdent, tablesOf } from './database.ts';

export interface Migration {
  version: number;
  name: string;
  /** Runs with search_path set to the adapter's schema for this transaction only. */
  sql: string;
}

/**
 * Append only: never edit a shipped migration, add the next version. Postgres has its own list: it
 * starts at the SQLite schema's current shape. Times are BIGINT milliseconds from the adapter's
 * clock (never now()); string lists are text[]; JSON is `json`, not `jsonb`, so it reads back
 * byte for byte as written (key order kept, `\u0000` escapes accepted), as SQLite's TEXT does.
 * `ord` columns are identities that break created_at ties in insertion order, as SQLite's rowid does.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('api_key', 'management')),
  key_hash text NOT NULL UNIQUE,
  hint text NOT NULL,
  name text NOT NULL,
  tenant text NOT NULL,
  subject text NOT NULL,
  scopes text[] NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint,
  last_used_at bigint,
  revoked_at bigint,
  ord bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at, ord);
CREATE INDEX api_keys_subject ON api_keys (subject, created_at, ord);

CREATE TABLE oauth_clients (
  client_id text PRIMARY KEY,
  secret_hash text,
  token_endpoint_auth_method text NOT NULL,
  redirect_uris text[] NOT NULL,
  name text,
  metadata json NOT NULL,
  created_at bigint NOT NULL,
  last_used_at bigint
);
CREATE INDEX oauth_clients_unused ON oauth_clients (created_at) WHERE last_used_at IS NULL;

CREATE TABLE grants (
  id text PRIMARY KEY,
  client_id text NOT NULL,
  subject text NOT NULL,
  tenant text NOT NULL,
  scopes text[] NOT NULL,
  resource text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint,
  revoked_at bigint,
  ord bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX grants_subject ON grants (subject, created_at, ord);
CREATE INDEX grants_client ON grants (client_id);

CREATE TABLE tokens (
  token_hash text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('access', 'refresh', 'code')),
  grant_id text NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  client_id text NOT NULL,
  subject text NOT NULL,
  tenant text NOT NULL,
  scopes text[] NOT NULL,
  resource text NOT NULL,
  redirect_uri text,
  code_challenge text,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  used_at bigint,
  revoked_at bigint
);
CREATE INDEX tokens_grant ON tokens (grant_id);
CREATE INDEX tokens_expires ON tokens (expires_at);

-- The two indexes SQLite's migration 2 keeps, each written on every append. SQLite's (tenant) index
-- carries the rowid, so a tenant's newest rows come without a sort; here seq says so explicitly.
CREATE TABLE audit (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at bigint NOT NULL,
  event text NOT NULL,
  outcome text NOT NULL,
  subject text,
  tenant text,
  client text,
  via text,
  tool text,
  args_digest text,
  args json,
  resource_id text,
  reason text,
  latency_ms double precision,
  request_id text,
  detail json
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_tenant ON audit (tenant, seq);
-- Append-only below the API too: a stray UPDATE, DELETE or TRUNCATE (a script, a later bug) fails loudly.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit is append-only' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- day is 'YYYY-MM-DD' compared as bytes; names are stored with NUL escaped (usage.ts).
CREATE TABLE usage (
  tenant text NOT NULL,
  credential text NOT NULL,
  tool text NOT NULL,
  day text COLLATE "C" NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (tenant, credential, tool, day)
);
CREATE INDEX usage_day ON usage (day);
`,
  },
];

/** First key of every advisory lock this adapter takes (the second is the schema's hash). */
export const LOCK_CLASS = 0x47570001; // "GW" + 1: migrations
export const AUDIT_LOCK_CLASS = 0x47570002; // audit appends, see batcher.ts

/** A stable 32-bit hash of the schema name (FNV-1a), so adapters on different schemas never contend. */
export function schemaKey(schema: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(schema, 'utf8')) h = Math.imul(h ^ byte, 0x01000193);
  return h | 0;
}

/**
 * The version, or null when there is no schema_migrations table (or no schema). Existence is read
 * with plain SQL over the catalogs, which sees every commit up to this statement: a by-name lookup
 * (to_regclass, IF NOT EXISTS) may answer from this backend's catalog cache, which can still say
 * "missing" after another process's migration committed while we waited for the lock.
 */
async function schemaVersion(
  client: PoolClient,
  schema: string,
): Promise<{ schema: boolean; version: number | null }> {
  const { rows } = await client.query<{ s: boolean; t: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1) AS s,
       EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = $1 AND c.relname = 'schema_migrations') AS t`,
    [schema],
  );
  if (!rows[0]!.t) return { schema: rows[0]!.s, version: null };
  const v = await client.query<{ v: number }>(
    `SELECT COALESCE(MAX(version), 0)::int AS v FROM ${tablesOf(schema).migrations}`,
  );
  return { schema: true, version: v.rows[0]!.v };
}

function refuseNewer(current: number, latest: number): void {
  if (current > latest) {
    // Rolling an older build onto a newer schema would write rows the newer code does not expect.
    throw new StoreError(
      'GW_STORE_SCHEMA',
      `database schema is version ${current}, this Gangway knows up to ${latest}: upgrade Gangway`,
    );
  }
}

/**
 * Brings the schema to the latest version. Each migration runs in its own transaction that takes
 * a transaction-level advisory lock and re-reads the version after taking it, so several processes
 * opening one fresh database apply each migration exactly once (CREATE SCHEMA / TABLE IF NOT EXISTS
 * alone race), and a failing migration leaves no trace. A newer schema is refused before anything is
 * written. Returns the version.
 */
export async function migrate(
  client: PoolClient,
  schema: string,
  now: number,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number> {
  const latest = migrations.at(-1)?.version ?? 0;
  const seen = (await schemaVersion(client, schema)).version;
  if (seen !== null) {
    refuseNewer(seen, latest);
    if (seen === latest) return seen; // the common start: no lock, no write
  }
  const q = quoteIdent(schema);
  const lock = `SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${schemaKey(schema)})`;
  for (const migration of migrations) {
    await client.query('BEGIN');
    try {
      await client.query(lock);
      const found = await schemaVersion(client, schema);
      let current = found.version;
      if (current === null) {
        // Only when missing: CREATE ... IF NOT EXISTS still needs the CREATE privilege.
        if (!found.schema) await client.query(`CREATE SCHEMA ${q}`);
        await client.query(`CREATE TABLE ${q}.schema_migrations (
          version integer PRIMARY KEY,
          name text NOT NULL,
          applied_at bigint NOT NULL
        )`);
        current = 0;
      }
      refuseNewer(current, latest);
      if (current < migration.version) {
        await client.query(`SET LOCAL search_path TO ${q}`);
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${q}.schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [
          migration.version,
          migration.name,
          now,
        ]);
      }
      await commit(client);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined); // the connection may be the thing that failed
      throw error;
    }
  }
  return (await schemaVersion(client, schema)).version ?? 0;
}
