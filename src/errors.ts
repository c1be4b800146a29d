import { randomBytes } from 'node:crypto';

/**
 * Errors with stable codes, mapped to the wire in one place (transport/ for JSON-RPC,
 * oauth/ for OAuth). Three families that never mix: configuration errors (thrown at
 * start-up), JSON-RPC protocol errors, and tool errors (returned as `isError` results).
 */

/**
 * Makes `value instanceof cls` true also for instances another copy of this module made. The CLI
 * loads a gangway.config.ts that Node reads as CommonJS through tsx's tsImport, which gives it its
 * own copy of 'gangway', and a project may install two copies; a ToolError from either is one.
 * The brand is a registered symbol on the prototype. A subclass keeps the ordinary check
 * (a ToolError is not a ConfirmationError), yet its instances carry the parent's brand.
 */
export function brandClass(cls: abstract new (...args: never[]) => Error, name: string): void {
  const mark = Symbol.for(`gangway.${name}`);
  Object.defineProperty(cls.prototype, mark, { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      if (this !== cls) return Function.prototype[Symbol.hasInstance].call(this, value);
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[mark] === true;
    },
  });
}

const COPIES = Symbol.for('gangway.copies');
const shared = globalThis as { [COPIES]?: number };
shared[COPIES] = (shared[COPIES] ?? 0) + 1;

/** How many copies of this module the process has loaded: more than one means two copies of gangway. */
export const loadedCopies = (): number => shared[COPIES] ?? 0;

/** Bad options: thrown by createGangway() and the CLI before anything listens. */
export class GangwayConfigError extends Error {
  override name = 'GangwayConfigError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** JSON-RPC 2.0 error codes, plus the MCP ones (2026-07-28 adds -32020..-32022). */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** 2025 eras: resources/read of an unknown URI. */
  ResourceNotFound: -32002,
  /** Implementation-defined range; the SDKs use it for an unknown Mcp-Session-Id. */
  SessionNotFound: -32001,
  RequestTimeout: -32001,
  RequestCancelled: -32800,
  HeaderMismatch: -32020,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022,
  /** Gangway: a rate limit, concurrency cap or quota refused the request (HTTP 429, data says which). */
  RateLimited: -32029,
  /** Gangway: the caller's plan does not include MCP access (HTTP 403, data names the plan). */
  PlanDenied: -32030,
} as const;

/** A JSON-RPC error to send back; `httpStatus` is what the HTTP face answers with. */
export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
    readonly httpStatus = 200,
  ) {
    super(message);
  }
}

/** A short id that ties an error the client sees to the log line that explains it. */
export function errorReference(): string {
  return randomBytes(5).toString('hex');
}

/** Any client-sent value as a short string for an error message (never throws). */
export function shown(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

export const parseError = (detail: string) => new RpcError(RpcCode.ParseError, `Parse error: ${detail}`, undefined, 400);
export const invalidRequest = (detail: string, httpStatus = 400) =>
  new RpcError(RpcCode.InvalidRequest, `Invalid request: ${detail}`, undefined, httpStatus);
export const invalidParams = (detail: string, data?: unknown) =>
  new RpcError(RpcCode.InvalidParams, detail, data);
export const methodNotFound = (method: string, httpStatus = 200) =>
  new RpcError(RpcCode.MethodNotFound, `Method not found: ${method}`, undefined, httpStatus);

/**
 * Thrown by a tool handler to report a failure the model should read ("Merchant not found").
 * Becomes `{ isError: true, content: [{ type: 'text', text: message }] }`. Any other error a
 * handler throws is reported without its message, which might hold a secret.
 */
export class ToolError extends Error {
  override name = 'ToolError';
  constructor(
    message: string,
    readonly structured?: Record<string, unknown>,
  ) {
    super(message);
  }
}

brandClass(GangwayConfigError, 'GangwayConfigError');
brandClass(RpcError, 'RpcError');
brandClass(ToolError, 'ToolError');

/**
 * A Postgres or Redis outage (the store's GW_STORE_UNAVAILABLE): answered 503 with Retry-After,
 * never 500, by every layer; the adapters reconnect by themselves.
 */
export const isUnavailable = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'GW_STORE_UNAVAILABLE';

/** Seconds a client is told to wait when a backing service is down. */
export const UNAVAILABLE_RETRY_S = 5;
