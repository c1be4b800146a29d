import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { createGangway, type Gangway } from '../../src/index.ts';
import { MODERN } from '../helpers/http.ts';

/**
 * The pages driven by a real headless Chromium (Debian's), against a listening server on
 * 127.0.0.1: what a user does with a mouse, no JavaScript of ours on the pages.
 */
const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Without Chromium a developer's `npm test` says so and skips this file; CI (CI=true) must run it.
const MISSING = existsSync(EXECUTABLE) ? false : `Chromium not found at ${EXECUTABLE} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (MISSING && process.env.CI) throw new Error(`${MISSING}: CI must run the browser tests`);
if (MISSING) console.log(`# skipped: ${MISSING}`);
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let app: Gangway;
let base: string;
let mcp: string;
/** Each test opens a fresh context: a new profile with no cookies. */
let browser: Awaited<ReturnType<typeof chromium.launch>>;

before(async () => {
  if (MISSING) return;
  app = createGangway({
    name: 'shop',
    version: '1.0.0',
    store: 'memory',
    logger: { level: 'silent' },
    http: { host: '127.0.0.1', port: 0 },
    auth: { oauth: true, scopes: { 'items:read': 'Read your items', 'items:write': 'Change your items' } },
    tools: [
      { name: 'read_items', scopes: ['items:read'], handler: () => ({ items: ['apple'] }) },
      { name: 'write_items', scopes: ['items:write'], handler: () => ({ written: true }) },
    ],
  });
  ({ url: mcp } = await app.listen());
  base = new URL(mcp).origin;
  browser = await chromium.launch({ executablePath: EXECUTABLE, headless: true, args: ARGS });
});
after(async () => {
  await browser?.close();
  await app?.close();
});

async function callTool(name: string, headers: Record<string, string>) {
  const res = await fetch(mcp, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': name, ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name, arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} } },
    }),
  });
  return { status: res.status, text: await res.text(), challenge: res.headers.get('www-authenticate') };
}

async function signIn(page: Page, email: string) {
  assert.match(new URL(page.url()).pathname, /^\/signin$/, `expected the sign-in page, got ${page.url()}`);
  await page.fill('#email', email);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

async function assertBrowserCookie(context: BrowserContext) {
  const cookies = await context.cookies(base);
  const c = cookies.find((x) => x.name === '__Host-gw_browser');
  assert.ok(c, `Chromium kept the __Host- cookie on ${base}: ${JSON.stringify(cookies)}`);
  assert.equal(c.secure, true);
  assert.equal(c.httpOnly, true);
  assert.equal(c.sameSite, 'Lax');
  assert.equal(c.path, '/');
}

describe('headless Chromium', { timeout: 120_000, skip: MISSING }, () => {
  it('signs in, mints an API key on Settings -> API tokens, and the key calls a tool', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${base}/settings/tokens`);
      await signIn(page, 'ada@example.com');
      assert.equal(new URL(page.url()).pathname, '/settings/tokens');
      await assertBrowserCookie(context);
      assert.match((await page.textContent('body'))!, /Signed in as ada@example\.com/);

      await page.fill('#name', 'from chromium');
      await page.selectOption('#kind', 'api_key');
      await page.check('input[name=scope][value="items:read"]');
      await Promise.all([page.waitForNavigation(), page.click('form:has(input[name=action][value=create]) button[type=submit]')]);
      const secret = (await page.textContent('#secret'))!.trim();
      assert.match(secret, /^gwk_[\w-]{43}$/);
      assert.equal((await page.textContent('#header'))!.trim(), 'x-api-key');

      const ok = await callTool('read_items', { 'x-api-key': secret });
      assert.equal(ok.status, 200, ok.text);
      assert.match(ok.text, /apple/);
      const denied = await callTool('write_items', { 'x-api-key': secret });
      assert.equal(denied.status, 403);
      assert.match(denied.challenge ?? '', /insufficient_scope/);

      // Back on the list (a fresh GET), the key is there, its secret is not.
      await page.goto(`${base}/settings/tokens`);
      const list = (await page.content())!;
      assert.match(list, /from chromium/);
      assert.ok(!list.includes(secret));
      // The page's own Revoke button ends it.
      await Promise.all([page.waitForNavigation(), page.click('#keys button[type=submit]')]);
      assert.match((await page.textContent('body'))!, /Revoked\./);
      assert.equal((await callTool('read_items', { 'x-api-key': secret })).status, 401);
    } finally {
      await context.close();
    }
  });

  it('authorizes an OAuth client for a subset of scopes on the consent page', async () => {
    // The client's loopback redirect target (RFC 8252 7.3).
    const seen: URL[] = [];
    const callback: Server = createServer((req, res) => {
      seen.push(new URL(req.url ?? '/', 'http://127.0.0.1'));
      res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
    });
    await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
    const redirectUri = `http://127.0.0.1:${(callback.address() as { port: number }).port}/cb`;
    const context = await browser.newContext();
    try {
      const reg = await fetch(`${base}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_name: 'Chromium test client',
          redirect_uris: [redirectUri],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        }),
      });
      assert.equal(reg.status, 201, await reg.clone().text());
      const { client_id: clientId } = (await reg.json()) as { client_id: string };

      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const state = randomBytes(16).toString('base64url');
      const authorize = new URL(`${base}/oauth/authorize`);
      for (const [k, v] of Object.entries({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirectUri,
        scope: 'items:read items:write',
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: mcp,
      })) {
        authorize.searchParams.set(k, v);
      }

      const page = await context.newPage();
      await page.goto(authorize.href);
      await signIn(page, 'ada@example.com');
      await assertBrowserCookie(context);
      // The consent page: the client's name, each scope with a checkbox; approve only items:read.
      assert.equal(new URL(page.url()).pathname, '/oauth/authorize', page.url());
      const consent = (await page.textContent('body'))!;
      assert.match(consent, /Chromium test client/);
      assert.match(consent, /127\.0\.0\.1/);
      await page.uncheck('input[type=checkbox][value="items:write"]');
      assert.equal(await page.isChecked('input[type=checkbox][value="items:read"]'), true);
      await Promise.all([
        page.waitForURL((u) => u.href.startsWith(redirectUri)),
        page.locator('form button[type=submit]').filter({ hasText: /approve|allow|authori[sz]e/i }).first().click(),
      ]);

      const back = seen.find((u) => u.pathname === '/cb')!; // (Chromium also asks for /favicon.ico)
      assert.equal(back.searchParams.get('state'), state);
      assert.equal(back.searchParams.get('iss'), base, 'RFC 9207 iss');
      const code = back.searchParams.get('code');
      assert.ok(code, `a code came back: ${back.href}`);

      const tokenRes = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier, resource: mcp }),
      });
      const tokens = (await tokenRes.json()) as { access_token?: string; scope?: string };
      assert.equal(tokenRes.status, 200, JSON.stringify(tokens));
      assert.equal(tokens.scope, 'items:read');
      const bearer = { authorization: `Bearer ${tokens.access_token}` };
      const ok = await callTool('read_items', bearer);
      assert.equal(ok.status, 200, ok.text);
      const denied = await callTool('write_items', bearer);
      assert.equal(denied.status, 403, denied.text);
      assert.match(denied.challenge ?? '', /error="insufficient_scope"/);

      // The grant shows on Settings -> API tokens, where its Revoke button ends the token at once.
      await page.goto(`${base}/settings/tokens`);
      assert.match((await page.textContent('#grants'))!, /Chromium test client/);
      await Promise.all([page.waitForNavigation(), page.click('#grants button[type=submit]')]);
      assert.equal((await callTool('read_items', bearer)).status, 401);
    } finally {
      await context.close();
      callback.close();
    }
  });
});
