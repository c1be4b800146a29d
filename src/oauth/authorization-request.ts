import type { WebContext } from '../auth/web-context.ts';
import { type OAuthClient, resolveClient } from './clients.ts';
import { OAuthError, param } from './oauth-error.ts';
import { isS256Challenge } from './pkce.ts';
import { redirectUriMatches } from './redirect-uri.ts';
import { boundResource, resourceParam } from './resource-indicator.ts';
import { requestedScopes } from './scopes.ts';

/** A checked authorization request (OAuth 2.1 4.1.1). */
export interface AuthorizationRequest {
  client: OAuthClient;
  redirectUri: string;
  state: string | undefined;
  codeChallenge: string;
  /** RFC 8707: always bound, the canonical resource when the client sent none. */
  resource: string;
  /** Known scopes requested (or all of them when `scope` was absent). */
  scopes: string[];
}

export type ParsedAuthorization =
  | { kind: 'ok'; request: AuthorizationRequest }
  /** Client or redirect URI not trusted: show a page, never redirect (RFC 6749 4.1.2.1, SECURITY 18). */
  | { kind: 'page'; message: string }
  /** The redirect URI is trusted: the error goes back to the client (with state and iss). */
  | { kind: 'redirect'; redirectUri: string; state: string | undefined; error: OAuthError };

const MAX_STATE = 1024;

/**
 * Checks the query of GET /oauth/authorize in the order that decides who hears about a problem:
 * first the client and its redirect URI (errors there are shown to the user, RFC 6749 4.1.2.1),
 * then everything else (errors redirected to the client).
 */
export async function parseAuthorizationRequest(ctx: WebContext, query: URLSearchParams, canonicalResource: string): Promise<ParsedAuthorization> {
  let client: OAuthClient;
  let redirectUri: string;
  try {
    const clientId = param(query, 'client_id');
    if (clientId === undefined) return { kind: 'page', message: 'The request names no client (client_id is missing).' };
    client = await resolveClient(ctx, clientId);
    // OAuth 2.1 4.1.1 allows omitting redirect_uri for a single registered URI; Gangway always
    // requires it (MCP clients send it), so /token can compare it exactly too.
    const uri = param(query, 'redirect_uri');
    if (uri === undefined) return { kind: 'page', message: 'The request has no redirect_uri.' };
    if (!redirectUriMatches(client.redirectUris, uri)) {
      return { kind: 'page', message: 'The redirect_uri is not one this client registered. Nothing was sent back to the application.' };
    }
    redirectUri = uri;
  } catch (err) {
    if (err instanceof OAuthError) return { kind: 'page', message: `The application could not be identified: ${err.description}.` };
    throw err;
  }

  const states = query.getAll('state');
  const state = states[0] === '' ? undefined : states[0];
  try {
    if (states.length > 1) throw new OAuthError('invalid_request', 'the state parameter is repeated');
    if (state !== undefined && state.length > MAX_STATE) throw new OAuthError('invalid_request', `state must be at most ${MAX_STATE} characters`);
    const responseType = param(query, 'response_type');
    if (responseType === undefined) throw new OAuthError('invalid_request', 'response_type is required');
    // OAuth 2.1 4.1.1 / SECURITY 14: the authorization code flow only; implicit (token) is gone.
    if (responseType !== 'code') throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');
    // OAuth 2.1 4.1.1, RFC 7636, SECURITY 19: PKCE for every client, S256 only (plain refused).
    const challenge = param(query, 'code_challenge');
    const method = param(query, 'code_challenge_method');
    if (challenge === undefined) throw new OAuthError('invalid_request', 'code_challenge is required (PKCE)');
    if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
    if (!isS256Challenge(challenge)) throw new OAuthError('invalid_request', 'code_challenge must be 43 base64url characters (S256)');
    const resource = boundResource(resourceParam(query), canonicalResource);
    const scopes = requestedScopes(param(query, 'scope'), ctx.scopes);
    return { kind: 'ok', request: { client, redirectUri, state, codeChallenge: challenge, resource, scopes } };
  } catch (err) {
    if (err instanceof OAuthError) return { kind: 'redirect', redirectUri, state, error: err };
    throw err;
  }
}
