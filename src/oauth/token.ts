import type { WebHandler } from '../auth/web-context.ts';
import { authenticateClient } from './client-auth.ts';
import { authorizationCodeGrant } from './code-grant.ts';
import { answerOAuth, formBody, OAuthError, requiredParam } from './oauth-error.ts';
import { refreshTokenGrant } from './refresh-grant.ts';

/**
 * POST /oauth/token (RFC 6749 3.2, OAuth 2.1 3.2). Only the authorization code (with PKCE) and
 * refresh token grants exist: no implicit, no password, no client credentials (SECURITY 14, 29).
 * Every failure is an RFC 6749 5.2 JSON error; every answer is no-store.
 */
export const tokenRoute: WebHandler = (request, ctx) =>
  answerOAuth(async () => {
    const form = await formBody(request);
    const grantType = requiredParam(form, 'grant_type');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
      throw new OAuthError('unsupported_grant_type', 'only authorization_code and refresh_token are supported');
    }
    const client = await authenticateClient(ctx, request, form);
    // RFC 7591 2: the grant types the client registered are the ones it may use.
    if (!client.grantTypes.includes(grantType)) {
      throw new OAuthError('unauthorized_client', `this client did not register the ${grantType} grant type`);
    }
    return grantType === 'authorization_code' ? authorizationCodeGrant(ctx, client, form) : refreshTokenGrant(ctx, client, form);
  });
