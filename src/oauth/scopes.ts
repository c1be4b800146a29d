import { OAuthError } from './oauth-error.ts';

/** RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), space-delimited. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Parses a `scope` parameter: syntax errors are `invalid_scope`; order kept, duplicates removed. */
export function parseScope(raw: string): string[] {
  const tokens = raw.split(' ').filter((t) => t !== '');
  for (const t of tokens) if (!SCOPE_TOKEN.test(t)) throw new OAuthError('invalid_scope', 'the scope parameter is malformed');
  return [...new Set(tokens)];
}

/**
 * The scopes an authorization request asks for. No `scope` parameter: every scope the server
 * knows (RFC 6749 3.3 lets the server pick a default; the user still approves each one). Unknown
 * scopes are dropped rather than refused: RFC 6749 3.3 allows ignoring part of the request, and
 * clients often add `openid` or `offline_access`; the token response names what was granted.
 */
export function requestedScopes(raw: string | undefined, known: Readonly<Record<string, string>>): string[] {
  if (raw === undefined) return Object.keys(known);
  return parseScope(raw).filter((s) => Object.hasOwn(known, s));
}
