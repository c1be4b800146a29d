import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, mock } from 'node:test';
import { defineTool, type Gangway, type GangwayConfig } from '../../src/index.ts';
import { Quotas, utcMonth } from '../../src/policy/quota.ts';
import type { RateState } from '../../src/policy/rate-headers.ts';
import { MemoryEphemeral } from '../../src/store/memory/ephemeral.ts';
import { MemoryStore } from '../../src/store/memory/store.ts';
import { type Answer, auditRows, callTool, capturedLogger, keyAuth, policyApp, principal, TestClock } from './helpers.ts';

/**
 * Monthly quotas per plan (seed 003): every MCP request counts one call against the tenant's
 * quota; over it, 429 until the first of next month. The count survives a restart (it is
 * seeded from the durable usage table), and `get_api_usage` reports the caller's own tenant.
 */

let runs = 0;
const tools = [
  defineTool({ name: 'cheap', handler: () => (runs++, 'cheap ok') }),
  defineTool({ name: 'expensive', handler: () => (runs++, 'expensive ok') }),
  defineTool({ name: 'globex_only_report', handler: () => (runs++, 'report ok') }),
];
const keys = {
  alice: principal('alice', 'acme'),
  bob: principal('bob', 'acme'),
  beth: principal('beth', 'globex'),
};
const as = (key: string) => ({ headers: { 'x-api-key': key } });
const ok = (a: Answer) => a.status === 200 && a.json?.result?.isError === undefined;
const starter = { plans: { starter: 5 }, plan: () => 'starter' };

describe('a monthly quota, end to end', () => {
  it('the 6th request of the month is 429 (quota) until the first of next month; the new month starts afresh', async () => {
    // The policy reads the month through Date: the server is built under a mocked Date, and the
    // stores follow the same clock.
    mock.timers.enable({ apis: ['Date'], now: Date.UTC(2030, 0, 31, 23, 0, 0) });
    const now = () => Date.now();
    const app = policyApp({
      tools,
      authenticate: keyAuth(keys),
      store: new MemoryStore({ now }),
      ephemeral: new MemoryEphemeral({ now }),
      policy: { limits: { perCredential: false }, quotas: starter },
    });
    try {
      runs = 0;
      for (let i = 0; i < 5; i++) assert.ok(ok(await callTool(app, i % 2 ? 'cheap' : 'expensive', {}, as(i % 2 ? 'alice' : 'bob'))), `call ${i + 1}`);
      const refused = await callTool(app, 'cheap', {}, as('alice'));
      assert.equal(refused.status, 429, refused.text);
      assert.equal(refused.json.error.code, -32029);
      assert.equal(refused.json.error.data.policy, 'quota');
      assert.equal(refused.json.error.data.limit, 5);
      // one hour to 2030-02-01T00:00Z
      assert.equal(refused.headers.get('retry-after'), '3600');
      assert.equal(refused.json.error.data.resetAt, '2030-02-01T00:00:00.000Z');
      assert.equal(refused.headers.get('ratelimit-policy'), `"quota";q=5;w=${31 * 86_400}`);
      assert.equal(refused.headers.get('ratelimit'), '"quota";r=0;t=3600');
      assert.equal(runs, 5, 'the refused request did not run');
      // the quota is the tenant's: bob (same tenant) is out too, beth (another tenant) is not
      assert.equal((await callTool(app, 'cheap', {}, as('bob'))).status, 429);
      assert.ok(ok(await callTool(app, 'cheap', {}, as('beth'))));

      mock.timers.tick(3_600_000);
      for (let i = 0; i < 5; i++) assert.ok(ok(await callTool(app, 'cheap', {}, as('alice'))), `february call ${i + 1}`);
      const again = await callTool(app, 'cheap', {}, as('alice'));
      assert.equal(again.status, 429);
      assert.equal(again.headers.get('retry-after'), String(28 * 86_400));
      assert.equal(runs, 11);
    } finally {
      await app.close();
      mock.timers.reset();
    }
  });
});

describe('Quotas (unit)', () => {
  const alice = principal('alice', 'acme');

  it('counts per tenant and month, and resets on the first of the month (UTC)', async () => {
    const clock = new TestClock(Date.UTC(2030, 2, 31, 22, 0, 0));
    const store = new MemoryStore({ now: clock.now });
    const ephemeral = new MemoryEphemeral({ now: clock.now });
    const q = new Quotas(starter, () => store, () => ephemeral, clock.now);
    for (let i = 0; i < 5; i++) assert.equal(await q.count(alice, 'acme', 1), null, `call ${i + 1}`);
    const out = (await q.count(alice, 'acme', 1)) as RateState | null;
    assert.equal(out?.policy, 'quota');
    assert.equal(out?.quota, 5);
    assert.equal(out?.resetMs, 2 * 3_600_000);
    assert.equal(await q.count(alice, 'globex', 1), null, 'another tenant has its own count');
    clock.advance(2 * 3_600_000 - 1);
    assert.notEqual(await q.count(alice, 'acme', 1), null, 'still March');
    clock.advance(1);
    assert.equal(await q.count(alice, 'acme', 1), null, 'April');
  });

  it("seeds a month's count from the durable usage table (a restarted process)", async () => {
    const clock = new TestClock(Date.UTC(2030, 4, 10));
    const store = new MemoryStore({ now: clock.now });
    for (let i = 0; i < 4; i++) await store.usage.add({ tenant: 'acme', credential: 'k', tool: 'cheap' });
    await store.usage.add({ tenant: 'acme', credential: 'k', tool: 'cheap', at: Date.UTC(2030, 3, 30) }); // April: not this month
    const ephemeral = new MemoryEphemeral({ now: clock.now });
    const q = new Quotas(starter, () => store, () => ephemeral, clock.now);
    assert.equal(await q.count(alice, 'acme', 1), null, 'the 5th call of May');
    assert.notEqual(await q.count(alice, 'acme', 1), null, 'the 6th');
  });

  it('a plan of null is unlimited; a plan of 0 allows nothing; a plan not listed has no access', async () => {
    const clock = new TestClock();
    const store = new MemoryStore({ now: clock.now });
    const ephemeral = new MemoryEphemeral({ now: clock.now });
    const plans = { plans: { free: 0, pro: null }, plan: (p: { subject: string }) => (p.subject === 'alice' ? 'pro' : p.subject === 'bob' ? 'free' : 'mystery') };
    const q = new Quotas(plans, () => store, () => ephemeral, clock.now);
    for (let i = 0; i < 20; i++) assert.equal(await q.count(alice, 'acme', 1), null);
    assert.deepEqual(await q.count(principal('carol', 'c'), 'c', 1), { plan: 'mystery', limit: 0, access: false, known: false });
    assert.equal(((await q.count(principal('bob', 'b'), 'b', 1)) as RateState | null)?.policy, 'quota');
  });
});

describe('a restarted server keeps counting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gangway-quota-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a new app on the same SQLite file refuses once the month is used up', async () => {
    const config: Partial<GangwayConfig> = {
      tools,
      authenticate: keyAuth(keys),
      store: `sqlite:${join(dir, 'x.db')}`,
      policy: { limits: { perCredential: false }, quotas: starter },
    };
    runs = 0;
    const first: Gangway = policyApp(config);
    for (let i = 0; i < 3; i++) assert.ok(ok(await callTool(first, 'cheap', {}, as('alice'))));
    await first.close();
    const second = policyApp(config);
    try {
      assert.ok(ok(await callTool(second, 'cheap', {}, as('bob'))), '4th');
      assert.ok(ok(await callTool(second, 'cheap', {}, as('alice'))), '5th');
      const refused = await callTool(second, 'cheap', {}, as('alice'));
      assert.equal(refused.status, 429, refused.text);
      assert.equal(refused.json.error.data.policy, 'quota');
      assert.equal(runs, 5);
    } finally {
      await second.close();
    }
  });
});

describe('get_api_usage', () => {
  it("reports the caller's tenant only: used, remaining and calls by tool", async () => {
    const app = policyApp({
      tools,
      authenticate: keyAuth(keys),
      policy: {
        usageTool: true,
        limits: { perCredential: false },
        quotas: { plans: { starter: 100, enterprise: null }, plan: (p) => (p.tenant === 'acme' ? 'starter' : 'enterprise') },
      },
    });
    try {
      for (let i = 0; i < 3; i++) await callTool(app, 'cheap', {}, as('alice'));
      await callTool(app, 'expensive', {}, as('bob'));
      for (let i = 0; i < 7; i++) await callTool(app, 'globex_only_report', {}, as('beth'));

      const mine = await callTool(app, 'get_api_usage', {}, as('alice'));
      assert.ok(ok(mine), mine.text);
      const u = mine.json.result.structuredContent;
      assert.equal(u.tenant, 'acme');
      assert.equal(u.plan, 'starter');
      assert.equal(u.quota, 100);
      // 3 + 1 calls, and this one
      assert.equal(u.used, 5);
      assert.equal(u.remaining, 95);
      assert.deepEqual(u.byTool, { cheap: 3, expensive: 1, get_api_usage: 1 });
      assert.match(u.month, /^\d{4}-\d{2}$/);
      assert.ok(!mine.text.includes('globex'), "nothing of another tenant's usage");

      const theirs = await callTool(app, 'get_api_usage', {}, as('beth'));
      const t = theirs.json.result.structuredContent;
      assert.equal(t.tenant, 'globex');
      assert.equal(t.quota, null);
      assert.equal(t.remaining, null);
      assert.equal(t.used, 8);
      assert.deepEqual(t.byTool, { globex_only_report: 7, get_api_usage: 1 });

      // the tool takes no arguments: it cannot be pointed at another tenant
      const pointed = await callTool(app, 'get_api_usage', { tenant: 'acme' }, as('beth'));
      assert.equal(pointed.json.result.isError, true, pointed.text);
      assert.ok(!pointed.text.includes('"cheap"'));
    } finally {
      await app.close();
    }
  });
});

describe('refused requests and the quota', () => {
  // Regression (found by this suite): Quotas.count increments the month's counter before comparing, and a
  // refused request is never given back, so every 429 uses up quota: a caller who retried while
  // out, then upgrades, gets less than the new plan allows, and get_api_usage reports a `used`
  // that disagrees with its own byTool.
  it('a refused request uses up nothing: after an upgrade the caller gets the rest of the new plan', async () => {
    let plan = 'starter';
    const app = policyApp({
      tools,
      authenticate: keyAuth(keys),
      policy: { usageTool: true, limits: { perCredential: false }, quotas: { plans: { starter: 5, pro: 20 }, plan: () => plan } },
    });
    try {
      runs = 0;
      const first: number[] = [];
      for (let i = 0; i < 15; i++) first.push((await callTool(app, 'cheap', {}, as('alice'))).status);
      assert.deepEqual(first, [...Array(5).fill(200), ...Array(10).fill(429)]);
      plan = 'pro';
      const usage = (await callTool(app, 'get_api_usage', {}, as('alice'))).json.result.structuredContent;
      const served = Object.values(usage.byTool as Record<string, number>).reduce((a, b) => a + b, 0);
      assert.equal(served, 6, '5 calls and this one were served');
      assert.equal(usage.used, served, `used ${usage.used} counts the refused requests`);
      assert.equal(usage.remaining, 14);
      let more = 0;
      while (more < 20 && ok(await callTool(app, 'cheap', {}, as('alice')))) more++;
      assert.equal(more, 14, 'the upgrade gives the rest of the 20');
    } finally {
      await app.close();
    }
  });
});

describe('plans without MCP access (seed 003: "403 Plan Not Supported")', () => {
  it('a plan marked false is 403 with the plan named; nothing runs or counts, one audit row a minute; other plans go on', async () => {
    const { logger, lines } = capturedLogger();
    const app = policyApp({
      tools,
      authenticate: keyAuth(keys),
      logger,
      policy: {
        usageTool: true,
        limits: { perCredential: false },
        quotas: { plans: { free: false, starter: 100 }, plan: (p) => (p.tenant === 'acme' ? 'free' : 'starter') },
      },
    });
    try {
      runs = 0;
      for (let i = 0; i < 3; i++) {
        const refused = await callTool(app, 'cheap', {}, as('alice'));
        assert.equal(refused.status, 403, refused.text);
        assert.equal(refused.json.error.code, -32030);
        assert.equal(refused.json.error.message, 'Your plan (free) does not include MCP access');
        assert.deepEqual(refused.json.error.data, { plan: 'free' });
        assert.equal(refused.headers.get('retry-after'), null, 'waiting does not help');
      }
      assert.equal(runs, 0, 'no refused call ran');
      const other = await callTool(app, 'cheap', {}, as('beth'));
      assert.ok(ok(other), other.text);
      assert.equal(runs, 1);
      const rows = await auditRows(app, { event: 'plan.refused' });
      assert.deepEqual(rows.map((r) => [r.outcome, r.subject, r.tenant, r.detail]), [['plan_denied', 'alice', 'acme', { plan: 'free' }]]);
      const { store } = await app.stores();
      await new Promise((r) => setImmediate(r)); // usage is handed to the store once per turn
      const { month } = utcMonth(Date.now());
      assert.equal((await store.usage.month({ month, tenant: 'acme' })).total, 0, 'a refused request is not a call');
      assert.ok(!lines.some((l) => l.includes('not in policy.quotas.plans')), 'a known plan is no misconfiguration');
    } finally {
      await app.close();
    }
  });

  it('a plan name missing from plans is refused the same way, and logged once', async () => {
    const { logger, lines } = capturedLogger();
    const app = policyApp({
      tools,
      authenticate: keyAuth(keys),
      logger,
      policy: { limits: { perCredential: false }, quotas: { plans: { pro: 100 }, plan: () => 'Pro' } },
    });
    try {
      runs = 0;
      for (let i = 0; i < 3; i++) {
        const refused = await callTool(app, 'cheap', {}, as('alice'));
        assert.equal(refused.status, 403, refused.text);
        assert.equal(refused.json.error.message, 'Your plan (Pro) does not include MCP access');
        assert.ok(!refused.text.includes('quotas'), 'the client is told nothing about the configuration');
      }
      assert.equal(runs, 0);
      const warnings = lines.filter((l) => l.includes('not in policy.quotas.plans'));
      assert.equal(warnings.length, 1, lines.join('\n'));
      assert.equal(JSON.parse(warnings[0]!).plan, 'Pro');
    } finally {
      await app.close();
    }
  });

  it('a plan function that returns nothing puts the caller on the default plan', async () => {
    const app = policyApp({
      tools,
      authenticate: keyAuth(keys),
      policy: { limits: { perCredential: false }, quotas: { plans: { default: 1, pro: null }, plan: (p) => (p.tenant === 'globex' ? 'pro' : undefined) } },
    });
    try {
      assert.equal((await callTool(app, 'cheap', {}, as('alice'))).status, 200);
      assert.equal((await callTool(app, 'cheap', {}, as('alice'))).status, 429, 'default allows one a month');
      for (let i = 0; i < 3; i++) assert.equal((await callTool(app, 'cheap', {}, as('beth'))).status, 200);
    } finally {
      await app.close();
    }
  });

  it('refuses at start-up a configuration that would refuse everyone, or a plan value it cannot read', () => {
    const start = (quotas: unknown) => () => policyApp({ tools, authenticate: keyAuth(keys), policy: { quotas: quotas as never } });
    assert.throws(start({ plans: { pro: 100 } }), (e: Error & { code?: string }) => e.code === 'GW_CONFIG_POLICY' && /needs a "default" plan/.test(e.message));
    assert.throws(start({ plans: { default: true } }), /quotas\.plans\.default must be a non-negative integer \(calls a month\), null \(unlimited\) or false \(no MCP access\)/);
    assert.throws(start({ plans: { default: -1 } }), /quotas\.plans\.default must be/);
    assert.doesNotThrow(start({ plans: { default: false } }));
  });
});
