import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as Client2, StreamableHTTPClientTransport as Transport2 } from '@modelcontextprotocol/client';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { hashSecret } from '../../src/auth/secrets.ts';
import { createGangway, type Gangway } from '../../src/index.ts';
import type { ToolDefinition } from '../../src/registry/types.ts';

/**
 * Black-box OAuth with the real clients against a listening server whose authorization server
 * auto-approves (tests only, loopback only): the SDK 1.x client registers itself (RFC 7591), the
 * client 2.x identifies with a Client ID Metadata Document served here over HTTPS, and mcp-remote
 * runs its whole flow with BROWSER set to a script that follows the authorization URL.
 */

const tools: ToolDefinition[] = [
  { name: 'whoami', scopes: ['profile'], handler: (_a, ctx) => `${ctx.principal.subject} via ${ctx.principal.via} (${ctx.principal.client})` },
];
const SCOPES = { profile: 'Read your profile' };

/** An OAuth client provider that plays the browser itself: it follows the authorization URL. */
class HeadlessProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  callback: URLSearchParams | undefined;
  constructor(
    readonly redirectUrl: string,
    readonly clientMetadataUrl?: string,
  ) {}
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'headless test client', redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  async redirectToAuthorization(url: URL) {
    const res = await fetch(url, { redirect: 'manual' });
    const location = res.headers.get('location');
    assert.ok(location?.startsWith(this.redirectUrl), `authorize redirected to ${location} (${res.status})`);
    this.callback = new URL(location!).searchParams;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

let certCache: { key: string; cert: string } | undefined;
let app: Gangway;
let mcpUrl: URL;
let port: number;

before(async () => {
  app = createGangway({
    name: 'oauth-clients',
    version: '1.0.0',
    store: 'memory',
    logger: { level: 'silent' },
    tools,
    auth: {
      scopes: SCOPES,
      oauth: { autoApprove: true, clientMetadataDocuments: { allowLoopback: true, ca: readCert().cert } },
    },
  });
  const listening = await app.listen({ port: 0 });
  port = listening.port;
  mcpUrl = new URL(listening.url);
});
after(() => app.close());

describe('SDK 1.x client: registration, PKCE, token, call, refresh', () => {
  it('completes the flow headless and refreshes when its access token stops working', async () => {
    const provider = new HeadlessProvider('http://127.0.0.1:1/callback');
    const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
    await assert.rejects(new Client({ name: 'sdk1', version: '1' }).connect(first), UnauthorizedError);
    assert.ok(provider.info?.client_id, 'registered through RFC 7591');
    const code = provider.callback!.get('code')!;
    assert.equal(provider.callback!.get('iss'), `http://127.0.0.1:${port}`, 'RFC 9207 iss');
    await first.finishAuth(code);
    const tokens = provider.saved!;
    assert.match(tokens.access_token, /^gwa_/);
    assert.ok(tokens.refresh_token);

    const client = new Client({ name: 'sdk1', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    assert.deepEqual(r.content, [{ type: 'text', text: `test-user via oauth (${provider.info!.client_id})` }]);
    await client.close();

    // The access token is revoked (RFC 7009); the client's next request gets 401 and it refreshes.
    const revoked = await fetch(new URL('/oauth/revoke', mcpUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token, client_id: provider.info!.client_id }),
    });
    assert.equal(revoked.status, 200);
    const again = new Client({ name: 'sdk1', version: '1' });
    await again.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
    const r2 = await again.callTool({ name: 'whoami', arguments: {} });
    assert.equal(r2.isError, undefined);
    assert.notEqual(provider.saved!.access_token, tokens.access_token, 'a new access token');
    assert.notEqual(provider.saved!.refresh_token, tokens.refresh_token, 'the refresh token rotated');
    await again.close();
    // Only hashes are stored: the store knows the token by its hash, never by its value.
    const { store } = await app.stores();
    assert.equal((await store.tokens.findByHash(hashSecret(provider.saved!.access_token)))?.kind, 'access');
  });
});

describe('client 2.x: Client ID Metadata Document', () => {
  let docServer: Server;
  let docUrl: string;
  const redirect = 'http://127.0.0.1:1/cb';
  before(async () => {
    const { key, cert } = readCert();
    docServer = createServer({ key, cert }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ client_id: docUrl, client_name: 'CIMD test client', redirect_uris: [redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }));
    });
    await new Promise<void>((r) => docServer.listen(0, '127.0.0.1', r));
    docUrl = `https://127.0.0.1:${(docServer.address() as AddressInfo).port}/oauth/client.json`;
  });
  after(() => docServer.close());

  it('authorizes with the document URL as client_id and calls a tool at 2026-07-28', async () => {
    const provider = new HeadlessProvider(redirect, docUrl);
    const first = new Transport2(mcpUrl, { authProvider: provider as never });
    await assert.rejects(new Client2({ name: 'c2', version: '1' }, { versionNegotiation: { mode: 'auto' } }).connect(first));
    assert.equal(provider.info?.client_id, docUrl, 'no registration: the URL is the client id');
    await first.finishAuth(provider.callback!);
    const client = new Client2({ name: 'c2', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new Transport2(mcpUrl, { authProvider: provider as never }));
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    assert.deepEqual(r.content, [{ type: 'text', text: `test-user via oauth (${docUrl})` }]);
    await client.close();
  });
});

describe('mcp-remote', () => {
  it('completes the OAuth flow with BROWSER set to a script that follows the URL, then calls a tool over stdio', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gangway-mcp-remote-'));
    try {
      // The "browser": fetch the authorization URL and follow every redirect (to mcp-remote's callback).
      const browser = join(dir, 'browser.sh');
      writeFileSync(browser, `#!/bin/sh\nexec node -e "fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "$1" >/dev/null 2>&1 &\n`);
      chmodSync(browser, 0o755);
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [join(process.cwd(), 'node_modules/mcp-remote/dist/proxy.js'), mcpUrl.href, '0', '--allow-http', '--host', '127.0.0.1'],
        env: { ...(process.env as Record<string, string>), BROWSER: browser, MCP_REMOTE_CONFIG_DIR: join(dir, 'auth'), DISPLAY: '', WAYLAND_DISPLAY: '' },
        stderr: 'pipe',
      });
      let log = '';
      transport.stderr?.on('data', (c: Buffer) => (log += c.toString()));
      const client = new Client({ name: 'via-mcp-remote', version: '1' });
      await client.connect(transport).catch((err: unknown) => assert.fail(`mcp-remote did not connect: ${String(err)}\n${log.slice(-3000)}`));
      const r = await client.callTool({ name: 'whoami', arguments: {} });
      assert.match((r.content as Array<{ text: string }>)[0]!.text, /^test-user via oauth \(/);
      await client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A self-signed certificate for 127.0.0.1, made once per run with openssl. */
function readCert(): { key: string; cert: string } {
  if (certCache) return certCache;
  const dir = mkdtempSync(join(tmpdir(), 'gangway-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  certCache = { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
  rmSync(dir, { recursive: true, force: true });
  return certCache;
}
