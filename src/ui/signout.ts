import { PATHS, type WebHandler } from '../auth/web-context.ts';
import { esc, htmlPage, readForm, seeOther } from './html.ts';
import { withCookies } from './signin-page.ts';

/**
 * Sign-out of the built-in sign-in: a POST with the browser's single-use CSRF token (a link or an
 * image cannot sign anyone out), then 303 to the sign-in page. GET shows the one-button form.
 */
export const signOutRoute: WebHandler = async (request, ctx) => {
  const browser = ctx.browsers.of(request);
  if (request.method === 'POST') {
    const body = await readForm(request);
    if (!body || !(await ctx.browsers.checkCsrf(browser, 'signout', body.get('csrf')))) {
      return withCookies(await page(ctx.browsers.csrf(browser, 'signout'), 'The form expired or was already used. Try again.', 403), browser.cookies);
    }
    await ctx.browsers.signOut(browser);
    return seeOther(PATHS.signIn, browser.cookies);
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return withCookies(htmlPage('Method not allowed', '<h1>Method not allowed</h1>', { status: 405 }), browser.cookies, { allow: 'GET, POST' });
  }
  return withCookies(await page(ctx.browsers.csrf(browser, 'signout')), browser.cookies);
};

async function page(csrf: Promise<string>, error = '', status = 200): Promise<Response> {
  const body = `<h1>Sign out</h1>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="${PATHS.signOut}">
<input type="hidden" name="csrf" value="${esc(await csrf)}">
<button type="submit">Sign out</button>
</form>`;
  return htmlPage('Sign out', body, { status });
}
