import { errorReply, type HttpReply } from '../transport/replies.ts';
import { RpcError } from '../errors.ts';

/**
 * 401 and 403 answers of the resource server, in one place. RFC 6750 3 (Bearer challenges),
 * RFC 9728 5.1 (`resource_metadata`), MCP authorization "Scope challenge handling" (403
 * `insufficient_scope` naming every scope the request needs).
 */
export type ChallengeError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/** Quoted-string per RFC 9110 5.6.4: our values never hold quotes or backslashes, but be safe. */
const quoted = (v: string) => `"${v.replace(/["\\]/g, '')}"`;

export function bearerChallenge(o: {
  resourceMetadata: string | null;
  error?: ChallengeError;
  description?: string;
  scopes?: readonly string[];
  apiKeyHeader?: string | null;
}): string {
  const params: string[] = [];
  if (o.resourceMetadata) params.push(`resource_metadata=${quoted(o.resourceMetadata)}`);
  if (o.error) params.push(`error=${quoted(o.error)}`);
  if (o.description) params.push(`error_description=${quoted(o.description)}`);
  if (o.scopes?.length) params.push(`scope=${quoted(o.scopes.join(' '))}`);
  const challenges: string[] = [];
  if (o.resourceMetadata) challenges.push(`Bearer ${params.join(', ')}`);
  // Not a registered scheme, but it tells a person with curl which header to use.
  if (o.apiKeyHeader) {
    const extra = `${o.error ? `, error=${quoted(o.error)}` : ''}${o.error === 'insufficient_scope' && o.scopes?.length ? `, scope=${quoted(o.scopes.join(' '))}` : ''}`;
    challenges.push(`ApiKey header=${quoted(o.apiKeyHeader)}${extra}`);
  }
  if (challenges.length === 0) challenges.push(`Bearer ${params.join(', ')}`.trim());
  return challenges.join(', ');
}

const STATUS: Record<ChallengeError | 'missing', number> = {
  missing: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
};

/** A refusal with its challenge and a JSON-RPC error body a person can read. */
export function refusal(kind: ChallengeError | 'missing', message: string, challenge: string): HttpReply {
  const status = STATUS[kind];
  return errorReply(null, new RpcError(-32600, message, kind === 'missing' ? undefined : { error: kind }, status), {
    'www-authenticate': challenge,
  });
}
