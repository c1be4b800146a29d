// What a real client puts on the wire for each scenario, per protocol style.
// A target row names its style; the load generator and the correctness probe both send
// exactly the bytes built here.

/**
 * - `2025-06-18`: stateless use of a 2025 server: no initialize, no Mcp-Session-Id;
 * - `2025-06-18-session`: initialize once (lib/session.ts), then every request carries the
 *   session's Mcp-Session-Id (all connections share the one session);
 * - `2026-07-28`: Mcp-Method / Mcp-Name headers and the per-request `_meta` envelope.
 */
export type Style = '2025-06-18' | '2025-06-18-session' | '2026-07-28';
export const STYLES: readonly Style[] = ['2025-06-18', '2025-06-18-session', '2026-07-28'];
export type ScenarioId = 'call' | 'list';

export interface BenchRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

export const ECHO_TEXT = 'hello from the gangway bench';

const MODERN_VERSION = '2026-07-28';

/** 2026-07-28: version, identity and capabilities travel in every request's `_meta`. */
function modernMeta(): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN_VERSION,
    'io.modelcontextprotocol/clientInfo': { name: 'gangway-bench', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
}

export interface RequestOptions {
  id?: number | string;
  text?: string;
  /** Added as they are, e.g. the Mcp-Session-Id of a `2025-06-18-session` row. */
  headers?: Record<string, string>;
}

export function buildRequest(scenario: ScenarioId, style: Style, opts: RequestOptions = {}): BenchRequest {
  const id = opts.id ?? 1;
  const method = scenario === 'call' ? 'tools/call' : 'tools/list';
  const params: Record<string, unknown> =
    scenario === 'call' ? { name: 'echo', arguments: { text: opts.text ?? ECHO_TEXT } } : {};
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
  };
  if (style !== '2026-07-28') {
    headers['MCP-Protocol-Version'] = '2025-06-18';
  } else {
    headers['MCP-Protocol-Version'] = MODERN_VERSION;
    headers['Mcp-Method'] = method;
    if (scenario === 'call') headers['Mcp-Name'] = 'echo';
    params._meta = modernMeta();
  }
  Object.assign(headers, opts.headers);
  const body = JSON.stringify({ jsonrpc: '2.0', id, method, params });
  return { method: 'POST', path: '/mcp', headers, body };
}
