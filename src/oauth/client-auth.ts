import { hashSecret, safeEqual } from '../auth/secrets.ts';
import type { WebContext } from '../auth/web-context.ts';
import type { TokenEndpointAuthMethod } from '../store/types.ts';
import { type OAuthClient, resolveClient } from './clients.ts';
import { OAuthError, param } from './oauth-error.ts';

const BASIC_CHALLENGE = 'Basic realm="oauth", charset="UTF-8"';

/** RFC 6749 2.3.1: Basic credentials are form-urlencoded, then base64. */
function basicCredentials(header: string): { id: string; secret: string } | null {
  const m = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    const un = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: un(decoded.slice(0, colon)), secret: un(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/**
 * Client authentication at /token and /revoke (RFC 6749 2.3, OAuth 2.1 2.4). The method the client
 * uses must be the one it registered (SECURITY 30): a confidential client cannot fall back to
 * `none`, and a public client cannot present a secret. Public clients (and Client ID Metadata
 * Document clients, always public) identify with `client_id`. Secrets are compared as hashes in
 * constant time. Failures are `invalid_client` (401, with a Basic challenge when Basic was tried).
 */
export async function authenticateClient(ctx: WebContext, request: Request, form: URLSearchParams): Promise<OAuthClient> {
  const header = request.headers.get('authorization');
  const formId = param(form, 'client_id');
  const formSecret = param(form, 'client_secret');
  const fail = (why: string): never => {
    throw new OAuthError('invalid_client', why, 401, header !== null ? BASIC_CHALLENGE : undefined);
  };
  let basic: { id: string; secret: string } | null = null;
  if (header !== null) {
    basic = basicCredentials(header);
    if (!basic) fail('the Authorization header must carry HTTP Basic client credentials');
    // OAuth 2.1 2.4: a client MUST NOT use more than one authentication method per request.
    if (formSecret !== undefined) throw new OAuthError('invalid_request', 'use one client authentication method, not two');
    if (formId !== undefined && formId !== basic!.id) throw new OAuthError('invalid_request', 'client_id differs from the authenticated client');
  }
  const clientId = basic?.id ?? formId;
  if (clientId === undefined) return fail('client authentication is required (client_id)');
  let client: OAuthClient;
  try {
    client = await resolveClient(ctx, clientId);
  } catch (err) {
    if (err instanceof OAuthError) return fail(err.description);
    throw err;
  }
  const used: TokenEndpointAuthMethod = basic ? 'client_secret_basic' : formSecret !== undefined ? 'client_secret_post' : 'none';
  if (used !== client.authMethod) fail(`this client must authenticate with ${client.authMethod}`);
  if (used !== 'none') {
    const secret = basic ? basic.secret : formSecret!;
    if (!client.secretHash || !safeEqual(hashSecret(secret), client.secretHash)) fail('client authentication failed');
  }
  return client;
}
