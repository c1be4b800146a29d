import { hostOf, PATHS, type WebHandler } from '../auth/web-context.ts';
import { json } from '../auth/web-routes.ts';

const CLIENT_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'];

/**
 * RFC 8414 2 authorization server metadata (SECURITY 14): the issuer exactly as configured
 * (RFC 8414 3.3: it must equal the issuer the client derived the URL from), the code flow with
 * S256 PKCE only, RFC 9207 `iss` in authorization responses, RFC 7009 revocation, RFC 7591
 * registration and Client ID Metadata Documents when enabled.
 */
export const metadataRoute: WebHandler = async (request, ctx) => {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return json(405, { error: 'invalid_request', error_description: 'use GET' }, { allow: 'GET, HEAD' });
  }
  const oauth = ctx.oauth!;
  const host = hostOf(request);
  const origin = ctx.urls.origin(host);
  const body: Record<string, unknown> = {
    issuer: oauth.issuer ?? ctx.urls.issuer(host),
    authorization_endpoint: `${origin}${PATHS.authorize}`,
    token_endpoint: `${origin}${PATHS.token}`,
    revocation_endpoint: `${origin}${PATHS.revoke}`,
    ...(oauth.registration ? { registration_endpoint: `${origin}${PATHS.register}` } : {}),
    scopes_supported: Object.keys(ctx.scopes),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    authorization_response_iss_parameter_supported: true,
    ...(oauth.clientMetadataDocuments ? { client_id_metadata_document_supported: true } : {}),
  };
  return json(200, body, { 'cache-control': 'public, max-age=300' });
};
