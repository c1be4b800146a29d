import { newSecret } from '../auth/secrets.ts';
import type { SignedInUser } from '../auth/config.ts';
import type { WebContext } from '../auth/web-context.ts';
import { seeOther } from '../ui/html.ts';
import type { OAuthError } from './oauth-error.ts';
import { withParams } from './redirect-uri.ts';

/** What a code is bound to (SECURITY 26): client, redirect URI, PKCE challenge, resource, scopes. */
export interface CodeBinding {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  scopes: readonly string[];
}

/**
 * Records the user's consent as a grant and issues an authorization code under it: 256 random
 * bits, stored only as a hash, living `codeTtlMs` (at most 10 minutes, OAuth 2.1 4.1.2).
 * Returns the code, which goes nowhere but the redirect.
 */
export async function issueCode(ctx: WebContext, user: SignedInUser, b: CodeBinding): Promise<string> {
  const { store } = await ctx.stores();
  const tenant = user.tenant ?? user.subject;
  const grant = await store.grants.create({ clientId: b.clientId, subject: user.subject, tenant, scopes: b.scopes, resource: b.resource });
  const code = newSecret('code');
  await store.tokens.insert({
    tokenHash: code.hash,
    kind: 'code',
    grantId: grant.id,
    scopes: b.scopes,
    resource: b.resource,
    redirectUri: b.redirectUri,
    codeChallenge: b.codeChallenge,
    expiresAt: ctx.now() + ctx.oauth!.codeTtlMs,
  });
  await store.audit
    .append({
      event: 'oauth.grant',
      outcome: 'ok',
      subject: user.subject,
      tenant,
      client: b.clientId,
      via: 'oauth',
      detail: { grant: grant.id, scopes: [...b.scopes], resource: b.resource },
    })
    .catch((err: unknown) => ctx.logger.warn({ err }, 'could not audit a grant'));
  return code.secret;
}

/** RFC 6749 4.1.2 + RFC 9207 2: code, state and iss back to the client. 303: also right after the consent POST. */
export function codeRedirect(redirectUri: string, code: string, state: string | undefined, issuer: string, cookies: string[] = []): Response {
  return seeOther(withParams(redirectUri, { code, state, iss: issuer }), cookies);
}

/** RFC 6749 4.1.2.1 + RFC 9207 2: errors carry state and iss too (SECURITY 14). */
export function errorRedirect(redirectUri: string, err: OAuthError, state: string | undefined, issuer: string, cookies: string[] = []): Response {
  return seeOther(withParams(redirectUri, { error: err.code, error_description: err.description, state, iss: issuer }), cookies);
}
