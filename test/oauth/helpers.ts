import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { AuthConfig, OAuthServerConfig, SignedInUser } from '../../src/auth/config.ts';
import type { Gangway, GangwayConfig } from '../../src/index.ts';
import type { ToolDefinition } from '../../src/registry/types.ts';
import { modern, testApp } from '../helpers/http.ts';

/** Shared by the OAuth tests: an app, a browser with a cookie jar, and the steps of the flow. */

export const ORIGIN = 'http://localhost';
export const RESOURCE = `${ORIGIN}/mcp`;
export const REDIRECT = 'http://127.0.0.1:7777/callback';
export const SCOPES = { 'notes:read': 'Read your notes', 'notes:write': 'Change your notes', 'profile': 'See your name' };

export const tools: ToolDefinition[] = [
  { name: 'read_notes', scopes: ['notes:read'], handler: (_a, ctx) => `notes of ${ctx.principal.subject}@${ctx.principal.tenant}` },
  { name: 'write_note', scopes: ['notes:write'], handler: () => 'written' },
];

/** The product's sign-in hook: the user named by a test header, else Alice. */
export const signIn = (request: Request): SignedInUser => {
  const who = request.headers.get('x-test-user') ?? 'alice';
  return { subject: who, tenant: `${who}-co`, name: who === 'alice' ? 'Alice <b>' : who };
};

export function oauthApp(oauth: OAuthServerConfig = {}, extra: Partial<GangwayConfig> = {}, auth: Partial<AuthConfig> = {}): Gangway {
  return testApp({ tools, auth: { scopes: SCOPES, signIn, oauth, ...auth }, ...extra });
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function register(app: Gangway, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await app.fetch(
    new Request(`${ORIGIN}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  );
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

export async function publicClient(app: Gangway, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await register(app, {
    client_name: 'Test client',
    redirect_uris: [REDIRECT],
    grant_types: ['authorization_code', 'refresh_token'],
    ...extra,
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.client_id as string;
}

export function authorizeQuery(clientId: string, challenge: string, extra: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st-123',
    resource: RESOURCE,
    ...extra,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) q.append(k, v);
  return q.toString();
}

/** A browser: keeps the cookies the server sets. */
export class TestBrowser {
  cookies = new Map<string, string>();
  constructor(
    readonly app: Gangway,
    readonly headers: Record<string, string> = {},
  ) {}
  private keep(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  }
  private cookieHeader(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }
  async get(path: string): Promise<{ res: Response; text: string }> {
    const res = await this.app.fetch(new Request(`${ORIGIN}${path}`, { headers: { ...this.headers, ...this.cookieHeader() }, redirect: 'manual' }));
    this.keep(res);
    return { res, text: await res.text() };
  }
  async post(path: string, form: URLSearchParams | string): Promise<{ res: Response; text: string }> {
    const res = await this.app.fetch(
      new Request(`${ORIGIN}${path}`, {
        method: 'POST',
        headers: { ...this.headers, ...this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      }),
    );
    this.keep(res);
    return { res, text: await res.text() };
  }
}

export interface ConsentForm {
  handle: string;
  csrf: string;
  html: string;
}

export function consentForm(html: string): ConsentForm {
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1];
  const handle = field('request');
  const csrf = field('csrf');
  assert.ok(handle && csrf, `no consent form in: ${html.slice(0, 300)}`);
  return { handle, csrf, html };
}

/** GET /oauth/authorize with the browser: the consent form. */
export async function openConsent(browser: TestBrowser, query: string): Promise<ConsentForm> {
  const { res, text } = await browser.get(`/oauth/authorize?${query}`);
  assert.equal(res.status, 200, `authorize answered ${res.status} ${res.headers.get('location')} ${text.slice(0, 200)}`);
  return consentForm(text);
}

export function decision(form: ConsentForm, decide: 'approve' | 'deny', scopes: string[]): URLSearchParams {
  const body = new URLSearchParams({ request: form.handle, csrf: form.csrf, decision: decide });
  for (const s of scopes) body.append('scope', s);
  return body;
}

/** Redirect parameters of a 303 answer to the test client's redirect URI. */
export function redirected(res: Response): URLSearchParams {
  assert.equal(res.status, 303, `expected a redirect, got ${res.status}`);
  const location = res.headers.get('location') ?? '';
  assert.ok(location.startsWith(`${REDIRECT}?`), location);
  return new URL(location).searchParams;
}

/** The full browser part: consent, approve `scopes`, return the code. */
export async function authorize(app: Gangway, clientId: string, challenge: string, scopes: string[], extra: Record<string, string | undefined> = {}) {
  const browser = new TestBrowser(app);
  const form = await openConsent(browser, authorizeQuery(clientId, challenge, extra));
  const { res } = await browser.post('/oauth/authorize', decision(form, 'approve', scopes));
  const params = redirected(res);
  assert.ok(params.get('code'), `no code: ${params}`);
  return params.get('code')!;
}

export async function token(
  app: Gangway,
  form: Record<string, string | undefined>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: Record<string, string | number> }> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) body.append(k, v);
  const res = await app.fetch(
    new Request(`${ORIGIN}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: body.toString() }),
  );
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : {} };
}

export function exchange(app: Gangway, clientId: string, code: string, verifier: string, extra: Record<string, string | undefined> = {}) {
  return token(app, { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: verifier, ...extra });
}

export function refresh(app: Gangway, clientId: string, refreshToken: string, extra: Record<string, string | undefined> = {}) {
  return token(app, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken, ...extra });
}

/** Registration + consent + code exchange: a working token set. */
export async function tokensFor(app: Gangway, scopes = Object.keys(SCOPES)) {
  const clientId = await publicClient(app);
  const p = pkce();
  const code = await authorize(app, clientId, p.challenge, scopes);
  const t = await exchange(app, clientId, code, p.verifier);
  assert.equal(t.status, 200, JSON.stringify(t.json));
  return { clientId, code, access: t.json.access_token as string, refresh: t.json.refresh_token as string, verifier: p.verifier };
}

let rpcId = 1;
/** tools/call over MCP (2026-07-28) with a bearer token. */
export async function callTool(app: Gangway, accessToken: string, name: string, host?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${accessToken}` };
  if (host) headers.host = host;
  return modern(app, rpcId++, 'tools/call', { name, arguments: {} }, headers);
}

export async function revoke(app: Gangway, form: Record<string, string>, headers: Record<string, string> = {}) {
  return app.fetch(
    new Request(`${ORIGIN}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    }),
  );
}

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** Grants of a subject (revoked ones too): proof that a consent did or did not happen. */
export async function grantsOf(app: Gangway, subject = 'alice') {
  const { store } = await app.stores();
  return store.grants.listBySubject(subject, { includeRevoked: true });
}

/** A tools/call sent to another host name of the same server (another canonical resource). */
export async function callToolAt(app: Gangway, accessToken: string, name: string, origin: string) {
  const res = await app.fetch(
    new Request(`${origin}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${accessToken}`,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': name,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name, arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
      }),
    }),
  );
  return { status: res.status, headers: res.headers, text: await res.text() };
}
