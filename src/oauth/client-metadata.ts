import type { TokenEndpointAuthMethod } from '../store/types.ts';
import { OAuthError } from './oauth-error.ts';
import { redirectUriProblem } from './redirect-uri.ts';
import { parseScope } from './scopes.ts';

/**
 * Client metadata (RFC 7591 2) as Gangway accepts it, whether it comes from a registration request
 * or a Client ID Metadata Document. Fields it does not understand are ignored (RFC 7591 2); those
 * it keeps are checked. `logo_uri` is dropped on purpose: pages load nothing from elsewhere.
 */
export type GrantType = 'authorization_code' | 'refresh_token';

export interface ClientMetadata {
  redirectUris: string[];
  authMethod: TokenEndpointAuthMethod;
  grantTypes: GrantType[];
  name: string | null;
  /** What is echoed back and kept with the registration (RFC 7591 3.2.1), validated. */
  metadata: Record<string, unknown>;
}

const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post'];
const GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token'];
// Control characters and bidirectional overrides would let a name disguise itself on the consent page.
const UNSAFE_TEXT = /[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]/;

const bad = (msg: string): never => {
  throw new OAuthError('invalid_client_metadata', msg);
};

function text(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max || UNSAFE_TEXT.test(value)) {
    return bad(`${field} must be a string of 1..${max} printable characters`);
  }
  return value;
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > 20 || !value.every((v) => typeof v === 'string')) {
    return bad(`${field} must be an array of strings`);
  }
  return value as string[];
}

/** `allowedMethods`: the token endpoint authentication methods this kind of client may use. */
export function validateClientMetadata(
  body: unknown,
  allowedMethods: readonly TokenEndpointAuthMethod[] = AUTH_METHODS,
): ClientMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('the client metadata must be a JSON object');
  const m = body as Record<string, unknown>;

  // RFC 7591 2: redirect_uris is REQUIRED for redirect-based flows; each one checked (SECURITY 16).
  const uris = m.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > 20) {
    throw new OAuthError('invalid_redirect_uri', 'redirect_uris must be a non-empty array (at most 20)');
  }
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new OAuthError('invalid_redirect_uri', problem);
  }

  const authMethod = (m.token_endpoint_auth_method ?? 'none') as TokenEndpointAuthMethod;
  if (!allowedMethods.includes(authMethod)) {
    bad(`token_endpoint_auth_method must be one of ${allowedMethods.join(', ')}`);
  }
  // RFC 7591 2: grant_types defaults to authorization_code, response_types to code; 2.1: they must agree.
  const grantTypes = (stringList(m.grant_types, 'grant_types') ?? ['authorization_code']) as GrantType[];
  for (const g of grantTypes) if (!GRANT_TYPES.includes(g)) bad(`grant type ${JSON.stringify(g).slice(0, 40)} is not supported`);
  if (!grantTypes.includes('authorization_code')) bad('grant_types must include authorization_code');
  const responseTypes = stringList(m.response_types, 'response_types') ?? ['code'];
  if (responseTypes.length !== 1 || responseTypes[0] !== 'code') bad('response_types must be ["code"] (no implicit flow)');

  const name = text(m.client_name, 'client_name', 200) ?? null;
  const metadata: Record<string, unknown> = {
    redirect_uris: [...(uris as string[])],
    token_endpoint_auth_method: authMethod,
    grant_types: [...new Set(grantTypes)],
    response_types: ['code'],
  };
  if (name !== null) metadata.client_name = name;
  const clientUri = text(m.client_uri, 'client_uri', 2048);
  if (clientUri !== undefined) {
    if (!/^https:\/\/[^\s#]+$/.test(clientUri)) bad('client_uri must be an https URL');
    metadata.client_uri = clientUri;
  }
  const scope = text(m.scope, 'scope', 2048);
  if (scope !== undefined) {
    try {
      parseScope(scope);
    } catch {
      bad('scope is malformed');
    }
    metadata.scope = scope;
  }
  const contacts = stringList(m.contacts, 'contacts');
  if (contacts) metadata.contacts = contacts.map((c) => text(c, 'contacts', 200));
  for (const field of ['software_id', 'software_version'] as const) {
    const v = text(m[field], field, 200);
    if (v !== undefined) metadata[field] = v;
  }
  return { redirectUris: [...(uris as string[])], authMethod, grantTypes: [...new Set(grantTypes)], name, metadata };
}
