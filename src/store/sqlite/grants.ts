import { randomUUID } from 'node:crypto';
import { checkScopes } from '../arguments.ts';
import { consumeRefusal } from '../credential-state.ts';
import { StoreError } from '../errors.ts';
import type {
  ConsumeResult,
  GrantRecord,
  GrantRepo,
  NewToken,
  TokenRecord,
  TokenRepo,
} from '../types.ts';
import type { GrantRow, TokenRow } from '../rows.ts';
import { type Connection, conflict, json, fromRow } from './database.ts';

export function sqliteGrants(conn: Connection): GrantRepo {
  return {
    async create(input) {
      const record: GrantRecord = {
        id: input.id ?? randomUUID(),
        clientId: input.clientId,
        subject: input.subject,
        tenant: input.tenant,
        scopes: checkScopes(input.scopes),
        resource: input.resource,
        createdAt: conn.now(),
        expiresAt: input.expiresAt ?? null,
        revokedAt: null,
      };
      try {
        conn
          .stmt(
            `INSERT INTO grants (id, client_id, subject, tenant, scopes, resource, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            record.id,
            record.clientId,
            record.subject,
            record.tenant,
            json(record.scopes),
            record.resource,
            record.createdAt,
            record.expiresAt,
          );
      } catch (error) {
        conflict(error, 'grant');
      }
      return record;
    },

    async get(id) {
      const row = conn.stmt<GrantRow<string>>('SELECT * FROM grants WHERE id = ?').get(id);
      return row && fromRow.grant(row);
    },

    async listBySubject(subject, filter) {
      const rows = conn
        .stmt<GrantRow<string>>(
          `SELECT * FROM grants
           WHERE subject = @subject AND (@tenant IS NULL OR tenant = @tenant)
             AND (@all = 1 OR revoked_at IS NULL)
           ORDER BY created_at DESC, rowid DESC`,
        )
        .all({ subject, tenant: filter?.tenant ?? null, all: filter?.includeRevoked ? 1 : 0 });
      return rows.map(fromRow.grant);
    },

    async revoke(id, scope) {
      const now = conn.now();
      return conn.write(() => {
        const result = conn
          .stmt(
            `UPDATE grants SET revoked_at = @now
             WHERE id = @id AND revoked_at IS NULL
               AND (@subject IS NULL OR subject = @subject) AND (@tenant IS NULL OR tenant = @tenant)`,
          )
          .run({ now, id, subject: scope?.subject ?? null, tenant: scope?.tenant ?? null });
        if (result.changes === 0) return false;
        revokeTokensOf(conn, id, now);
        return true;
      });
    },
  };
}

function revokeTokensOf(conn: Connection, grantId: string, now: number): number {
  return conn
    .stmt('UPDATE tokens SET revoked_at = ? WHERE grant_id = ? AND revoked_at IS NULL')
    .run(now, grantId).changes;
}

/** Must run inside a write transaction. The grant's subject, tenant and client are copied over. */
function insertToken(conn: Connection, input: NewToken, now: number): TokenRecord {
  const grant = conn
    .stmt<GrantRow<string>>('SELECT * FROM grants WHERE id = ? AND revoked_at IS NULL')
    .get(input.grantId);
  if (!grant) throw new StoreError('GW_STORE_GRANT_INACTIVE', 'grant is unknown or revoked');
  const row: TokenRow<string> = {
    token_hash: input.tokenHash,
    kind: input.kind,
    grant_id: grant.id,
    client_id: grant.client_id,
    subject: grant.subject,
    tenant: grant.tenant,
    scopes: input.scopes ? json(checkScopes(input.scopes)) : grant.scopes,
    resource: input.resource ?? grant.resource,
    redirect_uri: input.redirectUri ?? null,
    code_challenge: input.codeChallenge ?? null,
    created_at: now,
    expires_at: input.expiresAt,
    used_at: null,
    revoked_at: null,
  };
  try {
    conn
      .stmt(
        `INSERT INTO tokens (token_hash, kind, grant_id, client_id, subject, tenant, scopes, resource,
           redirect_uri, code_challenge, created_at, expires_at, used_at, revoked_at)
         VALUES (@token_hash, @kind, @grant_id, @client_id, @subject, @tenant, @scopes, @resource,
           @redirect_uri, @code_challenge, @created_at, @expires_at, @used_at, @revoked_at)`,
      )
      .run(row);
  } catch (error) {
    conflict(error, 'token');
  }
  return fromRow.token(row);
}

export function sqliteTokens(conn: Connection): TokenRepo {
  return {
    async insert(input) {
      const now = conn.now();
      return conn.write(() => insertToken(conn, input, now));
    },

    async findByHash(tokenHash) {
      const row = conn.stmt<TokenRow<string>>('SELECT * FROM tokens WHERE token_hash = ?').get(tokenHash);
      return row && fromRow.token(row);
    },

    async consume(tokenHash, kind, issue = []): Promise<ConsumeResult> {
      const now = conn.now();
      // One IMMEDIATE transaction: the conditional UPDATE is the single-use gate (one winner even
      // across processes), and the replacement tokens commit or roll back with it.
      return conn.write((): ConsumeResult => {
        const won = conn
          .stmt<TokenRow<string>>(
            `UPDATE tokens SET used_at = @now
             WHERE token_hash = @hash AND kind = @kind
               AND used_at IS NULL AND revoked_at IS NULL AND expires_at > @now
             RETURNING *`,
          )
          .get({ now, hash: tokenHash, kind });
        if (won) {
          const issued = issue.map((t) => insertToken(conn, { ...t, grantId: won.grant_id }, now));
          return { ok: true, token: fromRow.token(won), issued };
        }
        const row = conn.stmt<TokenRow<string>>('SELECT * FROM tokens WHERE token_hash = ?').get(tokenHash);
        if (!row || row.kind !== kind) return { ok: false, reason: 'not_found' };
        const token = fromRow.token(row);
        return { ok: false, reason: consumeRefusal(token, now), token };
      });
    },

    async revoke(tokenHash) {
      const result = conn
        .stmt('UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL')
        .run(conn.now(), tokenHash);
      return result.changes === 1;
    },

    async revokeByGrant(grantId) {
      return revokeTokensOf(conn, grantId, conn.now());
    },

    async purgeExpired(before) {
      return conn.stmt('DELETE FROM tokens WHERE expires_at < ?').run(before).changes;
    },
  };
}
