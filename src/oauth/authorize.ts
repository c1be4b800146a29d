import type { SignedInUser } from '../auth/config.ts';
import { hostOf, PATHS, type WebContext, type WebHandler } from '../auth/web-context.ts';
import { overWebLimit } from '../policy/web-limit.ts';
import { consentPage } from '../ui/consent-page.ts';
import { errorPage, readForm, seeOther } from '../ui/html.ts';
import { parseAuthorizationRequest } from './authorization-request.ts';
import { codeRedirect, errorRedirect, issueCode } from './codes.ts';
import { OAuthError } from './oauth-error.ts';
import { consentPurpose, peekPending, savePending, takePending } from './pending-consent.ts';
import { isLoopbackRedirect } from './redirect-uri.ts';

/** Auto-approve mode (tests, loopback only): one fixed user, no sign-in, no consent page. */
const TEST_USER: SignedInUser = { subject: 'test-user', tenant: 'test-user' };

const issuerOf = (ctx: WebContext, request: Request) => ctx.oauth!.issuer ?? ctx.urls.issuer(hostOf(request));

const refused = (message: string, cookies: string[] = []) => {
  const res = errorPage(400, 'Authorization request refused', message);
  for (const c of cookies) res.headers.append('set-cookie', c);
  return res;
};

/**
 * /oauth/authorize (OAuth 2.1 4.1.1). GET checks the request, signs the user in through the
 * product's hook, and shows the consent page; POST (the consent form) records the decision and
 * redirects with a code or `access_denied`. Never CORS (SECURITY 25); every page no-frame
 * (html.ts); both methods count against `policy.limits.web.authorize` per client address.
 */
export const authorizeRoute: WebHandler = async (request, ctx, peer) => {
  if (request.method === 'GET' || request.method === 'POST') {
    // SECURITY 40: a per-address budget, checked before the request is read or anything is stored.
    const limited = await overWebLimit(ctx, peer, 'authorize', ctx.limits.authorize, 'page');
    if (limited) return limited;
  }
  if (request.method === 'GET') return show(request, ctx);
  if (request.method === 'POST') return decide(request, ctx);
  const res = errorPage(405, 'Method not allowed', 'Use GET or POST.');
  res.headers.set('allow', 'GET, POST');
  return res;
};

async function show(request: Request, ctx: WebContext): Promise<Response> {
  const url = new URL(request.url);
  const issuer = issuerOf(ctx, request);
  const parsed = await parseAuthorizationRequest(ctx, url.searchParams, ctx.urls.resource(hostOf(request)));
  if (parsed.kind === 'page') return refused(parsed.message);
  if (parsed.kind === 'redirect') return errorRedirect(parsed.redirectUri, parsed.error, parsed.state, issuer);
  const r = parsed.request;
  const binding = { clientId: r.client.clientId, redirectUri: r.redirectUri, codeChallenge: r.codeChallenge, resource: r.resource };

  if (ctx.oauth!.autoApprove) {
    const code = await issueCode(ctx, TEST_USER, { ...binding, scopes: r.scopes });
    return codeRedirect(r.redirectUri, code, r.state, issuer);
  }

  const browser = ctx.browsers.of(request);
  const user = await ctx.user(request, browser, `${url.pathname}${url.search}`);
  if ('redirect' in user) return seeOther(user.redirect, browser.cookies);

  const { ephemeral } = await ctx.stores();
  const pending = {
    ...binding,
    state: r.state,
    scopes: r.scopes,
    browser: browser.key,
    subject: user.subject,
    tenant: user.tenant ?? null,
    name: user.name,
  };
  const handle = await savePending(ephemeral, pending);
  const csrf = await ctx.browsers.csrf(browser, consentPurpose(handle, pending));
  return consentPage({
    serverName: ctx.serverName,
    userName: user.name ?? user.subject,
    clientName: r.client.name,
    clientId: r.client.clientId,
    clientKind: r.client.kind,
    documentHost: r.client.documentHost,
    redirectUri: r.redirectUri,
    localhostOnly: r.client.redirectUris.every(isLoopbackRedirect),
    scopes: r.scopes.map((name) => ({ name, description: ctx.scopes[name] ?? '' })),
    handle,
    csrf,
    action: PATHS.authorize,
    cookies: browser.cookies,
  });
}

async function decide(request: Request, ctx: WebContext): Promise<Response> {
  let form: URLSearchParams | null;
  try {
    form = await readForm(request);
  } catch {
    form = null;
  }
  if (!form) return refused('The consent form was not readable.');
  const browser = ctx.browsers.of(request);
  const handle = form.get('request') ?? '';
  const { ephemeral } = await ctx.stores();
  const pending = await peekPending(ephemeral, handle);
  if (!pending) return refused('This authorization request expired or was already answered. Start again from the application.', browser.cookies);
  // SECURITY 22: a single-use token bound to this browser and to this very request.
  if (!(await ctx.browsers.checkCsrf(browser, consentPurpose(handle, pending), form.get('csrf')))) {
    return refused('The form could not be verified (missing, expired or already used). Start again from the application.', browser.cookies);
  }
  // Single use even if two submissions race past the CSRF check (they cannot: it is consumed atomically).
  const taken = await takePending(ephemeral, handle);
  if (!taken || taken.browser !== browser.key) return refused('This authorization request was already answered.');

  const issuer = issuerOf(ctx, request);
  const decision = form.get('decision');
  if (decision !== 'approve') {
    return errorRedirect(taken.redirectUri, new OAuthError('access_denied', 'the user denied the request'), taken.state, issuer);
  }
  // The consent was given by the user the page was shown to: a sign-out or switch in between voids it.
  const user = await ctx.user(request, browser, PATHS.authorize);
  if ('redirect' in user || user.subject !== taken.subject) {
    return refused('You are no longer signed in as the user this request was shown to. Start again from the application.');
  }
  // The issued token carries only the scopes approved, never more than requested.
  const checked = new Set(form.getAll('scope'));
  const approved = taken.scopes.filter((s) => checked.has(s));
  const code = await issueCode(
    ctx,
    { subject: taken.subject, tenant: taken.tenant, ...(taken.name ? { name: taken.name } : {}) },
    { clientId: taken.clientId, redirectUri: taken.redirectUri, codeChallenge: taken.codeChallenge, resource: taken.resource, scopes: approved },
  );
  return codeRedirect(taken.redirectUri, code, taken.state, issuer);
}
