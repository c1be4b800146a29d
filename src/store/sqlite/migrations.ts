import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from '../errors.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Append only: never edit a shipped migration, add the next version. One list for the whole file:
 * the Store and the Ephemeral adapters may share a database file, each in its own tables.
 * Times are INTEGER milliseconds; string lists are JSON arrays.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('api_key', 'management')),
  key_hash TEXT NOT NULL UNIQUE,
  hint TEXT NOT NULL,
  name TEXT NOT NULL,
  tenant TEXT NOT NULL,
  subject TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER
) STRICT;
CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);
CREATE INDEX api_keys_subject ON api_keys (subject, created_at);

CREATE TABLE oauth_clients (
  client_id TEXT PRIMARY KEY,
  secret_hash TEXT,
  token_endpoint_auth_method TEXT NOT NULL,
  redirect_uris TEXT NOT NULL,
  name TEXT,
  metadata TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
) STRICT;
CREATE INDEX oauth_clients_unused ON oauth_clients (created_at) WHERE last_used_at IS NULL;

CREATE TABLE grants (
  id TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  tenant TEXT NOT NULL,
  scopes TEXT NOT NULL,
  resource TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER
) STRICT;
CREATE INDEX grants_subject ON grants (subject, created_at);
CREATE INDEX grants_client ON grants (client_id);

CREATE TABLE tokens (
  token_hash TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh', 'code')),
  grant_id TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  tenant TEXT NOT NULL,
  scopes TEXT NOT NULL,
  resource TEXT NOT NULL,
  redirect_uri TEXT,
  code_challenge TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  revoked_at INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX tokens_grant ON tokens (grant_id);
CREATE INDEX tokens_expires ON tokens (expires_at);

CREATE TABLE audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  outcome TEXT NOT NULL,
  subject TEXT,
  tenant TEXT,
  client TEXT,
  via TEXT,
  tool TEXT,
  args_digest TEXT,
  args TEXT,
  resource_id TEXT,
  reason TEXT,
  latency_ms REAL,
  request_id TEXT,
  detail TEXT
) STRICT;
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_subject ON audit (subject, at);
CREATE INDEX audit_tenant ON audit (tenant, at);
CREATE INDEX audit_tool ON audit (tool, at);
-- Append-only below the API too: a stray UPDATE/DELETE (a script, a later bug) fails loudly.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;

CREATE TABLE usage (
  tenant TEXT NOT NULL,
  credential TEXT NOT NULL,
  tool TEXT NOT NULL,
  day TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (tenant, credential, tool, day)
) STRICT, WITHOUT ROWID;
CREATE INDEX usage_day ON usage (day);

CREATE TABLE ephemeral (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX ephemeral_expires ON ephemeral (expires_at);
`,
  },
  {
    // Every index is written on every audit append, the hottest write there is (one per tool call).
    // Keep the two the reads need: a tenant's rows newest first (the audit page; the index holds
    // seq, so no sort) and time ranges. Subject, tool and event filters run within those or scan
    // from the newest row. AUTOINCREMENT goes too: with deletes forbidden, a plain rowid is
    // already strictly increasing, without a sqlite_sequence update per row (docs/decisions.md).
    version: 2,
    name: 'audit-lean-indexes',
    sql: `
CREATE TABLE audit_v2 (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  event TEXT NOT NULL,
  outcome TEXT NOT NULL,
  subject TEXT,
  tenant TEXT,
  client TEXT,
  via TEXT,
  tool TEXT,
  args_digest TEXT,
  args TEXT,
  resource_id TEXT,
  reason TEXT,
  latency_ms REAL,
  request_id TEXT,
  detail TEXT
) STRICT;
INSERT INTO audit_v2 SELECT * FROM audit ORDER BY seq;
DROP TABLE audit;
ALTER TABLE audit_v2 RENAME TO audit;
DELETE FROM sqlite_sequence WHERE name = 'audit';
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_tenant ON audit (tenant);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
`,
  },
];

export function schemaVersion(db: BetterSqlite3.Database): number {
  const row = db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as {
    v: number;
  };
  return row.v;
}

/**
 * Brings the file to the latest version. Each migration runs in its own IMMEDIATE transaction that
 * re-reads the version after taking the write lock, so two processes opening one fresh file apply
 * each migration exactly once, and a failing migration leaves no trace. Returns the version.
 */
export function migrate(
  db: BetterSqlite3.Database,
  now: number,
  migrations: readonly Migration[] = MIGRATIONS,
): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const latest = migrations.at(-1)?.version ?? 0;
  const current = schemaVersion(db);
  if (current > latest) {
    // Rolling an older build onto a newer schema would write rows the newer code does not expect.
    throw new StoreError(
      'GW_STORE_SCHEMA',
      `database schema is version ${current}, this Gangway knows up to ${latest}: upgrade Gangway`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const migration of migrations) {
    // No shortcut on the version read above: another process may have migrated since.
    db.transaction(() => {
      if (schemaVersion(db) >= migration.version) return;
      db.exec(migration.sql);
      record.run(migration.version, migration.name, now);
    }).immediate();
  }
  return schemaVersion(db);
}
