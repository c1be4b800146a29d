import { invalidRequest, type RpcError } from '../errors.ts';

export type RequestId = string | number;

export interface RpcRequest {
  readonly kind: 'request';
  readonly id: RequestId;
  readonly method: string;
  readonly params: Record<string, unknown> | undefined;
}
export interface RpcNotification {
  readonly kind: 'notification';
  readonly method: string;
  readonly params: Record<string, unknown> | undefined;
}
export interface RpcResponse {
  readonly kind: 'response';
  readonly id: RequestId;
  readonly result?: unknown;
  readonly error?: { code: number; message: string; data?: unknown };
}
export type RpcMessage = RpcRequest | RpcNotification | RpcResponse;

/** A message that failed validation, with the id we could recover for the error reply. */
export interface RpcInvalid {
  readonly kind: 'invalid';
  readonly id: RequestId | null;
  readonly error: RpcError;
}

const ALLOWED = new Set(['jsonrpc', 'id', 'method', 'params', 'result', 'error']);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates one JSON-RPC 2.0 message strictly: exact member names (so "Method" next to
 * "method" is refused, not ignored), `jsonrpc: "2.0"`, string or integer ids (MCP forbids
 * null), object params.
 */
export function readMessage(value: unknown): RpcMessage | RpcInvalid {
  if (!isPlainObject(value)) return bad(null, 'a JSON-RPC message must be an object');
  const rawId = value.id;
  const id: RequestId | null =
    typeof rawId === 'string' || (typeof rawId === 'number' && Number.isSafeInteger(rawId)) ? rawId : null;
  for (const key in value) {
    if (!ALLOWED.has(key)) return bad(id, `unexpected member "${key.slice(0, 64)}"`);
  }
  if (value.jsonrpc !== '2.0') return bad(id, 'jsonrpc must be "2.0"');
  if ('id' in value && id === null) return bad(null, 'id must be a string or an integer');

  if ('method' in value) {
    const { method, params } = value;
    if (typeof method !== 'string' || method.length === 0 || method.length > 256) {
      return bad(id, 'method must be a non-empty string');
    }
    if ('result' in value || 'error' in value) return bad(id, 'a request cannot carry result or error');
    if (params !== undefined && !isPlainObject(params)) return bad(id, 'params must be an object');
    if (id === null) return { kind: 'notification', method, params };
    return { kind: 'request', id, method, params };
  }
  if (id === null) return bad(null, 'method is required');
  if ('params' in value) return bad(id, 'a response cannot carry params');
  const hasResult = 'result' in value;
  const hasError = 'error' in value;
  if (hasResult === hasError) return bad(id, 'a response needs exactly one of result and error');
  if (hasError) {
    const e = value.error;
    if (!isPlainObject(e) || !Number.isInteger(e.code) || typeof e.message !== 'string') {
      return bad(id, 'error must have an integer code and a string message');
    }
    return { kind: 'response', id, error: e as RpcResponse['error'] & object };
  }
  return { kind: 'response', id, result: value.result };
}

function bad(id: RequestId | null, detail: string): RpcInvalid {
  return { kind: 'invalid', id, error: invalidRequest(detail) };
}
