import { hashSecret } from '../auth/secrets.ts';
import type { WebHandler } from '../auth/web-context.ts';
import { authenticateClient } from './client-auth.ts';
import { revokeGrant } from './grants.ts';
import { answerOAuth, formBody, requiredParam } from './oauth-error.ts';

/**
 * POST /oauth/revoke (RFC 7009, SECURITY 31). The client authenticates as at /token (public
 * clients with client_id); a token it does not own, or an unknown one, is left alone and the
 * answer is still 200 (RFC 7009 2.2: nothing to learn from it). Revoking a refresh token ends
 * its grant and every token under it (RFC 7009 2.1 lets it; a leaked refresh token is the grant).
 */
export const revokeRoute: WebHandler = (request, ctx) =>
  answerOAuth(async () => {
    const form = await formBody(request);
    const client = await authenticateClient(ctx, request, form);
    const token = requiredParam(form, 'token');
    // token_type_hint is optional and only a hint (RFC 7009 2.1): the lookup is by hash anyway.
    const hash = hashSecret(token);
    const { store } = await ctx.stores();
    const t = await store.tokens.findByHash(hash);
    if (t && t.clientId === client.clientId) {
      if (t.kind === 'refresh') await revokeGrant(ctx, store, t, 'revocation');
      else {
        await store.tokens.revoke(hash);
        ctx.authenticator.forget(hash);
        ctx.authenticator.forgetWhere((p) => p.via === 'oauth' && p.client === t.clientId && p.subject === t.subject);
      }
    }
    return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
  });
