/**
 * Storage contracts. Two interfaces, every adapter passes one contract suite (test/store/contract.ts):
 * - `Store`: durable records, as narrow typed repositories;
 * - `Ephemeral`: short-lived shared state with TTLs, each operation one atomic step
 *   (one Redis command or script later).
 * Every method is async because the Postgres and Redis adapters will be.
 * Times are milliseconds since the Unix epoch. Secrets never reach a store: fields named `*Hash`
 * hold a hash computed by the caller.
 */

/** Milliseconds since the Unix epoch. Adapters read time only through this (tests inject it). */
export type Clock = () => number;

export interface AdapterOptions {
  now?: Clock;
}

// ---------------------------------------------------------------------------------------------
// API keys and management tokens

export type ApiKeyKind = 'api_key' | 'management';

export interface ApiKeyRecord {
  id: string;
  kind: ApiKeyKind;
  keyHash: string;
  /** Non-secret display hint (e.g. `gw_…a1b2`), never enough to use the key. */
  hint: string;
  name: string;
  tenant: string;
  subject: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface NewApiKey {
  /** Defaults to a random UUID. */
  id?: string;
  kind: ApiKeyKind;
  keyHash: string;
  hint?: string;
  name?: string;
  tenant: string;
  subject: string;
  scopes: readonly string[];
  expiresAt?: number | null;
}

export interface ApiKeyRepo {
  /** Rejects with GW_STORE_CONFLICT when the id or hash exists. */
  create(input: NewApiKey): Promise<ApiKeyRecord>;
  /** Returns revoked and expired keys too: check with `credentialState`. */
  findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** Newest first. */
  list(filter: { tenant?: string; subject?: string; kind?: ApiKeyKind }): Promise<ApiKeyRecord[]>;
  /** True when an active key was revoked now. With `tenant`, another tenant's key counts as unknown. */
  revoke(id: string, scope?: { tenant?: string }): Promise<boolean>;
  touch(id: string, at?: number): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// OAuth clients registered through RFC 7591 (Client ID Metadata Documents are fetched, not stored)

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

export interface OAuthClientRecord {
  clientId: string;
  secretHash: string | null;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  redirectUris: string[];
  name: string | null;
  /** The registration metadata as accepted (already validated by oauth/), echoed on read. */
  metadata: Record<string, unknown>;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface NewOAuthClient {
  clientId: string;
  secretHash?: string | null;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  redirectUris: readonly string[];
  name?: string | null;
  metadata?: Record<string, unknown>;
}

export interface OAuthClientRepo {
  /** Rejects with GW_STORE_CONFLICT when the client id exists. */
  register(input: NewOAuthClient): Promise<OAuthClientRecord>;
  get(clientId: string): Promise<OAuthClientRecord | undefined>;
  touch(clientId: string, at?: number): Promise<void>;
  /** Deletes clients created before `createdBefore`, never used and holding no grant. Returns the count. */
  deleteUnused(createdBefore: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Grants (one user's consent to one client) and the tokens issued under them

export interface GrantRecord {
  id: string;
  clientId: string;
  subject: string;
  tenant: string;
  scopes: string[];
  /** RFC 8707 resource the grant is bound to. */
  resource: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export interface NewGrant {
  id?: string;
  clientId: string;
  subject: string;
  tenant: string;
  scopes: readonly string[];
  resource: string;
  expiresAt?: number | null;
}

export interface GrantRepo {
  create(input: NewGrant): Promise<GrantRecord>;
  get(id: string): Promise<GrantRecord | undefined>;
  /** Newest first; revoked grants only when asked. */
  listBySubject(
    subject: string,
    filter?: { tenant?: string; includeRevoked?: boolean },
  ): Promise<GrantRecord[]>;
  /**
   * Revokes the grant and every token issued under it, in one step. True when an active grant was
   * revoked now. With a scope, a grant of another subject/tenant counts as unknown.
   */
  revoke(id: string, scope?: { subject?: string; tenant?: string }): Promise<boolean>;
}

export type TokenKind = 'access' | 'refresh' | 'code';

export interface TokenRecord {
  tokenHash: string;
  kind: TokenKind;
  grantId: string;
  /** Copied from the grant at insert time. */
  clientId: string;
  subject: string;
  tenant: string;
  /** At most the grant's scopes (a refresh may narrow them). */
  scopes: string[];
  resource: string;
  /** Codes only: the redirect URI and PKCE S256 challenge the code is bound to. */
  redirectUri: string | null;
  codeChallenge: string | null;
  createdAt: number;
  expiresAt: number;
  /** Code redeemed or refresh token rotated. */
  usedAt: number | null;
  revokedAt: number | null;
}

export interface NewToken {
  tokenHash: string;
  kind: TokenKind;
  grantId: string;
  /** Default to the grant's. */
  scopes?: readonly string[];
  resource?: string;
  redirectUri?: string | null;
  codeChallenge?: string | null;
  expiresAt: number;
}

export type ConsumeResult =
  | { ok: true; token: TokenRecord; issued: TokenRecord[] }
  | {
      ok: false;
      /** `reused`: already redeemed/rotated; RFC 9700 4.14 wants the caller to revoke the grant. */
      reason: 'not_found' | 'expired' | 'revoked' | 'reused';
      token?: TokenRecord;
    };

export interface TokenRepo {
  /** Rejects with GW_STORE_GRANT_INACTIVE when the grant is unknown or revoked, GW_STORE_CONFLICT on a known hash. */
  insert(input: NewToken): Promise<TokenRecord>;
  /** Returns used, revoked and expired tokens too: check with `credentialState`. */
  findByHash(tokenHash: string): Promise<TokenRecord | undefined>;
  /**
   * Single use, atomically: marks an active code or refresh token used and inserts `issue` (same
   * grant) in the same step. Of concurrent callers exactly one gets `ok: true`. A token of another
   * kind reads as `not_found`. Check PKCE/client/redirect with `findByHash` first: a failed check
   * must not burn the code.
   */
  consume(
    tokenHash: string,
    kind: 'code' | 'refresh',
    issue?: readonly Omit<NewToken, 'grantId'>[],
  ): Promise<ConsumeResult>;
  /** True when an unrevoked token was revoked now. */
  revoke(tokenHash: string): Promise<boolean>;
  /** Revokes every token of a grant; returns how many were revoked now. */
  revokeByGrant(grantId: string): Promise<number>;
  /**
   * Deletes tokens with `expiresAt < before`; returns the count. Keep a margin past expiry: a purged
   * code's replay reads `not_found`, no longer `reused`.
   */
  purgeExpired(before: number): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// Audit: append-only. There is deliberately no update or delete.

export interface AuditEntry {
  /** Defaults to the adapter clock. */
  at?: number;
  /** e.g. `tool.call`, `auth.token`, `confirm.run`. */
  event: string;
  /** e.g. `ok`, `error`, `denied`. */
  outcome: string;
  subject?: string | null;
  tenant?: string | null;
  client?: string | null;
  via?: string | null;
  tool?: string | null;
  argsDigest?: string | null;
  /** Arguments already redacted by policy/ (JSON). Never a secret, never a token. */
  args?: unknown;
  resourceId?: string | null;
  reason?: string | null;
  latencyMs?: number | null;
  requestId?: string | null;
  detail?: Record<string, unknown> | null;
}

export interface AuditRecord {
  /** Strictly increasing in append order. */
  seq: number;
  at: number;
  event: string;
  outcome: string;
  subject: string | null;
  tenant: string | null;
  client: string | null;
  via: string | null;
  tool: string | null;
  argsDigest: string | null;
  args: unknown;
  resourceId: string | null;
  reason: string | null;
  latencyMs: number | null;
  requestId: string | null;
  detail: Record<string, unknown> | null;
}

export interface AuditQuery {
  /** Inclusive. */
  from?: number;
  /** Exclusive. */
  to?: number;
  subject?: string;
  tenant?: string;
  tool?: string;
  event?: string;
  /** Cursor: only records with seq greater (asc) or smaller (desc) than this. */
  after?: number;
  order?: 'asc' | 'desc';
  /** 1..1000, default 100. */
  limit?: number;
}

export interface AuditLog {
  /** Resolves once the record is durable (group commit where the adapter has it). */
  append(entry: AuditEntry): Promise<AuditRecord>;
  /** All or nothing, consecutive seqs. */
  appendMany(entries: readonly AuditEntry[]): Promise<AuditRecord[]>;
  query(query?: AuditQuery): Promise<AuditRecord[]>;
}

// ---------------------------------------------------------------------------------------------
// Usage: call counts per tenant, credential, tool and UTC day

export interface UsageIncrement {
  tenant: string;
  /** Credential id (API key id, grant id, `anonymous`, ...). */
  credential: string;
  tool: string;
  /** Positive integer, default 1. */
  count?: number;
  /** Picks the UTC day bucket; defaults to the adapter clock. */
  at?: number;
}

export interface UsageMonthQuery {
  /** `YYYY-MM`, UTC. */
  month: string;
  tenant?: string;
  credential?: string;
  tool?: string;
}

export interface UsageMonth {
  month: string;
  total: number;
  byTool: Record<string, number>;
  /** Keyed `YYYY-MM-DD`. */
  byDay: Record<string, number>;
}

export interface UsageRepo {
  add(increment: UsageIncrement): Promise<void>;
  month(query: UsageMonthQuery): Promise<UsageMonth>;
}

// ---------------------------------------------------------------------------------------------

export interface Store {
  readonly kind: string;
  readonly apiKeys: ApiKeyRepo;
  readonly oauthClients: OAuthClientRepo;
  readonly grants: GrantRepo;
  readonly tokens: TokenRepo;
  readonly audit: AuditLog;
  readonly usage: UsageRepo;
  /** Cheap liveness check for /readyz; rejects when unusable. */
  ping(): Promise<void>;
  /** Waits for pending audit/usage writes, then releases resources. Idempotent. */
  close(): Promise<void>;
}

/**
 * Short-lived shared state. Values are strings; every entry has a TTL; an expired entry is never
 * returned. Each operation is atomic on its own.
 */
export interface Ephemeral {
  readonly kind: string;
  /**
   * Adds `by` (an integer) to the counter at `key`. The TTL is set when the key is created (absent or
   * expired) and is not extended by later increments. Returns the new value and the remaining TTL.
   * Rejects with GW_STORE_INVALID when the key holds a non-integer.
   */
  increment(key: string, by: number, ttlMs: number): Promise<{ value: number; ttlMs: number }>;
  /**
   * `increment` without the promise, offered only by adapters that complete it synchronously anyway
   * (memory, SQLite). The rate windows use it on every request when present; networked adapters
   * leave it out. Throws where `increment` rejects.
   */
  incrementNow?(key: string, by: number, ttlMs: number): { value: number; ttlMs: number };
  get(key: string): Promise<string | undefined>;
  /** Overwrites value and TTL. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** True when the key was absent (or expired) and is now set; a live key is left untouched. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Get and delete in one step: of concurrent consumers exactly one gets the value. */
  consume(key: string): Promise<string | undefined>;
  /** True when a live entry was deleted. */
  delete(key: string): Promise<boolean>;
  /**
   * Messages between the processes sharing this store (optional; networked adapters and memory):
   * delivered to every current subscriber of `channel` in any process, at most once, kept nowhere.
   * Rejects with GW_STORE_UNAVAILABLE when the message cannot be sent.
   */
  publish?(channel: string, message: string): Promise<void>;
  /** Calls `onMessage` for each message published on `channel` from now on, until the returned stop. */
  subscribe?(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
