import { type NewSecret, newSecret } from '../auth/secrets.ts';
import type { WebContext } from '../auth/web-context.ts';
import { json } from '../auth/web-routes.ts';
import { StoreError } from '../store/errors.ts';
import type { ConsumeResult, NewToken } from '../store/types.ts';
import { OAuthError } from './oauth-error.ts';

/** An access token and, when the client may refresh, a refresh token: secrets in hand, hashes for the store. */
export interface TokenPair {
  access: NewSecret;
  refresh: NewSecret | null;
  /** What `tokens.consume` inserts in the same atomic step as it spends the code or refresh token. */
  rows: Omit<NewToken, 'grantId'>[];
  scopes: string[];
}

export function newTokenPair(
  ctx: WebContext,
  o: {
    /** The access token's scopes (a refresh may narrow them). */
    scopes: readonly string[];
    /** RFC 6749 6: a rotated refresh token keeps the scope of the one it replaces. */
    refreshScopes: readonly string[];
    resource: string;
    withRefresh: boolean;
  },
): TokenPair {
  const oauth = ctx.oauth!;
  const now = ctx.now();
  const access = newSecret('access');
  const rows: Omit<NewToken, 'grantId'>[] = [
    { tokenHash: access.hash, kind: 'access', scopes: o.scopes, resource: o.resource, expiresAt: now + oauth.accessTokenTtlMs },
  ];
  let refresh: NewSecret | null = null;
  if (o.withRefresh) {
    refresh = newSecret('refresh');
    rows.push({ tokenHash: refresh.hash, kind: 'refresh', scopes: o.refreshScopes, resource: o.resource, expiresAt: now + oauth.refreshTokenTtlMs });
  }
  return { access, refresh, rows, scopes: [...o.scopes] };
}

/** RFC 6749 5.1: the token response, never cached (Cache-Control: no-store, Pragma: no-cache; SECURITY 29). */
export function tokenResponse(ctx: WebContext, pair: TokenPair): Response {
  return json(
    200,
    {
      access_token: pair.access.secret,
      token_type: 'Bearer',
      expires_in: Math.floor(ctx.oauth!.accessTokenTtlMs / 1000),
      ...(pair.refresh ? { refresh_token: pair.refresh.secret } : {}),
      // RFC 6749 5.1: required when it differs from the request; always sent so clients know what they hold.
      scope: pair.scopes.join(' '),
    },
    { pragma: 'no-cache' },
  );
}

/** `tokens.consume`, with a grant revoked meanwhile read as `invalid_grant` rather than a server error. */
export async function spend(run: () => Promise<ConsumeResult>): Promise<ConsumeResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof StoreError && err.code === 'GW_STORE_GRANT_INACTIVE') throw new OAuthError('invalid_grant', 'the grant was revoked');
    throw err;
  }
}
