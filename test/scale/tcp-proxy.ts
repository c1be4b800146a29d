import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A TCP proxy in front of a real service (Postgres, Redis) that can cut every connection and refuse new ones. */
export async function startProxy(host: string, port: number) {
  let cutting = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((downstream) => {
    if (cutting) {
      downstream.destroy();
      return;
    }
    const upstream = net.connect(port, host);
    const drop = (): void => {
      downstream.destroy();
      upstream.destroy();
      sockets.delete(downstream);
      sockets.delete(upstream);
    };
    for (const s of [downstream, upstream]) {
      sockets.add(s);
      s.on('error', drop);
      s.on('close', drop);
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const cut = (): void => {
    cutting = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    cut,
    restore: (): void => {
      cutting = false;
    },
    close: async (): Promise<void> => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on right now, for a server the test starts itself (Redis, Postgres). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** What `untilServed` needs of an answer. */
export interface Attempt {
  status: number;
  retryAfter: string | null;
  body: unknown;
}

/**
 * After a cut service is restored: calls `attempt` every 200 ms until it is answered 200, allowing
 * only 503 with `Retry-After: 5` meanwhile (never a 404, a 500 or a lost answer), for `withinMs`.
 */
export async function untilServed(what: string, attempt: () => Promise<Attempt>, withinMs = 20_000): Promise<void> {
  const end = Date.now() + withinMs;
  for (;;) {
    const r = await attempt();
    if (r.status === 200) return;
    assert.equal(r.status, 503, `${what}: only 503 while recovering, got ${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.retryAfter, '5', `${what}: Retry-After`);
    if (Date.now() > end) assert.fail(`${what}: not served again within ${withinMs / 1000} s`);
    await sleep(200);
  }
}
