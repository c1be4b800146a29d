import type { WebContext, WebHandler } from '../auth/web-context.ts';
import { overWebLimit } from '../policy/web-limit.ts';
import { authenticateClient } from './client-auth.ts';
import { authorizationCodeGrant } from './code-grant.ts';
import { answerOAuth, formBody, OAuthError, oauthErrorResponse, requiredParam } from './oauth-error.ts';
import { refreshTokenGrant } from './refresh-grant.ts';
import { auditToken, newTokenAudit, type TokenAudit } from './token-audit.ts';

/**
 * POST /oauth/token (RFC 6749 3.2, OAuth 2.1 3.2). Only the authorization code (with PKCE) and
 * refresh token grants exist: no implicit, no password, no client credentials (SECURITY 14, 29).
 * Every failure is an RFC 6749 5.2 JSON error; every answer is no-store. Each POST within the
 * per-address budget (SECURITY 40) leaves one `auth.token` audit row; a refused one does nothing.
 */
export const tokenRoute: WebHandler = async (request, ctx, peer) => {
  if (request.method !== 'POST') return oauthErrorResponse(new OAuthError('invalid_request', 'use POST', 405));
  const limited = await overWebLimit(ctx, peer, 'token', ctx.limits.token, 'json');
  if (limited) return limited;
  const audit = newTokenAudit();
  let outcome = 'server_error';
  try {
    return await answerOAuth(async () => {
      try {
        const res = await exchange(request, ctx, audit);
        outcome = 'ok';
        return res;
      } catch (err) {
        if (err instanceof OAuthError) outcome = err.code;
        throw err;
      }
    });
  } finally {
    await auditToken(ctx, audit, outcome);
  }
};

async function exchange(request: Request, ctx: WebContext, audit: TokenAudit): Promise<Response> {
  const form = await formBody(request);
  const grantType = requiredParam(form, 'grant_type');
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    audit.grantType = 'unsupported'; // not the value: it is client text
    throw new OAuthError('unsupported_grant_type', 'only authorization_code and refresh_token are supported');
  }
  audit.grantType = grantType;
  const client = await authenticateClient(ctx, request, form);
  audit.client = client.clientId;
  // RFC 7591 2: the grant types the client registered are the ones it may use.
  if (!client.grantTypes.includes(grantType)) {
    throw new OAuthError('unauthorized_client', `this client did not register the ${grantType} grant type`);
  }
  return grantType === 'authorization_code' ? authorizationCodeGrant(ctx, client, form, audit) : refreshTokenGrant(ctx, client, form, audit);
}
