import { randomUUID } from 'node:crypto';
import { checkScopes } from '../arguments.ts';
import { StoreError } from '../errors.ts';
import type { ConsumeResult, GrantRecord, GrantRepo, NewToken, TokenRecord, TokenRepo } from '../types.ts';
import { copy, type MemoryState, newestFirst } from './state.ts';

export function memoryGrants(state: MemoryState): GrantRepo {
  return {
    async create(input) {
      state.open();
      const id = input.id ?? randomUUID();
      if (state.grants.has(id)) throw new StoreError('GW_STORE_CONFLICT', 'grant already exists');
      const record: GrantRecord = {
        id,
        clientId: input.clientId,
        subject: input.subject,
        tenant: input.tenant,
        scopes: checkScopes(input.scopes),
        resource: input.resource,
        createdAt: state.now(),
        expiresAt: input.expiresAt ?? null,
        revokedAt: null,
      };
      state.grants.set(id, record);
      return copy(record);
    },

    async get(id) {
      state.open();
      const record = state.grants.get(id);
      return record && copy(record);
    },

    async listBySubject(subject, filter) {
      state.open();
      const found = [...state.grants.values()].filter(
        (g) =>
          g.subject === subject &&
          (filter?.tenant === undefined || g.tenant === filter.tenant) &&
          (filter?.includeRevoked === true || g.revokedAt === null),
      );
      return newestFirst(found).map(copy);
    },

    async revoke(id, scope) {
      state.open();
      const grant = state.grants.get(id);
      if (!grant || grant.revokedAt !== null) return false;
      if (scope?.subject !== undefined && grant.subject !== scope.subject) return false;
      if (scope?.tenant !== undefined && grant.tenant !== scope.tenant) return false;
      const now = state.now();
      grant.revokedAt = now;
      revokeTokensOf(state, id, now);
      return true;
    },
  };
}

function revokeTokensOf(state: MemoryState, grantId: string, now: number): number {
  let revoked = 0;
  for (const token of state.tokens.values()) {
    if (token.grantId === grantId && token.revokedAt === null) {
      token.revokedAt = now;
      revoked++;
    }
  }
  return revoked;
}

/** Builds the record without storing it, so a batch can be checked whole before any write. */
function build(state: MemoryState, input: NewToken, now: number): TokenRecord {
  const grant = state.grants.get(input.grantId);
  if (!grant || grant.revokedAt !== null) {
    throw new StoreError('GW_STORE_GRANT_INACTIVE', 'grant is unknown or revoked');
  }
  if (state.tokens.has(input.tokenHash)) throw new StoreError('GW_STORE_CONFLICT', 'token already exists');
  return {
    tokenHash: input.tokenHash,
    kind: input.kind,
    grantId: grant.id,
    clientId: grant.clientId,
    subject: grant.subject,
    tenant: grant.tenant,
    scopes: checkScopes(input.scopes ?? grant.scopes),
    resource: input.resource ?? grant.resource,
    redirectUri: input.redirectUri ?? null,
    codeChallenge: input.codeChallenge ?? null,
    createdAt: now,
    expiresAt: input.expiresAt,
    usedAt: null,
    revokedAt: null,
  };
}

function insertAll(state: MemoryState, inputs: readonly NewToken[], now: number): TokenRecord[] {
  const records = inputs.map((input) => build(state, input, now));
  if (new Set(records.map((r) => r.tokenHash)).size !== records.length) {
    throw new StoreError('GW_STORE_CONFLICT', 'duplicate token hash in one insert');
  }
  for (const record of records) state.tokens.set(record.tokenHash, record);
  return records.map(copy);
}

export function memoryTokens(state: MemoryState): TokenRepo {
  return {
    async insert(input) {
      state.open();
      const [record] = insertAll(state, [input], state.now());
      return record!;
    },

    async findByHash(tokenHash) {
      state.open();
      const record = state.tokens.get(tokenHash);
      return record && copy(record);
    },

    async consume(tokenHash, kind, issue = []): Promise<ConsumeResult> {
      state.open();
      const now = state.now();
      const token = state.tokens.get(tokenHash);
      if (!token || token.kind !== kind) return { ok: false, reason: 'not_found' };
      if (token.revokedAt !== null) return { ok: false, reason: 'revoked', token: copy(token) };
      if (token.usedAt !== null) return { ok: false, reason: 'reused', token: copy(token) };
      if (token.expiresAt <= now) return { ok: false, reason: 'expired', token: copy(token) };
      // Insert first: if it throws, the token stays unused, as in a rolled-back transaction.
      const issued = insertAll(
        state,
        issue.map((t) => ({ ...t, grantId: token.grantId })),
        now,
      );
      token.usedAt = now;
      return { ok: true, token: copy(token), issued };
    },

    async revoke(tokenHash) {
      state.open();
      const token = state.tokens.get(tokenHash);
      if (!token || token.revokedAt !== null) return false;
      token.revokedAt = state.now();
      return true;
    },

    async revokeByGrant(grantId) {
      state.open();
      return revokeTokensOf(state, grantId, state.now());
    },

    async purgeExpired(before) {
      state.open();
      let deleted = 0;
      for (const [hash, token] of state.tokens) {
        if (token.expiresAt < before) {
          state.tokens.delete(hash);
          deleted++;
        }
      }
      return deleted;
    },
  };
}
