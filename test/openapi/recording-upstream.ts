import type { OperationPlan } from '../../src/openapi/operation.ts';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request exactly as it arrived: raw request-target, headers as sent, body bytes. */
export interface Recorded {
  method: string;
  /** The raw request-target (`/path?query`), not normalised or decoded. */
  target: string;
  path: string;
  query: string;
  /** Lower-case names; repeated headers joined as node does. */
  headers: Record<string, string | string[] | undefined>;
  /** Alternating names and values, as they came over the wire. */
  rawHeaders: string[];
  body: Buffer;
  /** The client's source port: equal ports mean a reused (keep-alive) connection. */
  remotePort: number | undefined;
  /** Resolves true when the client went away before the answer was finished (an aborted request). */
  aborted: Promise<boolean>;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer | object;
  /** Never answer (for timeout and cancellation tests). */
  hang?: boolean;
  /** Send the headers, then stream filler until the client hangs up (for the read cap). */
  endless?: boolean;
}

type Responder = Reply | ((r: Recorded) => Reply | Promise<Reply>);

interface Route {
  method?: string;
  path: string | RegExp;
  reply: Responder;
}

/**
 * A node:http server on 127.0.0.1 that records every request byte for byte and answers from a
 * programmable table (first matching route wins; default: 200 `{"ok":true}`).
 */
export class RecordingUpstream {
  readonly requests: Recorded[] = [];
  private routes: Route[] = [];
  private server: Server | undefined;
  private waiters: Array<() => void> = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    // Keep-alive connections are what the pool uses; do not let the server close them early.
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  on(method: string | undefined, path: string | RegExp, reply: Responder): this {
    this.routes.unshift({ method: method?.toUpperCase(), path, reply });
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.routes = [];
  }

  /** Resolves once `n` requests have been recorded in total. */
  async received(n: number): Promise<Recorded> {
    while (this.requests.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.requests[n - 1]!;
  }

  get last(): Recorded {
    const r = this.requests.at(-1);
    if (!r) throw new Error('the upstream received no request');
    return r;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let settle!: (v: boolean) => void;
    const aborted = new Promise<boolean>((resolve) => (settle = resolve));
    res.on('close', () => settle(!res.writableFinished));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = req.url ?? '';
    const q = target.indexOf('?');
    const rec: Recorded = {
      method: req.method ?? '',
      target,
      path: q < 0 ? target : target.slice(0, q),
      query: q < 0 ? '' : target.slice(q + 1),
      headers: { ...req.headers },
      rawHeaders: [...req.rawHeaders],
      body: Buffer.concat(chunks),
      remotePort: req.socket.remotePort,
      aborted,
    };
    this.requests.push(rec);
    for (const w of this.waiters.splice(0)) w();

    const route = this.routes.find(
      (r) => (!r.method || r.method === rec.method) && (typeof r.path === 'string' ? r.path === rec.path : r.path.test(rec.path)),
    );
    const reply = route ? (typeof route.reply === 'function' ? await route.reply(rec) : route.reply) : {};
    if (reply.hang) return;
    const headers: Record<string, string | string[]> = { ...reply.headers };
    let body: string | Buffer = '';
    if (reply.body !== undefined) {
      if (typeof reply.body === 'string' || Buffer.isBuffer(reply.body)) body = reply.body;
      else {
        body = JSON.stringify(reply.body);
        headers['content-type'] ??= 'application/json';
      }
    } else if (!route) {
      body = '{"ok":true}';
      headers['content-type'] = 'application/json';
    }
    if (reply.endless) {
      res.writeHead(reply.status ?? 200, headers);
      const filler = Buffer.alloc(64 * 1024, 0x61);
      const pump = () => {
        while (!res.destroyed && res.write(filler));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
      return;
    }
    res.writeHead(reply.status ?? 200, headers);
    res.end(body);
  }
}

/** The value of `name` in a recorded request's raw headers (all occurrences). */
export function rawHeader(rec: Recorded, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rec.rawHeaders.length; i += 2) {
    if (rec.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) out.push(rec.rawHeaders[i + 1]!);
  }
  return out;
}

/** A minimal OperationPlan for proxy tests: a GET of /x with no parameters, overridden per case. */
export function testPlan(over: Partial<OperationPlan> = {}): OperationPlan {
  return {
    tool: 'op',
    operationId: 'op',
    method: 'get',
    path: '/x',
    inputSchema: { type: 'object' },
    annotations: {},
    destructive: false,
    scopes: [],
    tags: [],
    parameters: [],
    body: null,
    produces: [],
    ...over,
  };
}
