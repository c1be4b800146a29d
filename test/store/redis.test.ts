import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { after, afterEach, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { StoreConfigError } from '../../src/store/errors.ts';
import { openEphemeral } from '../../src/store/index.ts';
import { RedisEphemeral, type RedisEphemeralOptions } from '../../src/store/redis/ephemeral.ts';
import { ephemeralContract } from './contract/ephemeral.ts';
import { rejectsWith, TestClock } from './contract/harness.ts';
import { eventually } from '../helpers/eventually.ts';

/**
 * Runs against a real Redis: GANGWAY_TEST_REDIS_URL, default the local one. Without one the suites
 * are skipped with the reason, except in CI, which has a Redis: there a skip would hide a broken setup.
 */
const REDIS_URL = process.env.GANGWAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SHOWN_URL = REDIS_URL.replace(/\/\/[^/\s]*@/, '//***@');

/** undefined when Redis answers PING, else why not. */
async function probe(url: string): Promise<string | undefined> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    retryStrategy: () => null,
    disconnectTimeout: 100,
  });
  let cause: string | undefined; // the socket's error says more than the rejection ("Connection is closed.")
  client.on('error', (error: Error) => (cause ??= error.message));
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return cause ?? (error instanceof Error ? error.message : String(error));
  } finally {
    client.disconnect();
  }
}

const unreachable = await probe(REDIS_URL);
if (unreachable === undefined) {
  redisSuites();
} else if (process.env.CI === 'true') {
  describe('redis Ephemeral', () => {
    it('has a Redis to test against (CI provides one)', () => {
      assert.fail(`Redis not reachable at ${SHOWN_URL} in CI: ${unreachable}`);
    });
  });
} else {
  const skip = `Redis not reachable at ${SHOWN_URL} (set GANGWAY_TEST_REDIS_URL to point elsewhere): ${unreachable}`;
  describe('redis Ephemeral', { skip }, () => {});
  describe('redis Ephemeral across connections and outages', { skip }, () => {});
}

function redisSuites(): void {
  const admin = new Redis(REDIS_URL, { lazyConnect: true });
  admin.on('error', () => {});
  after(() => admin.quit());
  const prefixes: string[] = [];
  afterEach(async () => {
    for (const prefix of prefixes.splice(0)) await deleteKeys(admin, prefix);
  });

  /** A namespace of its own per test, deleted after it: the shared Redis is left as found. */
  const newPrefix = (): string => {
    const prefix = `gwtest:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  };
  const open = (options: RedisEphemeralOptions = {}, url = REDIS_URL): Promise<RedisEphemeral> =>
    RedisEphemeral.open(url, { keyPrefix: newPrefix(), ...options });
  /** `count` adapters, each on its own connection, sharing one namespace and one clock. */
  const openMany = async (t: TestContext, count: number) => {
    const keyPrefix = newPrefix();
    const clock = new TestClock();
    const adapters = await Promise.all(
      Array.from({ length: count }, () => RedisEphemeral.open(REDIS_URL, { keyPrefix, now: clock.now })),
    );
    t.after(async () => void (await Promise.all(adapters.map((e) => e.close()))));
    return { adapters, keyPrefix, clock };
  };

  ephemeralContract('redis', ({ now }) => open({ now }));

  describe('redis Ephemeral across connections and outages', () => {
    it('two connections consuming one value 50 times: exactly one wins each time', async (t) => {
      const { adapters } = await openMany(t, 2);
      const [a, b] = adapters as [RedisEphemeral, RedisEphemeral];
      for (let i = 0; i < 50; i++) {
        await a.set(`token-${i}`, `value-${i}`, 300_000);
        const got = await Promise.all([a.consume(`token-${i}`), b.consume(`token-${i}`)]);
        assert.deepEqual(got.filter((v) => v !== undefined), [`value-${i}`], `round ${i}`);
      }
    });

    it('4 connections x 100 concurrent increments add up to 400, every value seen once', async (t) => {
      const { adapters } = await openMany(t, 4);
      const results = await Promise.all(
        adapters.flatMap((e) => Array.from({ length: 100 }, () => e.increment('hits', 1, 60_000))),
      );
      assert.equal(await adapters[0]!.get('hits'), '400');
      const seen = results.map((r) => r.value).sort((x, y) => x - y);
      assert.deepEqual(seen, Array.from({ length: 400 }, (_, i) => i + 1));
    });

    it('increments of one turn share one script call; each caller sees its value in call order', async (t) => {
      const { adapters, keyPrefix, clock } = await openMany(t, 1);
      const e = adapters[0]!;
      const monitor = await admin.duplicate().monitor();
      t.after(() => monitor.disconnect());
      const seen: string[][] = [];
      const keys = new Set([`${keyPrefix}c`, `${keyPrefix}other`]);
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args.some((a) => keys.has(a))) seen.push(args);
      });
      await e.increment('warm', 1, 60_000); // the script loaded
      const turn = await Promise.all([
        e.increment('c', 1, 60_000),
        e.increment('c', 5, 60_000),
        e.increment('other', 2, 60_000),
        e.increment('c', -2, 60_000),
        e.increment('c', 1, 1000), // another TTL: its own call
      ]);
      assert.deepEqual(turn, [
        { value: 1, ttlMs: 60_000 },
        { value: 6, ttlMs: 60_000 },
        { value: 2, ttlMs: 60_000 },
        { value: 4, ttlMs: 60_000 },
        { value: 5, ttlMs: 60_000 },
      ]);
      clock.advance(60_000);
      const [a, b] = [e.increment('c', 1, 60_000), e.increment('c', 1, 60_000)];
      clock.advance(1); // a later clock reading in the same turn: never merged with the earlier one
      const c = e.increment('c', 1, 60_000);
      assert.deepEqual(await Promise.all([a, b, c]), [
        { value: 1, ttlMs: 60_000 },
        { value: 2, ttlMs: 60_000 },
        { value: 3, ttlMs: 59_999 },
      ]);
      const calls = () => seen.filter((args) => /^evalsha$/i.test(args[0]!));
      for (let i = 0; i < 100 && calls().length < 5; i++) await sleep(20); // MONITOR lags a little
      await sleep(50);
      assert.equal(calls().length, 5, JSON.stringify(seen));
      assert.equal(await e.get('c'), '3');
    });

    it('a sum the counter refuses falls back to one call per caller, so each gets its own answer', async (t) => {
      const { adapters } = await openMany(t, 1);
      const e = adapters[0]!;
      await e.set('c', String(Number.MAX_SAFE_INTEGER - 1), 60_000);
      const [first, second] = await Promise.allSettled([e.increment('c', 1, 60_000), e.increment('c', 1, 60_000)]);
      assert.deepEqual(first, { status: 'fulfilled', value: { value: Number.MAX_SAFE_INTEGER, ttlMs: 60_000 } });
      assert.equal(second.status, 'rejected');
      assert.equal(((second as PromiseRejectedResult).reason as { code?: unknown }).code, 'GW_STORE_INVALID');
      await e.set('n', 'abc', 60_000);
      const both = await Promise.allSettled([e.increment('n', 1, 60_000), e.increment('n', 1, 60_000)]);
      for (const r of both) {
        assert.equal(((r as PromiseRejectedResult).reason as { code?: unknown }).code, 'GW_STORE_INVALID');
      }
      assert.equal(await e.get('n'), 'abc');
    });

    it('close sends the increments asked for in its turn before quitting', async (t) => {
      const { adapters } = await openMany(t, 2);
      const [a, b] = adapters as [RedisEphemeral, RedisEphemeral];
      const counted = a.increment('c', 1, 60_000);
      const closed = a.close();
      assert.deepEqual(await counted, { value: 1, ttlMs: 60_000 });
      await closed;
      assert.equal(await b.get('c'), '1');
    });

    it('every key written carries a GC TTL longer than its own TTL, not extended by increments', async (t) => {
      const { adapters, keyPrefix, clock } = await openMany(t, 1);
      const e = adapters[0]!;
      await e.set('s', 'v', 1000);
      await e.setIfAbsent('n', 'v', 2000);
      await e.increment('c', 1, 3000);
      const before = await admin.pttl(`${keyPrefix}c`);
      clock.advance(500);
      await e.increment('c', 1, 60_000);
      const later = await admin.pttl(`${keyPrefix}c`);
      assert.ok(later <= before, 'a later increment must not extend the GC TTL');
      await e.set('gone', 'v', 10);
      clock.advance(10);
      assert.equal(await e.setIfAbsent('gone', 'again', 4000), true, 'takes over an expired entry');
      const keys = await scanKeys(admin, keyPrefix);
      assert.deepEqual(keys.sort(), ['c', 'gone', 'n', 's'].map((k) => keyPrefix + k));
      for (const [key, ttl] of [['s', 1000], ['n', 2000], ['c', 3000], ['gone', 4000]] as const) {
        const pttl = await admin.pttl(keyPrefix + key);
        assert.ok(pttl > ttl, `${key}: PTTL ${pttl} must exceed the entry's ${ttl} ms`);
      }
    });

    it('?prefix= in the spec keeps two deployments on one Redis apart, keys and channels', async (t) => {
      const [p1, p2] = [newPrefix(), newPrefix()];
      const [a, b] = await Promise.all([openEphemeral(`${REDIS_URL}?prefix=${p1}`), openEphemeral(`${REDIS_URL}?prefix=${p2}`)]);
      t.after(() => Promise.all([a.close(), b.close()]));
      assert.equal((await a.increment('rl:c:same-subject', 1, 60_000)).value, 1);
      assert.equal((await b.increment('rl:c:same-subject', 1, 60_000)).value, 1, 'the other deployment counts on its own');
      assert.deepEqual(await admin.keys(`${p1}*`), [`${p1}rl:c:same-subject`]);
      const heard: string[] = [];
      await b.subscribe!('bus:*', (m) => heard.push(`b:${m}`));
      await a.subscribe!('bus:*', (m) => heard.push(`a:${m}`));
      await a.publish!('bus:*', 'hello');
      for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(heard, ['a:hello']);
      await assert.rejects(openEphemeral(`${REDIS_URL}?prefix=has space`), StoreConfigError);
    });

    it('a malformed URL is a StoreConfigError that never shows the password', async () => {
      for (const url of [
        'redis://:s3cret-pw',
        'redis://user:s3cret-pw@host:notaport',
        'http://user:s3cret-pw@127.0.0.1:6379',
        'redis://user:s3cret-pw@127.0.0.1:6379/not-a-db',
        'redis://user:s3cret-pw@127.0.0.1:6379?family=6',
        'user:s3cret-pw@127.0.0.1',
        'redis://user:s3cret-pw%zz@127.0.0.1',
      ]) {
        await assert.rejects(RedisEphemeral.open(url), (error: unknown) => {
          assert.ok(error instanceof StoreConfigError, `${String(error)} for a malformed URL`);
          assert.equal(error.code, 'GW_CONFIG_STORE');
          assert.ok(!error.message.includes('s3cret'), `password shown: ${error.message}`);
          return true;
        });
      }
      for (const options of [{ commandTimeoutMs: 0 }, { connectTimeoutMs: 1.5 }]) {
        await assert.rejects(RedisEphemeral.open(REDIS_URL, options), StoreConfigError);
      }
    });

    it('Redis down at start: open resolves, calls fail fast, and it connects once Redis is up', async (t) => {
      const logged = silenceConsole(t);
      const proxy = await CuttableProxy.start(new URL(REDIS_URL));
      t.after(() => proxy.stop());
      const url = proxy.url(REDIS_URL);
      await proxy.cut();
      const e = await open({ connectTimeoutMs: 500, commandTimeoutMs: 500 }, url);
      t.after(() => e.close());
      await rejectsWith(e.set('k', 'v', 1000), 'GW_STORE_UNAVAILABLE');
      await proxy.restore();
      await eventually(() => e.set('k', 'v', 1000), { within: 10_000, every: 50 });
      assert.equal(await e.get('k'), 'v');
      assert.deepEqual(logged, []);
    });

    it('scripts load again after the server forgot them (SCRIPT FLUSH, as after a restart)', async (t) => {
      const e = await open({ now: new TestClock().now });
      t.after(() => e.close());
      assert.deepEqual(await e.increment('c', 1, 1000), { value: 1, ttlMs: 1000 });
      await admin.script('FLUSH');
      assert.deepEqual(await e.increment('c', 1, 1000), { value: 2, ttlMs: 1000 });
    });

    it('a closed port: open resolves, calls reject GW_STORE_UNAVAILABLE at once, nothing logged', async (t) => {
      const logged = silenceConsole(t);
      const started = Date.now();
      const e = await open({ connectTimeoutMs: 500, commandTimeoutMs: 500 }, 'redis://gw:s3cret-pw@127.0.0.1:1');
      t.after(() => e.close());
      // Settled together: increments leave at the end of the event-loop turn, the others at once,
      // and none of them may be left rejected without a handler meanwhile.
      const calls = [e.get('k'), e.set('k', 'v', 1000), e.increment('c', 1, 1000), e.consume('k'), e.ping()];
      for (const outcome of await Promise.allSettled(calls)) {
        assert.equal(outcome.status, 'rejected');
        const error = (outcome as PromiseRejectedResult).reason as unknown;
        assert.equal((error as { code?: unknown }).code, 'GW_STORE_UNAVAILABLE', String(error));
        assert.ok(!(error as Error).message.includes('s3cret'), (error as Error).message);
      }
      assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
      await e.close();
      await rejectsWith(e.get('k'), 'GW_STORE_CLOSED');
      assert.deepEqual(logged, []);
    });

    it('outage and recovery: fails fast while Redis is cut off, works again without reopening', async (t) => {
      const logged = silenceConsole(t);
      const proxy = await CuttableProxy.start(new URL(REDIS_URL));
      t.after(() => proxy.stop());
      const e = await open({ connectTimeoutMs: 500, commandTimeoutMs: 500 }, proxy.url(REDIS_URL));
      t.after(() => e.close());
      await e.set('k', 'v', 300_000);

      await proxy.cut();
      for (let round = 0; round < 3; round++) {
        for (const call of [() => e.get('k'), () => e.increment('c', 1, 1000), () => e.ping()]) {
          const started = Date.now();
          await rejectsWith(call(), 'GW_STORE_UNAVAILABLE');
          assert.ok(Date.now() - started < 1000, `a call took ${Date.now() - started} ms while down`);
        }
        await sleep(200); // let reconnect attempts hit the refusing port in between
      }

      await proxy.restore();
      await eventually(() => e.ping(), { within: 10_000, every: 50 });
      assert.equal(await e.get('k'), 'v');
      assert.deepEqual(await e.increment('c', 1, 1000), { value: 1, ttlMs: 1000 });
      assert.deepEqual(logged, []);
    });

    it('a Redis that stops answering: calls reject GW_STORE_UNAVAILABLE after the command timeout', async (t) => {
      const proxy = await CuttableProxy.start(new URL(REDIS_URL));
      t.after(() => proxy.stop());
      const e = await open({ commandTimeoutMs: 300 }, proxy.url(REDIS_URL));
      t.after(() => e.close());
      await e.set('k', 'v', 300_000);
      proxy.stall();
      const started = Date.now();
      await rejectsWith(e.get('k'), 'GW_STORE_UNAVAILABLE');
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 2000, `rejected after ${took} ms`);
      proxy.unstall();
      await eventually(async () => assert.equal(await e.get('k'), 'v'), { within: 5000, every: 50 });
    });
  });
}

async function scanKeys(admin: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

async function deleteKeys(admin: Redis, prefix: string): Promise<void> {
  const keys = await scanKeys(admin, prefix);
  if (keys.length) await admin.del(...keys);
}

/** Records console.error/warn/log for the test instead of printing: the adapter must log nothing. */
function silenceConsole(t: TestContext): unknown[][] {
  const logged: unknown[][] = [];
  const saved = { error: console.error, warn: console.warn, log: console.log };
  for (const name of ['error', 'warn', 'log'] as const) {
    console[name] = (...args: unknown[]) => logged.push(args);
  }
  t.after(() => Object.assign(console, saved));
  return logged;
}

/**
 * A TCP proxy in front of Redis that the test can cut (drop every connection and stop listening, so
 * new ones are refused) and restore on the same port, or stall (hold the bytes without forwarding).
 */
class CuttableProxy {
  readonly #sockets = new Set<net.Socket>();
  readonly #server = net.createServer((client) => this.#pipe(client));
  #stalled = false;
  #port = 0;

  private constructor(readonly target: URL) {}

  static async start(target: URL): Promise<CuttableProxy> {
    const proxy = new CuttableProxy(target);
    await proxy.restore();
    return proxy;
  }

  /** The Redis URL with the proxy's address in place of Redis's. */
  url(redisUrl: string): string {
    const url = new URL(redisUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.#port);
    return url.href;
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async restore(): Promise<void> {
    this.#server.listen(this.#port, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as net.AddressInfo).port;
  }

  stall(): void {
    this.#stalled = true;
    for (const socket of this.#sockets) socket.pause();
  }

  unstall(): void {
    this.#stalled = false;
    for (const socket of this.#sockets) socket.resume();
  }

  async stop(): Promise<void> {
    if (this.#server.listening) await this.cut();
    for (const socket of this.#sockets) socket.destroy();
  }

  #pipe(client: net.Socket): void {
    const host = this.target.hostname.replace(/^\[(.*)\]$/, '$1');
    const upstream = net.connect(Number(this.target.port || 6379), host);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      if (this.#stalled) socket.pause();
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}

describe('redis through the ephemeral spec', { skip: unreachable ?? false }, () => {
  it('openEphemeral("redis://…") opens the Redis adapter', async (t) => {
    const ephemeral = await openEphemeral(REDIS_URL);
    t.after(() => ephemeral.close());
    assert.equal(ephemeral.kind, 'redis');
    const key = `gwtest:${randomUUID()}`;
    await ephemeral.set(key, 'v', 1000);
    assert.equal(await ephemeral.consume(key), 'v');
    assert.equal(await ephemeral.get(key), undefined);
  });

  it('takes its timeouts from the URL and refuses a bad one', async (t) => {
    const ephemeral = await openEphemeral(`${REDIS_URL}?commandTimeoutMs=1500&connectTimeoutMs=1500`);
    t.after(() => ephemeral.close());
    await ephemeral.ping();
    for (const bad of ['commandTimeoutMs=0', 'connectTimeoutMs=soon']) {
      await assert.rejects(openEphemeral(`${REDIS_URL}?${bad}`), StoreConfigError);
    }
  });
});
