import { hashSecret } from '../auth/secrets.ts';
import type { WebContext } from '../auth/web-context.ts';
import { credentialState } from '../store/credential-state.ts';
import type { OAuthClient } from './clients.ts';
import { revokeGrant } from './grants.ts';
import { newTokenPair, spend, tokenResponse } from './issue-tokens.ts';
import { OAuthError, param, requiredParam } from './oauth-error.ts';
import { boundResource, resourceParam } from './resource-indicator.ts';
import { parseScope } from './scopes.ts';
import type { TokenAudit } from './token-audit.ts';

const invalidGrant = (why: string) => new OAuthError('invalid_grant', why);

/**
 * grant_type=refresh_token (RFC 6749 6, OAuth 2.1 4.3). Refresh tokens rotate: each use spends
 * the old one and returns a new one; presenting a spent one is reuse, which revokes the whole
 * grant, the newest refresh token included (RFC 9700 4.14.2, SECURITY 28). `scope` and `resource`
 * may only narrow (here: stay within) what the grant holds.
 */
export async function refreshTokenGrant(
  ctx: WebContext,
  client: OAuthClient,
  form: URLSearchParams,
  audit: TokenAudit,
): Promise<Response> {
  const refreshToken = requiredParam(form, 'refresh_token');
  const scopeParam = param(form, 'scope');
  const resource = resourceParam(form);

  const { store } = await ctx.stores();
  const hash = hashSecret(refreshToken);
  const t = await store.tokens.findByHash(hash);
  if (t?.kind === 'refresh') {
    // whose credential was presented, even by the wrong client: that is what an investigation needs
    audit.subject = t.subject;
    audit.tenant = t.tenant;
  }
  if (!t || t.kind !== 'refresh' || t.clientId !== client.clientId) throw invalidGrant('the refresh token is invalid');
  const state = credentialState(t, ctx.now());
  if (state === 'used') {
    await revokeGrant(ctx, store, t, 'refresh_reuse');
    audit.reuseRevoked = true;
    throw invalidGrant('the refresh token was already used; the grant is revoked');
  }
  if (state !== 'active') throw invalidGrant(`the refresh token is ${state}`);
  // RFC 6749 6: the requested scope MUST NOT include any scope not originally granted.
  let scopes = t.scopes;
  if (scopeParam !== undefined) {
    scopes = parseScope(scopeParam);
    const extra = scopes.filter((s) => !t.scopes.includes(s));
    if (extra.length) throw new OAuthError('invalid_scope', `the grant does not include ${extra.join(' ')}`);
  }
  boundResource(resource, t.resource);

  const pair = newTokenPair(ctx, { scopes, refreshScopes: t.scopes, resource: t.resource, withRefresh: true });
  const r = await spend(() => store.tokens.consume(hash, 'refresh', pair.rows));
  if (!r.ok) {
    if (r.reason === 'reused' && r.token) {
      await revokeGrant(ctx, store, r.token, 'refresh_reuse');
      audit.reuseRevoked = true;
    }
    throw invalidGrant(`the refresh token is ${r.reason === 'reused' ? 'already used' : r.reason.replace('_', ' ')}`);
  }
  return tokenResponse(ctx, pair);
}
