import { StoreError } from './errors.ts';
import type { ApiKeyRecord, NewApiKey } from './types.ts';

/** Argument checks shared by every adapter, so they all refuse the same inputs the same way. */

const invalid = (message: string): StoreError => new StoreError('GW_STORE_INVALID', message);

export function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0)
    throw invalid(`ttlMs must be a positive integer, got ${ttlMs}`);
}

export function checkIncrement(by: number): void {
  if (!Number.isSafeInteger(by)) throw invalid(`increment must be a safe integer, got ${by}`);
}

/** A counter's stored string, read the way Redis INCRBY reads it. */
export function parseCounter(key: string, value: string): number {
  const n = /^-?(0|[1-9]\d*)$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`value at "${key}" is not an integer`);
  return n;
}

export function checkCount(count: number): void {
  if (!Number.isSafeInteger(count) || count <= 0)
    throw invalid(`count must be a positive integer, got ${count}`);
}

export const AUDIT_LIMIT_DEFAULT = 100;
export const AUDIT_LIMIT_MAX = 1000;

export function auditLimit(limit: number | undefined): number {
  if (limit === undefined) return AUDIT_LIMIT_DEFAULT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > AUDIT_LIMIT_MAX) {
    throw invalid(`limit must be 1..${AUDIT_LIMIT_MAX}, got ${limit}`);
  }
  return limit;
}

export function checkScopes(scopes: readonly string[]): string[] {
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string'))
    throw invalid('scopes must be strings');
  return [...scopes];
}

/** A new API key's stored shape, built the same way by every adapter. */
export function newApiKeyRecord(input: NewApiKey, id: string, now: number): ApiKeyRecord {
  return {
    id,
    kind: input.kind,
    keyHash: input.keyHash,
    hint: input.hint ?? '',
    name: input.name ?? '',
    tenant: input.tenant,
    subject: input.subject,
    scopes: checkScopes(input.scopes),
    createdAt: now,
    expiresAt: input.expiresAt ?? null,
    lastUsedAt: null,
    revokedAt: null,
  };
}
