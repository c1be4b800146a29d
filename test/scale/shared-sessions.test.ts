import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createGangway, defineTool, type Gangway, type GangwayConfig } from '../../src/index.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { Session, SessionTable, type SessionShare } from '../../src/protocol/session.ts';
import { ERA_2025_11_25 } from '../../src/protocol/eras.ts';
import { post, session } from '../helpers/http.ts';

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
    const written = () => JSON.parse(sh.map.get(s.id)!).t as number;
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
    sh.map.set('garbage', '{not json');
    sh.map.set('modern', JSON.stringify({ o: 'owner', v: '2026-07-28', c: {}, t: Date.now() }));
    assert.equal(await table.get('garbage', 'owner'), undefined);
    assert.equal(await table.get('modern', 'owner'), undefined);
    assert.equal(table.size, 0);
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
