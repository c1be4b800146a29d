/**
 * Fuzzing of the web surface: the OAuth endpoints (metadata, authorize, token, register, revoke)
 * and the pages (sign-in, sign-out, API tokens). Requests are built from valid shapes (a real
 * registered client, real PKCE values, real codes and refresh tokens) and then mutated: missing,
 * repeated, oversized and junk parameters, wrong methods and content types, broken JSON and
 * forms, non-UTF-8 bytes, Basic headers with junk, cookies with junk.
 *
 * For every request: no 5xx, app.fetch() never rejects; OAuth endpoints answer JSON with an
 * RFC 6749 `error` on failure and never a secret in an error; HTML answers carry the no-frame
 * headers; nothing answers a redirect to a URI that is not the client's registered one.
 *
 * WEB_FUZZ_RUNS (default 1500) scales the run count; the seed is printed for replay (WEB_FUZZ_SEED).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import fc from 'fast-check';
import type { Gangway } from '../../src/index.ts';
import { testApp } from '../helpers/http.ts';

const RUNS = Number(process.env.WEB_FUZZ_RUNS ?? 1500);
const SEED = Number(process.env.WEB_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const REDIRECT = 'http://127.0.0.1:5999/cb';
const ORIGIN = 'http://localhost';

let app: Gangway;
let clientId = '';
const verifier = randomBytes(32).toString('base64url');
const challenge = createHash('sha256').update(verifier).digest('base64url');

before(async () => {
  app = testApp({
    // A registration limit the run cannot reach: this test checks answers, not the limit.
    auth: { scopes: { read: 'Read', write: 'Write' }, oauth: { autoApprove: true, registration: { perHourPerIp: 1_000_000 } } },
    tools: [{ name: 't', scopes: ['read'], handler: () => 'ok' }],
    policy: { limits: { web: { token: false, authorize: false, signIn: false } } },
  });
  const res = await app.fetch(
    new Request(`${ORIGIN}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none' }),
    }),
  );
  clientId = ((await res.json()) as { client_id: string }).client_id;
});
after(() => app.close());

/** A fresh code for the registered client (auto-approve answers the GET with the redirect). */
async function freshCode(): Promise<string> {
  const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's' });
  const res = await app.fetch(new Request(`${ORIGIN}/oauth/authorize?${q}`));
  return new URL(res.headers.get('location')!).searchParams.get('code')!;
}

/** A fresh refresh token: a code redeemed at /token. */
async function freshRefresh(): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: await freshCode(), redirect_uri: REDIRECT, code_verifier: verifier, client_id: clientId });
  const res = await app.fetch(new Request(`${ORIGIN}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }));
  return ((await res.json()) as { refresh_token: string }).refresh_token;
}

const junk = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', ' ', 'null', '%', '%00', '\u0000', 'javascript:alert(1)', 'http://evil.example/cb', 'S256', 'plain', 'code', 'token', 'x'.repeat(5000), '../../etc', '{"a":1}', 'gwa_' + 'A'.repeat(43)),
);

const PATHS = ['/oauth/authorize', '/oauth/token', '/oauth/register', '/oauth/revoke', '/signin', '/signout', '/settings/tokens', '/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource/mcp'] as const;

const PARAMS = ['response_type', 'client_id', 'redirect_uri', 'code_challenge', 'code_challenge_method', 'state', 'scope', 'resource', 'grant_type', 'code', 'code_verifier', 'refresh_token', 'token', 'token_type_hint', 'client_secret', 'email', 'csrf', 'return_to', 'request', 'decision', 'name', 'kind'];

/** Start from a valid parameter set for the path, then drop, replace, repeat or add parameters. */
const paramsArb = fc.record({
  drop: fc.array(fc.constantFrom(...PARAMS), { maxLength: 4 }),
  set: fc.array(fc.tuple(fc.constantFrom(...PARAMS), junk), { maxLength: 4 }),
  repeat: fc.array(fc.tuple(fc.constantFrom(...PARAMS), junk), { maxLength: 2 }),
});

const mutatedArb = fc.record({
  path: fc.constantFrom(...PATHS),
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD'),
  body: fc.constantFrom('form', 'form', 'form', 'json', 'json', 'junk', 'none', 'bytes'),
  grant: fc.constantFrom('authorization_code', 'refresh_token', 'password', 'client_credentials'),
  // A third of the cases keep the valid parameters, so success paths are exercised too.
  params: fc.oneof({ arbitrary: fc.constant({ drop: [] as string[], set: [] as [string, string][], repeat: [] as [string, string][] }), weight: 1 }, { arbitrary: paramsArb, weight: 2 }),
  basic: fc.option(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('Basic ', 'Basic %%%', 'Basic Zm9vOmJhcg==', 'Bearer x')), { nil: undefined, freq: 3 }),
  cookie: fc.option(fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('__Host-gw_browser=gwb_' + 'A'.repeat(43), '__Host-gw_browser=;;;', '=')), { nil: undefined }),
  contentType: fc.option(fc.constantFrom('text/plain', 'application/json; charset=latin1', 'multipart/form-data', 'application/x-www-form-urlencoded; charset=utf-8'), { nil: undefined, freq: 3 }),
});

const POSTED = new Set(['/oauth/token', '/oauth/register', '/oauth/revoke']);

/** Well-formed requests (right method, body type, parameters): the success paths, checked the same way. */
const validArb = fc.record({ path: fc.constantFrom(...PATHS), grant: fc.constantFrom('authorization_code', 'authorization_code', 'refresh_token') }).map(
  ({ path, grant }): Case => ({
    path,
    method: POSTED.has(path) ? 'POST' : 'GET',
    body: path === '/oauth/register' ? 'json' : 'form',
    grant,
    params: { drop: [], set: [], repeat: [] },
    basic: undefined,
    cookie: undefined,
    contentType: undefined,
  }),
);

const caseArb = fc.oneof({ arbitrary: validArb, weight: 1 }, { arbitrary: mutatedArb, weight: 3 });

type Case = typeof mutatedArb extends fc.Arbitrary<infer T> ? T : never;

async function build(c: Case): Promise<Request> {
  const base: Record<string, string> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'st',
    grant_type: c.grant,
    code_verifier: verifier,
  };
  if (c.path === '/oauth/token' && c.grant === 'authorization_code') base.code = await freshCode();
  if (c.path === '/oauth/token' && c.grant === 'refresh_token') base.refresh_token = await freshRefresh();
  if (c.path === '/oauth/revoke') base.token = await freshRefresh();
  const p = new URLSearchParams(base);
  for (const d of c.params.drop) p.delete(d);
  for (const [k, v] of c.params.set) p.set(k, v);
  for (const [k, v] of c.params.repeat) p.append(k, v);
  const headers = new Headers();
  if (c.basic !== undefined) headers.set('authorization', c.basic);
  if (c.cookie !== undefined) headers.set('cookie', c.cookie.replace(/[\r\n]/g, ''));
  const hasBody = c.method === 'POST' || c.method === 'PUT' || c.method === 'DELETE';
  let body: BodyInit | undefined;
  let url = `${ORIGIN}${c.path}`;
  if (!hasBody) url += `?${p}`;
  else if (c.body === 'form') {
    body = p.toString();
    headers.set('content-type', 'application/x-www-form-urlencoded');
  } else if (c.body === 'json') {
    body = JSON.stringify(c.path === '/oauth/register' ? { redirect_uris: [p.get('redirect_uri')], client_name: p.get('name'), grant_types: [p.get('grant_type')] } : Object.fromEntries(p));
    headers.set('content-type', 'application/json');
  } else if (c.body === 'junk') {
    body = '{"redirect_uris":[' + p.toString();
    headers.set('content-type', 'application/json');
  } else if (c.body === 'bytes') {
    body = new Uint8Array([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x3d, 0x26]);
    headers.set('content-type', 'application/x-www-form-urlencoded');
  }
  if (c.contentType && hasBody) headers.set('content-type', c.contentType);
  return new Request(url, { method: c.method, headers, ...(body !== undefined && c.method !== 'GET' && c.method !== 'HEAD' ? { body } : {}) });
}

/** Status counts per path: printed, and proof that valid shapes get through too. */
const seen = new Map<string, number>();

async function check(c: Case): Promise<void> {
  const req = await build(c);
  const res = await app.fetch(req);
  const key = `${c.path} ${res.status}`;
  seen.set(key, (seen.get(key) ?? 0) + 1);
  const text = c.method === 'HEAD' ? '' : await res.text();
  const where = `${c.method} ${c.path} -> ${res.status}: ${text.slice(0, 200)}`;
  assert.ok(res.status < 500, where);
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/html')) {
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, where);
    assert.equal(res.headers.get('x-frame-options'), 'DENY', where);
  }
  const location = res.headers.get('location');
  if (location && c.path === '/oauth/authorize') {
    // A redirect out of /authorize goes to the registered redirect URI only, never elsewhere.
    const u = new URL(location, ORIGIN);
    assert.ok(u.origin === ORIGIN || `${u.origin}${u.pathname}` === REDIRECT, where);
  }
  if (c.path === '/oauth/token' || c.path === '/oauth/revoke' || c.path === '/oauth/register') {
    if (res.status >= 400 && res.status !== 405 && type.startsWith('application/json')) {
      const body = JSON.parse(text) as { error?: unknown };
      assert.equal(typeof body.error, 'string', where);
    }
    if (res.status >= 400) assert.ok(!text.includes(verifier) && !/gw[acrs]_[\w-]{43}/.test(text), `an error echoed a secret: ${where}`);
    if (c.path === '/oauth/token' && c.method === 'POST') assert.match(res.headers.get('cache-control') ?? '', /no-store/, where);
  }
}

describe('web surface fuzz', () => {
  it(`${RUNS} mutated OAuth and page requests: never 5xx, errors well-formed, no stray redirect`, async (t: TestContext) => {
    t.diagnostic(`seed ${SEED} (WEB_FUZZ_SEED to replay)`);
    await fc.assert(fc.asyncProperty(caseArb, check), { numRuns: RUNS, seed: SEED, endOnFailure: true });
    t.diagnostic([...seen].sort().map(([k, n]) => `${k}: ${n}`).join(', '));
    // The generator must reach the success paths, not only refusals.
    assert.ok((seen.get('/oauth/token 200') ?? 0) > 0, 'some token requests succeeded');
    assert.ok((seen.get('/oauth/authorize 302') ?? 0) + (seen.get('/oauth/authorize 303') ?? 0) > 0, 'some authorizations redirected with a code');
  });
});
