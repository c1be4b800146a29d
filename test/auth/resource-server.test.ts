import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { newSecret } from '../../src/auth/secrets.ts';
import { createGangway, type Gangway, GangwayConfigError, type Principal } from '../../src/index.ts';
import type { ToolDefinition } from '../../src/registry/types.ts';
import type { Store } from '../../src/store/types.ts';
import { META, MODERN, modern, testApp } from '../helpers/http.ts';

/**
 * The resource server (issue 3 item 2, SECURITY 8-13): one place resolves every credential into a
 * Principal, or answers 401/403 with a challenge that tells the client where to go. Each refusal
 * is checked to have run nothing (the handler counts its calls).
 */

let runs = 0;
let seen: Principal | undefined;
const tools: ToolDefinition[] = [
  {
    name: 'read_orders',
    scopes: ['orders:read'],
    handler: (_a, ctx) => {
      runs++;
      seen = ctx.principal;
      return 'orders';
    },
  },
  { name: 'refund', scopes: ['orders:read', 'orders:write'], handler: () => (runs++, 'refunded') },
  { name: 'status', anonymous: true, handler: () => (runs++, 'up') },
];
const SCOPES = { 'orders:read': 'Read your orders', 'orders:write': 'Refund and cancel orders' };

const call = (app: Gangway, name: string, headers: Record<string, string> = {}) =>
  modern(app, 1, 'tools/call', { name, arguments: {} }, headers);

async function key(store: Store, kind: 'api_key' | 'management', scopes: string[], extra: { expiresAt?: number } = {}) {
  const s = newSecret(kind);
  const rec = await store.apiKeys.create({ kind, keyHash: s.hash, hint: s.hint, tenant: 'acme', subject: 'alice', scopes, ...extra });
  return { secret: s.secret, id: rec.id };
}

describe('resource server: API keys, management tokens, anonymous, scopes', () => {
  let app: Gangway;
  let store: Store;
  before(async () => {
    app = testApp({ tools, auth: { scopes: SCOPES, cacheMs: 0 } });
    ({ store } = await app.stores());
  });
  after(() => app.close());

  it('a tool marked anonymous answers without a credential; any other is 401 and does not run', async () => {
    runs = 0;
    const ok = await call(app, 'status');
    assert.equal(ok.status, 200);
    assert.equal(ok.json.result.content[0].text, 'up');
    const refused = await call(app, 'read_orders');
    assert.equal(refused.status, 401);
    // API keys only (no OAuth): the challenge names the header instead of a metadata URL.
    assert.match(refused.headers.get('www-authenticate')!, /ApiKey header="x-api-key"/);
    assert.equal(runs, 1);
  });

  it('an API key with the scope runs the tool and the handler sees the principal from the key', async () => {
    const k = await key(store, 'api_key', ['orders:read']);
    runs = 0;
    const r = await call(app, 'read_orders', { 'x-api-key': k.secret });
    assert.equal(r.status, 200, r.text);
    assert.equal(runs, 1);
    assert.deepEqual({ ...seen }, { subject: 'alice', tenant: 'acme', scopes: ['orders:read'], client: k.id, via: 'api-key' });
    const listed = await store.apiKeys.list({ tenant: 'acme' });
    assert.ok(listed.find((x) => x.id === k.id)!.lastUsedAt! > 0, 'last use recorded');
  });

  it('a missing scope is 403 insufficient_scope naming every scope needed, and nothing runs', async () => {
    const k = await key(store, 'api_key', ['orders:read']);
    runs = 0;
    const r = await call(app, 'refund', { 'x-api-key': k.secret });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.data.error, 'insufficient_scope');
    assert.match(r.json.error.message, /orders:read orders:write/);
    assert.match(r.headers.get('www-authenticate')!, /error="insufficient_scope"/);
    assert.match(r.headers.get('www-authenticate')!, /scope="orders:read orders:write"/);
    assert.equal(runs, 0);
  });

  it('a management token works only in its own header, and an API key only in its own', async () => {
    const m = await key(store, 'management', ['orders:read']);
    const a = await key(store, 'api_key', ['orders:read']);
    runs = 0;
    const ok = await call(app, 'read_orders', { 'x-management-token': m.secret });
    assert.equal(ok.status, 200);
    assert.equal(seen?.via, 'management-token');
    assert.equal((await call(app, 'read_orders', { 'x-api-key': m.secret })).status, 401);
    assert.equal((await call(app, 'read_orders', { 'x-management-token': a.secret })).status, 401);
    assert.equal((await call(app, 'read_orders', { authorization: `Bearer ${a.secret}` })).status, 401);
    assert.equal(runs, 1);
  });

  it('expired, revoked, unknown and malformed credentials are 401 invalid_token', async () => {
    const expired = await key(store, 'api_key', ['orders:read'], { expiresAt: Date.now() - 1 });
    const revoked = await key(store, 'api_key', ['orders:read']);
    await store.apiKeys.revoke(revoked.id);
    runs = 0;
    for (const secret of [expired.secret, revoked.secret, newSecret('api_key').secret, 'not-a-key']) {
      const r = await call(app, 'read_orders', { 'x-api-key': secret });
      assert.equal(r.status, 401, secret);
      assert.match(r.headers.get('www-authenticate')!, /error="invalid_token"/);
      assert.ok(!r.text.includes(secret), 'the credential is not echoed');
    }
    assert.equal(runs, 0);
  });

  it('two credentials at once are 400 invalid_request; an Authorization header that is not Bearer is 401', async () => {
    const k = await key(store, 'api_key', ['orders:read']);
    runs = 0;
    const two = await call(app, 'read_orders', { 'x-api-key': k.secret, 'x-management-token': k.secret });
    assert.equal(two.status, 400);
    assert.match(two.headers.get('www-authenticate')!, /invalid_request/);
    for (const authorization of ['Basic YTpi', 'Bearer a b', 'Bearer']) {
      const r = await call(app, 'read_orders', { authorization });
      assert.equal(r.status, 401, authorization);
      assert.match(r.headers.get('www-authenticate')!, /invalid_token/);
    }
    assert.equal(runs, 0);
  });

  it('a 2025 session belongs to the credential that opened it', async () => {
    const a = await key(store, 'api_key', ['orders:read']);
    const b = await key(store, 'api_key', ['orders:read']);
    const { session } = await import('../helpers/http.ts');
    const s = await session(app, '2025-11-25', { 'x-api-key': a.secret });
    assert.equal((await s.call('tools/call', { name: 'read_orders', arguments: {} })).status, 200);
    const stolen = await s.call('tools/call', { name: 'read_orders', arguments: {} }, { 'x-api-key': b.secret });
    assert.equal(stolen.status, 404);
  });
});

describe('resource server: revocation delay (cacheMs)', () => {
  it('a revoked key keeps working until the cache time passes, and no longer after', async () => {
    const app = testApp({ tools, auth: { scopes: SCOPES, cacheMs: 200 } });
    const { store } = await app.stores();
    const k = await key(store, 'api_key', ['orders:read']);
    assert.equal((await call(app, 'read_orders', { 'x-api-key': k.secret })).status, 200);
    await store.apiKeys.revoke(k.id);
    // Within the stated delay the cached verdict stands (this is the documented trade-off)...
    assert.equal((await call(app, 'read_orders', { 'x-api-key': k.secret })).status, 200);
    await new Promise((r) => setTimeout(r, 250));
    // ...and after it the store is read again.
    assert.equal((await call(app, 'read_orders', { 'x-api-key': k.secret })).status, 401);
    await app.close();
  });
});

describe('resource server: OAuth access tokens and protected resource metadata', () => {
  let app: Gangway;
  let store: Store;
  before(async () => {
    app = testApp({ tools, http: { publicUrl: 'https://mcp.example.com/mcp', host: '127.0.0.1' }, auth: { scopes: SCOPES, oauth: true, cacheMs: 0, signIn: () => ({ subject: 'u', tenant: 't' }) } });
    ({ store } = await app.stores());
  });
  after(() => app.close());

  const at = (path: string, init: RequestInit = {}) => app.fetch(new Request(`https://mcp.example.com${path}`, init));
  const mcp = (name: string, headers: Record<string, string>) => modern(app, 1, 'tools/call', { name, arguments: {} }, { host: 'mcp.example.com', ...headers });

  async function token(resource: string, opts: { expiresAt?: number; scopes?: string[] } = {}) {
    const grant = await store.grants.create({ clientId: 'c1', subject: 'bob', tenant: 'bob', scopes: opts.scopes ?? ['orders:read'], resource });
    const t = newSecret('access');
    await store.tokens.insert({ tokenHash: t.hash, kind: 'access', grantId: grant.id, expiresAt: opts.expiresAt ?? Date.now() + 3600_000 });
    return { secret: t.secret, grant };
  }

  it('401 without a credential points at the path-aware metadata URL, which names the resource and issuer', async () => {
    const r = await mcp('read_orders', {});
    assert.equal(r.status, 401);
    const challenge = r.headers.get('www-authenticate')!;
    assert.match(challenge, /^Bearer resource_metadata="https:\/\/mcp\.example\.com\/\.well-known\/oauth-protected-resource\/mcp"/);
    assert.match(challenge, /scope="orders:read orders:write"/);
    const prm = await at('/.well-known/oauth-protected-resource/mcp');
    assert.equal(prm.status, 200);
    const doc = (await prm.json()) as Record<string, unknown>;
    assert.equal(doc.resource, 'https://mcp.example.com/mcp');
    assert.deepEqual(doc.authorization_servers, ['https://mcp.example.com']);
    assert.deepEqual(doc.bearer_methods_supported, ['header']);
    assert.deepEqual(doc.scopes_supported, ['orders:read', 'orders:write']);
  });

  it('a token for this resource works; one for another resource (RFC 8707), an expired or a revoked one does not', async () => {
    runs = 0;
    const good = await token('https://mcp.example.com/mcp');
    const r = await mcp('read_orders', { authorization: `Bearer ${good.secret}` });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual({ ...seen }, { subject: 'bob', tenant: 'bob', scopes: ['orders:read'], client: 'c1', via: 'oauth' });

    const other = await token('https://other.example.com/mcp');
    const wrong = await mcp('read_orders', { authorization: `Bearer ${other.secret}` });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate')!, /another resource/);

    const old = await token('https://mcp.example.com/mcp', { expiresAt: Date.now() - 1 });
    assert.equal((await mcp('read_orders', { authorization: `Bearer ${old.secret}` })).status, 401);

    const gone = await token('https://mcp.example.com/mcp');
    await store.grants.revoke(gone.grant.id);
    assert.equal((await mcp('read_orders', { authorization: `Bearer ${gone.secret}` })).status, 401);
    assert.equal(runs, 1);
  });

  it('a token lacking a scope gets the step-up challenge (403 insufficient_scope)', async () => {
    const t = await token('https://mcp.example.com/mcp');
    const r = await mcp('refund', { authorization: `Bearer ${t.secret}` });
    assert.equal(r.status, 403);
    assert.match(r.headers.get('www-authenticate')!, /^Bearer resource_metadata="[^"]+", error="insufficient_scope"/);
  });

  it('the token is read from the header only: a query-string token is ignored', async () => {
    const t = await token('https://mcp.example.com/mcp');
    runs = 0;
    const res = await app.fetch(
      new Request(`https://mcp.example.com/mcp?access_token=${t.secret}`, {
        method: 'POST',
        headers: { host: 'mcp.example.com', 'content-type': 'application/json', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'read_orders' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_orders', arguments: {}, _meta: META } }),
      }),
    );
    assert.equal(res.status, 401);
    assert.equal(runs, 0);
  });
});

describe('resource server: external issuer (JWT through JWKS)', () => {
  let jwks: Server;
  let issuer: string;
  let app: Gangway;
  let sign: (claims: Record<string, unknown>, opts?: { exp?: string | number; aud?: string; iss?: string; key?: CryptoKey }) => Promise<string>;
  let stranger: CryptoKey;
  let jwksHits = 0;

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    stranger = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = createServer((req, res) => {
      jwksHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
    app = testApp({
      tools,
      http: { publicUrl: 'https://mcp.example.com/mcp' },
      auth: {
        scopes: SCOPES,
        external: { issuer, jwksUri: `${issuer}/jwks`, claims: { tenant: 'org' } },
      },
    });
    sign = (claims, opts = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(opts.iss ?? issuer)
        .setAudience(opts.aud ?? 'https://mcp.example.com/mcp')
        .setExpirationTime(opts.exp ?? '5m')
        .setIssuedAt()
        .sign(opts.key ?? privateKey);
  });
  after(async () => {
    await app.close();
    jwks.close();
  });
  const mcp = (name: string, jwt: string) =>
    modern(app, 1, 'tools/call', { name, arguments: {} }, { host: 'mcp.example.com', authorization: `Bearer ${jwt}` });

  it('a valid JWT maps its claims to the principal', async () => {
    const r = await mcp('read_orders', await sign({ sub: 'carol', org: 'globex', scope: 'orders:read', client_id: 'ide' }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual({ ...seen }, { subject: 'carol', tenant: 'globex', scopes: ['orders:read'], client: 'ide', via: 'oauth' });
    assert.ok(jwksHits >= 1);
  });

  it('wrong audience, wrong issuer, expired, or signed by another key: 401 and nothing runs', async () => {
    runs = 0;
    const claims = { sub: 'carol', scope: 'orders:read' };
    for (const [what, jwt] of [
      ['audience', await sign(claims, { aud: 'https://other.example.com/mcp' })],
      ['issuer', await sign(claims, { iss: 'https://evil.example.com' })],
      ['expired', await sign(claims, { exp: Math.floor(Date.now() / 1000) - 60 })],
      ['key', await sign(claims, { key: stranger })],
    ] as const) {
      const r = await mcp('read_orders', jwt);
      assert.equal(r.status, 401, what);
      assert.match(r.headers.get('www-authenticate')!, /invalid_token/, what);
    }
    assert.equal(runs, 0);
  });

  it('the protected resource metadata names the external issuer', async () => {
    const prm = await app.fetch(new Request('https://mcp.example.com/.well-known/oauth-protected-resource/mcp'));
    assert.deepEqual(((await prm.json()) as { authorization_servers: string[] }).authorization_servers, [issuer]);
    // Our own authorization server is not served in this mode.
    const as = await app.fetch(new Request('https://mcp.example.com/.well-known/oauth-authorization-server'));
    assert.equal(as.status, 404);
  });
});

describe('auth configuration is checked at start-up', () => {
  const base = { name: 'x', version: '1', store: 'memory', logger: { level: 'silent' } } as const;
  const fails = (config: object, pattern: RegExp) =>
    assert.throws(() => createGangway({ ...base, ...config }), (e: unknown) => e instanceof GangwayConfigError && e.code === 'GW_CONFIG_AUTH' && pattern.test(e.message));

  it('refuses OAuth on a public address without a public URL', () =>
    fails({ http: { host: '0.0.0.0', allowedHosts: ['example.com'] }, auth: { oauth: true } }, /publicUrl/));
  it('refuses auto-approve unless bound to loopback', () =>
    fails({ http: { host: '0.0.0.0', publicUrl: 'https://example.com/mcp' }, auth: { oauth: { autoApprove: true } } }, /loopback/));
  it('a loopback-bound server published under a public URL (behind a proxy) gets none of the local conveniences', async () => {
    const published = { host: '127.0.0.1', publicUrl: 'https://mcp.example.com/mcp' };
    // The email sign-in verifies nobody: it must not be the default, nor accepted, once the URL is public.
    fails({ http: published, auth: { oauth: true } }, /signIn/);
    fails({ http: published, auth: { oauth: true, signIn: 'email' } }, /signIn "email".*publicUrl/);
    fails({ http: published, auth: { oauth: { autoApprove: true } } }, /autoApprove.*publicUrl/);
    // Still local: a loopback public URL (a test or a laptop) keeps the email sign-in.
    const local = createGangway({ ...base, http: { host: '127.0.0.1', publicUrl: 'http://localhost:3000/mcp' }, auth: { oauth: true } });
    const page = await local.fetch(new Request('http://localhost:3000/signin'));
    assert.equal(page.status, 200);
    await local.close();
  });
  it('refuses an unusable header name and an invalid scope name', () => {
    fails({ auth: { apiKeyHeader: 'Authorization' } }, /header/);
    fails({ auth: { scopes: { 'bad scope': 'x' } } }, /scope/);
  });
  it('refuses auto-approve when listen() is asked for a public address', async () => {
    const app = createGangway({ ...base, auth: { oauth: { autoApprove: true } } });
    await assert.rejects(app.listen({ port: 0, host: '0.0.0.0' }), /loopback/);
    await app.close();
  });
});

describe('the scope gate covers every way in', () => {
  const prompts = [
    {
      name: 'account_report',
      scopes: ['accounts:read'],
      arguments: [{ name: 'account', complete: () => ['alice-acct-123', 'bob-acct-456'] }],
      get: () => 'report',
    },
  ];
  const resources = [{ uri: 'acct://ledger', name: 'ledger', scopes: ['accounts:read'], read: () => 'secret ledger' }];

  it('a custom authenticate() still gets scopes checked', async () => {
    const app = testApp({
      tools,
      authenticate: () => ({ subject: 'u', tenant: 't', scopes: ['orders:read'], client: null, via: 'custom' }),
    });
    runs = 0;
    assert.equal((await call(app, 'read_orders')).status, 200);
    const r = await call(app, 'refund');
    assert.equal(r.status, 403);
    assert.match(r.headers.get('www-authenticate')!, /insufficient_scope/);
    assert.equal(runs, 1);
    await app.close();
  });

  it('completion values and listen subscriptions are guarded like the prompt or resource they reveal', async () => {
    const app = testApp({ tools, prompts, resources, auth: { scopes: SCOPES } });
    const { store } = await app.stores();
    const complete = (headers: Record<string, string>) =>
      modern(app, 1, 'completion/complete', { ref: { type: 'ref/prompt', name: 'account_report' }, argument: { name: 'account', value: '' } }, headers);
    const anonymous = await complete({});
    assert.equal(anonymous.status, 401);
    assert.ok(!anonymous.text.includes('alice-acct'));
    const weak = await key(store, 'api_key', ['orders:read']);
    assert.equal((await complete({ 'x-api-key': weak.secret })).status, 403);
    const strong = await key(store, 'api_key', ['accounts:read']);
    const ok = await complete({ 'x-api-key': strong.secret });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json.result.completion.values, ['alice-acct-123', 'bob-acct-456']);

    const listen = await modern(app, 2, 'subscriptions/listen', { notifications: { resourceSubscriptions: ['acct://ledger'] } }, { 'x-api-key': weak.secret });
    assert.equal(listen.status, 403);
    await app.close();
  });
});

describe('web surface edges', () => {
  it('the OAuth endpoints and pages keep the Host allow-list (DNS rebinding): 403, nothing served', async () => {
    const app = testApp({ auth: { oauth: true } });
    for (const path of ['/oauth/authorize', '/settings/tokens', '/.well-known/oauth-authorization-server']) {
      const r = await app.fetch(new Request(`http://evil.example${path}`));
      assert.equal(r.status, 403, path);
    }
    await app.close();
  });

  it('the fetch face refuses an oversized body to the OAuth endpoints with 413', async () => {
    const app = testApp({ auth: { oauth: true } });
    const big = new Uint8Array(200 * 1024);
    const r = await app.fetch(new Request('http://localhost/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: big }));
    assert.equal(r.status, 413);
    await app.close();
  });

  it('serves the root protected resource metadata too, and lists both issuers when both are on', async () => {
    const app = testApp({
      http: { publicUrl: 'https://mcp.example.com/mcp' },
      auth: { oauth: true, signIn: () => ({ subject: 'u' }), external: { issuer: 'https://login.example.com', jwksUri: 'https://login.example.com/jwks' } },
    });
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const r = await app.fetch(new Request(`https://mcp.example.com${path}`));
      assert.equal(r.status, 200, path);
      assert.deepEqual(((await r.json()) as { authorization_servers: string[] }).authorization_servers, ['https://mcp.example.com', 'https://login.example.com']);
    }
    assert.equal((await app.fetch(new Request('https://mcp.example.com/.well-known/oauth-protected-resource/other'))).status, 404);
    await app.close();
  });
});
