import type {
  ApiKeyKind,
  ApiKeyRecord,
  AuditRecord,
  GrantRecord,
  OAuthClientRecord,
  TokenEndpointAuthMethod,
  TokenKind,
  TokenRecord,
} from './types.ts';

/*
 * The rows of the SQL adapters and how they become records. The two adapters differ only in how a
 * list or a JSON document is stored: SQLite keeps both as JSON text, Postgres as text[] and jsonb
 * (which its driver hands back decoded). `L` is a list column's type, `J` a JSON column's.
 */

/** How one adapter reads back a list column and a (non-null) JSON column. */
export interface Decode<L, J> {
  list(value: L): string[];
  json(value: J): unknown;
}

export interface GrantRow<L> {
  id: string;
  client_id: string;
  subject: string;
  tenant: string;
  scopes: L;
  resource: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface TokenRow<L> {
  token_hash: string;
  kind: TokenKind;
  grant_id: string;
  client_id: string;
  subject: string;
  tenant: string;
  scopes: L;
  resource: string;
  redirect_uri: string | null;
  code_challenge: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
}

export interface ApiKeyRow<L> {
  id: string;
  kind: ApiKeyKind;
  key_hash: string;
  hint: string;
  name: string;
  tenant: string;
  subject: string;
  scopes: L;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface ClientRow<L, J> {
  client_id: string;
  secret_hash: string | null;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  redirect_uris: L;
  name: string | null;
  metadata: J;
  created_at: number;
  last_used_at: number | null;
}

export interface AuditRow<J> {
  seq: number;
  at: number;
  event: string;
  outcome: string;
  subject: string | null;
  tenant: string | null;
  client: string | null;
  via: string | null;
  tool: string | null;
  args_digest: string | null;
  args: J | null;
  resource_id: string | null;
  reason: string | null;
  latency_ms: number | null;
  request_id: string | null;
  detail: J | null;
}

/** The row-to-record mappers of one adapter. */
export function rowMappers<L, J>(d: Decode<L, J>) {
  return {
    grant: (r: GrantRow<L>): GrantRecord => ({
      id: r.id,
      clientId: r.client_id,
      subject: r.subject,
      tenant: r.tenant,
      scopes: d.list(r.scopes),
      resource: r.resource,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      revokedAt: r.revoked_at,
    }),

    token: (r: TokenRow<L>): TokenRecord => ({
      tokenHash: r.token_hash,
      kind: r.kind,
      grantId: r.grant_id,
      clientId: r.client_id,
      subject: r.subject,
      tenant: r.tenant,
      scopes: d.list(r.scopes),
      resource: r.resource,
      redirectUri: r.redirect_uri,
      codeChallenge: r.code_challenge,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      usedAt: r.used_at,
      revokedAt: r.revoked_at,
    }),

    apiKey: (r: ApiKeyRow<L>): ApiKeyRecord => ({
      id: r.id,
      kind: r.kind,
      keyHash: r.key_hash,
      hint: r.hint,
      name: r.name,
      tenant: r.tenant,
      subject: r.subject,
      scopes: d.list(r.scopes),
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      lastUsedAt: r.last_used_at,
      revokedAt: r.revoked_at,
    }),

    client: (r: ClientRow<L, J>): OAuthClientRecord => ({
      clientId: r.client_id,
      secretHash: r.secret_hash,
      tokenEndpointAuthMethod: r.token_endpoint_auth_method,
      redirectUris: d.list(r.redirect_uris),
      name: r.name,
      metadata: d.json(r.metadata) as Record<string, unknown>,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
    }),

    audit: (r: AuditRow<J>): AuditRecord => ({
      seq: r.seq,
      at: r.at,
      event: r.event,
      outcome: r.outcome,
      subject: r.subject,
      tenant: r.tenant,
      client: r.client,
      via: r.via,
      tool: r.tool,
      argsDigest: r.args_digest,
      args: r.args === null ? null : d.json(r.args),
      resourceId: r.resource_id,
      reason: r.reason,
      latencyMs: r.latency_ms,
      requestId: r.request_id,
      detail: r.detail === null ? null : (d.json(r.detail) as Record<string, unknown>),
    }),
  };
}
