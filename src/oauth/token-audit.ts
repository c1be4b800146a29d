import type { WebContext } from '../auth/web-context.ts';

/**
 * What one POST /oauth/token did, gathered as it runs and written as one `auth.token` audit row
 * at the end. Ids and names only: never a code, token, verifier or secret (SECURITY: the audit
 * log never holds a secret).
 */
export interface TokenAudit {
  /** `authorization_code`, `refresh_token`, `unsupported` or null (absent). */
  grantType: string | null;
  /** The authenticated client; null until client authentication succeeds. */
  client: string | null;
  /** The user the presented code or refresh token belongs to, once it is found. */
  subject: string | null;
  tenant: string | null;
  /** RFC 9700 4.14.2 / OAuth 2.1 4.1.3: a replay was detected and the grant revoked. */
  reuseRevoked: boolean;
}

export function newTokenAudit(): TokenAudit {
  return { grantType: null, client: null, subject: null, tenant: null, reuseRevoked: false };
}

/** `outcome`: `ok` or the OAuth error code answered. A failed write is logged, never answered. */
export async function auditToken(ctx: WebContext, a: TokenAudit, outcome: string): Promise<void> {
  await ctx
    .stores()
    .then(({ store }) =>
      store.audit.append({
        event: 'auth.token',
        outcome: a.reuseRevoked ? 'reuse_revoked' : outcome,
        subject: a.subject,
        tenant: a.tenant,
        client: a.client,
        via: 'oauth',
        detail: { grant_type: a.grantType },
      }),
    )
    .catch((err: unknown) => ctx.logger.warn({ err, event: 'auth.token' }, 'could not write audit record'));
}
