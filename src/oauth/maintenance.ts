import type { WebContext } from '../auth/web-context.ts';

/**
 * Keeps a purged code's replay readable as reuse (so it still revokes the grant) for this long
 * after expiry; tokens.purgeExpired deletes only what expired before `now - margin`.
 */
const PURGE_MARGIN_MS = 86_400_000;

/**
 * Periodic housekeeping of the authorization server (the app schedules it): deletes expired
 * codes and tokens past the margin, and dynamic registrations never used within
 * `registration.unusedExpiryMs` (SECURITY 16). Logs counts only.
 */
export async function oauthMaintenance(ctx: WebContext): Promise<void> {
  if (!ctx.oauth) return;
  const { store } = await ctx.stores();
  const now = ctx.now();
  const tokens = await store.tokens.purgeExpired(now - PURGE_MARGIN_MS);
  const clients = ctx.oauth.registration ? await store.oauthClients.deleteUnused(now - ctx.oauth.registration.unusedExpiryMs) : 0;
  if (tokens || clients) ctx.logger.info({ tokens, clients }, 'oauth maintenance purged expired records');
}
