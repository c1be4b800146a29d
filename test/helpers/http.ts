import { createGangway, type Gangway, type GangwayConfig } from '../../src/index.ts';

export const MODERN = '2026-07-28';
export const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A Gangway app for in-process tests: memory stores, silent logs. */
export function testApp(config: Partial<GangwayConfig> = {}): Gangway {
  return createGangway({ name: 'test', version: '1.0.0', store: 'memory', logger: { level: 'silent' }, ...config });
}

export interface Posted {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON-RPC bodies
  json: any;
}

/** A JSON-RPC POST as MCP clients send it; `raw` sends `body` as it is. */
export function mcpRequest(body: unknown, headers: Record<string, string> = {}, raw = false, url = 'http://localhost/mcp'): Request {
  return new Request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: raw ? (body as string) : JSON.stringify(body),
  });
}

export async function post(
  app: Gangway,
  body: unknown,
  headers: Record<string, string> = {},
  raw = false,
): Promise<Posted> {
  const res = await app.fetch(mcpRequest(body, headers, raw));
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A 2026-07-28 request with consistent headers and `_meta` (override any part). */
export function modern(
  app: Gangway,
  id: number | string,
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const name = (params.name ?? params.uri) as string | undefined;
  return post(
    app,
    { jsonrpc: '2.0', id, method, params: { _meta: META, ...params } },
    {
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...(name !== undefined ? { 'mcp-name': name } : {}),
      ...headers,
    },
  );
}

/** initialize + notifications/initialized; returns a poster bound to the session. */
export async function session(app: Gangway, version = '2025-11-25', extra: Record<string, string> = {}) {
  const init = await post(
    app,
    { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 't', version: '1' } } },
    extra,
  );
  const id = init.headers.get('mcp-session-id');
  if (!id) throw new Error(`no session: ${init.status} ${init.text}`);
  const h = { 'mcp-session-id': id, 'mcp-protocol-version': version, ...extra };
  await post(app, { jsonrpc: '2.0', method: 'notifications/initialized' }, h);
  let n = 1;
  return {
    id,
    init,
    call: (method: string, params?: Record<string, unknown>, headers: Record<string, string> = {}) =>
      post(app, { jsonrpc: '2.0', id: n++, method, ...(params ? { params } : {}) }, { ...h, ...headers }),
    headers: h,
  };
}

/** Reads the messages of a streaming (SSE) answer one at a time, as they arrive. */
export function sseMessages(res: Response): () => Promise<Record<string, unknown>> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  return async () => {
    for (;;) {
      const m = /^data: ?(.*)$/m.exec(buf.split('\n\n')[0] ?? '');
      const end = buf.indexOf('\n\n');
      if (end >= 0) {
        buf = buf.slice(end + 2);
        if (m) return JSON.parse(m[1]!) as Record<string, unknown>;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += decoder.decode(value, { stream: true });
    }
  };
}

/** A POST whose answer is read as a stream (see sseMessages). */
export function postStreaming(app: Gangway, body: unknown, headers: Record<string, string>): Promise<Response> {
  return app.fetch(mcpRequest(body, headers));
}
