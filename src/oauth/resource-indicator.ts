import { OAuthError } from './oauth-error.ts';

/**
 * RFC 8707 2 (SECURITY 20): `resource` must be an absolute URI without a fragment, and the only
 * resource this server protects is its canonical MCP URL. Absent, the canonical one is bound
 * anyway, so every code and token carries its audience.
 */
export function boundResource(value: string | undefined, canonical: string): string {
  if (value === undefined) return canonical;
  if (value.includes('#')) throw new OAuthError('invalid_target', 'the resource must not contain a fragment (RFC 8707 2)');
  try {
    new URL(value);
  } catch {
    throw new OAuthError('invalid_target', 'the resource must be an absolute URI (RFC 8707 2)');
  }
  if (value !== canonical) throw new OAuthError('invalid_target', 'this server only issues tokens for its own MCP resource');
  return canonical;
}

/** The `resource` parameter: repeated values name several resources, which this server never serves. */
export function resourceParam(params: URLSearchParams): string | undefined {
  const all = params.getAll('resource');
  if (all.length > 1) throw new OAuthError('invalid_target', 'only one resource can be requested');
  return all[0] === '' ? undefined : all[0];
}
