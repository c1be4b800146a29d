import { lazyModule } from '../lazy-module.ts';
import type { Principal } from '../auth/principal.ts';
import { GangwayConfigError, ToolError } from '../errors.ts';
import type { OperationPlan } from '../openapi/operation.ts';
import type { CallToolResult, HandlerContext } from '../registry/types.ts';
import { buildRequest, type UpstreamRequest } from './build-request.ts';
import { mapResponse, type UpstreamResponse } from './map-response.ts';
import { networkFailure } from './network-failure.ts';
import { readCapped } from './read-capped.ts';
import { checkHeaderValue } from './serialize-parameter.ts';

const undici = lazyModule<typeof import('undici')>('undici');

export interface UpstreamOptions {
  /** The API's base URL, fixed by config: arguments only ever fill in the path below it. */
  baseUrl: string;
  /**
   * Upstream headers for the calling principal (an API key for that tenant, a service token).
   * The caller's own MCP credential never reaches the upstream: handlers do not even see it.
   */
  credentials?: (principal: Principal, plan: OperationPlan) => Record<string, string> | Promise<Record<string, string>>;
  /** Header parameters the arguments may set (case-insensitive). Default: every header parameter the spec declares. */
  forwardHeaders?: readonly string[];
  /** Whole-request deadline, connection to last body byte. Default 30000. */
  timeoutMs?: number;
  /** Default 10000. */
  connectTimeoutMs?: number;
  /** Bytes of JSON or text passed to the model; longer answers are cut with a note. Default 100000. */
  maxResponseBytes?: number;
  /** Most bytes read from the socket; beyond it the request is aborted. Binary answers larger than this are refused. Default 5 MiB. */
  maxReadBytes?: number;
  /** Default `gangway`. */
  userAgent?: string;
  /** Keep-alive connections to the upstream. Default 16. */
  connections?: number;
  /** Told about network failures, whose details (addresses, codes) the model never sees. */
  onError?: (error: unknown, plan: OperationPlan) => void;
}

export interface Upstream {
  call(plan: OperationPlan, args: Record<string, unknown>, ctx: Pick<HandlerContext, 'principal' | 'signal'>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Headers a credentials hook may not set: the HTTP client owns framing and the target host. */
const CLIENT_OWNED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'content-type']);

/** The proxy half of OpenAPI import: a tool call becomes one request to a fixed upstream. */
export function createUpstream(options: UpstreamOptions): Upstream {
  const base = parseBaseUrl(options.baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const timeoutMs = positive('timeoutMs', options.timeoutMs, 30_000);
  const limits = { maxResponseBytes: positive('maxResponseBytes', options.maxResponseBytes, 100_000) };
  const maxReadBytes = positive('maxReadBytes', options.maxReadBytes, 5 * 1024 * 1024);
  const forward = options.forwardHeaders ? new Set(options.forwardHeaders.map((h) => h.toLowerCase())) : undefined;
  const allowHeader = forward ? (name: string) => forward.has(name) : undefined;
  const userAgent = options.userAgent ?? 'gangway';
  const pool = new (undici().Pool)(base.origin, {
    connections: positive('connections', options.connections, 16),
    connectTimeout: positive('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 30_000,
  });

  async function call(plan: OperationPlan, args: Record<string, unknown>, ctx: Pick<HandlerContext, 'principal' | 'signal'>): Promise<CallToolResult> {
    let request: UpstreamRequest;
    let path: string;
    try {
      request = buildRequest(plan, args, { allowHeader });
      path = basePath + request.path;
      assertWithinBase(path);
    } catch (err) {
      if (err instanceof ToolError) return { isError: true, content: [{ type: 'text' as const, text: err.message }] };
      throw err;
    }
    const headers: Record<string, string> = { 'user-agent': userAgent, ...request.headers };
    if (options.credentials) addCredentials(headers, await options.credentials(ctx.principal, plan));

    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([ctx.signal, deadline]);
    let res: UpstreamResponse;
    try {
      const answer = await pool.request({ method: request.method, path, headers, body: request.body, signal });
      const { body, complete } = await readCapped(answer.body, maxReadBytes);
      res = { status: answer.statusCode, headers: answer.headers, body, complete, path: request.path };
    } catch (err) {
      // Cancellation belongs to the engine (it answers for the cancelled or timed-out call).
      if (ctx.signal.aborted) throw ctx.signal.reason;
      options.onError?.(err, plan);
      const text = deadline.aborted ? `The API did not answer within ${timeoutMs} ms.` : networkFailure(err, timeoutMs);
      return { isError: true, content: [{ type: 'text' as const, text }] };
    }
    return mapResponse(plan, res, limits);
  }

  /** Belt and braces: whatever the arguments were, the request stays on the base URL's origin and path. */
  function assertWithinBase(path: string): void {
    const url = new URL(path, base.origin);
    if (url.origin !== base.origin || (url.pathname !== basePath && !url.pathname.startsWith(`${basePath}/`))) {
      throw new ToolError('The request would leave the API base URL; refused.');
    }
  }

  return { call, close: () => pool.close() };
}

function addCredentials(headers: Record<string, string>, credentials: Record<string, string>): void {
  for (const [key, value] of Object.entries(credentials)) {
    const name = key.toLowerCase();
    // A plain Error, not a ToolError: the message names configuration the model must not see.
    if (CLIENT_OWNED.has(name)) throw new Error(`upstream credentials may not set the ${name} header`);
    try {
      checkHeaderValue(name, value);
    } catch {
      throw new Error(`upstream credentials: invalid value for the ${name} header`);
    }
    // A credential cookie (a session for this tenant) goes first; cookie parameters follow.
    headers[name] = name === 'cookie' && headers.cookie ? `${value}; ${headers.cookie}` : value;
  }
}

function parseBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new GangwayConfigError('GW_CONFIG_UPSTREAM', `openapi.upstream.baseUrl is not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GangwayConfigError('GW_CONFIG_UPSTREAM', 'openapi.upstream.baseUrl must be http: or https:');
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new GangwayConfigError(
      'GW_CONFIG_UPSTREAM',
      'openapi.upstream.baseUrl must not carry credentials, a query or a fragment (use credentials for secrets)',
    );
  }
  return url;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw new GangwayConfigError('GW_CONFIG_UPSTREAM', `openapi.upstream.${name} must be a positive integer`);
  }
  return value;
}
