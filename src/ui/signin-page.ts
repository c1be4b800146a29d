import { PATHS, type WebContext, type WebHandler } from '../auth/web-context.ts';
import { overWebLimit } from '../policy/web-limit.ts';
import type { Browser } from './browser.ts';
import { errorPage, esc, htmlPage, readForm, seeOther } from './html.ts';

/**
 * The built-in sign-in for demos (seed 004: the email address is the identity, nothing is
 * verified). A product with its own sign-in plugs in `auth.signIn` instead, and this page
 * only says so. Works without JavaScript; the form carries a single-use CSRF token bound to the
 * browser (SECURITY 22); 303 after the POST (SECURITY 25).
 */
export const signInRoute: WebHandler = async (request, ctx, peer) => {
  if (typeof ctx.auth.signIn === 'function') {
    return errorPage(404, 'Sign in', `Sign-in for ${ctx.serverName} is handled by the product itself: go back to the app and sign in there.`);
  }
  const browser = ctx.browsers.of(request);
  const url = new URL(request.url);
  if (request.method === 'GET' || request.method === 'HEAD') {
    return form(ctx, browser, safeReturnTo(url.searchParams.get('return_to')));
  }
  if (request.method !== 'POST') return withCookies(errorPage(405, 'Method not allowed', 'Use the sign-in form.'), browser.cookies, { allow: 'GET, POST' });
  // SECURITY 40: sign-in attempts have their own per-address budget; a refused one reads nothing.
  const limited = await overWebLimit(ctx, peer, 'signin', ctx.limits.signIn, 'page');
  if (limited) return limited;

  const body = await readForm(request);
  const returnTo = safeReturnTo(body?.get('return_to') ?? null);
  const email = (body?.get('email') ?? '').trim();
  if (!body || !(await ctx.browsers.checkCsrf(browser, 'signin', body.get('csrf')))) {
    // the claimed address, when it is one, tells who a forged or replayed form tried to sign in as
    await auditSignIn(ctx, 'denied', EMAIL.test(email) ? email.toLowerCase() : null, 'csrf');
    return form(ctx, browser, returnTo, 'The form expired or was already used. Please sign in again.', '', 403);
  }
  if (!EMAIL.test(email)) {
    await auditSignIn(ctx, 'denied', null, 'invalid_email');
    return form(ctx, browser, returnTo, 'Enter an email address like name@example.com.', email, 400);
  }

  // Session fixation: a sign-in gets a fresh browser id; the old one signs nobody in.
  const fresh = ctx.browsers.of(new Request(request.url));
  const identity = email.toLowerCase();
  await ctx.browsers.signIn(fresh, { subject: identity, tenant: identity, name: email });
  await ctx.browsers.signOut(browser);
  ctx.logger.info({ event: 'ui.signin' }, 'browser signed in (built-in email sign-in)');
  await auditSignIn(ctx, 'ok', identity);
  return seeOther(returnTo ?? PATHS.tokens, fresh.cookies);
};

/** One `auth.signin` row per attempt past the rate limit; a failed write is logged, never answered. */
async function auditSignIn(ctx: WebContext, outcome: 'ok' | 'denied', subject: string | null, reason?: 'csrf' | 'invalid_email'): Promise<void> {
  await ctx
    .stores()
    .then(({ store }) =>
      store.audit.append({ event: 'auth.signin', outcome, subject, tenant: outcome === 'ok' ? subject : null, reason: reason ?? null, detail: { method: 'email' } }),
    )
    .catch((err: unknown) => ctx.logger.warn({ err, event: 'auth.signin' }, 'could not write audit record'));
}

/** Simple on purpose (the address is an identity label here, not a mailbox we write to), length-capped. */
const EMAIL = /^(?=.{3,254}$)[^\s@<>"'`\\,;:()[\]\x00-\x1f\x7f]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

/**
 * Open-redirect defence: only a same-origin path (`/x`, never `//host` or `/\host`, which browsers
 * read as another origin), no control characters, bounded. Anything else is dropped.
 */
export function safeReturnTo(value: string | null): string | null {
  if (!value || value.length > 2048 || !value.startsWith('/') || value.startsWith('//')) return null;
  if (/[\\\x00-\x20\x7f]/.test(value)) return null;
  const base = 'http://gangway.invalid';
  try {
    const u = new URL(value, base);
    return u.origin === base ? value : null;
  } catch {
    return null;
  }
}

async function form(ctx: WebContext, browser: Browser, returnTo: string | null, error = '', email = '', status = 200): Promise<Response> {
  const user = await ctx.browsers.user(browser);
  const csrf = await ctx.browsers.csrf(browser, 'signin');
  const body = `<h1>Sign in to ${esc(ctx.serverName)}</h1>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
${user ? `<p class="muted">You are signed in as <strong>${esc(user.name ?? user.subject)}</strong>. Signing in again switches to another address.${returnTo ? ` <a href="${esc(returnTo)}">Continue as ${esc(user.name ?? user.subject)}</a>.` : ''}</p>` : ''}
<form method="post" action="${PATHS.signIn}">
<input type="hidden" name="csrf" value="${esc(csrf)}">
${returnTo ? `<input type="hidden" name="return_to" value="${esc(returnTo)}">` : ''}
<label for="email">Email address</label>
<input type="email" id="email" name="email" required maxlength="254" autocomplete="email" value="${esc(email)}" autofocus>
<button type="submit">Sign in</button>
</form>
<p class="muted">Demo sign-in: the address is your identity and is not verified.</p>`;
  return withCookies(htmlPage('Sign in', body, { status }), browser.cookies);
}

/** Adds Set-Cookie values (and other headers) to a page. */
export function withCookies(response: Response, cookies: readonly string[], headers: Record<string, string> = {}): Response {
  for (const c of cookies) response.headers.append('set-cookie', c);
  for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
  return response;
}
