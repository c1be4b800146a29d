import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP load balancer for tests: each request goes to the next backend in turn, whatever
 * connection it came on (no stickiness), and the answer, streams included, is piped back.
 * `log` says which backend served each request, so a test can prove steps landed apart.
 */
export async function startRoundRobin() {
  const backends: number[] = [];
  const log: Array<{ method: string; path: string; backend: number }> = [];
  let next = 0;
  const server = createServer((req, res) => {
    if (backends.length === 0) {
      res.writeHead(502).end();
      return;
    }
    const backend = next++ % backends.length;
    log.push({ method: req.method ?? '', path: req.url ?? '', backend });
    const upstream = httpRequest(
      { host: '127.0.0.1', port: backends[backend], method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    backends,
    log,
    close: async (): Promise<void> => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
