import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { newSecret } from '../../src/auth/secrets.ts';
import type { Gangway } from '../../src/index.ts';
import type { AuditRecord, Store } from '../../src/store/types.ts';
import { modern } from '../helpers/http.ts';
import {
  authorize,
  basic,
  callTool,
  callToolAt,
  exchange,
  oauthApp,
  ORIGIN,
  pkce,
  publicClient,
  REDIRECT,
  refresh,
  register,
  revoke,
  token,
  tokensFor,
} from './helpers.ts';

/**
 * Auth events leave durable audit rows (built-in sign-in, every /oauth/token outcome, a presented
 * but refused credential at the MCP endpoint) and no row ever holds a secret. A failed audit
 * write is logged and changes no answer.
 */

const apps: Gangway[] = [];
after(() => Promise.all(apps.map((a) => a.close())));
function app(...args: Parameters<typeof oauthApp>): Gangway {
  const a = oauthApp(...args);
  apps.push(a);
  return a;
}

async function rows(a: Gangway, event: string): Promise<AuditRecord[]> {
  const { store } = await a.stores();
  return store.audit.query({ event, order: 'asc', limit: 1000 });
}

/** `auth.refused` rows are written off the answer's path: wait for them (bounded). */
async function settle(a: Gangway, event: string, count: number): Promise<AuditRecord[]> {
  for (let i = 0; i < 50; i++) {
    const r = await rows(a, event);
    if (r.length >= count) return r;
    await new Promise((res) => setTimeout(res, 10));
  }
  return rows(a, event);
}

/** Every row of the log as text, and each secret that must not be in it. */
async function assertNoSecret(a: Gangway, secrets: string[]) {
  const { store } = await a.stores();
  const dump = JSON.stringify(await store.audit.query({ limit: 1000 }));
  for (const s of secrets) {
    assert.ok(s.length >= 20, `a real secret: ${s}`);
    assert.ok(!dump.includes(s), `the audit log holds a secret (${s.slice(0, 4)}...)`);
  }
}

const signInPost = (a: Gangway, cookie: string, form: Record<string, string>) =>
  a.fetch(
    new Request(`${ORIGIN}/signin`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    }),
  );

/** GET /signin: the browser cookie and a CSRF token. */
async function signInForm(a: Gangway, cookie?: string): Promise<{ cookie: string; csrf: string }> {
  const res = await a.fetch(new Request(`${ORIGIN}/signin`, { headers: cookie ? { cookie } : {} }));
  const set = res.headers.getSetCookie()[0]?.split(';')[0];
  const csrf = /name="csrf" value="([^"]+)"/.exec(await res.text())![1]!;
  return { cookie: cookie ?? set!, csrf };
}

describe('audit: /oauth/token', () => {
  it('records each outcome with grant type, client and user, and reuse as reuse_revoked', async () => {
    const a = app();
    const t = await tokensFor(a);
    let r = await rows(a, 'auth.token');
    assert.equal(r.length, 1);
    assert.deepEqual(
      { outcome: r[0]!.outcome, client: r[0]!.client, subject: r[0]!.subject, tenant: r[0]!.tenant, detail: r[0]!.detail },
      { outcome: 'ok', client: t.clientId, subject: 'alice', tenant: 'alice-co', detail: { grant_type: 'authorization_code' } },
    );

    const r1 = await refresh(a, t.clientId, t.refresh);
    assert.equal(r1.status, 200);
    assert.equal((await refresh(a, t.clientId, t.refresh)).json.error, 'invalid_grant'); // reuse: the grant ends
    const t2 = await tokensFor(a);
    assert.equal((await exchange(a, t2.clientId, t2.code, t2.verifier)).json.error, 'invalid_grant'); // code replay
    const p = pkce();
    const code = await authorize(a, t.clientId, p.challenge, ['notes:read']);
    assert.equal((await exchange(a, t.clientId, code, pkce().verifier)).json.error, 'invalid_grant'); // wrong verifier
    assert.equal((await token(a, { grant_type: 'password', username: 'alice', password: 'hunter2-hunter2-hunter2' })).json.error, 'unsupported_grant_type');
    assert.equal((await token(a, { grant_type: 'authorization_code', client_id: 'nobody', code, redirect_uri: REDIRECT, code_verifier: p.verifier })).status, 401);

    r = await rows(a, 'auth.token');
    const seen = r.map((x) => [x.outcome, (x.detail as { grant_type: string | null }).grant_type, x.client, x.subject]);
    assert.deepEqual(seen, [
      ['ok', 'authorization_code', t.clientId, 'alice'],
      ['ok', 'refresh_token', t.clientId, 'alice'],
      ['reuse_revoked', 'refresh_token', t.clientId, 'alice'],
      ['ok', 'authorization_code', t2.clientId, 'alice'],
      ['reuse_revoked', 'authorization_code', t2.clientId, 'alice'],
      ['invalid_grant', 'authorization_code', t.clientId, 'alice'],
      ['unsupported_grant_type', 'unsupported', null, null],
      ['invalid_client', 'authorization_code', null, null],
    ]);
    assert.ok(r.every((x) => x.via === 'oauth'));
    await assertNoSecret(a, [t.access, t.refresh, t.code, t.verifier, t2.access, t2.code, r1.json.access_token as string, r1.json.refresh_token as string, code, p.verifier, 'hunter2-hunter2-hunter2']);
  });

  it('a confidential client: its secret never reaches the log', async () => {
    const a = app();
    const reg = await register(a, { redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'] });
    const id = reg.json.client_id as string;
    const secret = reg.json.client_secret as string;
    const p = pkce();
    const code = await authorize(a, id, p.challenge, ['notes:read']);
    const ok = await token(a, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: p.verifier }, { authorization: basic(id, secret) });
    assert.equal(ok.status, 200);
    const bad = await token(a, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: p.verifier }, { authorization: basic(id, `${secret}x`) });
    assert.equal(bad.json.error, 'invalid_client');
    assert.deepEqual((await rows(a, 'auth.token')).map((x) => x.outcome), ['ok', 'invalid_client']);
    await assertNoSecret(a, [secret, code, p.verifier, ok.json.access_token as string]);
  });
});

describe('audit: built-in sign-in', () => {
  it('records success with the user, and failures as denied with a reason', async () => {
    const a = app({}, {}, { signIn: 'email' });
    const f = await signInForm(a);
    assert.equal((await signInPost(a, f.cookie, { csrf: f.csrf, email: 'not an email' })).status, 400);
    assert.equal((await signInPost(a, f.cookie, { csrf: 'gwx_forged-forged-forged-forged', email: 'Eve@Example.com' })).status, 403);
    const g = await signInForm(a, f.cookie);
    const ok = await signInPost(a, f.cookie, { csrf: g.csrf, email: 'Ada@Example.com' });
    assert.equal(ok.status, 303);
    const browserCookie = ok.headers.getSetCookie()[0]!.split(';')[0]!;

    const r = await rows(a, 'auth.signin');
    assert.deepEqual(
      r.map((x) => [x.outcome, x.reason, x.subject, x.tenant]),
      [
        ['denied', 'invalid_email', null, null],
        ['denied', 'csrf', 'eve@example.com', null],
        ['ok', null, 'ada@example.com', 'ada@example.com'],
      ],
    );
    await assertNoSecret(a, [f.csrf, g.csrf, f.cookie.split('=')[1]!, browserCookie.split('=')[1]!]);
  });
});

describe('audit: refused credentials at the MCP endpoint', () => {
  it('records why a presented credential was refused, and nothing for a request without one', async () => {
    const a = app({}, {}, { cacheMs: 0 });
    const { store } = await a.stores();
    const none = await modern(a, 1, 'tools/call', { name: 'read_notes', arguments: {} });
    assert.equal(none.status, 401, 'the first step of OAuth discovery');

    const unknown = newSecret('access').secret;
    assert.equal((await callTool(a, unknown, 'read_notes')).status, 401);
    assert.equal((await callTool(a, 'not-even-ours', 'read_notes')).status, 401);
    const malformed = await modern(a, 1, 'tools/call', { name: 'read_notes', arguments: {} }, { authorization: 'Token abcdefghijklmnopqrstuvwxyz' });
    assert.equal(malformed.status, 401);

    const t = await tokensFor(a);
    assert.equal((await callToolAt(a, t.access, 'read_notes', 'http://127.0.0.1')).status, 401); // another resource
    const t2 = await tokensFor(a);
    assert.equal((await revoke(a, { token: t2.refresh, client_id: t2.clientId })).status, 200);
    assert.equal((await callTool(a, t2.access, 'read_notes')).status, 401); // revoked with its grant

    const expired = await key(store, { expiresAt: Date.now() - 1000 });
    assert.equal((await modern(a, 1, 'tools/call', { name: 'read_notes', arguments: {} }, { 'x-api-key': expired.secret })).status, 401);

    const r = await settle(a, 'auth.refused', 6);
    assert.deepEqual(
      r.map((x) => [x.detail, x.outcome, x.subject, x.client]),
      [
        [{ via: 'oauth', reason: 'unknown' }, 'denied', null, null],
        [{ via: 'oauth', reason: 'unknown' }, 'denied', null, null],
        [{ via: 'oauth', reason: 'malformed' }, 'denied', null, null],
        [{ via: 'oauth', reason: 'bad_audience' }, 'denied', 'alice', t.clientId],
        [{ via: 'oauth', reason: 'revoked' }, 'denied', 'alice', t2.clientId],
        [{ via: 'api-key', reason: 'expired' }, 'denied', 'alice', expired.id],
      ],
    );
    await assertNoSecret(a, [unknown, t.access, t.refresh, t2.access, t2.refresh, expired.secret, 'abcdefghijklmnopqrstuvwxyz']);
  });

  it('writes at most one row per credential a minute, so a retrying client or a flood stays small', async () => {
    const a = app();
    const dead = newSecret('access').secret;
    for (let i = 0; i < 20; i++) assert.equal((await callTool(a, dead, 'read_notes')).status, 401);
    const other = newSecret('access').secret;
    for (let i = 0; i < 5; i++) assert.equal((await callTool(a, other, 'read_notes')).status, 401);
    await settle(a, 'auth.refused', 2);
    await new Promise((res) => setTimeout(res, 50));
    assert.equal((await rows(a, 'auth.refused')).length, 2);
  });

  it('caps the rows a minute when every request brings new garbage', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const a = app({}, { logger: pino({ level: 'warn' }, sink) });
    const sent = await Promise.all(Array.from({ length: 610 }, () => callTool(a, newSecret('access').secret, 'read_notes')));
    assert.ok(sent.every((r) => r.status === 401));
    await settle(a, 'auth.refused', 600);
    await new Promise((res) => setTimeout(res, 50));
    assert.equal((await rows(a, 'auth.refused')).length, 600);
    assert.equal(lines.filter((l) => l.includes('over the audit cap')).length, 1, 'one warning, not one per request');
  });
});

describe('audit: a failed write changes no answer', () => {
  it('is logged at warn (without secrets) and the token, sign-in and refusal answers stand', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const a = app({}, { logger: pino({ level: 'warn' }, sink) }, { signIn: 'email' });
    const { store } = await a.stores();
    (store.audit as { append: Store['audit']['append'] }).append = () => Promise.reject(new Error('disk full'));

    const clientId = await publicClient(a);
    const p = pkce();
    const code = await authorizeWithEmail(a, clientId, p.challenge);
    const t = await exchange(a, clientId, code, p.verifier);
    assert.equal(t.status, 200, JSON.stringify(t.json));
    const f = await signInForm(a);
    assert.equal((await signInPost(a, f.cookie, { csrf: f.csrf, email: 'ada@example.com' })).status, 303);
    const dead = newSecret('access').secret;
    assert.equal((await callTool(a, dead, 'read_notes')).status, 401);
    for (let i = 0; i < 50 && !lines.some((l) => l.includes('auth.refused')); i++) await new Promise((res) => setTimeout(res, 10));

    const warned = lines.filter((l) => l.includes('could not write audit record'));
    for (const event of ['auth.token', 'auth.signin', 'auth.refused']) assert.ok(warned.some((l) => l.includes(`"event":"${event}"`)), `${event} warned`);
    assert.ok(warned.every((l) => JSON.parse(l).level === 40), 'at warn');
    const log = lines.join('');
    for (const s of [t.json.access_token as string, t.json.refresh_token as string, code, p.verifier, f.csrf, dead]) assert.ok(!log.includes(s));
  });
});

async function key(store: Store, extra: { expiresAt?: number } = {}) {
  const s = newSecret('api_key');
  const rec = await store.apiKeys.create({ kind: 'api_key', keyHash: s.hash, hint: s.hint, tenant: 'alice-co', subject: 'alice', scopes: ['notes:read'], ...extra });
  return { secret: s.secret, id: rec.id };
}

/** /oauth/authorize with the built-in email sign-in: sign in, consent, code. */
async function authorizeWithEmail(a: Gangway, clientId: string, challenge: string): Promise<string> {
  const f = await signInForm(a);
  const signedIn = await signInPost(a, f.cookie, { csrf: f.csrf, email: 'alice@example.com' });
  const cookie = signedIn.headers.getSetCookie()[0]!.split(';')[0]!;
  const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 's' });
  const page = await a.fetch(new Request(`${ORIGIN}/oauth/authorize?${q}`, { headers: { cookie } }));
  const html = await page.text();
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)![1]!;
  const res = await a.fetch(
    new Request(`${ORIGIN}/oauth/authorize`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ request: field('request'), csrf: field('csrf'), decision: 'approve', scope: 'notes:read' }).toString(),
      redirect: 'manual',
    }),
  );
  return new URL(res.headers.get('location')!).searchParams.get('code')!;
}
