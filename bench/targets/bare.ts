// The limit: a bare node:http JSON-RPC responder with no protocol engine at all.
// It reads the body, JSON.parse's it, and writes the same bytes an MCP server would:
// tools/call echo -> the text content result; tools/list -> 501 tools pre-serialised once at
// start and spliced with the request id. Anything slower than this is engine overhead.
import { createServer, type ServerResponse } from 'node:http';
import { listedTools } from '../fixtures/tools500.ts';
import { BENCH_HOST, benchPort, reportReady } from '../lib/target-child.ts';

const LIST_PREFIX = Buffer.from('{"jsonrpc":"2.0","id":');
const LIST_SUFFIX = Buffer.from(`,"result":${JSON.stringify({ tools: listedTools() })}}`);
// A 2026-07-28 request (its `_meta` says so) gets the 2026 result shapes: `resultType`, and
// `ttlMs` + `cacheScope` on lists. The limit answers exactly what an MCP server must.
const LIST_SUFFIX_2026 = Buffer.from(
  `,"result":${JSON.stringify({ tools: listedTools(), resultType: 'complete', ttlMs: 300000, cacheScope: 'public' })}}`,
);

interface RpcRequest {
  id?: string | number | null;
  method?: string;
  params?: { name?: string; arguments?: { text?: unknown }; _meta?: Record<string, unknown> };
}

function send(res: ServerResponse, status: number, body: string | Buffer): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function rpcError(id: RpcRequest['id'], code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error: { code, message } });
}

function handle(res: ServerResponse, raw: string): void {
  let msg: RpcRequest;
  try {
    msg = JSON.parse(raw) as RpcRequest;
  } catch {
    send(res, 400, rpcError(null, -32700, 'Parse error'));
    return;
  }
  if (msg.id === undefined) {
    res.writeHead(202).end();
    return;
  }
  const modern = msg.params?._meta?.['io.modelcontextprotocol/protocolVersion'] === '2026-07-28';
  if (msg.method === 'tools/call' && msg.params?.name === 'echo') {
    const text = msg.params.arguments?.text;
    if (typeof text !== 'string') {
      send(res, 200, rpcError(msg.id, -32602, 'text must be a string'));
      return;
    }
    send(
      res,
      200,
      JSON.stringify({
        jsonrpc: '2.0',
        id: msg.id,
        result: modern ? { content: [{ type: 'text', text }], resultType: 'complete' } : { content: [{ type: 'text', text }] },
      }),
    );
    return;
  }
  if (msg.method === 'tools/list') {
    // The cheapest way node:http offers: the cached bytes are written as they are (one writev),
    // never copied into a new buffer per response.
    const id = JSON.stringify(msg.id);
    const suffix = modern ? LIST_SUFFIX_2026 : LIST_SUFFIX;
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': LIST_PREFIX.length + Buffer.byteLength(id) + suffix.length,
    });
    res.cork();
    res.write(LIST_PREFIX);
    res.write(id);
    res.end(suffix);
    return;
  }
  send(res, 200, rpcError(msg.id, -32601, `Method not found: ${String(msg.method)}`));
}

const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    send(res, 405, rpcError(null, -32000, 'Method not allowed'));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => handle(res, Buffer.concat(chunks).toString('utf8')));
});

const port = benchPort();
server.listen(port, BENCH_HOST, () => {
  reportReady(port, () => new Promise<void>((resolve) => server.close(() => resolve())));
});
