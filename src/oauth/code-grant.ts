import { hashSecret } from '../auth/secrets.ts';
import type { WebContext } from '../auth/web-context.ts';
import { credentialState } from '../store/credential-state.ts';
import type { OAuthClient } from './clients.ts';
import { revokeGrant } from './grants.ts';
import { newTokenPair, spend, tokenResponse } from './issue-tokens.ts';
import { OAuthError, requiredParam } from './oauth-error.ts';
import { isCodeVerifier, pkceMatches } from './pkce.ts';
import { boundResource, resourceParam } from './resource-indicator.ts';
import type { TokenAudit } from './token-audit.ts';

const invalidGrant = (why: string) => new OAuthError('invalid_grant', why);

/**
 * grant_type=authorization_code (OAuth 2.1 4.1.3). Every check runs on a read of the code BEFORE
 * it is spent, so a failed attempt (wrong verifier, wrong redirect) does not burn a valid code
 * (SECURITY 27); then `consume` spends it and inserts the tokens in one atomic step.
 */
export async function authorizationCodeGrant(
  ctx: WebContext,
  client: OAuthClient,
  form: URLSearchParams,
  audit: TokenAudit,
): Promise<Response> {
  const code = requiredParam(form, 'code');
  const redirectUri = requiredParam(form, 'redirect_uri');
  // RFC 7636 4.5 / OAuth 2.1 4.1.3: every code was issued with a challenge, so a verifier is required.
  const verifier = requiredParam(form, 'code_verifier');
  if (!isCodeVerifier(verifier)) throw new OAuthError('invalid_request', 'code_verifier must be 43-128 unreserved characters (RFC 7636 4.1)');
  const resource = resourceParam(form);

  const { store } = await ctx.stores();
  const hash = hashSecret(code);
  const t = await store.tokens.findByHash(hash);
  if (t?.kind === 'code') {
    // whose credential was presented, even by the wrong client: that is what an investigation needs
    audit.subject = t.subject;
    audit.tenant = t.tenant;
  }
  if (!t || t.kind !== 'code' || t.clientId !== client.clientId) throw invalidGrant('the authorization code is invalid');
  const state = credentialState(t, ctx.now());
  if (state === 'used') {
    // RFC 9700 4.2.4 / OAuth 2.1 4.1.3: a replayed code revokes what its first redemption issued.
    await revokeGrant(ctx, store, t, 'code_reuse');
    audit.reuseRevoked = true;
    throw invalidGrant('the authorization code was already used; the tokens it issued are revoked');
  }
  if (state !== 'active') throw invalidGrant(`the authorization code is ${state}`);
  // OAuth 2.1 4.1.3 / SECURITY 17: the same redirect_uri as at /authorize, compared exactly.
  if (t.redirectUri !== redirectUri) throw invalidGrant('redirect_uri does not match the authorization request');
  // RFC 7636 4.6: constant-time comparison of S256(verifier) with the bound challenge.
  if (!t.codeChallenge || !pkceMatches(verifier, t.codeChallenge)) throw invalidGrant('code_verifier does not match the code challenge');
  // RFC 8707 2.2: a resource at the token endpoint must be the one the code is bound to.
  boundResource(resource, t.resource);

  const pair = newTokenPair(ctx, {
    scopes: t.scopes,
    refreshScopes: t.scopes,
    resource: t.resource,
    withRefresh: client.grantTypes.includes('refresh_token'),
  });
  const r = await spend(() => store.tokens.consume(hash, 'code', pair.rows));
  if (!r.ok) {
    // Two redemptions racing: the loser sees `reused` and ends the grant (the winner's tokens included).
    if (r.reason === 'reused' && r.token) {
      await revokeGrant(ctx, store, r.token, 'code_reuse');
      audit.reuseRevoked = true;
    }
    throw invalidGrant(`the authorization code is ${r.reason === 'reused' ? 'already used' : r.reason.replace('_', ' ')}`);
  }
  if (client.kind === 'registered') {
    store.oauthClients.touch(client.clientId, ctx.now()).catch((err: unknown) => ctx.logger.warn({ err }, 'could not record client use'));
  }
  return tokenResponse(ctx, pair);
}
