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
import { type Database, type Run, type Tables, fromRow } from './database.ts';
import { conflict } from './errors.ts';

/*
 * Locking. SQLite serialises every write transaction; Postgres runs READ COMMITTED, so the writes
 * that must not interleave lock the grant row first, always in the order grant -> tokens:
 * - issuing a token (insert, consume) takes FOR SHARE on its grant: issuers of one grant run side by
 *   side, but a revocation waits for them, and its token UPDATE (a new statement, a new snapshot)
 *   then sees the tokens they issued. Without it a token could be issued under a grant just revoked.
 * - grants.revoke and tokens.revokeByGrant lock the grant row for update before touching tokens.
 * The single-use gate itself is the conditional UPDATE: of concurrent consumers one updates the
 * row, the others wait on its row lock, re-check `used_at IS NULL` and match nothing.
 */

export function postgresGrants(db: Database): GrantRepo {
  const t = db.tables;
  return {
    async create(input) {
      db.assertOpen();
      const record: GrantRecord = {
        id: input.id ?? randomUUID(),
        clientId: input.clientId,
        subject: input.subject,
        tenant: input.tenant,
        scopes: checkScopes(input.scopes),
        resource: input.resource,
        createdAt: db.now(),
        expiresAt: input.expiresAt ?? null,
        revokedAt: null,
      };
      try {
        await db.query(
          `INSERT INTO ${t.grants} (id, client_id, subject, tenant, scopes, resource, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            record.id,
            record.clientId,
            record.subject,
            record.tenant,
            record.scopes,
            record.resource,
            record.createdAt,
            record.expiresAt,
          ],
        );
      } catch (error) {
        conflict(error, 'grant');
      }
      return record;
    },

    async get(id) {
      const [row] = await db.query<GrantRow<string[]>>(`SELECT * FROM ${t.grants} WHERE id = $1`, [id]);
      return row && fromRow.grant(row);
    },

    async listBySubject(subject, filter) {
      const rows = await db.query<GrantRow<string[]>>(
        `SELECT * FROM ${t.grants}
         WHERE subject = $1 AND ($2::text IS NULL OR tenant = $2) AND ($3 OR revoked_at IS NULL)
         ORDER BY created_at DESC, ord DESC`,
        [subject, filter?.tenant ?? null, filter?.includeRevoked === true],
      );
      return rows.map(fromRow.grant);
    },

    async revoke(id, scope) {
      const now = db.now();
      return db.transaction(async (run) => {
        const revoked = await run(
          `UPDATE ${t.grants} SET revoked_at = $1
           WHERE id = $2 AND revoked_at IS NULL
             AND ($3::text IS NULL OR subject = $3) AND ($4::text IS NULL OR tenant = $4)
           RETURNING id`,
          [now, id, scope?.subject ?? null, scope?.tenant ?? null],
        );
        if (revoked.length === 0) return false;
        await revokeTokensOf(run, t, id, now);
        return true;
      });
    },
  };
}

async function revokeTokensOf(run: Run, t: Tables, grantId: string, now: number): Promise<number> {
  const rows = await run(
    `UPDATE ${t.tokens} SET revoked_at = $1 WHERE grant_id = $2 AND revoked_at IS NULL RETURNING 1`,
    [now, grantId],
  );
  return rows.length;
}

/**
 * One statement: copies subject, tenant and client from the grant, which it locks FOR SHARE, and
 * inserts nothing when the grant is unknown or revoked.
 */
async function insertToken(run: Run, t: Tables, input: NewToken, now: number): Promise<TokenRecord> {
  let rows: TokenRow<string[]>[];
  try {
    rows = await run<TokenRow<string[]>>(
      `INSERT INTO ${t.tokens} (token_hash, kind, grant_id, client_id, subject, tenant, scopes, resource,
         redirect_uri, code_challenge, created_at, expires_at)
       SELECT $1, $2, g.id, g.client_id, g.subject, g.tenant, COALESCE($3::text[], g.scopes),
         COALESCE($4::text, g.resource), $5, $6, $7, $8
       FROM ${t.grants} AS g WHERE g.id = $9 AND g.revoked_at IS NULL
       FOR SHARE OF g
       RETURNING *`,
      [
        input.tokenHash,
        input.kind,
        input.scopes ? checkScopes(input.scopes) : null,
        input.resource ?? null,
        input.redirectUri ?? null,
        input.codeChallenge ?? null,
        now,
        input.expiresAt,
        input.grantId,
      ],
    );
  } catch (error) {
    conflict(error, 'token');
  }
  const [row] = rows;
  if (!row) throw new StoreError('GW_STORE_GRANT_INACTIVE', 'grant is unknown or revoked');
  return fromRow.token(row);
}

export function postgresTokens(db: Database): TokenRepo {
  const t = db.tables;
  return {
    async insert(input) {
      // One statement, so autocommit: it is its own transaction.
      return insertToken(db.run, t, input, db.now());
    },

    async findByHash(tokenHash) {
      const [row] = await db.query<TokenRow<string[]>>(`SELECT * FROM ${t.tokens} WHERE token_hash = $1`, [tokenHash]);
      return row && fromRow.token(row);
    },

    async consume(tokenHash, kind, issue = []): Promise<ConsumeResult> {
      const now = db.now();
      // One transaction: the conditional UPDATE is the single-use gate (one winner across every
      // process and connection), and the replacement tokens commit or roll back with it.
      return db.transaction(async (run): Promise<ConsumeResult> => {
        if (issue.length > 0) {
          // Grant before token, like revocation (see the top of this file): no deadlock, no token
          // issued under a grant revoked meanwhile.
          await run(
            `SELECT 1 FROM ${t.tokens} AS tk JOIN ${t.grants} AS g ON g.id = tk.grant_id
             WHERE tk.token_hash = $1 FOR SHARE OF g`,
            [tokenHash],
          );
        }
        const [won] = await run<TokenRow<string[]>>(
          `UPDATE ${t.tokens} SET used_at = $1
           WHERE token_hash = $2 AND kind = $3
             AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1
           RETURNING *`,
          [now, tokenHash, kind],
        );
        if (won) {
          const issued: TokenRecord[] = [];
          for (const next of issue) issued.push(await insertToken(run, t, { ...next, grantId: won.grant_id }, now));
          return { ok: true, token: fromRow.token(won), issued };
        }
        const [row] = await run<TokenRow<string[]>>(`SELECT * FROM ${t.tokens} WHERE token_hash = $1`, [tokenHash]);
        if (!row || row.kind !== kind) return { ok: false, reason: 'not_found' };
        const token = fromRow.token(row);
        return { ok: false, reason: consumeRefusal(token, now), token };
      });
    },

    async revoke(tokenHash) {
      const changed = await db.count(
        `UPDATE ${t.tokens} SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL`,
        [db.now(), tokenHash],
      );
      return changed === 1;
    },

    async revokeByGrant(grantId) {
      const now = db.now();
      return db.transaction(async (run) => {
        await run(`SELECT 1 FROM ${t.grants} WHERE id = $1 FOR NO KEY UPDATE`, [grantId]);
        return revokeTokensOf(run, t, grantId, now);
      });
    },

    async purgeExpired(before) {
      return db.count(`DELETE FROM ${t.tokens} WHERE expires_at < $1`, [before]);
    },
  };
}
