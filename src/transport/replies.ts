import { RpcCode, RpcError } from '../errors.ts';
import type { RequestId } from './envelope.ts';
import type { Outbox } from './outbox.ts';

/**
 * A response body. Parts are written one after another without being joined, so a cached
 * 200 KB list page is sent as-is rather than copied into every response.
 */
export type Body = string | Buffer | readonly (string | Buffer)[];

export const bodyText = (b: Body): string => (Array.isArray(b) ? b.join('') : b.toString());
export const bodyLength = (b: Body): number =>
  Array.isArray(b) ? b.reduce((n: number, p: string | Buffer) => n + Buffer.byteLength(p), 0) : Buffer.byteLength(b as string | Buffer);

/** What the HTTP face sends: a complete body, or an SSE stream fed by an Outbox. */
export type HttpReply =
  | { status: number; headers: Record<string, string>; body?: Body; stream?: undefined }
  | { status: 200; headers: Record<string, string>; stream: Outbox; body?: undefined };

export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
});

const PREFIX = '{"jsonrpc":"2.0","id":';

/** A JSON-RPC success envelope around a result object or pre-serialised result bytes. */
export function resultMessage(id: RequestId, result: unknown): Body {
  if (Buffer.isBuffer(result)) return [`${PREFIX}${JSON.stringify(id)},"result":`, result, '}'];
  return `${PREFIX}${JSON.stringify(id)},"result":${JSON.stringify(result)}}`;
}

/** The one place errors become JSON-RPC error envelopes. */
export function errorMessage(id: RequestId | null, err: RpcError): string {
  const error: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.data !== undefined) error.data = err.data;
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

export function jsonReply(status: number, body: Body, extra?: Record<string, string>): HttpReply {
  return { status, headers: extra ? { ...JSON_HEADERS, ...extra } : JSON_HEADERS, body };
}

export function errorReply(id: RequestId | null, err: RpcError, extra?: Record<string, string>): HttpReply {
  return jsonReply(err.httpStatus, errorMessage(id, err), extra);
}

/** Transport-level refusals (403, 404, 405, 413, 415...) still carry a JSON-RPC error body. */
export function httpError(status: number, message: string, extra?: Record<string, string>): HttpReply {
  return errorReply(null, new RpcError(RpcCode.InvalidRequest, message, undefined, status), extra);
}

export const ACCEPTED: HttpReply = Object.freeze({ status: 202, headers: {} }) as HttpReply;
