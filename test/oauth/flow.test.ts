import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authorize,
  basic,
  callTool,
  decision,
  exchange,
  oauthApp,
  ORIGIN,
  openConsent,
  authorizeQuery,
  pkce,
  publicClient,
  redirected,
  refresh,
  register,
  REDIRECT,
  RESOURCE,
  revoke,
  SCOPES,
  TestBrowser,
  token,
} from './helpers.ts';

describe('OAuth happy path', () => {
  it('metadata (RFC 8414) describes exactly what the server does', async () => {
    const app = oauthApp();
    const res = await app.fetch(new Request(`${ORIGIN}/.well-known/oauth-authorization-server`));
    assert.equal(res.status, 200);
    const m = (await res.json()) as Record<string, unknown>;
    assert.equal(m.issuer, ORIGIN);
    assert.equal(m.authorization_endpoint, `${ORIGIN}/oauth/authorize`);
    assert.equal(m.token_endpoint, `${ORIGIN}/oauth/token`);
    assert.equal(m.registration_endpoint, `${ORIGIN}/oauth/register`);
    assert.equal(m.revocation_endpoint, `${ORIGIN}/oauth/revoke`);
    assert.deepEqual(m.response_types_supported, ['code']);
    assert.deepEqual(m.grant_types_supported, ['authorization_code', 'refresh_token']);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(m.token_endpoint_auth_methods_supported, ['none', 'client_secret_basic', 'client_secret_post']);
    assert.equal(m.authorization_response_iss_parameter_supported, true);
    assert.equal(m.client_id_metadata_document_supported, true);
    assert.deepEqual(m.scopes_supported, Object.keys(SCOPES));
    await app.close();
  });

  it('with a configured issuer, the metadata names it exactly and omits what is off', async () => {
    const app = oauthApp({ issuer: 'http://localhost/tenant', registration: false, clientMetadataDocuments: false });
    const res = await app.fetch(new Request(`${ORIGIN}/.well-known/oauth-authorization-server/tenant`));
    const m = (await res.json()) as Record<string, unknown>;
    assert.equal(m.issuer, 'http://localhost/tenant');
    assert.equal(m.registration_endpoint, undefined);
    assert.equal(m.client_id_metadata_document_supported, undefined);
    await app.close();
  });

  it('register -> consent (subset of scopes) -> token -> tools/call -> refresh -> reuse revokes', async () => {
    const app = oauthApp();
    const clientId = await publicClient(app);
    const p = pkce();
    const browser = new TestBrowser(app);
    const form = await openConsent(browser, authorizeQuery(clientId, p.challenge, { scope: 'notes:read profile openid' }));
    // the page shows the client, the redirect host, the requested known scopes, with descriptions
    assert.match(form.html, /Test client/);
    assert.match(form.html, /127\.0\.0\.1:7777/);
    assert.match(form.html, /notes:read<\/code> &mdash; Read your notes/);
    assert.match(form.html, /profile/);
    assert.doesNotMatch(form.html, /openid|notes:write/);
    assert.match(form.html, /class="warn"/, 'a loopback-only client gets the warning');
    assert.match(form.html, /Alice &lt;b&gt;/, 'the user name is escaped');

    const { res } = await browser.post('/oauth/authorize', decision(form, 'approve', ['notes:read']));
    assert.equal(res.status, 303);
    const params = redirected(res);
    assert.equal(params.get('state'), 'st-123');
    assert.equal(params.get('iss'), ORIGIN);
    const code = params.get('code')!;
    assert.match(code, /^gwc_[\w-]{43}$/);

    const t = await exchange(app, clientId, code, p.verifier);
    assert.equal(t.status, 200, JSON.stringify(t.json));
    assert.equal(t.headers.get('cache-control'), 'no-store');
    assert.equal(t.headers.get('pragma'), 'no-cache');
    assert.equal(t.json.token_type, 'Bearer');
    assert.equal(t.json.expires_in, 3600);
    assert.equal(t.json.scope, 'notes:read');
    const access = t.json.access_token as string;
    const refreshToken = t.json.refresh_token as string;
    assert.match(access, /^gwa_/);
    assert.match(refreshToken, /^gwr_/);

    const ok = await callTool(app, access, 'read_notes');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.result.content[0].text, 'notes of alice@alice-co');
    // only the approved scope: write_note needs notes:write, which was unchecked
    const denied = await callTool(app, access, 'write_note');
    assert.equal(denied.status, 403, denied.text);
    assert.match(denied.headers.get('www-authenticate') ?? '', /insufficient_scope/);

    // refresh rotates, and may narrow but not widen
    const wider = await refresh(app, clientId, refreshToken, { scope: 'notes:read notes:write' });
    assert.equal(wider.status, 400);
    assert.equal(wider.json.error, 'invalid_scope');
    const r1 = await refresh(app, clientId, refreshToken, { resource: RESOURCE });
    assert.equal(r1.status, 200, JSON.stringify(r1.json));
    const access2 = r1.json.access_token as string;
    const refresh2 = r1.json.refresh_token as string;
    assert.notEqual(refresh2, refreshToken);
    assert.equal((await callTool(app, access2, 'read_notes')).status, 200);

    // the old refresh token again: reuse -> the grant is revoked, the newest tokens included
    const reuse = await refresh(app, clientId, refreshToken);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.json.error, 'invalid_grant');
    assert.equal((await callTool(app, access2, 'read_notes')).status, 401);
    assert.equal((await refresh(app, clientId, refresh2)).json.error, 'invalid_grant');
    await app.close();
  });

  it('a JSON token request, as seed 002 documents it, is read like the form: code exchange, refresh, revocation', async () => {
    const app = oauthApp();
    try {
      const clientId = await publicClient(app);
      const p = pkce();
      const code = await authorize(app, clientId, p.challenge, ['notes:read']);
      const post = (path: string, body: unknown) =>
        app.fetch(new Request(`${ORIGIN}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
      const res = await post('/oauth/token', { grant_type: 'authorization_code', code, client_id: clientId, redirect_uri: REDIRECT, code_verifier: p.verifier });
      const t = (await res.json()) as Record<string, string>;
      assert.equal(res.status, 200, JSON.stringify(t));
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(t.scope, 'notes:read');
      assert.equal((await callTool(app, t.access_token!, 'read_notes')).status, 200);
      const refreshed = await post('/oauth/token', { grant_type: 'refresh_token', refresh_token: t.refresh_token, client_id: clientId });
      const r = (await refreshed.json()) as Record<string, string>;
      assert.equal(refreshed.status, 200, JSON.stringify(r));
      assert.equal((await post('/oauth/revoke', { token: r.refresh_token, client_id: clientId })).status, 200);
      assert.equal((await callTool(app, r.access_token!, 'read_notes')).status, 401, 'revoking the refresh token ended the grant');
    } finally {
      await app.close();
    }
  });

  it('a 30-day access token (seed 002) is allowed and announced; more than 90 days is refused at start-up; revocation still ends it', async () => {
    assert.throws(() => oauthApp({ accessTokenTtl: 90 * 86_400 + 1 }), /accessTokenTtl must be 1\.\.7776000 seconds/);
    const app = oauthApp({ accessTokenTtl: 2_592_000 });
    try {
      const clientId = await publicClient(app);
      const p = pkce();
      const t = await exchange(app, clientId, await authorize(app, clientId, p.challenge, ['notes:read']), p.verifier);
      assert.equal(t.status, 200, JSON.stringify(t.json));
      assert.equal(t.json.expires_in, 2_592_000);
      const access = t.json.access_token as string;
      assert.equal((await callTool(app, access, 'read_notes')).status, 200);
      assert.equal((await revoke(app, { token: access, client_id: clientId })).status, 200);
      assert.equal((await callTool(app, access, 'read_notes')).status, 401);
    } finally {
      await app.close();
    }
  });

  it('deny -> access_denied with state and iss, and no grant', async () => {
    const app = oauthApp();
    const clientId = await publicClient(app);
    const browser = new TestBrowser(app);
    const form = await openConsent(browser, authorizeQuery(clientId, pkce().challenge));
    const { res } = await browser.post('/oauth/authorize', decision(form, 'deny', ['notes:read']));
    const params = redirected(res);
    assert.equal(params.get('error'), 'access_denied');
    assert.equal(params.get('state'), 'st-123');
    assert.equal(params.get('iss'), ORIGIN);
    assert.equal(params.get('code'), null);
    const { store } = await app.stores();
    assert.deepEqual(await store.grants.listBySubject('alice'), []);
    await app.close();
  });

  it('no scope parameter offers every scope; approving all of them grants all', async () => {
    const app = oauthApp();
    const clientId = await publicClient(app);
    const p = pkce();
    const code = await authorize(app, clientId, p.challenge, Object.keys(SCOPES));
    const t = await exchange(app, clientId, code, p.verifier);
    assert.equal(t.json.scope, Object.keys(SCOPES).join(' '));
    assert.equal((await callTool(app, t.json.access_token as string, 'write_note')).status, 200);
    await app.close();
  });

  it('auto-approve: a code straight from the GET, for the fixed test user, all requested scopes', async () => {
    const app = oauthApp({ autoApprove: true });
    const clientId = await publicClient(app);
    const p = pkce();
    const res = await app.fetch(new Request(`${ORIGIN}/oauth/authorize?${authorizeQuery(clientId, p.challenge, { scope: 'notes:read' })}`));
    const params = redirected(res);
    const t = await exchange(app, clientId, params.get('code')!, p.verifier);
    assert.equal(t.json.scope, 'notes:read');
    const call = await callTool(app, t.json.access_token as string, 'read_notes');
    assert.equal(call.json.result.content[0].text, 'notes of test-user@test-user');
    await app.close();
  });

  it('the email sign-in: an unknown browser is sent to the sign-in page with a return address', async () => {
    const app = oauthApp({}, {}, { signIn: 'email' });
    const clientId = await publicClient(app);
    const browser = new TestBrowser(app);
    const query = authorizeQuery(clientId, pkce().challenge);
    const { res } = await browser.get(`/oauth/authorize?${query}`);
    assert.equal(res.status, 303);
    const to = new URL(res.headers.get('location')!, ORIGIN);
    assert.equal(to.pathname, '/signin');
    assert.equal(to.searchParams.get('return_to'), `/oauth/authorize?${query}`);
    assert.ok(browser.cookies.has('__Host-gw_browser'), 'the browser cookie is set on the way');
    await app.close();
  });

  it('a confidential client (client_secret_basic) gets tokens and can revoke them', async () => {
    const app = oauthApp();
    const reg = await register(app, { client_name: 'Server app', redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_basic' });
    assert.equal(reg.status, 201);
    const secret = reg.json.client_secret as string;
    assert.match(secret, /^gws_/);
    assert.deepEqual(reg.json.grant_types, ['authorization_code'], 'RFC 7591 2: the default grant type');
    const clientId = reg.json.client_id as string;
    const p = pkce();
    const browser = new TestBrowser(app);
    const form = await openConsent(browser, authorizeQuery(clientId, p.challenge, { redirect_uri: 'https://app.example/cb' }));
    assert.doesNotMatch(form.html, /class="warn"/, 'an https redirect gets no localhost warning');
    const { res } = await browser.post('/oauth/authorize', decision(form, 'approve', ['notes:read']));
    assert.equal(res.headers.get('location')!.split('?')[0], 'https://app.example/cb');
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const t = await token(
      app,
      { grant_type: 'authorization_code', code, redirect_uri: 'https://app.example/cb', code_verifier: p.verifier },
      { authorization: basic(clientId, secret) },
    );
    assert.equal(t.status, 200, JSON.stringify(t.json));
    assert.equal(t.json.refresh_token, undefined, 'no refresh token: the client did not register that grant type');
    const rv = await revoke(app, { token: t.json.access_token as string }, { authorization: basic(clientId, secret) });
    assert.equal(rv.status, 200);
    assert.equal((await callTool(app, t.json.access_token as string, 'read_notes')).status, 401);
    await app.close();
  });
});
