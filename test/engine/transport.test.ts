import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { defineTool } from '../../src/index.ts';
import { META, MODERN, modern, post, session, testApp } from '../helpers/http.ts';

const calls: string[] = [];
const app = testApp({
  tools: [
    defineTool({
      name: 'echo',
      input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      handler: ({ text }: { text: string }) => {
        calls.push(text);
        return text;
      },
    }),
    defineTool({ name: 'other', handler: () => 'x' }),
  ],
  resources: [{ uri: 'test://café', name: 'cafe', read: () => 'crème' }],
  http: { maxBodyBytes: 4096 },
});
after(() => app.close());

const call = (text: string) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text } } });

describe('transport guards (SECURITY 1-3)', () => {
  it('refuses a foreign Host with 403 and runs nothing', async () => {
    const before = calls.length;
    const r = await post(app, call('x'), { host: 'evil.example:80' });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, -32600);
    assert.equal(calls.length, before);
  });

  it('refuses a request with no Host at all (node:http face): HTTP/1.0 gets 403 from us, HTTP/1.1 400 from Node', async () => {
    const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(request));
        let out = '';
        socket.setEncoding('utf8').on('data', (d: string) => (out += d)).on('end', () => resolve(out)).on('error', reject);
      });
    const body = JSON.stringify(call('no host'));
    const before = calls.length;
    for (const version of ['1.0', '1.1']) {
      const answer = await raw(`POST /mcp HTTP/${version}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      assert.match(answer, version === '1.0' ? /^HTTP\/1\.1 403 [^]*Host not allowed/ : /^HTTP\/1\.1 400 /, answer);
    }
    assert.equal(calls.length, before, 'the tool did not run');
  });

  it('refuses a foreign Origin with 403; no Origin and loopback origins pass', async () => {
    const s = await session(app);
    const bad = await s.call('tools/call', { name: 'echo', arguments: { text: 'o' } }, { origin: 'https://evil.example' });
    assert.equal(bad.status, 403);
    assert.equal((await s.call('ping', {}, { origin: 'null' })).status, 403);
    assert.equal((await s.call('ping', {}, { origin: 'http://localhost:6274' })).status, 200);
    assert.equal((await s.call('ping')).status, 200);
  });

  it('answers 415 to a non-JSON body and does not run the tool', async () => {
    const before = calls.length;
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1']) {
      const s = await session(app);
      const r = await s.call('tools/call', { name: 'echo', arguments: { text: 'csrf' } }, { 'content-type': type });
      assert.equal(r.status, 415, type);
    }
    assert.equal(calls.length, before);
  });

  it('answers 413 over the body limit', async () => {
    const r = await post(app, call('x'.repeat(5000)));
    assert.equal(r.status, 413);
    assert.match(r.json.error.message, /4096/);
  });

  it('answers a parse error with 400 -32700', async () => {
    const r = await post(app, '{"jsonrpc":"2.0",', {}, true);
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32700);
    assert.equal(r.json.id, null);
  });

  it('rejects ambiguous envelopes: duplicate and escaped-duplicate keys, case variants, extra members', async () => {
    const s = await session(app);
    const before = calls.length;
    const bodies = [
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping","params":{"name":"echo","arguments":{"text":"d"}}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","met\\u0068od":"ping","params":{"name":"echo","arguments":{"text":"d"}}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"other","arguments":{"text":"d"}}}',
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"ping","params":{"name":"echo","arguments":{"text":"d"}}}',
      '{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"d"}}}',
    ];
    for (const body of bodies) {
      const r = await post(app, body, s.headers, true);
      assert.equal(r.status, 400, body);
      assert.ok([-32700, -32600].includes(r.json.error.code), body);
    }
    assert.equal(calls.length, before);
  });

  it('rejects malformed messages with -32600 and the id it could read', async () => {
    const s = await session(app);
    for (const [msg, id] of [
      [{ jsonrpc: '1.0', id: 7, method: 'ping' }, 7],
      [{ jsonrpc: '2.0', id: null, method: 'ping' }, null],
      [{ jsonrpc: '2.0', id: 1.5, method: 'ping' }, null],
      [{ jsonrpc: '2.0', id: 8, method: 'ping', params: [1] }, 8],
      [{ jsonrpc: '2.0', id: 9, method: '' }, 9],
      [42, null],
    ] as const) {
      const r = await post(app, msg, s.headers);
      assert.equal(r.status, 400, JSON.stringify(msg));
      assert.equal(r.json.error.code, -32600);
      assert.equal(r.json.id, id);
    }
  });
});

describe('2025 sessions', () => {
  it('issues a 256-bit session id and requires it afterwards', async () => {
    const s = await session(app);
    assert.ok(Buffer.from(s.id, 'base64url').length >= 16);
    const missing = await post(app, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-protocol-version': '2025-11-25' });
    assert.equal(missing.status, 400);
    const unknown = await post(app, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': 'nope' });
    assert.equal(unknown.status, 404);
  });

  it('ends a session on DELETE; the old id then gets 404', async () => {
    const s = await session(app);
    const del = await app.fetch(new Request('http://localhost/mcp', { method: 'DELETE', headers: s.headers }));
    assert.equal(del.status, 204);
    assert.equal((await s.call('ping')).status, 404);
  });

  it('answers notifications with 202 and no body', async () => {
    const s = await session(app);
    const r = await post(app, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }, s.headers);
    assert.equal(r.status, 202);
    assert.equal(r.text, '');
  });

  it('accepts batches only in 2025-03-26', async () => {
    const old = await session(app, '2025-03-26');
    const batch = [
      { jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'echo', arguments: { text: 'b1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 'b', method: 'ping' },
    ];
    const r = await post(app, batch, old.headers);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.json.map((m: { id: string }) => m.id),
      ['a', 'b'],
    );
    const newer = await session(app, '2025-06-18');
    const before = calls.length;
    const refused = await post(app, batch, newer.headers);
    assert.equal(refused.status, 400);
    assert.equal(calls.length, before);
  });

  it('negotiates: an unknown requested version gets our newest session version', async () => {
    const r = await post(app, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {} } });
    assert.equal(r.json.result.protocolVersion, '2025-11-25');
  });

  it('answers an unknown method with -32601 in-band', async () => {
    const s = await session(app);
    const r = await s.call('nope/nothing');
    assert.equal(r.status, 200);
    assert.equal(r.json.error.code, -32601);
  });

  it('GET without Accept: text/event-stream is 406; GET needs a session', async () => {
    const s = await session(app);
    const r = await app.fetch(new Request('http://localhost/mcp', { headers: { ...s.headers, accept: 'application/json' } }));
    assert.equal(r.status, 406);
    const none = await app.fetch(new Request('http://localhost/mcp', { headers: { accept: 'text/event-stream' } }));
    assert.equal(none.status, 400);
  });
});

describe('2026-07-28 requests', () => {
  it('serves server/discover with every supported version', async () => {
    const r = await modern(app, 1, 'server/discover');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.result.supportedVersions, [MODERN, '2025-11-25', '2025-06-18', '2025-03-26']);
    assert.equal(r.json.result.resultType, 'complete');
    assert.equal(typeof r.json.result.ttlMs, 'number');
  });

  it('refuses Mcp-Method / Mcp-Name that disagree with the body (-32020, 400) and runs nothing', async () => {
    const before = calls.length;
    const cases: Array<Record<string, string>> = [
      { 'mcp-method': 'tools/list' },
      { 'mcp-name': 'other' },
      { 'mcp-name': '=?base64?b3RoZXI=?=' },
    ];
    for (const h of cases) {
      const r = await modern(app, 5, 'tools/call', { name: 'echo', arguments: { text: 'm' } }, h);
      assert.equal(r.status, 400, JSON.stringify(h));
      assert.equal(r.json.error.code, -32020);
      assert.equal(r.json.id, 5);
    }
    const missing = await post(
      app,
      { jsonrpc: '2.0', id: 6, method: 'tools/list', params: { _meta: META } },
      { 'mcp-protocol-version': MODERN },
    );
    assert.equal(missing.json.error.code, -32020);
    assert.equal(calls.length, before);
  });

  it('decodes base64 sentinel names', async () => {
    const uri = 'test://café';
    const r = await modern(app, 1, 'resources/read', { uri }, { 'mcp-name': `=?base64?${Buffer.from(uri).toString('base64')}?=` });
    assert.equal(r.status, 200);
    assert.equal(r.json.result.contents[0].text, 'crème');
    const raw = await modern(app, 2, 'resources/read', { uri }, { 'mcp-name': 'test://cafe' });
    assert.equal(raw.json.error.code, -32020);
  });

  it('refuses a _meta version that disagrees with the header, and a missing _meta', async () => {
    const mismatch = await post(
      app,
      { jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' } } },
      { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
    );
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.json.error.code, -32020);
    const noMeta = await post(app, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' });
    assert.equal(noMeta.status, 400);
    assert.equal(noMeta.json.error.code, -32602);
  });

  it('answers an unsupported version with 400 -32022 listing what it supports', async () => {
    const r = await post(app, { jsonrpc: '2.0', id: 4, method: 'tools/list' }, { 'mcp-protocol-version': '2099-01-01' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32022);
    assert.equal(r.json.id, 4);
    assert.equal(r.json.error.data.requested, '2099-01-01');
    assert.ok(r.json.error.data.supported.includes(MODERN));
  });

  it('answers unknown and legacy-only methods with 404 -32601', async () => {
    for (const method of ['nope', 'ping', 'logging/setLevel', 'initialize']) {
      const r = await modern(app, 9, method);
      assert.equal(r.status, 404, method);
      assert.equal(r.json.error.code, -32601);
      assert.equal(r.json.id, 9);
    }
  });

  it('refuses batches, answers GET and DELETE with 405, ignores Mcp-Session-Id', async () => {
    const r = await post(app, [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: META } }], {
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/list',
    });
    assert.equal(r.status, 400);
    for (const method of ['GET', 'DELETE']) {
      const res = await app.fetch(new Request('http://localhost/mcp', { method, headers: { 'mcp-protocol-version': MODERN } }));
      assert.equal(res.status, 405, method);
    }
    const withSession = await modern(app, 1, 'tools/list', {}, { 'mcp-session-id': 'whatever' });
    assert.equal(withSession.status, 200);
    assert.equal(withSession.headers.get('mcp-session-id'), null);
  });

  it('puts resultType, ttlMs and cacheScope on list results', async () => {
    const r = await modern(app, 1, 'tools/list');
    assert.deepEqual(
      r.json.result.tools.map((t: { name: string }) => t.name),
      ['echo', 'other'],
    );
    assert.equal(r.json.result.resultType, 'complete');
    assert.equal(r.json.result.cacheScope, 'public');
  });
});

describe('other routes', () => {
  it('serves /healthz and /readyz without a Host check, 404 elsewhere', async () => {
    const h = await app.fetch(new Request('http://anything.example/healthz'));
    assert.equal(h.status, 200);
    const r = await app.fetch(new Request('http://anything.example/readyz'));
    assert.equal(r.status, 200);
    assert.equal((await r.json()).status, 'ready');
    assert.equal((await app.fetch(new Request('http://localhost/other'))).status, 404);
  });
});

describe('Mcp-Name encoding edge cases', () => {
  it('refuses a base64 sentinel that is not valid UTF-8 (it matches no body value)', async () => {
    const r = await modern(app, 1, 'resources/read', { uri: '\ufffd' }, { 'mcp-name': '=?base64?/w==?=' });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, -32020);
  });
});

describe('CORS for allowed browser origins', () => {
  it('answers the preflight of an allowed origin and exposes the session header', async () => {
    const pre = await app.fetch(
      new Request('http://localhost/mcp', {
        method: 'OPTIONS',
        headers: {
          origin: 'http://localhost:6274',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, mcp-protocol-version, authorization',
        },
      }),
    );
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:6274');
    assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type, mcp-protocol-version, authorization');
    const init = await post(
      app,
      { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {} } },
      { origin: 'http://localhost:6274' },
    );
    assert.equal(init.headers.get('access-control-allow-origin'), 'http://localhost:6274');
    assert.match(init.headers.get('access-control-expose-headers') ?? '', /mcp-session-id/);
  });

  it('gives a foreign origin 403 and no CORS headers, preflight included', async () => {
    const pre = await app.fetch(
      new Request('http://localhost/mcp', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } }),
    );
    assert.equal(pre.status, 403);
    assert.equal(pre.headers.get('access-control-allow-origin'), null);
  });
});

describe('list cursors', () => {
  it('pages with the cursors it issued and refuses forged offsets', async () => {
    const paged = testApp({
      tools: Array.from({ length: 5 }, (_, i) => defineTool({ name: `t${i}`, handler: () => 'x' })),
      lists: { pageSize: 2 },
    });
    const s = await session(paged);
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const r = await s.call('tools/list', cursor ? { cursor } : {});
      names.push(...r.json.result.tools.map((t: { name: string }) => t.name));
      cursor = r.json.result.nextCursor;
    } while (cursor);
    assert.deepEqual(names, ['t0', 't1', 't2', 't3', 't4']);
    const first = await s.call('tools/list');
    const [kind, , hash] = Buffer.from(first.json.result.nextCursor, 'base64url').toString().split(':');
    for (const offset of [3, 6, 999999]) {
      const forged = Buffer.from(`${kind}:${offset}:${hash}`).toString('base64url');
      const r = await s.call('tools/list', { cursor: forged });
      assert.equal(r.json.error.code, -32602, String(offset));
    }
    await paged.close();
  });
});
