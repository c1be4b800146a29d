import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.ts';
import { errorReference, invalidRequest, isUnavailable, RpcCode, RpcError, shown, UNAVAILABLE_RETRY_S } from '../errors.ts';
import { type Era, eraFor, SUPPORTED_VERSIONS } from '../protocol/eras.ts';
import type { Engine } from '../protocol/engine.ts';
import type { SessionTable } from '../protocol/session-table.ts';
import { type RequestId, type RpcInvalid, type RpcMessage, type RpcRequest, readMessage } from './envelope.ts';
import { type Admit, admitThen } from './admission.ts';
import { corsHeaders, preflightReply } from './cors.ts';
import { runRequest } from './exchange.ts';
import { LegacyEndpoint } from './legacy.ts';
import { acceptedTypes, type GuardOptions, hostAllowed, isJsonContentType, originAllowed } from './guard.ts';
import type { ListenHub } from './listen.ts';
import { type ModernEnvelope, readModernEnvelope } from './modern-envelope.ts';
import { ACCEPTED, errorReply, type HttpReply, httpError } from './replies.ts';
import { parseStrictJson } from './strict-json.ts';

/** The request as both HTTP faces present it: method and lower-case header lookup. */
export interface HttpInput {
  readonly method: string;
  header(name: string): string | undefined;
  /** The peer's socket address, when the face knows it (policy/ derives the client address). */
  readonly remoteAddress: string | undefined;
}

export type Authenticate = (input: HttpInput) => Principal | HttpReply | Promise<Principal | HttpReply>;
export type Gate = (principal: Principal, request: RpcRequest, input: HttpInput) => HttpReply | null;

export interface EndpointOptions {
  engine: Engine;
  guard: GuardOptions;
  maxBodyBytes: number;
  /** Serve 2025 eras without Mcp-Session-Id (seed 003). */
  stateless: boolean;
  sessions: SessionTable;
  hub: ListenHub;
  authenticate: Authenticate;
  /** Per-request access check once the caller is known (policy/): a refusal is answered as it is. */
  gate?: Gate;
  /** Limits, once access is granted (policy/). */
  admit?: Admit;
  /** Deadline for requests other than tools/call. */
  timeoutMs: number;
  logger: Logger;
  now: () => number;
}

/**
 * The MCP endpoint, shared by the fetch face and the node:http fast path: every decision is
 * made here, the adapters only move bytes. `deliver` is called exactly once per POST.
 */
export class McpEndpoint {
  private readonly hostVerdicts = new Map<string, boolean>();
  private readonly legacy: LegacyEndpoint;
  constructor(readonly o: EndpointOptions) {
    this.legacy = new LegacyEndpoint(this);
  }

  /** The Host allow-list (SECURITY 2), with the verdicts of known hosts cached. */
  hostOk(host: string | undefined): boolean {
    let ok = host === undefined ? false : this.hostVerdicts.get(host);
    if (ok === undefined) {
      ok = hostAllowed(host, this.o.guard);
      if (this.hostVerdicts.size < 256) this.hostVerdicts.set(host!, ok); // bounded: random Hosts are not kept
    }
    return ok;
  }

  /** Checks made before the body is read. Null: go on and read it. */
  preflight(input: HttpInput): HttpReply | null {
    if (!this.hostOk(input.header('host'))) return httpError(403, 'Forbidden: Host not allowed');
    if (!originAllowed(input.header('origin'), this.o.guard)) return httpError(403, 'Forbidden: Origin not allowed');
    if (input.method === 'OPTIONS') return preflightReply(input);
    if (input.method !== 'POST') return null;
    if (!isJsonContentType(input.header('content-type'))) {
      return httpError(415, 'Unsupported Media Type: POST bodies must be application/json');
    }
    const length = input.header('content-length');
    if (length !== undefined && Number(length) > this.o.maxBodyBytes) return this.tooLarge();
    return null;
  }

  /**
   * CORS headers for a browser page on an allowed origin (the MCP Inspector in direct mode, a
   * web client), on every answer including errors; undefined without an allowed Origin.
   */
  cors(input: HttpInput): Record<string, string> | undefined {
    return corsHeaders(input.header('origin'), this.o.guard);
  }

  tooLarge(): HttpReply {
    return httpError(413, `Payload Too Large: the limit is ${this.o.maxBodyBytes} bytes`);
  }

  /**
   * Handles one POST body; `deliver` gets the reply. Continuation style, not async/await: a
   * synchronous credential check and a quick handler answer without a chain of promises.
   * Returns a cancel function for a client that goes away.
   */
  post(input: HttpInput, body: string, deliver: (reply: HttpReply) => void): () => void {
    const call: Call = { deliver, cancel: noop };
    try {
      const parsed = parseStrictJson(body);
      const batch = Array.isArray(parsed);
      if (batch && parsed.length === 0) throw invalidRequest('empty batch');
      const messages: Incoming[] = batch ? parsed.map(readMessage) : [readMessage(parsed)];
      const headerVersion = input.header('mcp-protocol-version');
      const era = headerVersion === undefined ? undefined : eraFor(headerVersion);
      if (headerVersion !== undefined && !era) {
        const first = messages[0];
        deliver(errorReply(first && 'id' in first ? (first.id as RequestId) : null, unsupportedVersion(headerVersion)));
      } else if (era?.modern) this.modern(input, era, messages, batch, call);
      else this.legacy.post(input, era, messages, batch, call);
    } catch (err) {
      deliver(this.crash(err));
    }
    return () => call.cancel();
  }

  /** Resolves the caller, then continues; a refusal (401...) is delivered as it is. */
  withPrincipal(input: HttpInput, call: Call, next: (p: Principal) => void): void {
    const p = this.o.authenticate(input);
    if (!(p instanceof Promise)) {
      if ('status' in p) call.deliver(p);
      else next(p);
      return;
    }
    p.then(
      (r) => ('status' in r ? call.deliver(r) : next(r)),
      (err) => call.deliver(this.crash(err)),
    );
  }

  withAdmission(
    principal: Principal,
    requests: readonly RpcRequest[],
    input: HttpInput,
    call: Call,
    next: (release: (() => void) | undefined) => void,
    batch = false,
  ): void {
    if (!this.o.admit) return next(undefined);
    admitThen(this.o.admit, principal, requests, input, call.deliver, this.report, next, batch);
  }

  /** Every method but POST: GET and DELETE, else 405. Never rejects (a failure is a reply). */
  async bodiless(input: HttpInput): Promise<HttpReply> {
    try {
      if (input.method === 'GET') return await this.legacy.get(input);
      if (input.method === 'DELETE') return await this.legacy.delete(input);
      return httpError(405, 'Method Not Allowed', { allow: 'GET, POST, DELETE' });
    } catch (err) {
      return this.crash(err);
    }
  }

  private modern(input: HttpInput, era: Era, messages: Incoming[], batch: boolean, call: Call): void {
    const msg = messages[0]!;
    if (batch) return call.deliver(errorReply(null, invalidRequest('JSON-RPC batches are not supported in protocol version 2026-07-28')));
    if (msg.kind === 'invalid') return call.deliver(errorReply(msg.id, msg.error));
    if (msg.kind !== 'request') return call.deliver(ACCEPTED); // notifications (cancellation is a closed stream), stray responses
    let envelope: ModernEnvelope;
    try {
      envelope = readModernEnvelope(msg, input.header, era);
      // subscriptions/listen is a transport stream (ListenHub), not an engine method.
      if (msg.method !== 'subscriptions/listen' && !this.o.engine.knows(msg.method, era)) {
        throw new RpcError(RpcCode.MethodNotFound, `Method not found: ${shown(msg.method, 64)}`, undefined, 404);
      }
    } catch (err) {
      if (err instanceof RpcError) return call.deliver(errorReply(msg.id, err));
      throw err;
    }
    this.withPrincipal(input, call, (principal) => {
      const refused = this.o.gate?.(principal, msg, input);
      if (refused) return call.deliver(refused);
      this.withAdmission(principal, [msg], input, call, (release) => {
        if (msg.method === 'subscriptions/listen') {
          call.deliver(this.o.hub.listen(msg));
          return release?.();
        }
        call.cancel = runRequest(this.o.engine, msg, {
          era,
          principal,
          session: undefined,
          clientCapabilities: envelope.clientCapabilities,
          logLevel: envelope.logLevel,
          streamable: acceptedTypes(input.header('accept')).sse,
          timeoutMs: this.o.timeoutMs,
          onError: this.report,
          deliver: call.deliver,
          ...(release ? { onFinish: release } : {}),
        });
      });
    });
  }

  crash(err: unknown): HttpReply {
    if (err instanceof RpcError) return errorReply(null, err);
    if (isUnavailable(err)) {
      const ref = errorReference();
      this.o.logger.warn({ err, ref }, 'store unavailable');
      const unavailable = new RpcError(RpcCode.InternalError, `Service unavailable: storage cannot be reached; retry shortly (reference ${ref})`, undefined, 503);
      return errorReply(null, unavailable, { 'retry-after': String(UNAVAILABLE_RETRY_S) });
    }
    const ref = this.report(err);
    return errorReply(null, new RpcError(RpcCode.InternalError, `Internal error (reference ${ref})`, undefined, 500));
  }

  readonly report = (err: unknown): string => {
    const ref = errorReference();
    this.o.logger.error({ err, ref }, 'request failed');
    return ref;
  };
}

function unsupportedVersion(requested: string): RpcError {
  return new RpcError(
    RpcCode.UnsupportedProtocolVersion,
    'Unsupported protocol version',
    { supported: SUPPORTED_VERSIONS, requested: requested.slice(0, 64) },
    400,
  );
}

const noop = () => {};

export type Incoming = RpcMessage | RpcInvalid;

/** One POST in progress: where its reply goes, and how to stop its work. */
export interface Call {
  readonly deliver: (reply: HttpReply) => void;
  cancel: () => void;
}
