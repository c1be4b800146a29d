import { RpcCode, RpcError, shown } from '../errors.ts';
import type { RpcRequest } from './envelope.ts';

/**
 * 2026-07-28 standard request headers (basic/transports/streamable-http, "Standard Request
 * Headers", "Value Encoding", "Server Validation"): Mcp-Method always, Mcp-Name for the three
 * named methods; values that are not plain printable ASCII come as =?base64?...?=.
 */
const NAME_SOURCE: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const PLAIN = /^[\x20-\x7e\t]*$/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a header value; undefined when it is neither plain ASCII nor a valid sentinel. */
export function decodeHeaderValue(raw: string): string | undefined {
  if (raw.startsWith(SENTINEL_PREFIX) && raw.endsWith(SENTINEL_SUFFIX) && raw.length >= 11) {
    const b64 = raw.slice(SENTINEL_PREFIX.length, -SENTINEL_SUFFIX.length);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
    try {
      return STRICT_UTF8.decode(Buffer.from(b64, 'base64')); // invalid UTF-8 matches nothing
    } catch {
      return undefined;
    }
  }
  return PLAIN.test(raw) ? raw : undefined;
}

function mismatch(message: string): RpcError {
  return new RpcError(RpcCode.HeaderMismatch, `Header mismatch: ${message}`, undefined, 400);
}

/** Throws -32020 (HTTP 400) when Mcp-Method / Mcp-Name are missing or disagree with the body. */
export function checkStandardHeaders(
  msg: RpcRequest,
  header: (name: string) => string | undefined,
): void {
  const rawMethod = header('mcp-method');
  if (rawMethod === undefined) throw mismatch('Mcp-Method header is required');
  const method = decodeHeaderValue(rawMethod);
  if (method !== msg.method) {
    throw mismatch(`Mcp-Method header value '${clip(rawMethod)}' does not match body value '${clip(msg.method)}'`);
  }
  const source = NAME_SOURCE[msg.method];
  if (!source) return;
  const rawName = header('mcp-name');
  if (rawName === undefined) throw mismatch('Mcp-Name header is required for this method');
  const name = decodeHeaderValue(rawName);
  const body = msg.params?.[source];
  if (name === undefined || name !== body) {
    throw mismatch(`Mcp-Name header value '${clip(rawName)}' does not match body value '${shown(body)}'`);
  }
}

const clip = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}...` : s);
