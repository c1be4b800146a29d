import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createGangway, defineTool, type Gangway, type GangwayConfig } from '../../src/index.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { Session, sessionDigest } from '../../src/protocol/session.ts';
import { type SessionShare, SessionTable } from '../../src/protocol/session-table.ts';
import { ERA_2025_11_25 } from '../../src/protocol/eras.ts';
import { post, postStreaming, session, sseMessages } from '../helpers/http.ts';
import { MemoryEphemeral } from '../../src/store/index.ts';
import { StoreError } from '../../src/store/errors.ts';

/**
 * Issue 6: 2025 sessions kept in the Ephemeral store, so whichever process gets the next request
 * serves it. Here two apps in one test process share a SQLite-file Ephemeral (two connections to
 * one file, as two processes on one host would); test/scale/multi-process.test.ts runs three
 * processes on Redis.
 */
const dir = mkdtempSync(join(tmpdir(), 'gw-sessions-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A caller is whoever `x-user` names: enough to tell two principals apart. */
const byHeader: GangwayConfig['authenticate'] = (input) =>
  ({ subject: input.header('x-user') ?? 'alice', tenant: 't', scopes: [], client: null, via: 'custom' }) satisfies Principal;

function pair(http: GangwayConfig['http'] = {}, file = join(dir, `eph-${++n}.db`)): [Gangway, Gangway, string] {
  const make = () =>
    createGangway({
      name: 'test',
      version: '1.0.0',
      store: 'memory',
      ephemeral: `sqlite:${file}`,
      logger: { level: 'silent' },
      authenticate: byHeader,
      http: { sessions: { revalidateMs: 0 }, ...http },
      tools: [
        defineTool({
          name: 'chatty',
          handler: (_args, ctx) => {
            ctx.log('debug', 'a debug line');
            return 'done';
          },
        }),
      ],
    });
  return [make(), make(), file];
}

describe('2025 sessions shared through the Ephemeral store', () => {
  it('a session made on one process is served by another; DELETE on one ends it on both', async () => {
    const [a, b] = pair();
    const s = await session(a);
    const onB = await post(b, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'chatty' } }, s.headers);
    assert.equal(onB.status, 200, onB.text);
    assert.match(onB.text, /"done"/);
    assert.equal(onB.json?.error, undefined);

    const del = await b.fetch(new Request('http://localhost/mcp', { method: 'DELETE', headers: s.headers }));
    assert.equal(del.status, 204);
    for (const app of [a, b]) {
      const gone = await post(app, { jsonrpc: '2.0', id: 2, method: 'ping' }, s.headers);
      assert.equal(gone.status, 404);
      assert.equal(gone.json.error.message, 'Session not found');
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('logging/setLevel on one process reaches the copy another process already holds', async () => {
    const [a, b] = pair();
    const s = await session(a);
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'chatty' } };
    const quiet = await post(b, call, s.headers); // b now holds a copy with no log level
    assert.equal(quiet.status, 200);
    assert.doesNotMatch(quiet.text, /notifications\/message/);
    const set = await post(a, { jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'debug' } }, s.headers);
    assert.deepEqual(set.json.result, {});
    const loud = await post(b, call, s.headers);
    assert.match(loud.text, /notifications\/message/);
    assert.match(loud.text, /a debug line/);
    await Promise.all([a.close(), b.close()]);
  });

  it('within revalidateMs a process uses its own copy; after it, the shared one', async () => {
    const [a, b] = pair({ sessions: { revalidateMs: 60_000 } });
    const s = await session(a);
    assert.equal((await post(b, { jsonrpc: '2.0', id: 1, method: 'ping' }, s.headers)).status, 200);
    const del = await a.fetch(new Request('http://localhost/mcp', { method: 'DELETE', headers: s.headers }));
    assert.equal(del.status, 204);
    // b's copy is fresh for a minute: the documented bound on how late a DELETE elsewhere lands
    assert.equal((await post(b, { jsonrpc: '2.0', id: 2, method: 'ping' }, s.headers)).status, 200);
    assert.equal((await post(a, { jsonrpc: '2.0', id: 3, method: 'ping' }, s.headers)).status, 404);
    await Promise.all([a.close(), b.close()]);
  });

  it('another principal gets 404 on every process, and the session still works for its owner', async () => {
    const [a, b] = pair();
    const s = await session(a);
    for (const app of [a, b]) {
      const stolen = await post(app, { jsonrpc: '2.0', id: 1, method: 'ping' }, { ...s.headers, 'x-user': 'mallory' });
      assert.equal(stolen.status, 404);
    }
    assert.equal((await post(b, { jsonrpc: '2.0', id: 2, method: 'ping' }, s.headers)).status, 200);
    await Promise.all([a.close(), b.close()]);
  });

  it('a session outlives a restart of the process that made it', async () => {
    const [a, , file] = pair();
    const s = await session(a);
    await a.close();
    const [again] = pair({}, file);
    const r = await post(again, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'chatty' } }, s.headers);
    assert.equal(r.status, 200);
    assert.match(r.text, /"done"/);
    await again.close();
  });

  it('the shared store keeps a hash of the session id, never the id', async () => {
    const [a, b, file] = pair();
    const s = await session(a);
    await Promise.all([a.close(), b.close()]);
    const base = file.split('/').pop()!;
    const bytes = readdirSync(dir)
      .filter((f) => f.startsWith(base))
      .map((f) => readFileSync(join(dir, f)).toString('latin1'))
      .join('');
    assert.ok(bytes.includes('"v":"2025-11-25"'), 'the descriptor is in the file');
    assert.ok(!bytes.includes(s.id), 'the raw session id is not');
  });
});

describe('messages between processes sharing sessions', { timeout: 10_000 }, () => {
  /** Two apps on one memory Ephemeral object: its channels stand in for Redis pub/sub here. */
  function linked(revalidateMs = 60_000) {
    const ephemeral = new MemoryEphemeral();
    const events: string[] = [];
    const make = () =>
      createGangway({
        name: 'test',
        version: '1.0.0',
        store: 'memory',
        ephemeral,
        logger: { level: 'silent' },
        authenticate: byHeader,
        http: { sessions: { shared: true, revalidateMs } },
        resources: [{ uri: 'test://r', name: 'r', read: () => 'r' }],
        tools: [
          defineTool({
            name: 'ask',
            handler: async (_a, ctx) => {
              const r = await ctx.elicit({ message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } });
              return `hello ${String(r.content?.name)}`;
            },
          }),
          defineTool({
            name: 'wait',
            handler: (_a, ctx) =>
              new Promise<string>((resolve) => {
                events.push('started');
                ctx.signal.addEventListener('abort', () => {
                  events.push('aborted');
                  resolve('stopped');
                });
              }),
          }),
        ],
      });
    return { a: make(), b: make(), ephemeral, events };
  }

  async function init(app: Gangway) {
    const r = await post(app, {
      jsonrpc: '2.0', id: 0, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: { elicitation: {} }, clientInfo: { name: 't', version: '1' } },
    });
    return { 'mcp-session-id': r.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
  }

  it("a client's answer to an elicitation reaches the process that asked, through another", async () => {
    const { a, b } = linked();
    const h = await init(a);
    const next = sseMessages(await postStreaming(a, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask' } }, h));
    const asked = await next();
    assert.equal(asked.method, 'elicitation/create');
    const answered = await post(b, { jsonrpc: '2.0', id: asked.id, result: { action: 'accept', content: { name: 'Ada' } } }, h);
    assert.equal(answered.status, 202);
    const result = (await next()) as { result: { content: Array<{ text: string }> } };
    assert.equal(result.result.content[0]!.text, 'hello Ada');
    await Promise.all([a.close(), b.close()]);
  });

  it('an answer that cannot be passed on is refused with 503, not acknowledged', async () => {
    const { a, b, ephemeral } = linked();
    const h = await init(a);
    const next = sseMessages(await postStreaming(a, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'ask' } }, h));
    const asked = await next();
    await post(b, { jsonrpc: '2.0', id: 9, method: 'ping' }, h); // b holds a copy
    ephemeral.publish = () => Promise.reject(new StoreError('GW_STORE_UNAVAILABLE', 'down'));
    const answered = await post(b, { jsonrpc: '2.0', id: asked.id, result: { action: 'accept', content: { name: 'Ada' } } }, h);
    assert.equal(answered.status, 503);
    assert.equal(answered.headers.get('retry-after'), '5');
    await Promise.all([a.close(), b.close()]);
  });

  it('notifications/cancelled sent to another process stops the call where it runs', async () => {
    const { a, b, events } = linked();
    const h = await init(a);
    const running = post(a, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'wait' } }, h);
    while (!events.includes('started')) await new Promise((r) => setTimeout(r, 5));
    const sent = await post(b, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7 } }, h);
    assert.equal(sent.status, 202);
    await running;
    assert.deepEqual(events, ['started', 'aborted']);
    await Promise.all([a.close(), b.close()]);
  });

  it('a DELETE on one process ends the copy another holds at once, its GET stream included', async () => {
    const { a, b } = linked(60_000);
    const h = await init(a);
    const stream = await b.fetch(new Request('http://localhost/mcp', { headers: { ...h, accept: 'text/event-stream' } }));
    assert.equal(stream.status, 200);
    const del = await a.fetch(new Request('http://localhost/mcp', { method: 'DELETE', headers: h }));
    assert.equal(del.status, 204);
    await stream.body!.pipeTo(new WritableStream()); // ends: b dropped its copy
    assert.equal((await post(b, { jsonrpc: '2.0', id: 2, method: 'ping' }, h)).status, 404);
    await Promise.all([a.close(), b.close()]);
  });

  it('a resource update raised on one process reaches a subscriber whose stream is on another', async () => {
    const { a, b } = linked(60_000);
    const h = await init(a);
    const stream = await b.fetch(new Request('http://localhost/mcp', { headers: { ...h, accept: 'text/event-stream' } }));
    const next = sseMessages(stream);
    // subscribed on a after b opened its stream: b learns it from the change message
    assert.deepEqual((await post(a, { jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: 'test://r' } }, h)).json.result, {});
    await new Promise((r) => setTimeout(r, 20));
    a.notifyResourceUpdated('test://r');
    const m = await next();
    assert.equal(m.method, 'notifications/resources/updated');
    assert.deepEqual(m.params, { uri: 'test://r' });
    await Promise.all([a.close(), b.close()]);
  });
});

describe('SessionTable with a share', () => {
  function share() {
    const map = new Map<string, string>();
    let loads = 0;
    const s: SessionShare & { loads(): number; map: Map<string, string> } = {
      map,
      loads: () => loads,
      save: async (id, v) => void map.set(id, v),
      load: async (id) => {
        loads++;
        await new Promise((r) => setImmediate(r));
        return map.get(id);
      },
      drop: async (id) => void map.delete(id),
    };
    return s;
  }

  it('concurrent requests for an unknown id read it once and share one copy', async () => {
    const sh = share();
    const one = new SessionTable({}, Date.now, sh);
    const s = new Session('owner', ERA_2025_11_25, { elicitation: {} }, { name: 'c' }, Date.now());
    await one.add(s);
    const other = new SessionTable({}, Date.now, sh);
    const [x, y] = await Promise.all([other.get(s.id, 'owner'), other.get(s.id, 'owner')]);
    assert.ok(x && x === y);
    assert.equal(sh.loads(), 1);
    assert.deepEqual(x.clientCapabilities, { elicitation: {} });
    assert.equal(other.size, 1);
    one.close();
    other.close();
  });

  it('renews the shared copy only once it is older than half the idle time', async () => {
    const sh = share();
    let now = 1_000_000;
    const table = new SessionTable({ idleMs: 10_000, revalidateMs: 0 }, () => now, sh);
    const s = new Session('owner', ERA_2025_11_25, {}, undefined, now);
    await table.add(s);
    const written = () => JSON.parse(sh.map.get(s.digest)!).t as number;
    now += 4_000;
    await table.get(s.id, 'owner');
    assert.equal(written(), 1_000_000);
    now += 2_000;
    await table.get(s.id, 'owner');
    assert.equal(written(), 1_006_000);
    table.close();
  });

  it('treats an unreadable descriptor or a 2026 version as no session', async () => {
    const sh = share();
    const table = new SessionTable({}, Date.now, sh);
    sh.map.set(sessionDigest('garbage'), '{not json');
    sh.map.set(sessionDigest('modern'), JSON.stringify({ o: 'owner', v: '2026-07-28', c: {}, t: Date.now() }));
    assert.equal(await table.get('garbage', 'owner'), undefined);
    assert.equal(await table.get('modern', 'owner'), undefined);
    assert.equal(table.size, 0);
    table.close();
  });

  it('ignores messages that are not its own (garbage, null, unknown sessions) without throwing', async () => {
    let deliver!: (m: string) => void;
    const table = new SessionTable({}, Date.now, {
      save: async () => undefined,
      load: async () => undefined,
      drop: async () => undefined,
      send: async () => undefined,
      listen: async (_tag, onMessage) => void (deliver = onMessage),
    });
    const s = new Session('owner', ERA_2025_11_25, {}, undefined, Date.now());
    await table.add(s);
    for (const m of ['{', 'null', '42', '{"k":"answer","s":"nobody","id":"gw-000000000000-1"}', '{"k":"cancel"}']) deliver(m);
    assert.equal(table.size, 1);
    table.close();
  });

  it('a failed save leaves no local session behind', async () => {
    const table = new SessionTable({}, Date.now, {
      save: () => Promise.reject(new Error('down')),
      load: async () => undefined,
      drop: async () => undefined,
    });
    const s = new Session('owner', ERA_2025_11_25, {}, undefined, Date.now());
    await assert.rejects(table.add(s)!, /down/);
    assert.equal(table.size, 0);
    table.close();
  });
});
