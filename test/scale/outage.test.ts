import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import { createGangway, defineTool } from '../../src/index.ts';
import { hashSecret } from '../../src/auth/secrets.ts';
import { startProxy, untilServed } from './tcp-proxy.ts';
import { echoN } from './echo-tool.ts';

/**
 * Issue 6, failure behaviour: one Gangway process on Postgres + Redis, each behind a TCP proxy
 * the test can cut. While a service is down the MCP route answers 503 with Retry-After (never 500,
 * never a hang), /readyz says unavailable, and once the service is back the same process serves
 * again without a restart; every call that was answered with a result has its audit row.
 */
const PG_URL = process.env.GANGWAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.GANGWAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function reachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1000 });
  const redis = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await client.connect();
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
    redis.disconnect();
  }
}

const why = await reachable();
const skip = why && process.env.CI !== 'true' ? `Postgres and Redis are needed (GANGWAY_TEST_POSTGRES_URL, GANGWAY_TEST_REDIS_URL): ${why}` : false;

describe('outages of Postgres and Redis (one process)', { skip }, () => {
  const schema = `gw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  });

  it('503 with Retry-After while a service is down, served again when it is back, audit complete', { timeout: 60_000 }, async (t) => {
    assert.equal(why, null, `CI has Postgres and Redis: ${why}`);
    await admin.connect();
    const pgUrl = new URL(PG_URL);
    const redisUrl = new URL(REDIS_URL);
    const pgProxy = await startProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    const redisProxy = await startProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    t.after(() => Promise.all([pgProxy.close(), redisProxy.close()]));
    pgUrl.host = `127.0.0.1:${pgProxy.port}`;
    pgUrl.searchParams.set('schema', schema);
    redisUrl.host = `127.0.0.1:${redisProxy.port}`;

    const app = createGangway({
      name: 'outage',
      version: '1.0.0',
      store: pgUrl.toString(),
      ephemeral: redisUrl.toString(),
      logger: { level: 'silent' },
      // cacheMs 0: every request looks its key up in Postgres; the rate window lives in Redis.
      auth: { oauth: false, cacheMs: 0 },
      http: { stateless: true },
      policy: { limits: { perCredential: { max: 1_000_000, windowMs: 60_000 } } },
      tools: [echoN],
    });
    const key = `gwk_${randomBytes(32).toString('base64url')}`;
    const { store } = await app.stores();
    await store.apiKeys.create({ kind: 'api_key', keyHash: hashSecret(key), tenant: 'acme', subject: 'ops', scopes: [] });
    const { port } = await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${port}`;
    t.after(() => app.close());

    const answered: string[] = [];
    let calls = 0;
    const call = async () => {
      const n = `call-${++calls}`;
      const res = await fetch(`${url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', 'x-api-key': key },
        body: JSON.stringify({ jsonrpc: '2.0', id: calls, method: 'tools/call', params: { name: 'echo', arguments: { n } } }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json()) as { result?: { content: Array<{ text: string }> }; error?: { message: string } };
      if (res.status === 200 && body.result?.content[0]?.text === n) answered.push(n);
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
    };
    const ready = async () => (await fetch(`${url}/readyz`)).status;
    assert.equal((await call()).status, 200);
    assert.equal(await ready(), 200);

    for (const [name, proxy] of [['Postgres', pgProxy], ['Redis', redisProxy]] as const) {
      proxy.cut();
      for (let i = 0; i < 3; i++) {
        const down = await call();
        assert.equal(down.status, 503, `${name} down: ${JSON.stringify(down.body)}`);
        assert.equal(down.retryAfter, '5');
        assert.match(down.body.error!.message, /unavailable/i);
      }
      assert.equal(await ready(), 503);
      proxy.restore();
      await untilServed(`${name} back`, call, 15_000);
      assert.equal(await ready(), 200);
    }

    // No acknowledged call without its row.
    const rows = await admin.query(`SELECT args FROM "${schema}".audit WHERE event = 'tool.call' AND outcome = 'ok'`);
    const audited = new Set(rows.rows.map((r: { args: { n: string } }) => r.args.n));
    assert.deepEqual(answered.filter((n) => !audited.has(n)), []);
    // And the other way: no call refused with 503 ran (an ok row belongs to an answered call).
    assert.deepEqual([...audited].filter((n) => !answered.includes(n)), []);
    assert.ok(answered.length >= 3);
  });

  it('limits.whenUnavailable "allow": with Redis down, calls are admitted uncounted (the default refuses)', { timeout: 60_000 }, async (t) => {
    assert.equal(why, null, `CI has Postgres and Redis: ${why}`);
    const redisUrl = new URL(REDIS_URL);
    const proxy = await startProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    t.after(() => proxy.close());
    redisUrl.host = `127.0.0.1:${proxy.port}`;
    const key = `gwk_${randomBytes(32).toString('base64url')}`;
    // `limit`: a rate window, or (with no window) a monthly quota, each counted in Redis.
    const make = async (limit: 'window' | 'quota', whenUnavailable?: 'allow') => {
      const app = createGangway({
        name: 'outage-allow',
        version: '1.0.0',
        store: 'memory',
        ephemeral: redisUrl.toString(),
        logger: { level: 'silent' },
        auth: { oauth: false },
        http: { stateless: true },
        policy: {
          limits: { perCredential: limit === 'window' ? { max: 1_000_000, windowMs: 60_000 } : false, ...(whenUnavailable ? { whenUnavailable } : {}) },
          ...(limit === 'quota' ? { quotas: { plans: { default: 1_000_000 } } } : {}),
        },
        tools: [defineTool({ name: 'echo', description: 'Echoes', handler: () => 'ok' })],
      });
      const { store } = await app.stores();
      await store.apiKeys.create({ kind: 'api_key', keyHash: hashSecret(key), tenant: 'acme', subject: 'ops', scopes: [] });
      t.after(() => app.close());
      return app;
    };
    const apps = await Promise.all([make('window'), make('window', 'allow'), make('quota'), make('quota', 'allow')]);
    const call = async (app: (typeof apps)[number]) => {
      const res = await app.fetch(
        new Request('http://localhost/mcp', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', 'x-api-key': key },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo' } }),
        }),
        { ip: '127.0.0.1' },
      );
      return res.status;
    };
    const statuses = async () => {
      const out: number[] = [];
      for (const app of apps) out.push(await call(app));
      return out;
    };
    assert.deepEqual(await statuses(), [200, 200, 200, 200]);
    proxy.cut();
    // window refuses, window allows, quota refuses, quota allows
    assert.deepEqual(await statuses(), [503, 200, 503, 200], 'admitted uncounted while Redis is down, only with "allow"');
    proxy.restore();
  });
});
