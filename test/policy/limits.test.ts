import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newSecret } from '../../src/auth/secrets.ts';
import { defineTool, type Gangway, type GangwayConfig } from '../../src/index.ts';
import { MemoryEphemeral } from '../../src/store/memory/ephemeral.ts';
import { type Answer, auditRows, callTool, keyAuth, policyApp, principal, TestClock } from './helpers.ts';

/**
 * Rate limits (SECURITY 37-40, seed 003): fixed windows per credential, tenant and tool, a cap
 * on calls running at once, keyed on the verified caller or the client address. Time is moved
 * by a clock given to the Ephemeral store, never by sleeping. Every refusal is checked to have
 * run nothing.
 */

const calls = new Map<string, number>();
const count = (name: string) => () => {
  calls.set(name, (calls.get(name) ?? 0) + 1);
  return `${name} ok`;
};
const runs = (name: string) => calls.get(name) ?? 0;

const tools = [
  defineTool({ name: 'ping', anonymous: true, handler: count('ping') }),
  defineTool({ name: 'cheap', handler: count('cheap') }),
  defineTool({ name: 'expensive', handler: count('expensive') }),
];
const keys = {
  alice: principal('alice', 'acme'),
  'alice-ci': principal('alice-ci', 'acme'),
  bob: principal('bob', 'acme'),
  beth: principal('beth', 'globex'),
};

function limitedApp(clock: TestClock, extra: Partial<GangwayConfig> = {}): Gangway {
  return policyApp({ tools, authenticate: keyAuth(keys), ephemeral: new MemoryEphemeral({ now: clock.now }), ...extra });
}
const as = (key: string) => ({ headers: { 'x-api-key': key } });
const ok = (a: Answer) => a.status === 200 && a.json?.result?.isError === undefined;

function assertTooMany(a: Answer, policy: string, quota: number, windowS: number): number {
  assert.equal(a.status, 429, a.text);
  const retryAfter = a.headers.get('retry-after');
  assert.match(retryAfter ?? '', /^[1-9]\d*$/, `Retry-After is whole seconds >= 1: ${retryAfter}`);
  assert.equal(a.headers.get('ratelimit-policy'), `"${policy}";q=${quota};w=${windowS}`);
  assert.equal(a.headers.get('ratelimit'), `"${policy}";r=0;t=${retryAfter}`);
  assert.equal(a.json.jsonrpc, '2.0');
  assert.equal(a.json.error.code, -32029);
  assert.equal(a.json.error.data.policy, policy);
  assert.equal(a.json.error.data.limit, quota);
  assert.equal(a.json.error.data.retryAfter, Number(retryAfter));
  return Number(retryAfter);
}

describe('per credential (default 60 a minute once callers are identified)', () => {
  it('60 calls pass, the 61st is 429 with Retry-After and RateLimit headers, and runs nothing', async () => {
    const clock = new TestClock();
    const app = limitedApp(clock);
    try {
      calls.clear();
      for (let i = 0; i < 60; i++) {
        const a = await callTool(app, 'cheap', {}, as('alice'));
        assert.ok(ok(a), `call ${i + 1}: ${a.text}`);
        clock.advance(500); // 30 s in all: still the same window
      }
      assert.equal(runs('cheap'), 60);
      const refused = await callTool(app, 'cheap', {}, { ...as('alice'), id: 61 });
      const retryAfter = assertTooMany(refused, 'credential', 60, 60);
      assert.equal(refused.json.id, 61, 'the error answers the request');
      assert.equal(retryAfter, 30, 'the window opened 30 s ago');
      assert.equal(runs('cheap'), 60, 'the refused call did not run');
      // another credential, even of the same tenant, has its own window
      assert.ok(ok(await callTool(app, 'cheap', {}, as('bob'))));
      // still refused just before the window ends...
      clock.advance(retryAfter * 1000 - 1);
      assert.equal((await callTool(app, 'cheap', {}, as('alice'))).status, 429);
      // ...and served once Retry-After has passed
      clock.advance(1);
      assert.ok(ok(await callTool(app, 'cheap', {}, as('alice'))));
      assert.equal(runs('cheap'), 62);
    } finally {
      await app.close();
    }
  });

  it('holds for the built-in API keys too (auth configured, no policy options)', async () => {
    const app = policyApp({ tools, auth: {}, ephemeral: new MemoryEphemeral({ now: new TestClock().now }) });
    try {
      const { store } = await app.stores();
      const s = newSecret('api_key');
      await store.apiKeys.create({ kind: 'api_key', keyHash: s.hash, hint: s.hint, tenant: 'acme', subject: 'kim', scopes: [] });
      calls.clear();
      const statuses: number[] = [];
      for (let i = 0; i < 61; i++) statuses.push((await callTool(app, 'cheap', {}, { headers: { 'x-api-key': s.secret } })).status);
      assert.deepEqual(statuses, [...Array(60).fill(200), 429]);
      assert.equal(runs('cheap'), 60);
    } finally {
      await app.close();
    }
  });

  it('a flood of refusals leaves one audit row per window, not one per request', async () => {
    const clock = new TestClock();
    const app = limitedApp(clock, { policy: { limits: { perCredential: { max: 2, windowMs: 60_000 } } } });
    try {
      for (let i = 0; i < 12; i++) await callTool(app, 'cheap', {}, as('alice'));
      await new Promise((r) => setImmediate(r));
      const rows = await auditRows(app, { event: 'limit.refused' });
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.equal(rows[0]!.subject, 'alice');
      assert.equal(rows[0]!.outcome, 'rate_limited');
      assert.equal((rows[0]!.detail as { policy: string }).policy, 'credential');
    } finally {
      await app.close();
    }
  });

  it('without identified callers and without limits configured, nothing is limited', async () => {
    const app = policyApp({ tools });
    try {
      calls.clear();
      for (let i = 0; i < 70; i++) assert.ok(ok(await callTool(app, 'ping', {}, { ip: '203.0.113.1' })));
      assert.equal(runs('ping'), 70);
    } finally {
      await app.close();
    }
  });
});

describe('per tenant', () => {
  it('tenant A at 10x its limit does not take anything from tenant B', async () => {
    const clock = new TestClock();
    const app = limitedApp(clock, { policy: { limits: { perCredential: false, perTenant: { max: 10, windowMs: 60_000 } } } });
    try {
      const a: Answer[] = [];
      const b: Answer[] = [];
      for (let i = 0; i < 100; i++) {
        // two keys of tenant acme share the tenant window
        a.push(await callTool(app, 'cheap', {}, as(i % 2 ? 'alice' : 'alice-ci')));
        if (i % 10 === 9) b.push(await callTool(app, 'cheap', {}, as('beth')));
      }
      assert.equal(a.filter(ok).length, 10);
      for (const r of a.filter((x) => !ok(x))) assertTooMany(r, 'tenant', 10, 60);
      assert.equal(b.length, 10);
      assert.ok(b.every(ok), 'every call of tenant globex was served');
    } finally {
      await app.close();
    }
  });
});

describe('anonymous callers: per client address', () => {
  const anonymous = (clock: TestClock, extra: Partial<GangwayConfig> = {}) =>
    policyApp({ tools, ephemeral: new MemoryEphemeral({ now: clock.now }), policy: { limits: { perCredential: { max: 5, windowMs: 60_000 } } }, ...extra });

  it('rotating X-Forwarded-For from an untrusted peer does not escape the limit', async () => {
    const app = anonymous(new TestClock());
    try {
      calls.clear();
      const answers: Answer[] = [];
      for (let i = 0; i < 10; i++) {
        answers.push(await callTool(app, 'ping', {}, { ip: '203.0.113.7', headers: { 'x-forwarded-for': `198.51.100.${i}` } }));
      }
      assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
      assertTooMany(answers[5]!, 'credential', 5, 60);
      assert.equal(runs('ping'), 5);
      // another address has its own window
      assert.ok(ok(await callTool(app, 'ping', {}, { ip: '203.0.113.8' })));
    } finally {
      await app.close();
    }
  });

  it('behind a trusted proxy, each forwarded client address gets its own window', async () => {
    const app = anonymous(new TestClock(), { http: { trustedProxies: ['127.0.0.1'] } });
    try {
      calls.clear();
      const from = (client: string) => callTool(app, 'ping', {}, { ip: '127.0.0.1', headers: { 'x-forwarded-for': client } });
      for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
        for (let i = 0; i < 5; i++) assert.ok(ok(await from(client)), `${client} call ${i + 1}`);
      }
      assert.equal(runs('ping'), 15);
      // each window is still a limit
      assertTooMany(await from('198.51.100.2'), 'credential', 5, 60);
      assert.equal(runs('ping'), 15);
    } finally {
      await app.close();
    }
  });
});

describe('per tool', () => {
  it('limits one tool per credential; other tools and other callers go on', async () => {
    const clock = new TestClock();
    const app = limitedApp(clock, { policy: { limits: { perTool: { expensive: { max: 2, windowMs: 10_000 } } } } });
    try {
      calls.clear();
      assert.ok(ok(await callTool(app, 'expensive', {}, as('alice'))));
      assert.ok(ok(await callTool(app, 'expensive', {}, as('alice'))));
      const refused = await callTool(app, 'expensive', {}, as('alice'));
      assertTooMany(refused, 'tool-expensive', 2, 10);
      assert.equal(runs('expensive'), 2);
      assert.ok(ok(await callTool(app, 'cheap', {}, as('alice'))));
      assert.ok(ok(await callTool(app, 'expensive', {}, as('bob'))));
      clock.advance(10_000);
      assert.ok(ok(await callTool(app, 'expensive', {}, as('alice'))));
      assert.equal(runs('expensive'), 4);
    } finally {
      await app.close();
    }
  });
});

describe('calls running at once', () => {
  it('the third concurrent call of a caller is 429 (concurrency); once the others finish, calls pass again', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered = 0;
    const slow = defineTool({
      name: 'slow',
      handler: async () => {
        entered++;
        await gate;
        return 'slow ok';
      },
    });
    const app = policyApp({ tools: [...tools, slow], authenticate: keyAuth(keys), policy: { limits: { concurrent: 2 } } });
    try {
      const first = callTool(app, 'slow', {}, as('alice'));
      const second = callTool(app, 'slow', {}, as('alice'));
      for (let i = 0; i < 200 && entered < 2; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(entered, 2);
      const third = await callTool(app, 'slow', {}, as('alice'));
      assertTooMany(third, 'concurrency', 2, 1);
      assert.equal(entered, 2, 'the refused call did not start');
      // the cap is per caller
      assert.ok(ok(await callTool(app, 'cheap', {}, as('bob'))));
      release();
      assert.deepEqual((await Promise.all([first, second])).map((a) => a.json.result.content[0].text), ['slow ok', 'slow ok']);
      const after = await callTool(app, 'slow', {}, as('alice'));
      assert.ok(ok(after), after.text);
      assert.equal(entered, 3);
    } finally {
      release();
      await app.close();
    }
  });
});
