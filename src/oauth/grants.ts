import type { WebContext } from '../auth/web-context.ts';
import type { Store, TokenRecord } from '../store/types.ts';

/**
 * Ends a grant and every token issued under it (the store does both in one step), then makes this
 * process forget any cached principal of that client and user at once (the cache would otherwise
 * keep a revoked token working for `auth.cacheMs`). Other processes see it within `cacheMs`.
 */
export async function revokeGrant(
  ctx: WebContext,
  store: Store,
  token: Pick<TokenRecord, 'grantId' | 'clientId' | 'subject' | 'tenant'>,
  reason: 'code_reuse' | 'refresh_reuse' | 'revocation',
): Promise<void> {
  const revoked = await store.grants.revoke(token.grantId);
  ctx.authenticator.forgetWhere((p) => p.via === 'oauth' && p.client === token.clientId && p.subject === token.subject);
  if (!revoked) return;
  // Never a token or code in the log or audit: the grant id and client are enough to investigate.
  const level = reason === 'revocation' ? 'info' : 'warn';
  ctx.logger[level]({ grant: token.grantId, client: token.clientId, reason }, 'oauth grant revoked');
  await store.audit
    .append({
      event: 'oauth.grant.revoke',
      outcome: reason === 'revocation' ? 'ok' : 'denied',
      subject: token.subject,
      tenant: token.tenant,
      client: token.clientId,
      via: 'oauth',
      reason,
      detail: { grant: token.grantId },
    })
    .catch((err: unknown) => ctx.logger.warn({ err }, 'could not audit a grant revocation'));
}
