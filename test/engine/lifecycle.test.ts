import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineTool } from '../../src/index.ts';
import { Session } from '../../src/protocol/session.ts';
import { SessionTable } from '../../src/protocol/session-table.ts';
import { ERA_2025_11_25 } from '../../src/protocol/eras.ts';
import { post, session, testApp } from '../helpers/http.ts';

describe('graceful shutdown', () => {
  it('lets an in-flight call finish, then refuses new work', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const app = testApp({
      http: { stateless: true },
      tools: [
        defineTool({
          name: 'slow',
          handler: async () => {
            started();
            await gate;
            return 'finished';
          },
        }),
      ],
    });
    const { url } = await app.listen({ port: 0 });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow' } });
    const headers = { 'content-type': 'application/json', 'mcp-protocol-version': '2025-06-18' };
    const inflight = fetch(url, { method: 'POST', headers, body }).then((r) => r.json());
    await running;
    const closed = app.close();
    await new Promise((r) => setTimeout(r, 20));
    release();
    const result = (await inflight) as { result: { content: Array<{ text: string }> } };
    assert.equal(result.result.content[0]!.text, 'finished');
    await closed;
    await assert.rejects(fetch(url, { method: 'POST', headers, body }));
  });
});

describe('sessions', () => {
  it('are bound to the principal that created them: another caller gets 404', async () => {
    const app = testApp({
      authenticate: (input) => ({ subject: input.header('x-user') ?? 'a', tenant: null, scopes: [], client: null, via: 'custom' }),
    });
    const s = await session(app, '2025-06-18', { 'x-user': 'alice' });
    assert.equal((await s.call('ping')).status, 200);
    const stolen = await post(app, { jsonrpc: '2.0', id: 1, method: 'ping' }, { ...s.headers, 'x-user': 'mallory' });
    assert.equal(stolen.status, 404);
    assert.equal(stolen.json.error.message, 'Session not found');
    await app.close();
  });

  it('are capped (least recently used ends first) and reaped when idle', () => {
    let now = 0;
    const table = new SessionTable({ max: 2, idleMs: 1000 }, () => now);
    const mk = () => new Session('owner', ERA_2025_11_25, {}, undefined, now);
    const a = mk();
    const b = mk();
    const c = mk();
    table.add(a);
    table.add(b);
    now = 10;
    assert.ok(table.get(a.id, 'owner')); // a is now the most recent
    table.add(c); // evicts b
    assert.equal(table.get(b.id, 'owner'), undefined);
    assert.ok(table.get(a.id, 'owner'));
    assert.equal(table.get(a.id, 'someone else'), undefined);
    now = 2000;
    table.reap();
    assert.equal(table.size, 0);
    table.close();
  });
});

describe('deadlines', () => {
  it('answers a resource read that never settles with a timeout error, and a hung tool with isError', async () => {
    const app = testApp({
      http: { requestTimeoutMs: 100 },
      resources: [{ uri: 'test://hang', name: 'hang', read: () => new Promise<string>(() => {}) }],
      tools: [defineTool({ name: 'hang', handler: () => new Promise(() => {}) })],
    });
    const s = await session(app);
    const read = await s.call('resources/read', { uri: 'test://hang' });
    assert.equal(read.json.error.code, -32001);
    assert.match(read.json.error.message, /timed out after 100 ms/);
    const call = await s.call('tools/call', { name: 'hang' });
    assert.equal(call.json.result.isError, true);
    assert.match(call.json.result.content[0].text, /timed out after 100 ms/);
    await app.close();
  });
});

describe('slow uploads', () => {
  it('answers 408 to a client that trickles its body, and the tool never runs', async () => {
    let ran = 0;
    const app = testApp({
      http: { stateless: true, receiveTimeoutMs: 300 },
      tools: [defineTool({ name: 'echo', handler: () => String(++ran) })],
    });
    const { port } = await app.listen({ port: 0 });
    const { connect } = await import('node:net');
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } });
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
        );
      });
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('close', () => resolve(data));
    });
    assert.match(reply, /^HTTP\/1\.1 408/);
    assert.equal(ran, 0);
    await app.close();
  });
});

describe('what a session keeps is bounded', () => {
  it('refuses oversized capabilities at initialize and long subscription URIs, creating no session', async () => {
    const app = testApp({ resources: [{ uri: 'test://a', name: 'a', read: () => 'a' }], http: { sessions: { max: 100 } } });
    const big = await post(app, {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: { experimental: { x: { blob: 'x'.repeat(20_000) } } } },
    });
    assert.equal(big.json.error.code, -32602);
    assert.equal(big.headers.get('mcp-session-id'), null);
    const s = await session(app);
    const long = await s.call('resources/subscribe', { uri: `test://${'a'.repeat(3000)}` });
    assert.equal(long.json.error.code, -32602);
    await app.close();
  });
});

describe('resource notifications on 2025 sessions', () => {
  it('holds an update raised before the GET stream opens and delivers it when it does', async () => {
    const app = testApp({ resources: [{ uri: 'test://a', name: 'a', read: () => 'a' }] });
    const s = await session(app);
    await s.call('resources/subscribe', { uri: 'test://a' });
    assert.equal(app.notifyResourceUpdated('test://a'), 0); // nobody listening yet: held
    const res = await app.fetch(new Request('http://localhost/mcp', { headers: { ...s.headers, accept: 'text/event-stream' } }));
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    assert.match(new TextDecoder().decode(value), /"method":"notifications\/resources\/updated","params":\{"uri":"test:\/\/a"\}/);
    await reader.cancel();
    await app.close();
  });
});
