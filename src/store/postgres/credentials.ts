import { randomUUID } from 'node:crypto';
import { newApiKeyRecord } from '../arguments.ts';
import type { ApiKeyRepo, OAuthClientRepo } from '../types.ts';
import type { ApiKeyRow, ClientRow } from '../rows.ts';
import type { WriteBatcher, WriteKind } from './batcher.ts';
import { type Database, type Tables, fromRow } from './database.ts';
import { conflict } from './errors.ts';

/**
 * Key touches of one batch in one UPDATE: the last touch of a key wins (as if run in turn), and
 * rows are updated in id order (see WriteKind.order).
 */
function touchKind(t: Tables): WriteKind<{ id: string; at: number }, void> {
  return {
    order: 2,
    params: 2,
    sql(first, from) {
      return `UPDATE ${t.apiKeys} AS k SET last_used_at = v.at
    FROM ${from}unnest($${first}::text[], $${first + 1}::bigint[]) AS v (id, at) WHERE k.id = v.id`;
    },
    values(inputs) {
      const last = new Map<string, number>();
      for (const { id, at } of inputs) last.set(id, at);
      const ids = [...last.keys()].sort();
      return [ids, ids.map((id) => last.get(id))];
    },
    outputs: (inputs) => inputs.map(() => undefined),
  };
}

export function postgresApiKeys(db: Database, batcher: WriteBatcher): ApiKeyRepo {
  const t = db.tables;
  const touches = touchKind(t);
  return {
    async create(input) {
      db.assertOpen();
      const record = newApiKeyRecord(input, input.id ?? randomUUID(), db.now());
      try {
        await db.query(
          `INSERT INTO ${t.apiKeys} (id, kind, key_hash, hint, name, tenant, subject, scopes, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            record.id,
            record.kind,
            record.keyHash,
            record.hint,
            record.name,
            record.tenant,
            record.subject,
            record.scopes,
            record.createdAt,
            record.expiresAt,
          ],
        );
      } catch (error) {
        conflict(error, 'API key');
      }
      return record;
    },

    async findByHash(keyHash) {
      const [row] = await db.query<ApiKeyRow<string[]>>(`SELECT * FROM ${t.apiKeys} WHERE key_hash = $1`, [keyHash]);
      return row && fromRow.apiKey(row);
    },

    async list(filter) {
      const rows = await db.query<ApiKeyRow<string[]>>(
        `SELECT * FROM ${t.apiKeys}
         WHERE ($1::text IS NULL OR tenant = $1) AND ($2::text IS NULL OR subject = $2)
           AND ($3::text IS NULL OR kind = $3)
         ORDER BY created_at DESC, ord DESC`,
        [filter.tenant ?? null, filter.subject ?? null, filter.kind ?? null],
      );
      return rows.map(fromRow.apiKey);
    },

    async revoke(id, scope) {
      const changed = await db.count(
        `UPDATE ${t.apiKeys} SET revoked_at = $1
         WHERE id = $2 AND revoked_at IS NULL AND ($3::text IS NULL OR tenant = $3)`,
        [db.now(), id, scope?.tenant ?? null],
      );
      return changed === 1;
    },

    async touch(id, at) {
      // Called on every authenticated request: rides the group commit instead of its own commit.
      await batcher.enqueue(touches, { id, at: at ?? db.now() });
    },
  };
}

export function postgresOAuthClients(db: Database): OAuthClientRepo {
  const t = db.tables;
  return {
    async register(input) {
      db.assertOpen();
      const metadata = JSON.stringify(input.metadata ?? {});
      const row: ClientRow<string[], unknown> = {
        client_id: input.clientId,
        secret_hash: input.secretHash ?? null,
        token_endpoint_auth_method: input.tokenEndpointAuthMethod,
        redirect_uris: [...input.redirectUris],
        name: input.name ?? null,
        // What a read returns: the JSON text parsed, exactly as SQLite's adapter hands it out.
        metadata: JSON.parse(metadata) as Record<string, unknown>,
        created_at: db.now(),
        last_used_at: null,
      };
      try {
        await db.query(
          `INSERT INTO ${t.oauthClients} (client_id, secret_hash, token_endpoint_auth_method, redirect_uris, name,
             metadata, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [
            row.client_id,
            row.secret_hash,
            row.token_endpoint_auth_method,
            row.redirect_uris,
            row.name,
            metadata,
            row.created_at,
          ],
        );
      } catch (error) {
        conflict(error, 'client');
      }
      return fromRow.client(row);
    },

    async get(clientId) {
      const [row] = await db.query<ClientRow<string[], unknown>>(`SELECT * FROM ${t.oauthClients} WHERE client_id = $1`, [clientId]);
      return row && fromRow.client(row);
    },

    async touch(clientId, at) {
      await db.count(`UPDATE ${t.oauthClients} SET last_used_at = $1 WHERE client_id = $2`, [
        at ?? db.now(),
        clientId,
      ]);
    },

    async deleteUnused(createdBefore) {
      // RFC 7591 leaves expiry to the server; SECURITY.md 16: unused registrations expire.
      return db.count(
        `DELETE FROM ${t.oauthClients} AS c
         WHERE created_at < $1 AND last_used_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM ${t.grants} AS g WHERE g.client_id = c.client_id)`,
        [createdBefore],
      );
    },
  };
}
