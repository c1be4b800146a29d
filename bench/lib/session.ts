// Opens a 2025-06-18 session the way a real client does (initialize, then
// notifications/initialized) and returns the headers every later request carries.
import type { Style } from './requests.ts';

const BASE_HEADERS = {
  'Content-Type': 'application/json',
  Accept: 'application/json, text/event-stream',
};

export type Prepared = { ok: true; headers: Record<string, string> } | { ok: false; reason: string };

async function post(port: number, headers: Record<string, string>, body: unknown): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
}

export async function prepareStyle(port: number, style: Style): Promise<Prepared> {
  if (style !== '2025-06-18-session') return { ok: true, headers: {} };
  try {
    const init = await post(port, BASE_HEADERS, {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'gangway-bench', version: '1.0.0' },
      },
    });
    const text = await init.text();
    const sessionId = init.headers.get('mcp-session-id');
    if (init.status !== 200 || !sessionId) {
      return {
        ok: false,
        reason: `initialize: HTTP ${init.status}, Mcp-Session-Id ${sessionId ?? 'missing'}: ${text.slice(0, 200)}`,
      };
    }
    if (!text.includes('"protocolVersion":"2025-06-18"')) {
      return { ok: false, reason: `initialize did not agree on 2025-06-18: ${text.slice(0, 200)}` };
    }
    const headers = { 'Mcp-Session-Id': sessionId };
    const ack = await post(
      port,
      { ...BASE_HEADERS, 'MCP-Protocol-Version': '2025-06-18', ...headers },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
    );
    await ack.arrayBuffer();
    if (ack.status !== 202) return { ok: false, reason: `notifications/initialized: HTTP ${ack.status}` };
    return { ok: true, headers };
  } catch (err) {
    return { ok: false, reason: `opening a session: ${(err as Error).message}` };
  }
}
