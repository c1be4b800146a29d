import assert from 'node:assert/strict';
import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { DocumentServer } from './document-server.ts';
import {
  authorizeQuery,
  callTool,
  decision,
  exchange,
  oauthApp,
  openConsent,
  pkce,
  redirected,
  refresh,
  revoke,
  TestBrowser,
} from './helpers.ts';

describe('Client ID Metadata Documents (allowLoopback, tests only)', () => {
  let docs: DocumentServer;
  before(async () => {
    docs = await new DocumentServer().start();
  });
  after(() => docs.stop());

  it('a URL client id: consent names the document host; token, call, refresh, revoke work', async () => {
    const app = oauthApp({ clientMetadataDocuments: { allowLoopback: true } });
    const clientId = docs.url('/client.json');
    const p = pkce();
    const browser = new TestBrowser(app);
    const form = await openConsent(browser, authorizeQuery(clientId, p.challenge, { scope: 'notes:read' }));
    assert.match(form.html, /Document client/);
    assert.match(form.html, new RegExp(`metadata document at <code>127\\.0\\.0\\.1:${docs.port}</code>`));
    assert.match(form.html, /class="warn"/, 'redirects only to loopback');
    const { res } = await browser.post('/oauth/authorize', decision(form, 'approve', ['notes:read']));
    const code = redirected(res).get('code')!;
    const t = await exchange(app, clientId, code, p.verifier);
    assert.equal(t.status, 200, JSON.stringify(t.json));
    assert.equal((await callTool(app, t.json.access_token as string, 'read_notes')).status, 200);
    const r = await refresh(app, clientId, t.json.refresh_token as string);
    assert.equal(r.status, 200);
    assert.equal((await revoke(app, { token: r.json.refresh_token as string, client_id: clientId })).status, 200);
    assert.equal((await callTool(app, r.json.access_token as string, 'read_notes')).status, 401);
    // fetched once, then served from the cache (default 5 minutes)
    assert.equal(docs.hitsOf('/client.json'), 1);
    await app.close();
  });

  it('Cache-Control: no-store documents are fetched every time', async () => {
    const app = oauthApp({ clientMetadataDocuments: { allowLoopback: true } });
    const clientId = docs.url('/nocache.json');
    await openConsent(new TestBrowser(app), authorizeQuery(clientId, pkce().challenge));
    await openConsent(new TestBrowser(app), authorizeQuery(clientId, pkce().challenge));
    assert.equal(docs.hitsOf('/nocache.json'), 2);
    await app.close();
  });

  it("a document's client_name with markup is escaped", async () => {
    const app = oauthApp({ clientMetadataDocuments: { allowLoopback: true } });
    const form = await openConsent(new TestBrowser(app), authorizeQuery(docs.url('/markup.json'), pkce().challenge));
    assert.ok(!form.html.includes('<img src=x'));
    assert.match(form.html, /&lt;img src=x onerror=alert\(1\)&gt;/);
    await app.close();
  });

  it('URL client ids are refused when documents are off', async () => {
    const app = oauthApp({ clientMetadataDocuments: false });
    const r = await new TestBrowser(app).get(`/oauth/authorize?${authorizeQuery(docs.url('/client.json'), pkce().challenge)}`);
    assert.equal(r.res.status, 400);
    assert.equal(r.res.headers.get('location'), null);
    await app.close();
  });
});

describe('Client ID Metadata Documents: DNS rebinding', () => {
  let docs: DocumentServer;
  const realLookup = dns.lookup;
  const realPromisesLookup = dns.promises.lookup;
  let laterLookups = 0;
  before(async () => {
    docs = await new DocumentServer().start();
    // "rebind.test" first resolves to loopback (allowed in tests), and to the metadata address
    // on any later resolution: a fetcher that looked the name up again would go there.
    dns.promises.lookup = (async (host: string, options: object) =>
      host === 'rebind.test' ? [{ address: '127.0.0.1', family: 4 }] : realPromisesLookup(host, options as never)) as typeof dns.promises.lookup;
    dns.lookup = ((host: string, options: unknown, callback: unknown) => {
      if (host === 'rebind.test') {
        laterLookups++;
        const cb = (typeof options === 'function' ? options : callback) as (...a: unknown[]) => void;
        return cb(null, '169.254.169.254', 4);
      }
      return (realLookup as (...a: unknown[]) => void)(host, options, callback);
    }) as typeof dns.lookup;
    syncBuiltinESMExports();
  });
  after(async () => {
    dns.lookup = realLookup;
    dns.promises.lookup = realPromisesLookup;
    syncBuiltinESMExports();
    await docs.stop();
  });

  it('connects to the address it checked, never resolving the name again', async () => {
    const app = oauthApp({ clientMetadataDocuments: { allowLoopback: true, timeoutMs: 2000 } });
    const clientId = `http://rebind.test:${docs.port}/host.json`;
    const form = await openConsent(new TestBrowser(app), authorizeQuery(clientId, pkce().challenge));
    assert.match(form.html, /Document client/);
    assert.equal(docs.hitsOf('/host.json'), 1);
    assert.equal(laterLookups, 0, 'the connection used the pinned address, not a second DNS answer');
    await app.close();
  });
});
