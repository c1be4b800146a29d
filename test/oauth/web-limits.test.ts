import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Gangway, GangwayConfig } from '../../src/index.ts';
import type { PolicyConfig } from '../../src/policy/config.ts';
import { resolvePolicy } from '../../src/policy/config.ts';
import { testApp } from '../helpers/http.ts';
import { authorize, authorizeQuery, consentForm, decision, grantsOf, oauthApp, ORIGIN, pkce, publicClient, REDIRECT, redirected } from './helpers.ts';

/**
 * SECURITY 40: /oauth/token, /oauth/authorize, /oauth/register and the built-in sign-in each have
 * a budget per client address. A refused request answers 429 with Retry-After and the RateLimit
 * fields, and does nothing else: no code redeemed, no token issued, no consent recorded, nobody
 * signed in, no audit row.
 */

const apps: Gangway[] = [];
after(() => Promise.all(apps.map((a) => a.close())));
function limited(web: NonNullable<PolicyConfig['limits']>['web'], extra: Partial<GangwayConfig> = {}): Gangway {
  const a = oauthApp({}, { policy: { limits: { web } }, ...extra });
  apps.push(a);
  return a;
}

const A = '203.0.113.5';
const B = '198.51.100.7';

/** POST /oauth/token from an address. */
async function tokenFrom(app: Gangway, ip: string, form: Record<string, string>) {
  const res = await app.fetch(
    new Request(`${ORIGIN}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    }),
    { ip },
  );
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

/** A browser at one address: keeps cookies, never follows redirects. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly app: Gangway,
    public ip: string,
  ) {}
  async send(method: string, path: string, form?: URLSearchParams) {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await this.app.fetch(new Request(`${ORIGIN}${path}`, { method, headers, body: form?.toString(), redirect: 'manual' }), { ip: this.ip });
    const setCookies = res.headers.getSetCookie();
    for (const c of setCookies) {
      const pair = c.split(';')[0]!;
      this.cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return { status: res.status, headers: res.headers, text: await res.text(), setCookies };
  }
}

/** The RateLimit fields of a refusal, checked against each other and the rule. */
function assertTooMany(r: { status: number; headers: Headers }, policy: string, quota: number, windowS: number) {
  assert.equal(r.status, 429);
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= windowS, `Retry-After ${retry}`);
  assert.equal(r.headers.get('ratelimit-policy'), `"${policy}";q=${quota};w=${windowS}`);
  assert.equal(r.headers.get('ratelimit'), `"${policy}";r=0;t=${retry}`);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  return retry;
}

describe('web limits: POST /oauth/token', () => {
  it('the 61st request from one address in a minute is 429 with the RateLimit fields; nothing is redeemed; another address still succeeds', async () => {
    const app = oauthApp();
    apps.push(app);
    const clientId = await publicClient(app);
    const p = pkce();
    const code = await authorize(app, clientId, p.challenge, ['notes:read']);
    const redeem = { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: p.verifier };

    for (let i = 0; i < 60; i++) {
      const r = await tokenFrom(app, A, { grant_type: 'refresh_token', client_id: clientId, refresh_token: `gwr_nothing${i}` });
      assert.equal(r.status, 400, `request ${i + 1} is within the budget`);
    }
    const refused = await tokenFrom(app, A, redeem);
    const retry = assertTooMany(refused, 'token', 60, 60);
    assert.ok(retry >= 58, `the window started moments ago: ${retry}`);
    assert.equal(refused.headers.get('content-type'), 'application/json');
    assert.equal(refused.json.error, 'invalid_request');
    assert.equal(refused.json.error_description, `too many requests from this address; retry in ${retry} s`);
    assert.equal(refused.json.access_token, undefined);

    // the code was not spent by the refused request: it still redeems, from another address
    const other = await tokenFrom(app, B, redeem);
    assert.equal(other.status, 200, JSON.stringify(other.json));
    assert.match(String(other.json.access_token), /^gwa_/);

    // and the refused request left no audit row: 60 failures and 1 success
    const { store } = await app.stores();
    const rows = await store.audit.query({ event: 'auth.token', limit: 1000 });
    assert.equal(rows.length, 61);
    assert.equal(rows.filter((r) => r.outcome === 'ok').length, 1);
  });

  it('the window ends after windowMs and the address may try again', async () => {
    const app = limited({ token: { max: 2, windowMs: 1000 } });
    const form = { grant_type: 'refresh_token', client_id: 'x', refresh_token: 'y' };
    assert.equal((await tokenFrom(app, A, form)).status, 401);
    assert.equal((await tokenFrom(app, A, form)).status, 401);
    const refused = await tokenFrom(app, A, form);
    assert.equal(assertTooMany(refused, 'token', 2, 1), 1);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await tokenFrom(app, A, form)).status, 401, 'a new window');
  });

  it('`false` turns the limit off; other methods are not counted', async () => {
    const app = limited({ token: false });
    for (let i = 0; i < 70; i++) assert.equal((await tokenFrom(app, A, { grant_type: 'password' })).status, 400);
    const counted = limited({ token: { max: 1, windowMs: 60_000 } });
    for (let i = 0; i < 3; i++) assert.equal((await counted.fetch(new Request(`${ORIGIN}/oauth/token`), { ip: A })).status, 405);
    assert.equal((await tokenFrom(counted, A, { grant_type: 'password' })).status, 400);
    assert.equal((await tokenFrom(counted, A, { grant_type: 'password' })).status, 429);
  });
});

describe('web limits: /oauth/authorize', () => {
  it('GET and POST share the budget; a refused consent POST records nothing and the same form still works elsewhere', async () => {
    const app = limited({ authorize: { max: 2, windowMs: 60_000 } });
    const clientId = await publicClient(app);
    const p = pkce();
    const browser = new Browser(app, A);
    const page = await browser.send('GET', `/oauth/authorize?${authorizeQuery(clientId, p.challenge)}`);
    assert.equal(page.status, 200);
    const form = consentForm(page.text);
    assert.equal((await browser.send('GET', `/oauth/authorize?${authorizeQuery(clientId, p.challenge)}`)).status, 200);

    const refused = await browser.send('POST', '/oauth/authorize', decision(form, 'approve', ['notes:read']));
    assertTooMany(refused, 'authorize', 2, 60);
    assert.match(refused.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(refused.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.match(refused.text, /Too many attempts from this address/);
    assert.equal(refused.headers.get('location'), null, 'no redirect, no code');
    assert.deepEqual(refused.setCookies, []);
    assert.deepEqual(await grantsOf(app), [], 'no consent recorded');
    assertTooMany(await browser.send('GET', `/oauth/authorize?${authorizeQuery(clientId, p.challenge)}`), 'authorize', 2, 60);

    // the pending request and its CSRF token were not consumed: the same browser elsewhere succeeds
    browser.ip = B;
    const approved = await browser.send('POST', '/oauth/authorize', decision(form, 'approve', ['notes:read']));
    assert.ok(redirected(new Response(null, { status: approved.status, headers: approved.headers })).get('code'));
    assert.equal((await grantsOf(app)).length, 1);
  });
});

describe('web limits: built-in sign-in', () => {
  it('the 11th POST /signin from one address in a minute is 429 and signs nobody in', async () => {
    const app = testApp({ auth: { oauth: true, scopes: { 'a:b': 'x' } }, tools: [{ name: 't', scopes: ['a:b'], handler: () => 'ok' }] });
    apps.push(app);
    const browser = new Browser(app, A);
    for (let i = 0; i < 10; i++) assert.equal((await browser.send('POST', '/signin', new URLSearchParams({ email: 'eve@example.com' }))).status, 403);
    const page = await browser.send('GET', '/signin');
    assert.equal(page.status, 200, 'the form itself is not counted');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const refused = await browser.send('POST', '/signin', new URLSearchParams({ csrf, email: 'ada@example.com' }));
    assertTooMany(refused, 'signin', 10, 60);
    assert.match(refused.headers.get('content-type') ?? '', /^text\/html/);
    assert.deepEqual(refused.setCookies, [], 'no sign-in cookie');
    assert.equal(refused.headers.get('location'), null);
    assert.equal((await browser.send('GET', '/settings/tokens')).status, 303, 'still signed out');
    const { store } = await app.stores();
    assert.equal((await store.audit.query({ event: 'auth.signin' })).filter((r) => r.outcome === 'ok').length, 0);

    // the CSRF token was not spent: from another address the same form signs in
    browser.ip = B;
    const ok = await browser.send('POST', '/signin', new URLSearchParams({ csrf, email: 'ada@example.com' }));
    assert.equal(ok.status, 303);
    assert.equal((await browser.send('GET', '/settings/tokens')).status, 200);
  });
});

describe('web limits: /oauth/register keeps its own hourly rule', () => {
  it('answers 429 with the same fields and stores nothing', async () => {
    const app = oauthApp({ registration: { perHourPerIp: 2 } });
    apps.push(app);
    const reg = () =>
      app.fetch(
        new Request(`${ORIGIN}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT] }) }),
        { ip: A },
      );
    assert.equal((await reg()).status, 201);
    assert.equal((await reg()).status, 201);
    const refused = await reg();
    const retry = assertTooMany(refused, 'register', 2, 3600);
    assert.ok(retry > 3500);
    const body = (await refused.json()) as Record<string, unknown>;
    assert.equal(body.error_description, `too many requests from this address; retry in ${retry} s`);
    assert.equal(body.client_id, undefined);
    const { store } = await app.stores();
    assert.equal(await store.oauthClients.deleteUnused(Date.now() + 1000), 2);
  });
});

describe('web limits: defaults', () => {
  it('token 60 a minute, authorize 60 a minute, sign-in 10 a minute', () => {
    assert.deepEqual(resolvePolicy(undefined).limits.web, {
      token: { max: 60, windowMs: 60_000 },
      authorize: { max: 60, windowMs: 60_000 },
      signIn: { max: 10, windowMs: 60_000 },
    });
  });
});
