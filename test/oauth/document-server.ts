import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REDIRECT } from './helpers.ts';

/**
 * A real HTTP server on 127.0.0.1 serving Client ID Metadata Documents, counting every
 * connection and request so a test can prove that nothing was fetched.
 */
export class DocumentServer {
  server!: Server;
  port = 0;
  connections = 0;
  hits = new Map<string, number>();
  bigBytesSent = 0;

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  url(path: string): string {
    return `${this.origin}${path}`;
  }

  hitsOf(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = req.url ?? '/';
      this.hits.set(path, this.hitsOf(path) + 1);
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const doc = (extra: Record<string, unknown> = {}) => ({
        client_id: this.url(path),
        client_name: 'Document client',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        ...extra,
      });
      switch (path) {
        case '/client.json':
          return send(200, doc());
        case '/host.json':
          // the id as the client asked for it: lets a test use a host name instead of 127.0.0.1
          return send(200, doc({ client_id: `http://${req.headers.host}${path}` }));
        case '/nocache.json':
          return send(200, doc(), { 'cache-control': 'no-store' });
        case '/markup.json':
          return send(200, doc({ client_name: '<img src=x onerror=alert(1)>' }));
        case '/mismatch.json':
          return send(200, doc({ client_id: this.url('/client.json') }));
        case '/secret.json':
          return send(200, doc({ token_endpoint_auth_method: 'client_secret_post' }));
        case '/redirect.json':
          res.writeHead(302, { location: '/client.json' });
          return res.end();
        case '/big.json': {
          // 10 MB, streamed without Content-Length: the fetcher must stop reading at its cap.
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          let left = 160;
          const pump = () => {
            while (left > 0) {
              left--;
              this.bigBytesSent += chunk.length;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
            res.end();
          };
          res.on('error', () => {});
          return pump();
        }
        default:
          return send(404, { error: 'not found' });
      }
    });
    this.server.on('connection', () => this.connections++);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
