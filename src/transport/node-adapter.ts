import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpInput, McpEndpoint } from './endpoint.ts';
import { bodyLength, type HttpReply } from './replies.ts';

/**
 * The node:http fast path for the MCP endpoint: no Request/Response objects, the body read
 * straight from the socket, every decision taken by McpEndpoint (shared with the fetch face).
 */
export function serveNode(endpoint: McpEndpoint, maxBodyBytes: number, req: IncomingMessage, res: ServerResponse): void {
  const input = new NodeInput(req);
  const early = endpoint.preflight(input);
  const cors = endpoint.cors(input);
  if (cors) for (const name in cors) res.setHeader(name, cors[name]!); // merged into writeHead's
  if (early) {
    drainThen(req, res, early);
    return;
  }

  if (input.method === 'POST') {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        chunks.length = 0;
        writeReply(res, endpoint.tooLarge(), true);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      refused = true; // aborted upload: nothing to answer
    });
    req.on('end', () => {
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      (res as Cancellable)[CANCEL] = endpoint.post(input, body, (reply) => writeReply(res, reply));
    });
    return;
  }
  endpoint.bodiless(input).then((reply) => writeReply(res, reply));
}

/** Where serveNode leaves the cancel function of a POST in progress (see onResponseClose). */
export const CANCEL = Symbol('gangway.cancel');
type Cancellable = ServerResponse & { [CANCEL]?: () => void };

/**
 * The one 'close' listener of a response (shared, no closure per request): a response that
 * closes before it finished means the client went away, so its work is cancelled.
 */
export function cancelIfUnfinished(res: ServerResponse): void {
  const cancel = (res as Cancellable)[CANCEL];
  if (cancel && !res.writableFinished) cancel();
}

class NodeInput implements HttpInput {
  readonly method: string;
  private readonly headers: IncomingMessage['headers'];
  private readonly req: IncomingMessage;
  constructor(req: IncomingMessage) {
    this.method = req.method ?? 'GET';
    this.headers = req.headers;
    this.req = req;
  }
  get remoteAddress(): string | undefined {
    return this.req.socket.remoteAddress;
  }
  /** Bound so that it can be passed around as a function (checkStandardHeaders). */
  readonly header = (name: string): string | undefined => {
    const v = this.headers[name];
    return typeof v === 'string' ? v : v?.join(', ');
  };
}

/** Answers without reading a body we refused; the connection closes so no bytes are left over. */
function drainThen(req: IncomingMessage, res: ServerResponse, reply: HttpReply): void {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  writeReply(res, reply, hasBody);
  if (hasBody) req.resume();
}

export function writeReply(res: ServerResponse, reply: HttpReply, closeConnection = false): void {
  if (res.headersSent || res.destroyed) return;
  if (reply.stream) {
    const stream = reply.stream;
    res.writeHead(reply.status, reply.headers);
    res.flushHeaders();
    res.once('close', () => stream.cancel());
    stream.attach(
      (chunk) => res.write(chunk),
      () => res.end(),
    );
    return;
  }
  const body = reply.body ?? '';
  // A flat [name, value, ...] list: node writes it as it is, without building a header map.
  const headers: string[] = ['content-length', String(bodyLength(body))];
  for (const name in reply.headers) headers.push(name, reply.headers[name]!);
  if (closeConnection) headers.push('connection', 'close');
  res.writeHead(reply.status, headers);
  if (!Array.isArray(body)) {
    res.end(body);
    return;
  }
  res.cork(); // one writev for all parts
  for (let i = 0; i < body.length - 1; i++) res.write(body[i]);
  res.end(body[body.length - 1]);
}
