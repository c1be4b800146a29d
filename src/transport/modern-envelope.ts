import { invalidParams, RpcCode, RpcError, shown } from '../errors.ts';
import type { Era } from '../protocol/eras.ts';
import { isLogLevel } from '../protocol/scope.ts';
import type { LogLevel } from '../registry/types.ts';
import type { RpcRequest } from './envelope.ts';
import { checkStandardHeaders } from './headers.ts';

const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CAPS = 'io.modelcontextprotocol/clientCapabilities';
const META_LOG = 'io.modelcontextprotocol/logLevel';

/** What a 2026-07-28 request says about its client, in place of a session. */
export interface ModernEnvelope {
  clientCapabilities: Record<string, unknown>;
  logLevel: LogLevel | undefined;
}

/**
 * Checks a 2026-07-28 request's headers and `_meta` envelope (basic/index "Per-request
 * protocol fields", transports/streamable-http "Server Validation"); throws the RpcError to
 * answer: -32020 for headers that disagree with the body, -32602 (400) for a missing field.
 */
export function readModernEnvelope(msg: RpcRequest, header: (name: string) => string | undefined, era: Era): ModernEnvelope {
  checkStandardHeaders(msg, header);
  const meta = msg.params?._meta as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object' || meta[META_VERSION] === undefined || meta[META_CAPS] === undefined) {
    throw new RpcError(
      RpcCode.InvalidParams,
      `Invalid params: _meta must carry "${META_VERSION}" and "${META_CAPS}"`,
      undefined,
      400,
    );
  }
  if (meta[META_VERSION] !== era.version) {
    throw new RpcError(
      RpcCode.HeaderMismatch,
      `Header mismatch: MCP-Protocol-Version header value '${era.version}' does not match body value '${shown(meta[META_VERSION], 40)}'`,
      undefined,
      400,
    );
  }
  const caps = meta[META_CAPS];
  if (typeof caps !== 'object' || caps === null || Array.isArray(caps)) {
    throw new RpcError(RpcCode.InvalidParams, `Invalid params: ${META_CAPS} must be an object`, undefined, 400);
  }
  const level = meta[META_LOG];
  if (level !== undefined && !isLogLevel(level)) throw invalidParams('Invalid params: unknown log level');
  return { clientCapabilities: caps as Record<string, unknown>, logLevel: level };
}
