import assert from 'node:assert/strict';
import pino, { type Logger } from 'pino';
import { ANONYMOUS, createGangway, type Gangway, type GangwayConfig, type Principal } from '../../src/index.ts';
import type { AuditRecord } from '../../src/store/types.ts';
import type { Authenticate } from '../../src/transport/endpoint.ts';

/**
 * Shared by the policy tests: in-process requests that carry a peer address, a test clock,
 * callers resolved from a test header, a log sink, and the audit log as the tests read it.
 */

export const MODERN = '2026-07-28';

/** A clock the tests move by hand: passed to the store adapters as `now`. */
export class TestClock {
  constructor(public t = Date.UTC(2030, 0, 15, 12, 0, 0)) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export function principal(subject: string, tenant: string | null, extra: Partial<Principal> = {}): Principal {
  return { subject, tenant, scopes: [], client: `key-${subject}`, via: 'custom', ...extra };
}

/**
 * A product's own `authenticate`: the `x-api-key` header names a caller in `keys`. No header is
 * anonymous; an unknown key is refused with 401 (so a typo in a test cannot pass as anonymous).
 */
export function keyAuth(keys: Record<string, Principal>): Authenticate {
  return (input) => {
    const key = input.header('x-api-key');
    if (key === undefined) return ANONYMOUS;
    const p = Object.hasOwn(keys, key) ? keys[key] : undefined;
    if (p) return p;
    return { status: 401, headers: { 'content-type': 'application/json' }, body: '{"error":"unknown test key"}' };
  };
}

/** A pino logger writing every line (debug and up) into `lines`. */
export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** An app for in-process tests: memory stores and a silent logger unless the config says otherwise. */
export function policyApp(config: Partial<GangwayConfig> = {}): Gangway {
  return createGangway({ name: 'policy-test', version: '1.0.0', store: 'memory', logger: { level: 'silent' }, ...config });
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON-RPC bodies
  json: any;
}

/** Reads a JSON or SSE answer; for SSE, the message that answers the request (has `result` or `error`). */
async function read(res: Response): Promise<Answer> {
  const text = await res.text();
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    for (const line of text.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const m = JSON.parse(line.slice(5)) as Record<string, unknown>;
      if ('result' in m || 'error' in m) json = m;
    }
  } else {
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, headers: res.headers, text, json };
}

export interface SendOptions {
  headers?: Record<string, string>;
  /** The peer's socket address as the host passes it to `app.fetch`. */
  ip?: string;
  path?: string;
  method?: string;
}

/** One POST to the MCP endpoint through the fetch face. */
export async function send(app: Gangway, body: unknown, o: SendOptions = {}): Promise<Answer> {
  const res = await app.fetch(
    new Request(`http://localhost${o.path ?? '/mcp'}`, {
      method: o.method ?? 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...o.headers },
      body: JSON.stringify(body),
    }),
    o.ip === undefined ? undefined : { ip: o.ip },
  );
  return read(res);
}

export interface ModernOptions extends SendOptions {
  /** Client capabilities declared in `_meta`. Default none. */
  capabilities?: Record<string, unknown>;
  /** Extra params (requestState, inputResponses...). */
  params?: Record<string, unknown>;
  id?: number | string;
}

let ids = 1;

/** A 2026-07-28 tools/call with a consistent envelope and headers. */
export function callTool(app: Gangway, name: string, args: Record<string, unknown>, o: ModernOptions = {}): Promise<Answer> {
  return modernRequest(app, 'tools/call', { name, arguments: args, ...o.params }, o);
}

/** Any 2026-07-28 request. */
export function modernRequest(app: Gangway, method: string, params: Record<string, unknown>, o: ModernOptions = {}): Promise<Answer> {
  const target = (params.name ?? params.uri) as string | undefined;
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': o.capabilities ?? {},
  };
  return send(
    app,
    { jsonrpc: '2.0', id: o.id ?? ids++, method, params: { _meta: meta, ...params } },
    {
      ...o,
      headers: {
        'mcp-protocol-version': MODERN,
        'mcp-method': method,
        ...(target !== undefined ? { 'mcp-name': target } : {}),
        ...o.headers,
      },
    },
  );
}

export interface LegacySession {
  id: string;
  request(method: string, params?: Record<string, unknown>, headers?: Record<string, string>): Promise<Answer>;
  call(name: string, args: Record<string, unknown>, headers?: Record<string, string>): Promise<Answer>;
}

/** initialize + notifications/initialized in a 2025 era; requests are then bound to the session. */
export async function legacySession(
  app: Gangway,
  version: string,
  o: { headers?: Record<string, string>; ip?: string; capabilities?: Record<string, unknown> } = {},
): Promise<LegacySession> {
  const init = await send(
    app,
    { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities: o.capabilities ?? {}, clientInfo: { name: 'policy-test', version: '1' } } },
    { headers: o.headers, ip: o.ip },
  );
  const id = init.headers.get('mcp-session-id');
  assert.ok(id, `initialize answered ${init.status} ${init.text}`);
  const headers = { 'mcp-session-id': id, 'mcp-protocol-version': version, ...o.headers };
  await send(app, { jsonrpc: '2.0', method: 'notifications/initialized' }, { headers, ip: o.ip });
  let n = 1;
  const request = (method: string, params?: Record<string, unknown>, extra: Record<string, string> = {}) =>
    send(app, { jsonrpc: '2.0', id: n++, method, ...(params ? { params } : {}) }, { headers: { ...headers, ...extra }, ip: o.ip });
  return { id, request, call: (name, args, extra) => request('tools/call', { name, arguments: args }, extra) };
}

/** Every audit row, oldest first. */
export async function auditRows(app: Gangway, query: { event?: string; tool?: string } = {}): Promise<AuditRecord[]> {
  const { store } = await app.stores();
  return store.audit.query({ limit: 1000, order: 'asc', ...query });
}

/** The text of a tool result's first content block. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON-RPC bodies are untyped
export const textOf = (a: Answer | { json: any }): string => a.json?.result?.content?.[0]?.text ?? '';

/** Asserts a confirmation refusal: a tool error with `structuredContent.error.code` (2025-06-18+). */
export function assertRefused(a: Answer, code: string): void {
  assert.equal(a.status, 200, a.text);
  assert.equal(a.json.result?.isError, true, a.text);
  assert.equal(a.json.result.structuredContent?.error?.code, code, a.text);
  assert.equal(typeof a.json.result.structuredContent.error.message, 'string');
}
