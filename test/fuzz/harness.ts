import http from 'node:http';
import type { Gangway } from '../../src/index.ts';
import { MAX_BODY } from './fixture.ts';
import { type FuzzCase, type HeaderValue, POOL_SIZE, poolCaps, poolEra } from './gen.ts';

/** What came back, read to the end or cut off at a bound. */
export interface Observed {
  readonly face: 'fetch' | 'node';
  /** 0 when no response arrived. */
  status: number;
  contentType: string;
  headers: Record<string, string>;
  /** The body (for SSE: every byte read before the end or the cut). */
  body: Buffer;
  /** SSE: the server ended the stream. JSON: always true once read. */
  ended: boolean;
  /** We stopped reading a stream on purpose (GET stream, listen stream, size bound). */
  cut: boolean;
  /** Transport failure on the client side (reset, hang). */
  netError: string | undefined;
  /** fetch face: app.fetch() rejected instead of answering (a fetch-style host turns that into a 500). */
  rejected?: string;
}

/** Per-request bound: no headers (or no end of a request stream) by then is a hang. */
export const HANG_MS = 5_000;
/** How long an open GET stream is watched before it is cut. */
const GET_STREAM_MS = 30;
/** Most bytes read from one response. */
const MAX_READ = 2 * 1024 * 1024;

const LISTEN_ACK = 'notifications/subscriptions/acknowledged';

// ------------------------------------------------------------------------------------------
// Session pool: live 2025-era sessions the generated cases can name

export class SessionPool {
  private readonly ids: Array<string | undefined> = new Array(POOL_SIZE).fill(undefined);
  initialized = 0;

  constructor(private readonly app: Gangway) {}

  async get(slot: number): Promise<string> {
    const known = this.ids[slot];
    if (known) return known;
    const res = await this.app.fetch(
      new Request('http://127.0.0.1:3000/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: poolEra(slot),
            capabilities: poolCaps(slot),
            clientInfo: { name: 'fuzz-pool', version: '1' },
          },
        }),
      }),
    );
    const id = res.headers.get('mcp-session-id');
    const text = await res.text();
    if (res.status !== 200 || !id) throw new Error(`pool: initialize failed: ${res.status} ${text}`);
    this.initialized++;
    this.ids[slot] = id;
    return id;
  }

  /** The session may be gone (DELETE, 404): start a fresh one next time. */
  forget(slot: number): void {
    this.ids[slot] = undefined;
  }
}

export async function resolveHeaders(
  headers: FuzzCase['headers'],
  pool: SessionPool,
): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const [k, v] of headers) out.push([k, typeof v === 'string' ? v : await pool.get(v.session)]);
  return out;
}

export function sessionSlots(headers: FuzzCase['headers']): number[] {
  return headers.flatMap(([, v]: readonly [string, HeaderValue]) =>
    typeof v === 'string' ? [] : [v.session],
  );
}

// ------------------------------------------------------------------------------------------
// SSE

export interface SseEvent {
  event: string | undefined;
  data: string;
}

/** Splits complete SSE events out of `text` (the tail after the last blank line is left out). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const blocks = text.replace(/\r\n?/g, '\n').split('\n\n');
  blocks.pop(); // incomplete (or empty) tail
  for (const block of blocks) {
    let event: string | undefined;
    const data: string[] = [];
    let any = false;
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') {
        data.push(value);
        any = true;
      } else if (field === 'event') event = value;
    }
    if (any) events.push({ event, data: data.join('\n') });
  }
  return events;
}

const isListenStream = (text: string) => {
  const first = parseSse(text)[0];
  return first?.data.includes(LISTEN_ACK) === true;
};

// ------------------------------------------------------------------------------------------
// The fetch face: app.fetch(new Request(...)), in process

export async function sendFetch(
  app: Gangway,
  c: FuzzCase,
  headers: Array<[string, string]>,
): Promise<Observed> {
  const h = new Headers();
  for (const [k, v] of headers) h.append(k, v);
  const gone = new AbortController();
  const init: RequestInit = { method: c.method, headers: h, signal: gone.signal };
  if (c.body && c.method !== 'GET' && c.method !== 'HEAD') {
    if (c.abort === 'body' && c.body.length > 1) {
      // the client goes away halfway through its upload: the body stream errors
      const half = c.body.slice(0, c.body.length >> 1);
      init.body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(half);
          controller.error(new Error('client went away mid-body'));
        },
      });
      (init as { duplex?: string }).duplex = 'half';
    } else init.body = c.body as Uint8Array<ArrayBuffer>;
  }
  const request = new Request(`http://127.0.0.1:3000${c.path}`, init);
  const obs: Observed = {
    face: 'fetch',
    status: 0,
    contentType: '',
    headers: {},
    body: Buffer.alloc(0),
    ended: false,
    cut: false,
    netError: undefined,
  };
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), HANG_MS);
  });
  try {
    const pending = app
      .fetch(request)
      .catch((err: unknown) => ({ rejected: (err as Error)?.stack ?? String(err) }));
    if (c.abort === 'early') gone.abort();
    const res = await Promise.race([pending, hang]);
    if (res !== 'hang' && 'rejected' in res) {
      obs.rejected = res.rejected;
      return obs;
    }
    if (res === 'hang') {
      obs.netError = `no response within ${HANG_MS} ms`;
      return obs;
    }
    obs.status = res.status;
    obs.contentType = res.headers.get('content-type') ?? '';
    res.headers.forEach((v, k) => {
      obs.headers[k] = v;
    });
    if (!res.body) {
      obs.ended = true;
      return obs;
    }
    if (c.abort) {
      gone.abort();
      obs.cut = true;
      await res.body.cancel().catch(() => {});
      return obs;
    }
    const sse = obs.contentType.startsWith('text/event-stream');
    const reader = res.body.getReader();
    const parts: Buffer[] = [];
    let size = 0;
    const getDeadline = c.method === 'GET' && sse ? Date.now() + GET_STREAM_MS : Number.POSITIVE_INFINITY;
    for (;;) {
      const wait = Math.min(getDeadline - Date.now(), HANG_MS);
      let t2: NodeJS.Timeout | undefined;
      const step = await Promise.race([
        reader.read(),
        new Promise<'timeout'>((resolve) => {
          t2 = setTimeout(() => resolve('timeout'), Math.max(0, wait));
        }),
      ]);
      clearTimeout(t2);
      if (step === 'timeout') {
        if (getDeadline !== Number.POSITIVE_INFINITY) obs.cut = true;
        else obs.netError = `response stream did not end within ${HANG_MS} ms`;
        await reader.cancel().catch(() => {});
        break;
      }
      if (step.done) {
        obs.ended = true;
        break;
      }
      parts.push(Buffer.from(step.value));
      size += step.value.byteLength;
      if (size > MAX_READ || (sse && isListenStream(Buffer.concat(parts).toString('utf8')))) {
        obs.cut = true;
        await reader.cancel().catch(() => {});
        break;
      }
    }
    obs.body = Buffer.concat(parts);
    return obs;
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------------------------------
// The node:http face: raw header lines and raw body bytes over a socket

export function sendNode(
  port: number,
  agent: http.Agent,
  c: FuzzCase,
  headers: Array<[string, string]>,
): Promise<Observed> {
  return new Promise((resolve) => {
    const obs: Observed = {
      face: 'node',
      status: 0,
      contentType: '',
      headers: {},
      body: Buffer.alloc(0),
      ended: false,
      cut: false,
      netError: undefined,
    };
    const raw: string[] = [];
    for (const [k, v] of headers) raw.push(k, v);
    const body = c.body;
    if (body && c.chunks === 0) raw.push('Content-Length', String(body.length));
    if (body && c.chunks > 0) raw.push('Transfer-Encoding', 'chunked');
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      obs.body = Buffer.concat(parts);
      resolve(obs);
    };
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: c.method,
      path: c.path,
      headers: raw,
      setHost: false,
      agent,
    });
    const timer = setTimeout(() => {
      obs.netError ??= obs.status
        ? `response stream did not end within ${HANG_MS} ms`
        : `no response within ${HANG_MS} ms`;
      req.destroy();
      finish();
    }, HANG_MS);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (done) return;
      obs.netError = err.code ?? err.message;
      finish();
    });
    req.on('response', (res) => {
      obs.status = res.statusCode ?? 0;
      if (c.abort) {
        obs.cut = true;
        finish();
        req.destroy();
        return;
      }
      obs.contentType = String(res.headers['content-type'] ?? '');
      for (const [k, v] of Object.entries(res.headers))
        obs.headers[k] = Array.isArray(v) ? v.join(', ') : String(v);
      const sse = obs.contentType.startsWith('text/event-stream');
      const cut = () => {
        if (done) return;
        obs.cut = true;
        finish();
        res.destroy();
        req.destroy();
      };
      if (sse && c.method === 'GET') setTimeout(cut, GET_STREAM_MS);
      res.on('data', (chunk: Buffer) => {
        if (done) return;
        parts.push(chunk);
        size += chunk.length;
        if (size > MAX_READ || (sse && isListenStream(Buffer.concat(parts).toString('utf8')))) cut();
      });
      res.on('end', () => {
        obs.ended = true;
        finish();
      });
      res.on('aborted', () => {
        if (done) return;
        obs.netError = 'response aborted by the server mid-body';
        finish();
      });
      res.on('error', () => {});
    });
    if (c.abort === 'body' && body && body.length > 1) {
      req.write(body.subarray(0, body.length >> 1));
      setImmediate(() => {
        req.destroy();
        finish();
      });
      return;
    }
    if (c.abort === 'early') {
      req.end(body ?? undefined);
      setImmediate(() => {
        if (!obs.status) {
          obs.cut = true;
          req.destroy();
          finish();
        }
      });
      return;
    }
    if (!body) req.end();
    else if (c.chunks === 0) req.end(body);
    else {
      // equal pieces: splits land inside multi-byte UTF-8 sequences often enough
      const n = Math.min(c.chunks, Math.max(1, body.length));
      const step = Math.ceil(body.length / n);
      for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
      req.end();
    }
  });
}

// ------------------------------------------------------------------------------------------
// The oracle

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown) => typeof v === 'string' || typeof v === 'number';

/** A JSON-RPC error object: jsonrpc "2.0", error {code integer, message string}, id string|number|null. */
export function errorProblem(v: unknown): string | undefined {
  if (!isObject(v)) return 'not an object';
  if (v.jsonrpc !== '2.0') return 'jsonrpc is not "2.0"';
  if (!('id' in v) || !(v.id === null || isId(v.id))) return 'id missing or not string|number|null';
  if ('result' in v) return 'has both result and error';
  const e = v.error;
  if (!isObject(e)) return 'error is not an object';
  if (!Number.isInteger(e.code)) return 'error.code is not an integer';
  if (typeof e.message !== 'string') return 'error.message is not a string';
  return undefined;
}

/** A JSON-RPC response: a success with string|number id, or a well-formed error. */
export function responseProblem(v: unknown): string | undefined {
  if (isObject(v) && 'result' in v) {
    if (v.jsonrpc !== '2.0') return 'jsonrpc is not "2.0"';
    if (!isId(v.id)) return 'result with an id that is not string|number';
    if ('error' in v) return 'has both result and error';
    return undefined;
  }
  return errorProblem(v);
}

/** Any JSON-RPC message on an SSE stream. */
function messageProblem(v: unknown): string | undefined {
  if (isObject(v) && 'method' in v) {
    if (v.jsonrpc !== '2.0') return 'jsonrpc is not "2.0"';
    if (typeof v.method !== 'string') return 'method is not a string';
    if ('id' in v && !isId(v.id)) return 'request id is not string|number';
    return undefined;
  }
  return responseProblem(v);
}

const ENVELOPE = new Set(['jsonrpc', 'id', 'method', 'params']);

/** A JSON-RPC 2.0 request as the spec (and MCP) defines it: every server must answer it with its id. */
function isWellFormedRequest(m: unknown): boolean {
  return (
    isObject(m) &&
    Object.keys(m).every((k) => ENVELOPE.has(k)) &&
    m.jsonrpc === '2.0' &&
    (typeof m.id === 'string' || (typeof m.id === 'number' && Number.isSafeInteger(m.id))) &&
    typeof m.method === 'string' &&
    m.method.length > 0 &&
    m.method.length <= 256 &&
    (m.params === undefined || isObject(m.params))
  );
}

export interface SentIds {
  /** The id of a single (non-batch) message, if it has a usable one. */
  single: string | number | undefined;
  /** Every usable id in the body. */
  all: Set<unknown>;
  /** How many well-formed requests the body holds (they all need an answer). */
  requests: number;
}

/** Ids of the messages in a body, as a plain JSON parser sees them. */
export function sentIds(body: Uint8Array | null): SentIds {
  const out: SentIds = { single: undefined, all: new Set(), requests: 0 };
  if (!body) return out;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return out;
  }
  const idOf = (m: unknown) =>
    isObject(m) && (typeof m.id === 'string' || (typeof m.id === 'number' && Number.isSafeInteger(m.id)))
      ? m.id
      : undefined;
  for (const m of Array.isArray(v) ? v : [v]) {
    const id = idOf(m);
    if (id !== undefined) out.all.add(id);
    if (isWellFormedRequest(m)) out.requests++;
  }
  if (!Array.isArray(v)) out.single = idOf(v);
  return out;
}

/** JSON-RPC 2.0: id null only when the id could not be read (parse error, invalid request). */
function lostId(e: unknown, ids: SentIds): string | undefined {
  const err = e as { id: unknown; error: { code: number } };
  if (err.id !== null || ids.single === undefined || ids.requests !== 1) return undefined;
  if (err.error.code === -32700 || err.error.code === -32600) return undefined;
  return `error ${err.error.code} answers request id ${JSON.stringify(ids.single)} with id null`;
}

/** A 200 whose body is only JSON-RPC errors (an in-band refusal). */
function isRefusal(obs: Observed): boolean {
  if (!/^application\/json\b/i.test(obs.contentType)) return false;
  const parsed = parseJson(obs.body);
  if (!parsed.ok) return false;
  const list = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
  return list.length > 0 && list.every((m) => errorProblem(m) === undefined);
}

function parseJson(buf: Buffer): { ok: true; value: Json } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(buf.toString('utf8')) as Json };
  } catch {
    return { ok: false };
  }
}

/**
 * Everything a reply may be. Returns a description of what is wrong, or undefined. Order:
 * transport failures, 5xx, statuses outside 2xx/4xx, then the body for its status.
 */
export function replyProblem(c: FuzzCase, obs: Observed): string | undefined {
  if (obs.rejected)
    return `app.fetch() rejected instead of answering (a fetch-style host answers 500): ${obs.rejected}`;
  if (c.abort) return obs.status >= 500 ? `server error status ${obs.status} (client aborted)` : undefined;
  if (obs.netError) {
    // the server may close the socket under a body it refused for size while we still write it
    const oversized = (c.body?.length ?? 0) > MAX_BODY;
    if (
      !(oversized && obs.status === 0 && /EPIPE|ECONNRESET/.test(obs.netError)) &&
      !(oversized && obs.status === 413)
    ) {
      return `transport: ${obs.netError}${obs.status ? ` (after status ${obs.status})` : ''}`;
    }
    return undefined;
  }
  const { status } = obs;
  if (status >= 500) return `server error status ${status}`;
  // An exception that a catch-all turned into "Internal error": the fixture's handlers never
  // fail that way (a throwing tool is an isError result), so only a server bug produces one.
  if (obs.body.includes('"code":-32603'))
    return `-32603 Internal error (an exception escaped) in a ${status} reply`;
  if (status < 200 || (status >= 300 && status < 400) || status >= 600) return `unexpected status ${status}`;
  // only POST bodies are JSON-RPC; a GET or DELETE body is ignored
  const ids = sentIds(c.method === 'POST' ? c.body : null);
  const health = /^\/(healthz|readyz)(\?|$)/.test(c.path);
  const json = /^application\/json\b/i.test(obs.contentType);
  const sse = /^text\/event-stream\b/i.test(obs.contentType);
  const noBody = c.method === 'HEAD';

  if (status >= 400) {
    if (!json || noBody) return undefined; // e.g. node:http's own 400 for a request without Host
    const parsed = parseJson(obs.body);
    if (!parsed.ok) return `${status} claims application/json but the body does not parse`;
    const list = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
    if (list.length === 0) return `${status} with an empty JSON array`;
    for (const e of list) {
      const p = errorProblem(e);
      if (p) return `${status} body is not a well-formed JSON-RPC error: ${p}`;
      const id = (e as { id: unknown }).id;
      if (id !== null && ids.all.size && !ids.all.has(id))
        return `${status} error carries id ${JSON.stringify(id)} that was never sent`;
      const lost = list.length === 1 ? lostId(e, ids) : undefined;
      if (lost) return `${status} ${lost}`;
    }
    return undefined;
  }
  if (c.refuse && (status === 202 || (status === 200 && !isRefusal(obs)))) {
    return `an ambiguous envelope was accepted (${status}): ${c.refuse}`;
  }
  if (status === 202 || status === 204) {
    if (status === 202 && c.method === 'POST' && ids.requests > 0)
      return `202 (no answer will come) for a body holding ${ids.requests} well-formed request(s)`;
    return obs.body.length ? `${status} with a body (${obs.body.length} bytes)` : undefined;
  }
  if (status !== 200) return `unexpected success status ${status}`;
  if (health) {
    const parsed = parseJson(obs.body);
    return parsed.ok && isObject(parsed.value) && typeof parsed.value.status === 'string'
      ? undefined
      : 'health body malformed';
  }
  if (json) {
    if (noBody) return undefined;
    const parsed = parseJson(obs.body);
    if (!parsed.ok) return '200 application/json body does not parse';
    const v = parsed.value;
    if (Array.isArray(v)) {
      if (v.length === 0) return '200 with an empty batch reply';
      for (const m of v) {
        const p = responseProblem(m);
        if (p) return `batch reply element: ${p}`;
        const id = (m as { id: unknown }).id;
        if (id !== null && !ids.all.has(id))
          return `batch reply carries id ${JSON.stringify(id)} that was never sent`;
      }
      return undefined;
    }
    const p = responseProblem(v);
    if (p) return `200 body: ${p}`;
    const lost = 'error' in (v as object) ? lostId(v, ids) : undefined;
    if (lost) return `200 ${lost}`;
    const id = (v as { id: unknown }).id;
    if (id !== null && ids.all.size && !ids.all.has(id))
      return `200 reply id ${JSON.stringify(id)} differs from the request id ${JSON.stringify(ids.single)}`;
    if ('result' in (v as object) && ids.single === undefined && c.method === 'POST')
      return '200 result for a body without a request id';
    return undefined;
  }
  if (sse) {
    const events = parseSse(obs.body.toString('utf8'));
    for (const e of events) {
      if (e.event !== undefined && e.event !== 'message') return `SSE event type "${e.event}"`;
      let m: unknown;
      try {
        m = JSON.parse(e.data);
      } catch {
        return `SSE data is not JSON: ${e.data.slice(0, 120)}`;
      }
      const p = messageProblem(m);
      if (p) return `SSE message: ${p}`;
    }
    if (c.method === 'POST' && !obs.cut) {
      if (!obs.ended) return 'request stream did not end';
      const last = events.at(-1);
      if (!last) return 'request stream ended without a message';
      const m = JSON.parse(last.data) as Record<string, unknown>;
      if ('method' in m) return 'request stream ended without its response';
      if (m.id !== null && ids.single !== undefined && m.id !== ids.single) {
        return `stream response id ${JSON.stringify(m.id)} differs from the request id ${JSON.stringify(ids.single)}`;
      }
    }
    return undefined;
  }
  if (noBody) return undefined;
  return `200 with content-type "${obs.contentType}"`;
}

/** A reproducer: exact request and what came back. */
export function describeExchange(
  c: FuzzCase,
  headers: Array<[string, string]>,
  obs: Observed | undefined,
): string {
  const body = c.body ? Buffer.from(c.body) : undefined;
  const bodyText = body ? body.toString('utf8') : '';
  const lossless = body ? Buffer.from(bodyText, 'utf8').equals(body) : true;
  const lines = [
    `face: ${obs?.face ?? '?'}  target: ${c.target}  generator: ${c.label}`,
    `${c.method} ${c.path}`,
    ...headers.map(([k, v]) => `${k}: ${JSON.stringify(v)}`),
    body
      ? `body (${body.length} bytes${c.chunks ? `, chunked in ${c.chunks}` : ''}): ${
          lossless ? JSON.stringify(clip(bodyText)) : `hex ${clip(body.toString('hex'))}`
        }`
      : 'no body',
  ];
  if (obs) {
    lines.push(
      `-> ${obs.rejected ? 'app.fetch() rejected' : obs.status || 'no response'} ${obs.contentType}${obs.netError ? ` [${obs.netError}]` : ''}${obs.cut ? ' [cut]' : ''}`,
      `   ${JSON.stringify(clip(obs.body.toString('utf8')))}`,
    );
  }
  return lines.join('\n');
}

const clip = (s: string) => (s.length > 2000 ? `${s.slice(0, 2000)}... (${s.length} chars)` : s);
