import net from 'node:net';

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
