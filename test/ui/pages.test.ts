import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { hashSecret, newSecret } from '../../src/auth/secrets.ts';
import type { Gangway, GangwayConfig } from '../../src/index.ts';
import { modern, testApp } from '../helpers/http.ts';
import { Agent, csrfOf, type Page, secretOf } from './web.ts';

const SCOPES = { 'items:read': 'Read items', 'items:write': 'Change items' };
const TOOLS: GangwayConfig['tools'] = [
  { name: 'read_items', description: 'Read', scopes: ['items:read'], handler: () => ({ items: ['apple'] }) },
  { name: 'write_items', description: 'Write', scopes: ['items:write'], handler: () => ({ written: true }) },
];
/** A long cache: "refused at once" must come from the revocation itself, not from the cache running out. */
const CACHE_MS = 60_000;

const apps: Gangway[] = [];
function app(extra: Partial<GangwayConfig> = {}): Gangway {
  const a = testApp({ auth: { oauth: true, scopes: SCOPES, cacheMs: CACHE_MS }, tools: TOOLS, ...extra });
  apps.push(a);
  return a;
}
after(() => Promise.all(apps.map((a) => a.close())));

const call = (a: Gangway, tool: string, headers: Record<string, string>) => modern(a, 1, 'tools/call', { name: tool, arguments: {} }, headers);

async function mint(agent: Agent, form: Record<string, string | string[]>): Promise<Page> {
  const page = await agent.get('/settings/tokens');
  return agent.post('/settings/tokens', { csrf: csrfOf(page), action: 'create', kind: 'api_key', name: 'ci', ...form });
}

function assertPageHeaders(p: Page, what: string) {
  const csp = p.headers.get('content-security-policy') ?? '';
  assert.match(csp, /frame-ancestors 'none'/, `${what}: CSP frame-ancestors`);
  assert.equal(p.headers.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
  assert.equal(p.headers.get('cache-control'), 'no-store', `${what}: no-store`);
  assert.match(p.headers.get('content-type') ?? '', /^text\/html/, what);
}

describe('built-in email sign-in', () => {
  it('signs in with a single-use CSRF token, then goes to the tokens page', async () => {
    const a = app();
    const agent = new Agent(a);
    const before = await agent.get('/settings/tokens');
    assert.equal(before.status, 303);
    assert.equal(before.location, '/signin?return_to=%2Fsettings%2Ftokens');
    const res = await agent.signIn('Ada@Example.com', '/settings/tokens');
    assert.equal(res.location, '/settings/tokens');
    const page = await agent.get('/settings/tokens');
    assert.equal(page.status, 200);
    assert.match(page.text, /Signed in as <strong>Ada@Example\.com<\/strong> \(tenant <code>ada@example\.com<\/code>\)/);
  });

  it('refuses a POST without a CSRF token, with a replayed one, or with another browser\'s: nobody is signed in', async () => {
    const a = app();
    const agent = new Agent(a);
    const form = await agent.get('/signin');
    const missing = await agent.post('/signin', { email: 'eve@example.com' });
    assert.equal(missing.status, 403);
    assert.match(missing.text, /expired or was already used/);

    const token = csrfOf(form);
    const first = await agent.post('/signin', { csrf: token, email: 'not an email' }); // spends the token
    assert.equal(first.status, 400);
    const replay = await agent.post('/signin', { csrf: token, email: 'eve@example.com' });
    assert.equal(replay.status, 403);
    assert.equal(replay.location, null);

    const other = new Agent(a);
    await other.get('/signin');
    const stolen = await other.post('/signin', { csrf: csrfOf(await agent.get('/signin')), email: 'eve@example.com' });
    assert.equal(stolen.status, 403);

    for (const who of [agent, other]) assert.equal((await who.get('/settings/tokens')).status, 303, 'still signed out');
  });

  it('never redirects off-site after sign-in (open redirect)', async () => {
    const a = app();
    for (const evil of ['//evil.example', '//evil.example/settings/tokens', '/\\evil.example', 'https://evil.example/', '/\r\nSet-Cookie: x=1', 'javascript:alert(1)']) {
      const agent = new Agent(a);
      const form = await agent.get(`/signin?return_to=${encodeURIComponent(evil)}`);
      assert.doesNotMatch(form.text, /evil\.example/, `${evil}: not echoed into the form`);
      const res = await agent.post('/signin', { csrf: csrfOf(form), email: 'ada@example.com', return_to: evil });
      assert.equal(res.status, 303);
      assert.equal(res.location, '/settings/tokens', evil);
    }
    const agent = new Agent(a);
    const res = await agent.signIn('ada@example.com', '/oauth/authorize?client_id=x&scope=a%20b');
    assert.equal(res.location, '/oauth/authorize?client_id=x&scope=a%20b');
  });

  it('gives the browser a new id at sign-in (session fixation) and signs out with a POST + CSRF', async () => {
    const a = app();
    const agent = new Agent(a);
    await agent.get('/signin');
    const before = agent.jar.get('__Host-gw_browser');
    await agent.signIn('ada@example.com');
    assert.notEqual(agent.jar.get('__Host-gw_browser'), before);
    // The pre-sign-in id signs nobody in.
    const fixed = new Agent(a);
    fixed.jar.set('__Host-gw_browser', before!);
    assert.equal((await fixed.get('/settings/tokens')).status, 303);

    const noCsrf = await agent.post('/signout', {});
    assert.equal(noCsrf.status, 403);
    assert.equal((await agent.get('/settings/tokens')).status, 200, 'still signed in');
    const out = await agent.post('/signout', { csrf: csrfOf(await agent.get('/signout')) });
    assert.equal(out.status, 303);
    assert.equal(out.location, '/signin');
    assert.equal((await agent.get('/settings/tokens')).status, 303);
  });

  it('with the product\'s own sign-in hook, /signin only says so and the tokens page uses the hook', async () => {
    const a = app({
      auth: {
        scopes: SCOPES,
        oauth: true,
        signIn: (req) => {
          const u = req.headers.get('x-test-user');
          return u ? { subject: u, tenant: 'acme', name: u } : { redirect: 'https://login.example/start' };
        },
      },
    });
    const agent = new Agent(a);
    const signin = await agent.get('/signin');
    assert.equal(signin.status, 404);
    assert.match(signin.text, /handled by the product/);
    assert.doesNotMatch(signin.text, /<form/);
    assert.equal((await agent.get('/settings/tokens')).location, 'https://login.example/start');
    const page = await agent.get('/settings/tokens', { 'x-test-user': 'u1' });
    assert.match(page.text, /Signed in as <strong>u1<\/strong> \(tenant <code>acme<\/code>\)/);
  });
});

describe('Settings -> API tokens', () => {
  it('needs a signed-in user: a POST without one creates nothing', async () => {
    const a = app();
    const agent = new Agent(a);
    const res = await agent.post('/settings/tokens', { action: 'create', kind: 'api_key', name: 'x', scope: 'items:read' });
    assert.equal(res.status, 303);
    assert.match(res.location!, /^\/signin\?return_to=/);
    const { store } = await a.stores();
    assert.deepEqual(await store.apiKeys.list({}), []);
  });

  it('shows a new API key once; it works for its scope only, and revoking refuses it at once', async () => {
    const a = app();
    const agent = new Agent(a);
    await agent.signIn('ada@example.com');
    const created = await mint(agent, { name: 'reader', scope: 'items:read', expires_days: '30' });
    assert.equal(created.status, 200);
    assertPageHeaders(created, 'created page');
    const secret = secretOf(created);
    assert.match(secret, /^gwk_[\w-]{43}$/);
    assert.match(created.text, /shown only once/);
    assert.match(created.text, /<code id="header">x-api-key<\/code>/);
    // The curl example on the page works as written.
    const curl = /<code id="curl">([^<]+)<\/code>/.exec(created.text)![1]!.replaceAll('&#39;', "'").replaceAll('&quot;', '"').replaceAll('&amp;', '&');
    const target = /^curl -sS '([^']+)'/.exec(curl)![1]!;
    const headers = Object.fromEntries([...curl.matchAll(/-H '([^:']+): ([^']+)'/g)].map((m) => [m[1]!, m[2]!]));
    assert.equal(headers['x-api-key'], secret);
    const body = /-d '([^']+)'/.exec(curl)![1]!;
    const listed = await a.fetch(new Request(target, { method: 'POST', headers, body }));
    assert.equal(listed.status, 200);
    assert.match(await listed.text(), /read_items/);

    const list = await agent.get('/settings/tokens');
    assert.ok(!list.text.includes(secret), 'the list never shows the secret again');
    assert.ok(list.text.includes(`gwk_…${secret.slice(-4)}`), 'only the hint');
    assert.match(list.text, /<td>reader<\/td><td>API key<\/td>/);
    const { store } = await a.stores();
    assert.ok(!JSON.stringify(await store.apiKeys.list({})).includes(secret), 'the store holds no secret');

    const ok = await call(a, 'read_items', { 'x-api-key': secret });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json.result.structuredContent, { items: ['apple'] });
    const denied = await call(a, 'write_items', { 'x-api-key': secret });
    assert.equal(denied.status, 403, denied.text);
    assert.match(denied.headers.get('www-authenticate') ?? '', /insufficient_scope/);

    // The page shows last use now.
    const row = /<tr data-id="([^"]+)">.*?<\/tr>/.exec((await agent.get('/settings/tokens')).text)!;
    assert.doesNotMatch(row[0], /<td>never<\/td><td>active/);

    const revoked = await agent.post('/settings/tokens', { csrf: csrfOf(await agent.get('/settings/tokens')), action: 'revoke-key', id: row[1]! });
    assert.equal(revoked.status, 303);
    const after = await agent.get(revoked.location!);
    assert.match(after.text, /Revoked\. This server refuses it at once; other processes serving this URL stop accepting it within 60 s/);
    assert.match(after.text, /<td>revoked /);
    const refused = await call(a, 'read_items', { 'x-api-key': secret });
    assert.equal(refused.status, 401, 'refused at once, though the cache would keep it for 60 s');
  });

  it('mints a management token for its header', async () => {
    const a = app();
    const agent = new Agent(a);
    await agent.signIn('ops@example.com');
    const created = await mint(agent, { kind: 'management', name: 'ops', scope: ['items:read', 'items:write'] });
    const secret = secretOf(created);
    assert.match(secret, /^gwm_/);
    assert.match(created.text, /<code id="header">x-management-token<\/code>/);
    assert.equal((await call(a, 'write_items', { 'x-management-token': secret })).status, 200);
    assert.equal((await call(a, 'write_items', { 'x-api-key': secret })).status, 401, 'not as an API key');
  });

  it('another user cannot see or revoke the key: their POST reads "not found" and the key still works', async () => {
    const a = app();
    const ada = new Agent(a);
    await ada.signIn('ada@example.com');
    const secret = secretOf(await mint(ada, { name: 'ada-key', scope: 'items:read' }));
    const { store } = await a.stores();
    const [key] = await store.apiKeys.list({ subject: 'ada@example.com' });

    const eve = new Agent(a);
    await eve.signIn('eve@example.com');
    const evePage = await eve.get('/settings/tokens');
    assert.ok(!evePage.text.includes('ada-key') && !evePage.text.includes(key!.id));
    const tried = await eve.post('/settings/tokens', { csrf: csrfOf(evePage), action: 'revoke-key', id: key!.id });
    assert.equal(tried.status, 404);
    assert.match(tried.text, /No such token: nothing was revoked/);
    assert.equal((await store.apiKeys.list({}))[0]!.revokedAt, null);
    assert.equal((await call(a, 'read_items', { 'x-api-key': secret })).status, 200);
    // Ada's CSRF token used by Eve's browser is refused too.
    const stolen = await eve.post('/settings/tokens', { csrf: csrfOf(await ada.get('/settings/tokens')), action: 'revoke-key', id: key!.id });
    assert.equal(stolen.status, 403);
    assert.equal((await call(a, 'read_items', { 'x-api-key': secret })).status, 200);
  });

  it('refuses unknown scopes, bad expiry and replayed forms, creating nothing', async () => {
    const a = app();
    const agent = new Agent(a);
    await agent.signIn('ada@example.com');
    const unknown = await mint(agent, { scope: ['items:read', 'admin'] });
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /Unknown scope admin\. Nothing was created\./);
    assert.equal((await mint(agent, { scope: 'items:read', expires_days: '-1' })).status, 400);
    assert.equal((await mint(agent, { scope: 'items:read', kind: 'root' })).status, 400);
    assert.equal((await mint(agent, { scope: 'items:read', name: '' })).status, 400);
    const page = await agent.get('/settings/tokens');
    const form = { csrf: csrfOf(page), action: 'create', kind: 'api_key', name: 'once', scope: 'items:read' };
    assert.equal((await agent.post('/settings/tokens', form)).status, 200);
    const again = await agent.post('/settings/tokens', form);
    assert.equal(again.status, 403);
    assert.doesNotMatch(again.text, /gwk_[\w-]{43}/);
    const { store } = await a.stores();
    assert.deepEqual((await store.apiKeys.list({})).map((k) => k.name), ['once']);
  });

  it('shows markup in names escaped', async () => {
    const a = app();
    const agent = new Agent(a);
    const evil = '<script>alert(1)</script><img src=x onerror="alert(2)">';
    await agent.signIn('ada@example.com');
    const created = await mint(agent, { name: evil, scope: 'items:read' });
    const { store } = await a.stores();
    await store.oauthClients.register({ clientId: 'c1', tokenEndpointAuthMethod: 'none', redirectUris: ['http://127.0.0.1/cb'], name: evil });
    await store.grants.create({ clientId: 'c1', subject: 'ada@example.com', tenant: 'ada@example.com', scopes: ['items:read'], resource: 'http://localhost/mcp' });
    for (const p of [created, await agent.get('/settings/tokens'), await mint(agent, { name: evil, scope: 'nope' })]) {
      assert.ok(!p.text.includes('<script>alert') && !p.text.includes('<img src=x'), 'no live markup');
      assert.ok(p.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;'));
    }
  });

  it('lists the user\'s OAuth grants and revokes one: its access token is refused at once', async () => {
    const a = app();
    const agent = new Agent(a);
    await agent.signIn('ada@example.com');
    const { store } = await a.stores();
    await store.oauthClients.register({ clientId: 'client-1', tokenEndpointAuthMethod: 'none', redirectUris: ['http://127.0.0.1/cb'], name: 'Claude' });
    const grant = await store.grants.create({ clientId: 'client-1', subject: 'ada@example.com', tenant: 'ada@example.com', scopes: ['items:read'], resource: 'http://localhost/mcp' });
    const other = await store.grants.create({ clientId: 'client-1', subject: 'eve@example.com', tenant: 'eve@example.com', scopes: ['items:read'], resource: 'http://localhost/mcp' });
    const access = newSecret('access');
    await store.tokens.insert({ tokenHash: access.hash, kind: 'access', grantId: grant.id, expiresAt: Date.now() + 3600_000 });
    const bearer = { authorization: `Bearer ${access.secret}` };
    assert.equal((await call(a, 'read_items', bearer)).status, 200);

    const page = await agent.get('/settings/tokens');
    assert.match(page.text, /<td>Claude<br><code>client-1<\/code><\/td><td>items:read<\/td>/);
    assert.ok(!page.text.includes(other.id), 'another user\'s grant is not listed');
    const eveTry = await agent.post('/settings/tokens', { csrf: csrfOf(page), action: 'revoke-grant', id: other.id });
    assert.equal(eveTry.status, 404);
    assert.equal((await store.grants.get(other.id))!.revokedAt, null);

    const res = await agent.post('/settings/tokens', { csrf: csrfOf(await agent.get('/settings/tokens')), action: 'revoke-grant', id: grant.id });
    assert.equal(res.status, 303);
    assert.equal((await call(a, 'read_items', bearer)).status, 401);
    assert.equal((await store.tokens.findByHash(hashSecret(access.secret)))!.revokedAt !== null, true);
    assert.match((await agent.get('/settings/tokens')).text, /No app has access/);
  });
});

describe('every page', () => {
  it('forbids framing, is not cached, and sets only __Host-, Secure, HttpOnly, SameSite=Lax cookies', async () => {
    const a = app();
    const agent = new Agent(a);
    const pages: [string, Page][] = [];
    pages.push(['GET /signin', await agent.get('/signin')]);
    pages.push(['POST /signin (no CSRF)', await agent.post('/signin', { email: 'a@b.co' })]);
    pages.push(['GET /signout', await agent.get('/signout')]);
    await agent.signIn('ada@example.com');
    pages.push(['GET /settings/tokens', await agent.get('/settings/tokens')]);
    pages.push(['POST /settings/tokens (created)', await mint(agent, { scope: 'items:read' })]);
    pages.push(['POST /settings/tokens (no CSRF)', await agent.post('/settings/tokens', { action: 'create' })]);
    for (const [what, p] of pages) assertPageHeaders(p, what);
    const fresh = new Agent(a);
    await fresh.get('/signout');
    await fresh.signIn('bob@example.com');
    const all = [...agent.setCookies, ...fresh.setCookies];
    assert.ok(all.length >= 3);
    for (const c of all) {
      assert.match(c, /^__Host-/, c);
      assert.match(c, /; Secure(;|$)/, c);
      assert.match(c, /; HttpOnly(;|$)/, c);
      assert.match(c, /; SameSite=Lax(;|$)/, c);
      assert.match(c, /; Path=\/(;|$)/, c);
      assert.doesNotMatch(c, /domain=/i, c);
    }
  });

  it('is not offered to other origins (no CORS) and answers other methods with 405', async () => {
    const a = app();
    const agent = new Agent(a);
    await agent.signIn('ada@example.com');
    const page = await agent.get('/settings/tokens', { origin: 'https://evil.example' });
    assert.equal(page.headers.get('access-control-allow-origin'), null);
    const res = await a.fetch(new Request('http://localhost/signin', { method: 'DELETE' }));
    assert.equal(res.status, 405);
    assertPageHeaders({ status: res.status, headers: res.headers, text: '', location: null }, 'DELETE /signin');
  });
});
