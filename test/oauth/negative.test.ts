import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashSecret } from '../../src/auth/secrets.ts';
import type { Gangway } from '../../src/index.ts';
import { DocumentServer } from './document-server.ts';
import {
  authorize,
  authorizeQuery,
  basic,
  callTool,
  callToolAt,
  consentForm,
  decision,
  exchange,
  grantsOf,
  oauthApp,
  openConsent,
  ORIGIN,
  pkce,
  publicClient,
  REDIRECT,
  redirected,
  refresh,
  register,
  revoke,
  SCOPES,
  TestBrowser,
  token,
  tokensFor,
} from './helpers.ts';

/**
 * What must NOT happen, one named case each (RFC 9700, OAuth 2.1, RFC 7009/7591/8707/9207, the MCP
 * authorization spec, SECURITY 14-32). Every case proves nothing happened: no code in a Location,
 * no grant in the store, no token in the answer, or a token that stopped working.
 */

/** GET /oauth/authorize from a fresh browser. */
async function authorizeGet(app: Gangway, query: string) {
  return new TestBrowser(app).get(`/oauth/authorize?${query}`);
}

/** An error shown as a page: 400 HTML, no Location at all (SECURITY 18). */
function assertErrorPage(r: { res: Response; text: string }, pattern?: RegExp) {
  assert.equal(r.res.status, 400, r.text.slice(0, 200));
  assert.equal(r.res.headers.get('location'), null);
  assert.match(r.res.headers.get('content-type') ?? '', /text\/html/);
  assert.equal(r.res.headers.get('x-frame-options'), 'DENY');
  if (pattern) assert.match(r.text, pattern);
}

/** An error redirected to the client: no code, state and iss present (RFC 9207). */
function assertErrorRedirect(res: Response, error: string) {
  const p = redirected(res);
  assert.equal(p.get('error'), error);
  assert.equal(p.get('code'), null);
  assert.equal(p.get('state'), 'st-123');
  assert.equal(p.get('iss'), ORIGIN);
}

describe('negative: /oauth/authorize', () => {
  let app: Gangway;
  let clientId: string;
  before(async () => {
    app = oauthApp();
    clientId = await publicClient(app, { redirect_uris: [REDIRECT, 'https://app.example/cb?x=1'] });
  });
  after(() => app.close());

  it('01 missing PKCE (no code_challenge) is refused with invalid_request, no grant', async () => {
    const { res } = await authorizeGet(app, authorizeQuery(clientId, '', { code_challenge: undefined }));
    assertErrorRedirect(res, 'invalid_request');
    assert.deepEqual(await grantsOf(app), []);
  });

  it('02 plain PKCE is refused (S256 only)', async () => {
    const p = pkce();
    const { res } = await authorizeGet(app, authorizeQuery(clientId, p.verifier, { code_challenge_method: 'plain' }));
    assertErrorRedirect(res, 'invalid_request');
    const noMethod = await authorizeGet(app, authorizeQuery(clientId, p.challenge, { code_challenge_method: undefined }));
    assertErrorRedirect(noMethod.res, 'invalid_request');
    assert.deepEqual(await grantsOf(app), []);
  });

  it('03 implicit flow (response_type=token) is refused: no token in any fragment', async () => {
    const { res } = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { response_type: 'token' }));
    assertErrorRedirect(res, 'unsupported_response_type');
    assert.ok(!res.headers.get('location')!.includes('#'));
    assert.ok(!res.headers.get('location')!.includes('access_token'));
  });

  it('04 redirect_uri mismatch in the path: error page, never a redirect', async () => {
    const r = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { redirect_uri: 'http://127.0.0.1:7777/callback/evil' }));
    assertErrorPage(r, /redirect_uri/);
  });

  it('05 redirect_uri mismatch in the scheme (https for a registered http loopback)', async () => {
    const r = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { redirect_uri: 'https://127.0.0.1:7777/callback' }));
    assertErrorPage(r);
  });

  it('06 redirect_uri mismatch in a non-loopback port', async () => {
    const r = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { redirect_uri: 'https://app.example:8443/cb?x=1' }));
    assertErrorPage(r);
  });

  it('07 redirect_uri with an extra or changed query is refused (exact match)', async () => {
    const extra = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { redirect_uri: 'https://app.example/cb?x=1&y=2' }));
    assertErrorPage(extra);
    const loopbackQuery = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { redirect_uri: 'http://127.0.0.1:7777/callback?next=evil' }));
    assertErrorPage(loopbackQuery);
  });

  it('08 a loopback redirect may change its port only (RFC 8252 7.3): that one still works', async () => {
    const browser = new TestBrowser(app);
    const form = await openConsent(browser, authorizeQuery(clientId, pkce().challenge, { redirect_uri: 'http://127.0.0.1:51234/callback' }));
    const { res } = await browser.post('/oauth/authorize', decision(form, 'deny', []));
    assert.ok(res.headers.get('location')!.startsWith('http://127.0.0.1:51234/callback?'));
    const host = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { redirect_uri: 'http://localhost:7777/callback' }));
    assertErrorPage(host); // another host name is not a port change
  });

  it('09 an unknown client gets an error page with no Location header', async () => {
    const r = await authorizeGet(app, authorizeQuery('no-such-client', pkce().challenge));
    assertErrorPage(r, /unknown client/);
    const none = await authorizeGet(app, authorizeQuery('', pkce().challenge, { client_id: undefined }));
    assertErrorPage(none);
  });

  it('10 a missing redirect_uri is an error page, not a guess', async () => {
    const r = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { redirect_uri: undefined }));
    assertErrorPage(r);
  });

  it('11 a wrong resource is invalid_target (RFC 8707), state and iss echoed, no grant', async () => {
    const other = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { resource: 'https://evil.example/mcp' }));
    assertErrorRedirect(other.res, 'invalid_target');
    const fragment = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { resource: `${ORIGIN}/mcp#x` }));
    assertErrorRedirect(fragment.res, 'invalid_target');
    const relative = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge, { resource: '/mcp' }));
    assertErrorRedirect(relative.res, 'invalid_target');
    assert.deepEqual(await grantsOf(app), []);
  });

  it('12 repeated parameters are refused (RFC 6749 3.1)', async () => {
    const q = `${authorizeQuery(clientId, pkce().challenge)}&code_challenge=${pkce().challenge}`;
    const { res } = await authorizeGet(app, q);
    assertErrorRedirect(res, 'invalid_request');
    const twoClients = await authorizeGet(app, `${authorizeQuery(clientId, pkce().challenge)}&client_id=other`);
    assertErrorPage(twoClients);
  });

  it('13 consent POST without a CSRF token: 400, no code, and the real form still works', async () => {
    const browser = new TestBrowser(app);
    const form = await openConsent(browser, authorizeQuery(clientId, pkce().challenge));
    const forged = new URLSearchParams({ request: form.handle, decision: 'approve', scope: 'notes:read' });
    const r = await browser.post('/oauth/authorize', forged);
    assertErrorPage(r);
    assert.deepEqual(await grantsOf(app), []);
    const ok = await browser.post('/oauth/authorize', decision(form, 'deny', []));
    assert.equal(redirected(ok.res).get('error'), 'access_denied');
  });

  it('14 consent POST with a replayed CSRF token: 400, exactly one grant', async () => {
    const a = oauthApp();
    const id = await publicClient(a);
    const browser = new TestBrowser(a);
    const form = await openConsent(browser, authorizeQuery(id, pkce().challenge));
    const first = await browser.post('/oauth/authorize', decision(form, 'approve', ['notes:read']));
    assert.ok(redirected(first.res).get('code'));
    const replay = await browser.post('/oauth/authorize', decision(form, 'approve', ['notes:read']));
    assertErrorPage(replay);
    assert.equal((await grantsOf(a)).length, 1);
    await a.close();
  });

  it('15 consent POST from another browser (token bound to the browser): 400, no grant', async () => {
    const form = await openConsent(new TestBrowser(app), authorizeQuery(clientId, pkce().challenge));
    const other = new TestBrowser(app);
    const r = await other.post('/oauth/authorize', decision(form, 'approve', ['notes:read']));
    assertErrorPage(r);
    assert.deepEqual(await grantsOf(app), []);
  });

  it('16 consent POST by another signed-in user than the one shown the page: refused', async () => {
    const browser = new TestBrowser(app);
    const form = await openConsent(browser, authorizeQuery(clientId, pkce().challenge));
    const switched = new TestBrowser(app, { 'x-test-user': 'mallory' });
    switched.cookies = browser.cookies;
    const r = await switched.post('/oauth/authorize', decision(form, 'approve', ['notes:read']));
    assertErrorPage(r);
    assert.deepEqual(await grantsOf(app, 'mallory'), []);
    assert.deepEqual(await grantsOf(app), []);
  });

  it('17 a tampered consent POST cannot add a scope that was not requested', async () => {
    const a = oauthApp();
    const id = await publicClient(a);
    const p = pkce();
    const code = await authorize(a, id, p.challenge, ['notes:read', 'notes:write', 'profile'], { scope: 'notes:read' });
    const t = await exchange(a, id, code, p.verifier);
    assert.equal(t.json.scope, 'notes:read');
    assert.equal((await callTool(a, t.json.access_token as string, 'write_note')).status, 403);
    await a.close();
  });

  it('18 client_name with markup is shown escaped on the consent page', async () => {
    const evil = await publicClient(app, { client_name: '<script>alert(1)</script><img src=x onerror=alert(2)>' });
    const form = await openConsent(new TestBrowser(app), authorizeQuery(evil, pkce().challenge));
    assert.ok(!form.html.includes('<script>alert(1)'));
    assert.ok(!form.html.includes('<img src=x'));
    assert.match(form.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;img src=x onerror=alert\(2\)&gt;/);
  });

  it('19 the consent page cannot be framed and sets __Host- cookies', async () => {
    const r = await new TestBrowser(app).get(`/oauth/authorize?${authorizeQuery(clientId, pkce().challenge)}`);
    assert.match(r.res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.match(r.res.headers.get('content-security-policy') ?? '', /form-action 'self' http:\/\/127\.0\.0\.1:7777/);
    assert.equal(r.res.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.res.headers.get('access-control-allow-origin'), null, 'no CORS on /authorize');
    assert.match(r.res.headers.get('set-cookie') ?? '', /^__Host-gw_browser=.*Secure; HttpOnly; SameSite=Lax/);
  });

  it('20 iss is in success and error redirects; state is echoed on errors (RFC 9207)', async () => {
    const a = oauthApp({ autoApprove: true });
    const id = await publicClient(a);
    const ok = redirected((await authorizeGet(a, authorizeQuery(id, pkce().challenge))).res);
    assert.ok(ok.get('code'));
    assert.equal(ok.get('iss'), ORIGIN);
    assert.equal(ok.get('state'), 'st-123');
    const bad = await authorizeGet(a, authorizeQuery(id, pkce().challenge, { scope: 'bad"scope' }));
    assertErrorRedirect(bad.res, 'invalid_scope');
    await a.close();
  });
});

describe('negative: /oauth/token', () => {
  let app: Gangway;
  let clientId: string;
  before(async () => {
    app = oauthApp();
    clientId = await publicClient(app);
  });
  after(() => app.close());

  it('21 a wrong PKCE verifier is invalid_grant, and the right verifier still works (code not burned)', async () => {
    const p = pkce();
    const code = await authorize(app, clientId, p.challenge, ['notes:read']);
    const wrong = await exchange(app, clientId, code, pkce().verifier);
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.error, 'invalid_grant');
    assert.equal(wrong.json.access_token, undefined);
    const right = await exchange(app, clientId, code, p.verifier);
    assert.equal(right.status, 200);
  });

  it('22 a PKCE downgrade (no verifier, or the challenge itself as verifier) is refused, code kept', async () => {
    const p = pkce();
    const code = await authorize(app, clientId, p.challenge, ['notes:read']);
    const none = await exchange(app, clientId, code, '');
    assert.equal(none.json.error, 'invalid_request');
    const plain = await exchange(app, clientId, code, p.challenge);
    assert.equal(plain.json.error, 'invalid_grant');
    assert.equal((await exchange(app, clientId, code, p.verifier)).status, 200);
  });

  it('23 code replay: invalid_grant, and the first access and refresh tokens stop working', async () => {
    const t = await tokensFor(app);
    assert.equal((await callTool(app, t.access, 'read_notes')).status, 200);
    const replay = await exchange(app, t.clientId, t.code, t.verifier);
    assert.equal(replay.status, 400);
    assert.equal(replay.json.error, 'invalid_grant');
    assert.equal(replay.json.access_token, undefined);
    assert.equal((await callTool(app, t.access, 'read_notes')).status, 401);
    assert.equal((await refresh(app, t.clientId, t.refresh)).json.error, 'invalid_grant');
  });

  it('24 redirect_uri at /token must equal the one at /authorize; the code survives the attempt', async () => {
    const p = pkce();
    const code = await authorize(app, clientId, p.challenge, ['notes:read']);
    const other = await exchange(app, clientId, code, p.verifier, { redirect_uri: 'http://127.0.0.1:7778/callback' });
    assert.equal(other.json.error, 'invalid_grant');
    const missing = await exchange(app, clientId, code, p.verifier, { redirect_uri: undefined });
    assert.equal(missing.json.error, 'invalid_request');
    assert.equal((await exchange(app, clientId, code, p.verifier)).status, 200);
  });

  it("25 another client cannot redeem a client's code, and the code survives", async () => {
    const p = pkce();
    const code = await authorize(app, clientId, p.challenge, ['notes:read']);
    const thief = await publicClient(app);
    const stolen = await exchange(app, thief, code, p.verifier);
    assert.equal(stolen.json.error, 'invalid_grant');
    assert.equal((await exchange(app, clientId, code, p.verifier)).status, 200);
  });

  it('26 an expired code is invalid_grant', async () => {
    const a = oauthApp({ codeTtl: 1 });
    const id = await publicClient(a);
    const p = pkce();
    const code = await authorize(a, id, p.challenge, ['notes:read']);
    await new Promise((r) => setTimeout(r, 1100));
    const t = await exchange(a, id, code, p.verifier);
    assert.equal(t.json.error, 'invalid_grant');
    assert.equal(t.json.access_token, undefined);
    await a.close();
  });

  it('27 a resource at /token other than the bound one is invalid_target, code kept', async () => {
    const p = pkce();
    const code = await authorize(app, clientId, p.challenge, ['notes:read']);
    const t = await exchange(app, clientId, code, p.verifier, { resource: 'https://evil.example/mcp' });
    assert.equal(t.json.error, 'invalid_target');
    assert.equal((await exchange(app, clientId, code, p.verifier)).status, 200);
  });

  it('28 refresh token reuse revokes the grant: the newest refresh and access tokens stop working', async () => {
    const t = await tokensFor(app);
    const r1 = await refresh(app, t.clientId, t.refresh);
    const r2 = await refresh(app, t.clientId, r1.json.refresh_token as string);
    assert.equal(r2.status, 200);
    const reuse = await refresh(app, t.clientId, t.refresh);
    assert.equal(reuse.json.error, 'invalid_grant');
    assert.equal((await refresh(app, t.clientId, r2.json.refresh_token as string)).json.error, 'invalid_grant');
    assert.equal((await callTool(app, r2.json.access_token as string, 'read_notes')).status, 401);
  });

  it('29 a refresh cannot widen the resource or use another client, and such attempts burn nothing', async () => {
    const t = await tokensFor(app);
    const res = await refresh(app, t.clientId, t.refresh, { resource: 'https://evil.example/mcp' });
    assert.equal(res.json.error, 'invalid_target');
    const thief = await publicClient(app);
    assert.equal((await refresh(app, thief, t.refresh)).json.error, 'invalid_grant');
    assert.equal((await refresh(app, t.clientId, t.refresh)).status, 200);
  });

  it('30 unsupported grant types (password, client_credentials, implicit) -> unsupported_grant_type', async () => {
    for (const grant of ['password', 'client_credentials', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']) {
      const t = await token(app, { grant_type: grant, client_id: clientId, username: 'a', password: 'b' });
      assert.equal(t.status, 400);
      assert.equal(t.json.error, 'unsupported_grant_type');
      assert.equal(t.json.access_token, undefined);
    }
  });

  it('31 a confidential client with a wrong secret: 401 invalid_client with a Basic challenge, code kept', async () => {
    const reg = await register(app, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' });
    const id = reg.json.client_id as string;
    const p = pkce();
    const code = await authorize(app, id, p.challenge, ['notes:read']);
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: p.verifier };
    const wrong = await token(app, form, { authorization: basic(id, 'gws_wrong') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error, 'invalid_client');
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic /);
    const ok = await token(app, form, { authorization: basic(id, reg.json.client_secret as string) });
    assert.equal(ok.status, 200);
  });

  it('32 the registered authentication method is enforced (SECURITY 30)', async () => {
    const reg = await register(app, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' });
    const id = reg.json.client_id as string;
    const secret = reg.json.client_secret as string;
    const p = pkce();
    const code = await authorize(app, id, p.challenge, ['notes:read']);
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: p.verifier };
    const post = await token(app, { ...form, client_id: id, client_secret: secret });
    assert.equal(post.status, 401, 'client_secret_post for a client_secret_basic client');
    const none = await token(app, { ...form, client_id: id });
    assert.equal(none.status, 401, 'no authentication for a confidential client');
    const publicWithSecret = await token(app, { grant_type: 'refresh_token', client_id: clientId, client_secret: secret, refresh_token: 'x' });
    assert.equal(publicWithSecret.status, 401, 'a public client cannot present a secret');
    assert.equal((await token(app, form, { authorization: basic(id, secret) })).status, 200);
  });

  it('33 token answers are never cached, errors included; the body must be a form or a flat JSON object of strings; no 500 on garbage', async () => {
    const err = await token(app, { grant_type: 'authorization_code', client_id: clientId, code: 'gwc_nope', redirect_uri: REDIRECT, code_verifier: 'a'.repeat(43) });
    assert.equal(err.json.error, 'invalid_grant');
    assert.equal(err.headers.get('cache-control'), 'no-store');
    const post = (type: string, body: string) => app.fetch(new Request(`${ORIGIN}/oauth/token`, { method: 'POST', headers: { 'content-type': type }, body }));
    // The same parameters as JSON or as a form get the same answer (here: no client, 401)
    const asJson = await post('application/json', '{"grant_type":"authorization_code"}');
    const asForm = await post('application/x-www-form-urlencoded', 'grant_type=authorization_code');
    assert.equal(asJson.status, 401);
    assert.deepEqual([asJson.status, await asJson.json()], [asForm.status, await asForm.json()]);
    // A JSON body that a form could not be: refused as the form rules would refuse it, nothing issued
    const p = pkce();
    const code = await authorize(app, clientId, p.challenge, ['notes:read']);
    const fields = { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: p.verifier };
    const refusedBodies: Array<[string, string, RegExp]> = [
      ['application/json', `{"code":"gwc_other",${JSON.stringify(fields).slice(1)}`, /duplicate key "code"/],
      ['application/json', JSON.stringify({ ...fields, code_verifier: 42 }), /code_verifier parameter must be a string/],
      ['application/json', JSON.stringify([fields]), /JSON object of string values/],
      ['application/json', '{"grant_type":', /JSON body is not valid/],
      ['application/json', JSON.stringify({ ...fields, pad: 'x'.repeat(17 * 1024) }), /at most 16 KiB/],
      ['text/plain', new URLSearchParams(fields).toString(), /x-www-form-urlencoded/],
    ];
    for (const [type, body, message] of refusedBodies) {
      const r = await post(type, body);
      const json = (await r.json()) as { error: string; error_description: string };
      assert.equal(r.status, 400, `${type} ${body.slice(0, 60)}`);
      assert.equal(json.error, 'invalid_request');
      assert.match(json.error_description, message);
      assert.equal(r.headers.get('cache-control'), 'no-store');
    }
    // None of them used the code up: it still works, once
    const good = await post('application/json', JSON.stringify(fields));
    assert.equal(good.status, 200, await good.clone().text());
    assert.equal((await post('application/json', JSON.stringify(fields))).status, 400, 'a code is single use, in JSON too');
    assert.equal((await app.fetch(new Request(`${ORIGIN}/oauth/token`))).status, 405);
    for (const body of ['%%%', 'grant_type=refresh_token&refresh_token=%E0%A4%A', `grant_type=authorization_code&code=${'x'.repeat(5000)}`]) {
      const r = await app.fetch(
        new Request(`${ORIGIN}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic !!!' }, body }),
      );
      assert.ok(r.status === 400 || r.status === 401, `${r.status}`);
    }
  });
});

describe('negative: the resource server and revocation', () => {
  let app: Gangway;
  before(() => {
    app = oauthApp({ accessTokenTtl: 1 });
  });
  after(() => app.close());

  it('34 a token issued for another resource (audience) is refused with 401 at the MCP endpoint', async () => {
    const t = await tokensFor(app);
    const at127 = await callToolAt(app, t.access, 'read_notes', 'http://127.0.0.1');
    assert.equal(at127.status, 401, at127.text);
    assert.match(at127.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.equal((await callToolAt(app, t.access, 'read_notes', ORIGIN)).status, 200);
  });

  it('35 an expired access token is refused', async () => {
    const t = await tokensFor(app);
    assert.equal((await callTool(app, t.access, 'read_notes')).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await callTool(app, t.access, 'read_notes')).status, 401);
  });

  it('36 a revoked access token stops working at once; the refresh token lives on', async () => {
    const a = oauthApp();
    const t = await tokensFor(a);
    assert.equal((await callTool(a, t.access, 'read_notes')).status, 200);
    assert.equal((await revoke(a, { token: t.access, client_id: t.clientId })).status, 200);
    assert.equal((await callTool(a, t.access, 'read_notes')).status, 401);
    assert.equal((await refresh(a, t.clientId, t.refresh)).status, 200);
    await a.close();
  });

  it("37 revoking another client's token answers 200 and leaves it working", async () => {
    const a = oauthApp();
    const t = await tokensFor(a);
    const other = await publicClient(a);
    const r = await revoke(a, { token: t.access, client_id: other });
    assert.equal(r.status, 200);
    const rr = await revoke(a, { token: t.refresh, client_id: other, token_type_hint: 'refresh_token' });
    assert.equal(rr.status, 200);
    assert.equal((await callTool(a, t.access, 'read_notes')).status, 200);
    assert.equal((await refresh(a, t.clientId, t.refresh)).status, 200);
    await a.close();
  });

  it('38 revocation needs client authentication; an unknown token is 200', async () => {
    const a = oauthApp();
    const t = await tokensFor(a);
    const anonymous = await revoke(a, { token: t.access });
    assert.equal(anonymous.status, 401);
    assert.equal((await callTool(a, t.access, 'read_notes')).status, 200);
    assert.equal((await revoke(a, { token: 'gwa_unknown', client_id: t.clientId })).status, 200);
    await a.close();
  });

  it('39 revoking a refresh token ends its grant: the access token stops working too', async () => {
    const a = oauthApp();
    const t = await tokensFor(a);
    assert.equal((await revoke(a, { token: t.refresh, client_id: t.clientId })).status, 200);
    assert.equal((await callTool(a, t.access, 'read_notes')).status, 401);
    assert.equal((await refresh(a, t.clientId, t.refresh)).json.error, 'invalid_grant');
    assert.equal((await grantsOf(a))[0]!.revokedAt !== null, true);
    await a.close();
  });
});

describe('negative: sign-in delegated to an identity provider (SECURITY 24, confused deputy)', () => {
  const IDP = 'https://idp.example/login';
  // The product's sign-in: a session from its identity provider (a cookie here), else a redirect there.
  const app = oauthApp({}, {}, {
    signIn: (request, returnTo) => {
      const who = /(?:^|;\s*)idp=(\w+)/.exec(request.headers.get('cookie') ?? '')?.[1];
      return who ? { subject: who, tenant: `${who}-co` } : { redirect: `${IDP}?next=${encodeURIComponent(returnTo)}` };
    },
  });
  after(() => app.close());

  it("55 another client gets no code without our consent page naming it, even for a user already signed in upstream", async () => {
    const attacker = await register(app, { client_name: 'Evil <i>', redirect_uris: ['https://attacker.example/cb'] });
    const query = authorizeQuery(attacker.json.client_id as string, pkce().challenge, { redirect_uri: 'https://attacker.example/cb' });

    // Not signed in: sent to the identity provider with the authorization request to come back to.
    const away = await new TestBrowser(app).get(`/oauth/authorize?${query}`);
    assert.equal(away.res.status, 303);
    const location = new URL(away.res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, IDP);
    assert.equal(location.searchParams.get('next'), `/oauth/authorize?${query}`);

    // Signed in there already (single sign-on answers at once): our consent page, naming that client.
    const victim = new TestBrowser(app);
    victim.cookies.set('idp', 'alice');
    const page = await victim.get(`/oauth/authorize?${query}`);
    assert.equal(page.res.status, 200);
    assert.equal(page.res.headers.get('location'), null, 'no code on the way to the client');
    assert.match(page.text, /Evil &lt;i&gt;/);
    assert.match(page.text, /attacker\.example/);
    assert.deepEqual(await grantsOf(app), [], 'no grant before the user approves');

    // The form is bound to the victim's browser: the same sign-in in another browser cannot submit it.
    const other = new TestBrowser(app);
    other.cookies.set('idp', 'alice');
    const forged = await other.post('/oauth/authorize', decision(consentForm(page.text), 'approve', ['notes:read']));
    assert.equal(forged.res.status, 400);
    assert.deepEqual(await grantsOf(app), []);
  });
});

describe('negative: dynamic client registration (RFC 7591)', () => {
  let app: Gangway;
  before(() => {
    app = oauthApp({ registration: { perHourPerIp: 1000 } });
  });
  after(() => app.close());

  const refused = async (body: Record<string, unknown>, error: string) => {
    const r = await register(app, body);
    assert.equal(r.status, 400, JSON.stringify(r.json));
    assert.equal(r.json.error, error);
    assert.equal(r.json.client_id, undefined);
  };

  it('40 javascript: and data: redirect URIs are refused', async () => {
    await refused({ redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri');
    await refused({ redirect_uris: ['data:text/html,<script>alert(1)</script>'] }, 'invalid_redirect_uri');
    await refused({ redirect_uris: ['com.example.app:/callback'] }, 'invalid_redirect_uri');
  });

  it('41 http redirect URIs off loopback are refused', async () => {
    await refused({ redirect_uris: ['http://app.example/cb'] }, 'invalid_redirect_uri');
    await refused({ redirect_uris: ['http://127.0.0.1.evil.example/cb'] }, 'invalid_redirect_uri');
    await refused({ redirect_uris: ['https://user:pw@app.example/cb'] }, 'invalid_redirect_uri');
  });

  it('42 redirect URIs with a fragment are refused', async () => {
    await refused({ redirect_uris: ['https://app.example/cb#frag'] }, 'invalid_redirect_uri');
    await refused({ redirect_uris: ['https://app.example/cb#'] }, 'invalid_redirect_uri');
  });

  it('43 implicit or unknown grant and response types are refused', async () => {
    await refused({ redirect_uris: [REDIRECT], response_types: ['token'] }, 'invalid_client_metadata');
    await refused({ redirect_uris: [REDIRECT], grant_types: ['password'] }, 'invalid_client_metadata');
    await refused({ redirect_uris: [REDIRECT], grant_types: ['implicit'] }, 'invalid_client_metadata');
    await refused({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'private_key_jwt' }, 'invalid_client_metadata');
    await refused({ redirect_uris: [] }, 'invalid_redirect_uri');
  });

  it('44 registration is rate-limited per address (429 + Retry-After), nothing stored beyond the limit', async () => {
    const a = oauthApp({ registration: { perHourPerIp: 2 } });
    assert.equal((await register(a, { redirect_uris: [REDIRECT] })).status, 201);
    assert.equal((await register(a, { redirect_uris: [REDIRECT] })).status, 201);
    const third = await register(a, { redirect_uris: [REDIRECT] });
    assert.equal(third.status, 429);
    assert.ok(Number(third.headers.get('retry-after')) > 3000);
    assert.equal(third.json.client_id, undefined);
    const { store } = await a.stores();
    // every unused registration, however recent: exactly the two accepted ones
    assert.equal(await store.oauthClients.deleteUnused(Date.now() + 1000), 2);
    await a.close();
  });

  it('53 the limit is per peer address as the host passes it to app.fetch(request, { ip })', async () => {
    const a = oauthApp({ registration: { perHourPerIp: 1 } });
    const from = (ip: string) =>
      a.fetch(
        new Request('http://localhost/oauth/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT] }) }),
        { ip },
      );
    assert.equal((await from('192.0.2.1')).status, 201);
    assert.equal((await from('192.0.2.1')).status, 429);
    assert.equal((await from('192.0.2.2')).status, 201, 'another address has its own budget');
    await a.close();
  });
  it('54 a body with a repeated key, broken JSON or too deep is refused, and no client is stored', async () => {
    const a = oauthApp({ registration: { perHourPerIp: 1000 } });
    const post = async (body: string) => {
      const res = await a.fetch(new Request('http://localhost/oauth/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    for (const [body, says] of [
      ['{"redirect_uris":["https://evil.example/cb"],"redirect_uris":["https://app.example/cb"]}', /duplicate key "redirect_uris"/],
      ['{"redirect_uris":["https://app.example/cb"],"client_name":"a","client_n\\u0061me":"b"}', /duplicate key "client_name"/],
      ['{"redirect_uris":["https://app.example/cb"]', /JSON body is not valid/],
      [`{"redirect_uris":["https://app.example/cb"],"x":${'['.repeat(100)}${']'.repeat(100)}}`, /JSON body is not valid: .*nesting deeper than 64/],
    ] as const) {
      const r = await post(body);
      assert.equal(r.status, 400, body);
      assert.equal(r.json.error, 'invalid_client_metadata');
      assert.match(String(r.json.error_description), says);
      assert.equal(r.json.client_id, undefined);
    }
    const { store } = await a.stores();
    assert.equal(await store.oauthClients.deleteUnused(Date.now() + 1000), 0, 'no client was registered');
    assert.equal((await post(JSON.stringify({ redirect_uris: [REDIRECT] }))).status, 201, 'the same body without the repeat registers');
    await a.close();
  });
});

describe('negative: Client ID Metadata Documents (SSRF)', () => {
  let docs: DocumentServer;
  before(async () => {
    docs = await new DocumentServer().start();
  });
  after(() => docs.stop());

  /** Authorize with a document URL: must be an error page, and nothing fetched. */
  async function refusedDocument(clientId: string, allowLoopback: boolean, pattern: RegExp) {
    const app = oauthApp({ clientMetadataDocuments: { allowLoopback, timeoutMs: 2000 } });
    const r = await authorizeGet(app, authorizeQuery(clientId, pkce().challenge));
    assertErrorPage(r, pattern);
    assert.deepEqual(await grantsOf(app), []);
    await app.close();
  }

  it('45 a document on 127.0.0.1 is refused after address checks, without a connection', async () => {
    const before = docs.connections;
    await refusedDocument(`https://127.0.0.1:${docs.port}/client.json`, false, /loopback address/);
    await refusedDocument(docs.url('/client.json'), false, /https URL/);
    assert.equal(docs.connections, before);
  });

  it('46 a host name resolving to loopback is refused after DNS resolution', async () => {
    const before = docs.connections;
    await refusedDocument(`https://localhost:${docs.port}/client.json`, false, /loopback address/);
    await refusedDocument(`https://[::ffff:7f00:1]:${docs.port}/client.json`, false, /loopback address/);
    assert.equal(docs.connections, before);
  });

  it('47 the cloud metadata address 169.254.169.254 and private ranges are refused', async () => {
    const started = Date.now();
    await refusedDocument('https://169.254.169.254/latest/meta-data', false, /link-local address/);
    await refusedDocument('https://10.0.0.1/client.json', false, /private address/);
    await refusedDocument('https://[fd00::1]/client.json', false, /unique-local address/);
    await refusedDocument('https://0.0.0.0/client.json', false, /unspecified address/);
    // allowLoopback (tests) permits loopback only, never the rest
    await refusedDocument('https://169.254.169.254/latest/meta-data', true, /link-local address/);
    assert.ok(Date.now() - started < 1500, 'refused before any connection attempt');
  });

  it('48 a redirect is not followed', async () => {
    await refusedDocument(docs.url('/redirect.json'), true, /redirects are not followed/);
    assert.equal(docs.hitsOf('/redirect.json'), 1);
    assert.equal(docs.hitsOf('/client.json'), 0, 'the redirect target was never fetched');
  });

  it('49 a 10 MB document is abandoned at the size cap', async () => {
    await refusedDocument(docs.url('/big.json'), true, /larger than 65536 bytes/);
    assert.equal(docs.hitsOf('/big.json'), 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(docs.bigBytesSent < 10 * 1024 * 1024, `the server could not send the whole body (${docs.bigBytesSent} bytes)`);
  });

  it('50 a document whose client_id differs from its URL is refused', async () => {
    await refusedDocument(docs.url('/mismatch.json'), true, /client_id does not match/);
  });

  it('51 a document asking for a shared secret, or a URL not in normal form, is refused', async () => {
    await refusedDocument(docs.url('/secret.json'), true, /token_endpoint_auth_method/);
    await refusedDocument(`${docs.origin}/a/../client.json`, true, /normal form/);
    await refusedDocument(`${docs.origin}/`, true, /path/);
    assert.equal(docs.hitsOf('/client.json'), 0);
  });
});

describe('negative: secrets at rest', () => {
  it('52 a database dump holds no issued code, token, refresh token, client secret or CSRF token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-oauth-dump-'));
    try {
      const app = oauthApp({}, { store: `sqlite:${join(dir, 'store.db')}`, ephemeral: `sqlite:${join(dir, 'ephemeral.db')}` });
      const reg = await register(app, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_post', grant_types: ['authorization_code', 'refresh_token'] });
      const id = reg.json.client_id as string;
      const secret = reg.json.client_secret as string;
      const p = pkce();
      const browser = new TestBrowser(app);
      const form = await openConsent(browser, authorizeQuery(id, p.challenge));
      const code = redirected((await browser.post('/oauth/authorize', decision(form, 'approve', Object.keys(SCOPES)))).res).get('code')!;
      const t = await token(app, { grant_type: 'authorization_code', client_id: id, client_secret: secret, code, redirect_uri: REDIRECT, code_verifier: p.verifier });
      const r = await token(app, { grant_type: 'refresh_token', client_id: id, client_secret: secret, refresh_token: t.json.refresh_token as string });
      assert.equal(r.status, 200);
      const secrets = {
        code,
        secret,
        verifier: p.verifier,
        csrf: form.csrf,
        browser: browser.cookies.get('__Host-gw_browser')!,
        access: t.json.access_token as string,
        refresh: t.json.refresh_token as string,
        access2: r.json.access_token as string,
        refresh2: r.json.refresh_token as string,
      };
      const dump = () =>
        readdirSync(dir)
          .map((f) => readFileSync(join(dir, f)).toString('latin1'))
          .join('\n');
      const check = (bytes: string) => {
        for (const [what, value] of Object.entries(secrets)) {
          assert.ok(value && value.length >= 40, what);
          assert.ok(!bytes.includes(value.slice(4)), `${what} found in the database files`);
        }
      };
      const live = dump();
      // Control: the dump is real and readable. The hashes are there, the secrets are not.
      assert.ok(live.includes(hashSecret(secrets.access)), 'the access token hash is stored');
      assert.ok(live.includes(hashSecret(secrets.secret)), 'the client secret hash is stored');
      check(live);
      await app.close();
      check(dump());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
