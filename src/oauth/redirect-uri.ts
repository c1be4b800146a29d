/**
 * Redirect URIs: what a client may register, and how a presented one is matched.
 *
 * - OAuth 2.1 2.3.1 / RFC 9700 2.1 and 4.1.3: exact string comparison, no pattern, no prefix; the
 *   one exception is RFC 8252 7.3: a loopback redirect may use any port (native apps get an
 *   ephemeral one from the OS), while scheme, host, path and query still match exactly.
 * - SECURITY 16: https, or http on a loopback host only; no fragment (RFC 6749 3.1.2); no other
 *   scheme (`javascript:`, `data:`, custom schemes), no userinfo.
 */

const MAX_LENGTH = 2048;
/** `http://` + loopback host + optional port + the rest (path and query), exactly as sent. */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?([/?].*)?$/;

/** Why `uri` cannot be registered, or null when it can. */
export function redirectUriProblem(uri: unknown): string | null {
  if (typeof uri !== 'string' || uri.length === 0) return 'a redirect URI must be a non-empty string';
  if (uri.length > MAX_LENGTH) return `a redirect URI must be at most ${MAX_LENGTH} characters`;
  // The URL parser silently strips tabs, newlines and outer spaces: refuse them instead of guessing.
  if (/[\x00-\x20\x7f]/.test(uri)) return 'a redirect URI must not contain spaces or control characters';
  if (uri.includes('#')) return 'a redirect URI must not contain a fragment (RFC 6749 3.1.2)';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'a redirect URI must be an absolute URL';
  }
  if (url.username || url.password) return 'a redirect URI must not contain user information';
  if (url.protocol === 'https:') return url.hostname ? null : 'a redirect URI needs a host';
  if (url.protocol === 'http:') {
    const m = LOOPBACK.exec(uri);
    if (m && (m[2] === undefined || Number(m[2]) <= 65535)) return null;
    return 'http redirect URIs are allowed only on a loopback host (127.0.0.1, [::1], localhost)';
  }
  return `the ${url.protocol.replace(/:$/, '') || 'given'} scheme is not allowed: use https, or http on a loopback host`;
}

/** True when the URI is an http loopback redirect (RFC 8252 7.3). */
export function isLoopbackRedirect(uri: string): boolean {
  return LOOPBACK.test(uri);
}

/** Exact match against the registered list; for loopback redirects the port alone may differ. */
export function redirectUriMatches(registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return true;
  const p = LOOPBACK.exec(presented);
  if (!p || (p[2] !== undefined && Number(p[2]) > 65535)) return false;
  for (const r of registered) {
    const m = LOOPBACK.exec(r);
    if (m && m[1] === p[1] && (m[3] ?? '') === (p[3] ?? '')) return true;
  }
  return false;
}

/** The redirect URI with response parameters added to its query (RFC 6749 4.1.2: keep the existing query). */
export function withParams(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  return url.href;
}
