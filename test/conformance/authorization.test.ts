import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { createGangway, type Gangway } from '../../src/index.ts';
import { ROOT, SUITES } from './suite.ts';

/**
 * The conformance suite's authorization-server scenarios (0.2.0-alpha.12 `authorization`):
 * metadata, then a real authorization code grant with PKCE. The suite prints the authorization
 * URL and waits for its callback on 127.0.0.1:<port>; this test plays the browser (the server
 * auto-approves, tests only) and follows the URL. The client is registered through RFC 7591
 * with the suite's callback as its redirect URI.
 */

let app: Gangway;
let issuer: string;
let resource: string;
let out: string;

before(async () => {
  app = createGangway({
    name: 'authz-conformance',
    version: '1.0.0',
    store: 'memory',
    logger: { level: 'silent' },
    tools: [{ name: 'noop', scopes: ['mcp'], handler: () => 'ok' }],
    auth: { scopes: { mcp: 'Use the server' }, oauth: { autoApprove: true } },
  });
  const { url, port } = await app.listen({ port: 0 });
  issuer = `http://127.0.0.1:${port}`;
  resource = url;
  out = mkdtempSync(join(tmpdir(), 'gangway-authz-'));
});
after(async () => {
  await app.close();
  rmSync(out, { recursive: true, force: true });
});

/** A port nothing listens on now (the suite binds it for its callback). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

it('passes the authorization-server scenarios of the conformance suite', { timeout: 60_000 }, async () => {
  const callbackPort = await freePort();
  const reg = await fetch(`${issuer}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'conformance', redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`], token_endpoint_auth_method: 'none' }),
  });
  assert.equal(reg.status, 201, await reg.clone().text());
  const { client_id } = (await reg.json()) as { client_id: string };

  const child = spawn(
    process.execPath,
    ['--import', join(ROOT, 'test/conformance/globsync-shim.mjs'), SUITES.next, 'authorization', '--url', issuer, '--client-id', client_id, '--resource', resource, '-p', String(callbackPort), '-o', out],
    { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 50_000, killSignal: 'SIGKILL' },
  );
  let stdout = '';
  let followed = 0;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    // The "browser": once the suite's callback server listens (it says so after printing the
    // URL), open the authorization URL, which redirects to that callback; follow it.
    const url = /^(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)$/m.exec(stdout)?.[1];
    if (url && followed === 0 && stdout.includes('Callback server started')) {
      followed++;
      fetch(url).catch((err: unknown) => (stdout += `\n[test] following the URL failed: ${String(err)}`));
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  assert.equal(followed, 1, `the suite asked for one authorization\n${stdout}`);

  const checks: Array<{ id: string; status: string; errorMessage?: string }> = [];
  for (const dir of existsSync(out) ? readdirSync(out) : []) {
    const file = join(out, dir, 'checks.json');
    if (existsSync(file)) checks.push(...JSON.parse(readFileSync(file, 'utf8')));
  }
  const ids = new Set(checks.map((c) => c.id));
  assert.ok(ids.has('authorization-code-grant'), `code grant scenario ran\n${stdout}`);
  const bad = checks.filter((c) => c.status !== 'SUCCESS' && c.status !== 'INFO');
  assert.deepEqual(bad, [], stdout);
  assert.equal(code, 0, stdout);
});
