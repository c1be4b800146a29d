import { randomUUID } from 'node:crypto';
import { newApiKeyRecord } from '../arguments.ts';
import type { ApiKeyRepo, OAuthClientRepo } from '../types.ts';
import type { ApiKeyRow, ClientRow } from '../rows.ts';
import type { WriteBatcher } from './batcher.ts';
import { type Connection, conflict, json, fromRow } from './database.ts';

export function sqliteApiKeys(conn: Connection, batcher: WriteBatcher): ApiKeyRepo {
  return {
    async create(input) {
      const record = newApiKeyRecord(input, input.id ?? randomUUID(), conn.now());
      try {
        conn
          .stmt(
            `INSERT INTO api_keys (id, kind, key_hash, hint, name, tenant, subject, scopes, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            record.id,
            record.kind,
            record.keyHash,
            record.hint,
            record.name,
            record.tenant,
            record.subject,
            json(record.scopes),
            record.createdAt,
            record.expiresAt,
          );
      } catch (error) {
        conflict(error, 'API key');
      }
      return record;
    },

    async findByHash(keyHash) {
      const row = conn.stmt<ApiKeyRow<string>>('SELECT * FROM api_keys WHERE key_hash = ?').get(keyHash);
      return row && fromRow.apiKey(row);
    },

    async list(filter) {
      const rows = conn
        .stmt<ApiKeyRow<string>>(
          `SELECT * FROM api_keys
           WHERE (@tenant IS NULL OR tenant = @tenant) AND (@subject IS NULL OR subject = @subject)
             AND (@kind IS NULL OR kind = @kind)
           ORDER BY created_at DESC, rowid DESC`,
        )
        .all({ tenant: filter.tenant ?? null, subject: filter.subject ?? null, kind: filter.kind ?? null });
      return rows.map(fromRow.apiKey);
    },

    async revoke(id, scope) {
      const result = conn
        .stmt(
          `UPDATE api_keys SET revoked_at = @now
           WHERE id = @id AND revoked_at IS NULL AND (@tenant IS NULL OR tenant = @tenant)`,
        )
        .run({ now: conn.now(), id, tenant: scope?.tenant ?? null });
      return result.changes === 1;
    },

    async touch(id, at) {
      const when = at ?? conn.now();
      // Called on every authenticated request: rides the group commit instead of its own fsync.
      await batcher.enqueue(() =>
        conn.stmt('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(when, id),
      );
    },
  };
}

export function sqliteOAuthClients(conn: Connection): OAuthClientRepo {
  return {
    async register(input) {
      const row: ClientRow<string, string> = {
        client_id: input.clientId,
        secret_hash: input.secretHash ?? null,
        token_endpoint_auth_method: input.tokenEndpointAuthMethod,
        redirect_uris: json([...input.redirectUris]),
        name: input.name ?? null,
        metadata: json(input.metadata ?? {}),
        created_at: conn.now(),
        last_used_at: null,
      };
      try {
        conn
          .stmt(
            `INSERT INTO oauth_clients (client_id, secret_hash, token_endpoint_auth_method, redirect_uris, name,
               metadata, created_at, last_used_at)
             VALUES (@client_id, @secret_hash, @token_endpoint_auth_method, @redirect_uris, @name,
               @metadata, @created_at, @last_used_at)`,
          )
          .run(row);
      } catch (error) {
        conflict(error, 'client');
      }
      return fromRow.client(row);
    },

    async get(clientId) {
      const row = conn.stmt<ClientRow<string, string>>('SELECT * FROM oauth_clients WHERE client_id = ?').get(clientId);
      return row && fromRow.client(row);
    },

    async touch(clientId, at) {
      conn
        .stmt('UPDATE oauth_clients SET last_used_at = ? WHERE client_id = ?')
        .run(at ?? conn.now(), clientId);
    },

    async deleteUnused(createdBefore) {
      // RFC 7591 leaves expiry to the server; SECURITY.md 16: unused registrations expire.
      const result = conn
        .stmt(
          `DELETE FROM oauth_clients
           WHERE created_at < ? AND last_used_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM grants WHERE grants.client_id = oauth_clients.client_id)`,
        )
        .run(createdBefore);
      return result.changes;
    },
  };
}
