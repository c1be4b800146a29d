import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Principal } from '../../src/auth/principal.ts';
import { GangwayConfigError } from '../../src/errors.ts';
import type { OperationPlan, ParameterPlan } from '../../src/openapi/operation.ts';
import type { CallToolResult } from '../../src/registry/types.ts';
import { createUpstream, type Upstream, type UpstreamOptions } from '../../src/upstream/index.ts';
import { RecordingUpstream, testPlan } from './recording-upstream.ts';

const ALICE: Principal = { subject: 'alice', tenant: 't1', scopes: [], client: null, via: 'custom' };

const plan = (over: Partial<OperationPlan> = {}): OperationPlan => testPlan({ produces: ['application/json'], ...over });
const query = (name: string): ParameterPlan => ({ argument: name, in: 'query', name, required: false, style: 'form', explode: true });
const LIST = plan({ tool: 'list_items', path: '/items', parameters: [query('page'), query('per_page'), query('q')] });

const ctx = (signal: AbortSignal = new AbortController().signal, principal = ALICE) => ({ principal, signal });
const texts = (r: CallToolResult) => r.content.map((b) => (b.type === 'text' ? b.text : `[${b.type}]`));

describe('createUpstream: calls and response mapping', () => {
  let up: RecordingUpstream;
  const clients: Upstream[] = [];
  const client = (over: Partial<UpstreamOptions> = {}) => {
    const u = createUpstream({ baseUrl: up.url, ...over });
    clients.push(u);
    return u;
  };

  before(async () => {
    up = await new RecordingUpstream().start();
  });
  beforeEach(() => up.reset());
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await up.close();
  });

  it('JSON object: compact text plus structuredContent', async () => {
    up.on('GET', '/x', { body: { id: 1, name: 'é' } });
    const r = await client().call(plan(), {}, ctx());
    assert.deepEqual(r, { content: [{ type: 'text', text: '{"id":1,"name":"é"}' }], structuredContent: { id: 1, name: 'é' } });
  });

  it('JSON array: text only (structuredContent must be an object)', async () => {
    up.on('GET', '/x', { body: [1, 2] });
    const r = await client().call(plan(), {}, ctx());
    assert.deepEqual(r, { content: [{ type: 'text', text: '[1,2]' }] });
  });

  it('oversized list envelope: fewer items, still valid JSON, a note naming the paging arguments', async () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ id: i, title: `item ${i} ${'x'.repeat(40)}` }));
    up.on('GET', '/items', { body: { total_count: 100, items } });
    const r = await client({ maxResponseBytes: 1000 }).call(LIST, { q: 'a' }, ctx());
    const [json, note] = texts(r);
    assert.ok(Buffer.byteLength(json!) <= 1000, `${Buffer.byteLength(json!)} bytes`);
    const shown = JSON.parse(json!) as { total_count: number; items: unknown[] };
    assert.equal(shown.total_count, 100);
    assert.ok(shown.items.length > 0 && shown.items.length < 100);
    assert.deepEqual(shown.items, items.slice(0, shown.items.length));
    assert.deepEqual(r.structuredContent, shown);
    assert.match(note!, new RegExp(`${shown.items.length} of 100 items of "items"`));
    assert.match(note!, /pages with page, per_page/);
  });

  it('oversized JSON with no list: cut at the budget, no structuredContent, says how to narrow', async () => {
    up.on('GET', '/x', { body: { blob: 'é'.repeat(5000) } });
    const r = await client({ maxResponseBytes: 1001 }).call(plan(), {}, ctx());
    const [cut, note] = texts(r);
    assert.ok(Buffer.byteLength(cut!) <= 1001);
    assert.ok(!cut!.includes('\ufffd'), 'no character split');
    assert.equal(r.structuredContent, undefined);
    assert.match(note!, /cut at 1001 of 10011 bytes/);
    assert.match(note!, /Narrow the request/);
  });

  it('text answers are text, cut at the budget', async () => {
    up.on('GET', '/x', { headers: { 'content-type': 'text/csv; charset=utf-8' }, body: 'a,b\n'.repeat(1000) });
    const r = await client({ maxResponseBytes: 100 }).call(plan(), {}, ctx());
    assert.equal(texts(r)[0], 'a,b\n'.repeat(25));
    assert.match(texts(r)[1]!, /cut at 100 of 4000 bytes/);
  });

  it('binary answers: image, audio, and other types as an embedded resource', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    up.on('GET', '/img', { headers: { 'content-type': 'image/png' }, body: png });
    up.on('GET', '/snd', { headers: { 'content-type': 'audio/wav' }, body: png });
    up.on('GET', '/pdf', { headers: { 'content-type': 'application/pdf' }, body: png });
    const c = client();
    assert.deepEqual((await c.call(plan({ path: '/img' }), {}, ctx())).content, [{ type: 'image', data: png.toString('base64'), mimeType: 'image/png' }]);
    assert.deepEqual((await c.call(plan({ path: '/snd' }), {}, ctx())).content, [{ type: 'audio', data: png.toString('base64'), mimeType: 'audio/wav' }]);
    assert.deepEqual((await c.call(plan({ path: '/pdf' }), {}, ctx())).content, [
      { type: 'resource', resource: { uri: 'upstream:/pdf', mimeType: 'application/pdf', blob: png.toString('base64') } },
    ]);
  });

  it('empty answers say so (and pass on Location)', async () => {
    up.on('POST', '/x', { status: 201, headers: { location: '/x/9' } });
    const r = await client().call(plan({ method: 'post' }), {}, ctx());
    assert.deepEqual(texts(r), ['The API answered 201 Created with no body. Location: /x/9']);
    assert.equal(r.isError, undefined);
  });

  it('a Link rel="next" header becomes a note with this operation’s arguments', async () => {
    up.on('GET', '/items', {
      headers: { link: '<https://api.example/items?page=3&per_page=2&q=a>; rel="next", <https://api.example/items?page=9>; rel="last"' },
      body: [1, 2],
    });
    const r = await client().call(LIST, { page: 2, per_page: 2, q: 'a' }, ctx());
    assert.deepEqual(texts(r), ['[1,2]', 'The API reports more results: call list_items again with page=3, per_page=2, q=a.']);
  });

  const ERRORS: Array<[string, number, Record<string, string>, string | object, string]> = [
    ['GitHub', 404, {}, { message: 'Not Found', documentation_url: 'https://docs.github.com' }, 'The API answered 404 Not Found: Not Found'],
    [
      'GitHub validation',
      422,
      {},
      { message: 'Validation Failed', errors: [{ resource: 'Issue', field: 'title', code: 'missing_field' }] },
      'The API answered 422 Unprocessable Entity: Validation Failed Details: {"resource":"Issue","field":"title","code":"missing_field"}',
    ],
    ['Kubernetes Status', 409, {}, { kind: 'Status', status: 'Failure', message: 'pods "a" already exists', reason: 'AlreadyExists' }, 'The API answered 409 Conflict: pods "a" already exists'],
    ['RFC 9457', 400, { 'content-type': 'application/problem+json' }, JSON.stringify({ title: 'Bad input', detail: 'limit must be <= 100' }), 'The API answered 400 Bad Request: Bad input: limit must be <= 100'],
    ['nested error', 402, {}, { error: { type: 'card_error', message: 'Your card was declined.' } }, 'The API answered 402 Payment Required: Your card was declined.'],
    ['OAuth', 401, {}, { error: 'invalid_token', error_description: 'expired' }, 'The API answered 401 Unauthorized: invalid_token: expired'],
    ['detail only', 403, {}, { detail: 'Not allowed.' }, 'The API answered 403 Forbidden: Not allowed.'],
    ['plain text', 500, { 'content-type': 'text/plain' }, 'database is down', 'The API answered 500 Internal Server Error: database is down'],
    ['HTML page', 502, { 'content-type': 'text/html' }, '<html><body>nginx</body></html>', 'The API answered 502 Bad Gateway.'],
    ['unknown shape', 418, {}, { oops: true }, 'The API answered 418 I\'m a Teapot: {"oops":true}'],
    ['rate limited', 429, { 'retry-after': '30' }, { message: 'slow down' }, 'The API answered 429 Too Many Requests: slow down Retry after 30 seconds.'],
  ];
  for (const [name, status, headers, body, expected] of ERRORS) {
    it(`upstream error, ${name}: isError with the status and the API's message`, async () => {
      up.on('GET', '/x', { status, headers, body });
      const r = await client().call(plan(), {}, ctx());
      assert.equal(r.isError, true);
      assert.deepEqual(texts(r), [expected]);
      assert.deepEqual(r.structuredContent, { status });
    });
  }

  it('redirects are not followed', async () => {
    up.on('GET', '/x', { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data' } });
    const r = await client().call(plan(), {}, ctx());
    assert.equal(r.isError, true);
    assert.deepEqual(texts(r), ['The API answered 302 Found (a redirect, not followed).']);
    assert.equal(up.requests.length, 1);
  });

  it('timeout: isError, and the upstream sees the request aborted', async () => {
    up.on('GET', '/x', { hang: true });
    const r = await client({ timeoutMs: 200 }).call(plan(), {}, ctx());
    assert.deepEqual(r, { isError: true, content: [{ type: 'text', text: 'The API did not answer within 200 ms.' }] });
    assert.equal(await up.last.aborted, true);
  });

  it('cancellation aborts the upstream request', async () => {
    up.on('GET', '/x', { hang: true });
    const ac = new AbortController();
    const pending = client().call(plan(), {}, ctx(ac.signal));
    const rec = await up.received(1);
    ac.abort(new Error('cancelled by the client'));
    await assert.rejects(pending, /cancelled by the client/);
    assert.equal(await rec.aborted, true);
  });

  it('reads at most the hard cap: text is cut, binary is refused, the download is abandoned', async () => {
    up.on('GET', '/text', { headers: { 'content-type': 'text/plain' }, endless: true });
    up.on('GET', '/bin', { headers: { 'content-type': 'application/octet-stream' }, endless: true });
    const c = client({ maxReadBytes: 200_000, maxResponseBytes: 10 });
    const t = await c.call(plan({ path: '/text' }), {}, ctx());
    assert.equal(texts(t)[0], 'aaaaaaaaaa');
    assert.match(texts(t)[1]!, /cut at 10 of more than 200000 bytes/);
    const b = await c.call(plan({ path: '/bin' }), {}, ctx());
    assert.equal(b.isError, true);
    assert.match(texts(b)[0]!, /more than 200000 bytes of application\/octet-stream/);
    assert.equal(await up.requests[0]!.aborted, true);
    assert.equal(await up.requests[1]!.aborted, true);
  });

  it('network errors: a clear message, no address or port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    await new Promise((resolve) => blocker.close(resolve));
    const seen: unknown[] = [];
    const c = createUpstream({ baseUrl: `http://127.0.0.1:${port}`, onError: (e) => seen.push(e) });
    clients.push(c);
    const r = await c.call(plan(), {}, ctx());
    assert.deepEqual(r, { isError: true, content: [{ type: 'text', text: 'The API refused the connection.' }] });
    assert.ok(!JSON.stringify(r).includes(String(port)) && !JSON.stringify(r).includes('127.0.0.1'));
    assert.equal(seen.length, 1, 'the operator hears about it');
  });

  it('credentials come from the hook for the principal; keep-alive reuses the connection', async () => {
    const principals: Principal[] = [];
    const c = client({
      credentials: (p) => {
        principals.push(p);
        return { Authorization: `Bearer upstream-key-${p.tenant}`, 'X-Tenant': p.tenant ?? '' };
      },
      userAgent: 'acme-mcp/1',
    });
    await c.call(plan(), {}, ctx());
    await new Promise((resolve) => setTimeout(resolve, 20)); // let the pool take the connection back
    await c.call(plan(), {}, ctx());
    assert.deepEqual(principals, [ALICE, ALICE]);
    const [a, b] = up.requests;
    assert.equal(a!.headers.authorization, 'Bearer upstream-key-t1');
    assert.equal(a!.headers['x-tenant'], 't1');
    assert.equal(a!.headers['user-agent'], 'acme-mcp/1');
    assert.equal(a!.remotePort, b!.remotePort, 'same connection');
  });

  it('forwardHeaders: only allow-listed header parameters are sent', async () => {
    const hp = (name: string): ParameterPlan => ({ argument: name, in: 'header', name, required: false, style: 'simple', explode: false });
    await client({ forwardHeaders: ['X-Request-Id'] }).call(plan({ parameters: [hp('x-request-id'), hp('x-debug')] }), { 'x-request-id': 'r1', 'x-debug': '1' }, ctx());
    assert.equal(up.last.headers['x-request-id'], 'r1');
    assert.equal(up.last.headers['x-debug'], undefined);
  });

  it('a header argument with CR/LF is a tool error and nothing is sent', async () => {
    const hp: ParameterPlan = { argument: 'trace', in: 'header', name: 'X-Trace', required: false, style: 'simple', explode: false };
    const r = await client().call(plan({ parameters: [hp] }), { trace: 'a\r\nX-Evil: 1' }, ctx());
    assert.equal(r.isError, true);
    assert.match(texts(r)[0]!, /must not contain CR, LF or NUL/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(up.requests.length, 0);
  });

  it('the base URL path prefixes every request, and values cannot climb out of it', async () => {
    const p = plan({ path: '/users/{id}', parameters: [{ argument: 'id', in: 'path', name: 'id', required: true, style: 'simple', explode: false }] });
    const c = client({ baseUrl: `${up.url}/api/v1/` });
    await c.call(p, { id: '../../admin' }, ctx());
    assert.equal(up.last.target, '/api/v1/users/..%2F..%2Fadmin');
    const r = await c.call(p, { id: '..' }, ctx());
    assert.equal(r.isError, true);
    assert.equal(up.requests.length, 1);
  });

  it('bad options fail at start-up', () => {
    for (const baseUrl of ['ftp://x', 'http://u:p@x', 'http://x/?key=1', 'not a url']) {
      assert.throws(() => createUpstream({ baseUrl }), GangwayConfigError, baseUrl);
    }
    assert.throws(() => createUpstream({ baseUrl: 'http://x', timeoutMs: 0 }), GangwayConfigError);
  });
});
