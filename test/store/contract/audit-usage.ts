import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEntry, Store } from '../../../src/store/index.ts';
import { fresh, type Open, rejectsWith } from './harness.ts';

const call = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  event: 'tool.call',
  outcome: 'ok',
  subject: 'alice',
  tenant: 'acme',
  client: 'client-1',
  via: 'api_key',
  tool: 'list_chatbots',
  ...over,
});

export function auditAndUsageContract(name: string, open: Open<Store>): void {
  describe(`${name} Store: audit`, () => {
    it('append resolves with seq and time; the record reads back whole', async (t) => {
      const { adapter: s, clock } = await fresh(t, open);
      const entry = call({
        tool: 'delete_app',
        argsDigest: 'sha256:abc',
        args: { appId: 'app_1', apiKey: '[secret]', nested: { n: 1, list: [true, null] } },
        resourceId: 'app_1',
        reason: 'cleanup after test',
        latencyMs: 12.5,
        requestId: 'req-1',
        detail: { confirm: 'run' },
      });
      const rec = await s.audit.append(entry);
      assert.equal(rec.at, clock.t);
      assert.equal(typeof rec.seq, 'number');
      const [read] = await s.audit.query();
      assert.deepEqual(read, rec);
      assert.deepEqual(read, {
        seq: rec.seq,
        at: clock.t,
        event: 'tool.call',
        outcome: 'ok',
        subject: 'alice',
        tenant: 'acme',
        client: 'client-1',
        via: 'api_key',
        tool: 'delete_app',
        argsDigest: 'sha256:abc',
        args: { appId: 'app_1', apiKey: '[secret]', nested: { n: 1, list: [true, null] } },
        resourceId: 'app_1',
        reason: 'cleanup after test',
        latencyMs: 12.5,
        requestId: 'req-1',
        detail: { confirm: 'run' },
      });
      const bare = await s.audit.append({ event: 'auth.failed', outcome: 'denied', at: 5 });
      assert.deepEqual(
        [bare.at, bare.subject, bare.args, bare.detail, bare.latencyMs],
        [5, null, null, null, null],
      );
    });

    it('100 concurrent appends are all readable afterwards, in call order', async (t) => {
      const { adapter: s } = await fresh(t, open);
      const records = await Promise.all(
        Array.from({ length: 100 }, (_, i) => s.audit.append(call({ requestId: `r${i}` }))),
      );
      const read = await s.audit.query({ limit: 1000 });
      assert.deepEqual(
        read.map((r) => r.requestId),
        Array.from({ length: 100 }, (_, i) => `r${i}`),
      );
      assert.deepEqual(
        read.map((r) => r.seq),
        records.map((r) => r.seq),
      );
      assert.ok(read.every((r, i) => i === 0 || r.seq > read[i - 1]!.seq));
    });

    it('appendMany stores a batch in order; one invalid entry stores none of it', async (t) => {
      const { adapter: s } = await fresh(t, open);
      const many = await s.audit.appendMany([call({ requestId: 'a' }), call({ requestId: 'b' })]);
      assert.deepEqual(
        many.map((r) => r.seq),
        [many[0]!.seq, many[0]!.seq + 1],
      );
      await rejectsWith(
        s.audit.appendMany([call({ requestId: 'c' }), { event: '', outcome: 'ok' }]),
        'GW_STORE_INVALID',
      );
      await rejectsWith(s.audit.append({ event: 'x', outcome: '' }), 'GW_STORE_INVALID');
      assert.deepEqual(
        (await s.audit.query()).map((r) => r.requestId),
        ['a', 'b'],
      );
    });

    it('a large appendMany and appends queued with it keep their order and consecutive seqs', async (t) => {
      const { adapter: s } = await fresh(t, open);
      const many = Array.from({ length: 150 }, (_, i) => call({ requestId: `m${i}` }));
      const [before, batch, after] = await Promise.all([
        s.audit.append(call({ requestId: 'before' })),
        s.audit.appendMany(many),
        s.audit.append(call({ requestId: 'after' })),
      ]);
      assert.deepEqual(batch.map((r) => r.seq - batch[0]!.seq), Array.from({ length: 150 }, (_, i) => i));
      assert.ok(before.seq < batch[0]!.seq && batch.at(-1)!.seq < after.seq);
      const read = await s.audit.query({ limit: 1000 });
      assert.deepEqual(read.map((r) => r.requestId), ['before', ...many.map((e) => e.requestId), 'after']);
      assert.deepEqual(read.map((r) => r.seq), [before.seq, ...batch.map((r) => r.seq), after.seq]);
    });

    it('an entry with a field of the wrong type is refused alone; the entries queued with it are stored', async (t) => {
      const { adapter: s } = await fresh(t, open);
      const bad: AuditEntry[] = [
        call({ at: 1.5 }),
        call({ latencyMs: Number.NaN }),
        call({ tenant: 42 as unknown as string }),
        call({ reason: true as unknown as string }),
      ];
      const settled = await Promise.allSettled([
        s.audit.append(call({ requestId: 'before' })),
        ...bad.map((e) => s.audit.append(e)),
        s.audit.append(call({ requestId: 'after' })),
      ]);
      assert.deepEqual(settled.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'rejected', 'rejected', 'fulfilled']);
      for (const r of settled.slice(1, 5)) assert.equal(((r as PromiseRejectedResult).reason as { code?: string }).code, 'GW_STORE_INVALID');
      assert.deepEqual((await s.audit.query()).map((r) => r.requestId), ['before', 'after']);
    });

    it('query filters by time, subject, tenant, tool and event, with limit, order and cursor', async (t) => {
      const { adapter: s, clock } = await fresh(t, open);
      const t0 = clock.t;
      await s.audit.append(call({ requestId: '1', at: t0 }));
      await s.audit.append(call({ requestId: '2', at: t0 + 10, subject: 'bob', tool: 'get_app' }));
      await s.audit.append(call({ requestId: '3', at: t0 + 20, tenant: 'globex' }));
      await s.audit.append(call({ requestId: '4', at: t0 + 30, event: 'auth.token', tool: null }));
      await s.audit.append(call({ requestId: '5', at: t0 + 40 }));
      const ids = async (q: Parameters<Store['audit']['query']>[0]) =>
        (await s.audit.query(q)).map((r) => r.requestId);
      assert.deepEqual(await ids({ from: t0 + 10, to: t0 + 30 }), ['2', '3']);
      assert.deepEqual(await ids({ subject: 'bob' }), ['2']);
      assert.deepEqual(await ids({ tenant: 'acme', tool: 'list_chatbots' }), ['1', '5']);
      assert.deepEqual(await ids({ event: 'auth.token' }), ['4']);
      assert.deepEqual(await ids({ tenant: 'acme', limit: 2 }), ['1', '2']);
      assert.deepEqual(await ids({ order: 'desc', limit: 2 }), ['5', '4']);
      const [third] = await s.audit.query({ from: t0 + 20, limit: 1 });
      assert.deepEqual(await ids({ after: third!.seq }), ['4', '5']);
      assert.deepEqual(await ids({ after: third!.seq, order: 'desc' }), ['2', '1']);
      assert.deepEqual(await ids({ subject: 'nobody' }), []);
      await rejectsWith(s.audit.query({ limit: 0 }), 'GW_STORE_INVALID');
      await rejectsWith(s.audit.query({ limit: 1001 }), 'GW_STORE_INVALID');
    });

    it('offers no way to change or remove a record', async (t) => {
      const { adapter: s } = await fresh(t, open);
      const methods = new Set<string>();
      for (let o: object | null = s.audit; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
        for (const k of Object.getOwnPropertyNames(o)) if (k !== 'constructor') methods.add(k);
      }
      assert.deepEqual([...methods].sort(), ['append', 'appendMany', 'query']);
      const rec = await s.audit.append(call({ args: { a: 1 } }));
      (rec.args as { a: number }).a = 2;
      rec.outcome = 'tampered';
      const [read] = await s.audit.query();
      assert.deepEqual([read!.outcome, read!.args], ['ok', { a: 1 }]);
    });

    it('an append still pending when close is called settles as stored', async (t) => {
      const { adapter: s } = await fresh(t, open);
      const pending = s.audit.append(call());
      await s.close();
      const rec = await pending;
      assert.equal(rec.event, 'tool.call');
      await rejectsWith(s.audit.append(call()), 'GW_STORE_CLOSED');
    });
  });

  describe(`${name} Store: usage`, () => {
    it('month totals sum that UTC month’s day buckets only, per tool and per day', async (t) => {
      const { adapter: s, clock } = await fresh(t, open);
      const add = (tool: string, at: number, count?: number) =>
        s.usage.add({ tenant: 'acme', credential: 'key-1', tool, at, ...(count ? { count } : {}) });
      await add('list', Date.UTC(2025, 11, 31, 23, 59, 59, 999));
      await add('list', Date.UTC(2026, 0, 1, 0, 0, 0, 0));
      await add('list', Date.UTC(2026, 0, 1, 13, 0), 4);
      await add('get', Date.UTC(2026, 0, 20, 8, 0));
      await add('get', Date.UTC(2026, 0, 31, 23, 59, 59, 999), 2);
      await add('get', Date.UTC(2026, 1, 1, 0, 0));
      await s.usage.add({ tenant: 'acme', credential: 'key-1', tool: 'list' }); // clock: 2026-01-15
      assert.equal(new Date(clock.t).toISOString().slice(0, 10), '2026-01-15');
      assert.deepEqual(await s.usage.month({ month: '2026-01' }), {
        month: '2026-01',
        total: 9,
        byTool: { list: 6, get: 3 },
        byDay: { '2026-01-01': 5, '2026-01-15': 1, '2026-01-20': 1, '2026-01-31': 2 },
      });
      assert.equal((await s.usage.month({ month: '2025-12' })).total, 1);
      assert.equal((await s.usage.month({ month: '2026-02' })).total, 1);
      assert.deepEqual(await s.usage.month({ month: '2026-03' }), {
        month: '2026-03',
        total: 0,
        byTool: {},
        byDay: {},
      });
    });

    it('filters by tenant, credential and tool; concurrent adds count exactly', async (t) => {
      const { adapter: s } = await fresh(t, open);
      const at = Date.UTC(2026, 4, 5);
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          s.usage.add({ tenant: i % 2 ? 'acme' : 'globex', credential: `k${i % 4}`, tool: 'list', at }),
        ),
      );
      await s.usage.add({ tenant: 'acme', credential: 'k1', tool: 'get', at, count: 10 });
      assert.equal((await s.usage.month({ month: '2026-05' })).total, 110);
      assert.equal((await s.usage.month({ month: '2026-05', tenant: 'acme' })).total, 60);
      assert.equal((await s.usage.month({ month: '2026-05', tenant: 'globex' })).total, 50);
      assert.equal((await s.usage.month({ month: '2026-05', credential: 'k1' })).total, 35);
      assert.equal((await s.usage.month({ month: '2026-05', tenant: 'acme', tool: 'get' })).total, 10);
      assert.equal((await s.usage.month({ month: '2026-05', tenant: 'initech' })).total, 0);
    });

    it('names holding separators stay apart when added in the same batch', async (t) => {
      const { adapter: s } = await fresh(t, open);
      const at = Date.UTC(2026, 4, 5);
      await Promise.all([
        s.usage.add({ tenant: 'a\u0000b', credential: 'c', tool: 't', at }),
        s.usage.add({ tenant: 'a', credential: 'b\u0000c', tool: 't', at }),
        s.usage.add({ tenant: 'a","b', credential: 'c', tool: 't', at }),
      ]);
      assert.equal((await s.usage.month({ month: '2026-05', tenant: 'a\u0000b' })).total, 1);
      assert.equal((await s.usage.month({ month: '2026-05', tenant: 'a' })).total, 1);
      assert.equal((await s.usage.month({ month: '2026-05', tenant: 'a","b' })).total, 1);
    });

    it('refuses a malformed month or a non-positive count, counting nothing', async (t) => {
      const { adapter: s } = await fresh(t, open);
      for (const month of ['2026-1', '2026-13', '26-01', '2026-01-01', '']) {
        await rejectsWith(s.usage.month({ month }), 'GW_STORE_INVALID');
      }
      const at = Date.UTC(2026, 0, 2);
      for (const count of [0, -1, 1.5]) {
        await rejectsWith(
          s.usage.add({ tenant: 'a', credential: 'k', tool: 't', at, count }),
          'GW_STORE_INVALID',
        );
      }
      assert.equal((await s.usage.month({ month: '2026-01' })).total, 0);
    });
  });

  describe(`${name} Store: lifecycle`, () => {
    it('ping resolves while open; after close every repository rejects, and close is idempotent', async (t) => {
      const { adapter: s } = await fresh(t, open);
      await s.ping();
      await s.close();
      await s.close();
      await rejectsWith(s.ping(), 'GW_STORE_CLOSED');
      await rejectsWith(s.apiKeys.findByHash('x'), 'GW_STORE_CLOSED');
      await rejectsWith(s.oauthClients.get('x'), 'GW_STORE_CLOSED');
      await rejectsWith(s.grants.get('x'), 'GW_STORE_CLOSED');
      await rejectsWith(s.tokens.consume('x', 'code'), 'GW_STORE_CLOSED');
      await rejectsWith(s.audit.query(), 'GW_STORE_CLOSED');
      await rejectsWith(s.usage.add({ tenant: 'a', credential: 'k', tool: 't' }), 'GW_STORE_CLOSED');
    });
  });
}
