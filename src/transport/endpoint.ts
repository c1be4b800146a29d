import type { Logger } from 'pino';
import { type Principal, principalKey } from '../auth/principal.ts';
import { errorReference, invalidRequest, isUnavailable, RpcCode, RpcError, shown, UNAVAILABLE_RETRY_S } from '../errors.ts';
import { ERA_2025_03_26, type Era, eraFor, SUPPORTED_VERSIONS } from '../protocol/eras.ts';
import type { Engine } from '../protocol/engine.ts';
import { Session, type SessionTable } from '../protocol/session.ts';
import { type RequestId, type RpcInvalid, type RpcMessage, type RpcRequest, readMessage } from './envelope.ts';
import { type Admit, admitThen } from './admission.ts';
import { corsHeaders, preflightReply } from './cors.ts';
import { type ExchangeOptions, runRequest } from './exchange.ts';
import { acceptedTypes, type GuardOptions, hostAllowed, isJsonContentType, originAllowed } from './guard.ts';
import type { ListenHub } from './listen.ts';
import { type ModernEnvelope, readModernEnvelope } from './modern-envelope.ts';
import { ACCEPTED, bodyText, errorMessage, errorReply, type HttpReply, httpError, jsonReply, resultMessage } from './replies.ts';
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
  constructor(private readonly o: EndpointOptions) {}

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
      else this.legacy(input, era, messages, batch, call);
    } catch (err) {
      deliver(this.crash(err));
    }
    return () => call.cancel();
  }

  /** Resolves the caller, then continues; a refusal (401...) is delivered as it is. */
  private withPrincipal(input: HttpInput, call: Call, next: (p: Principal) => void): void {
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

  private withAdmission(
    principal: Principal,
    requests: readonly RpcRequest[],
    input: HttpInput,
    call: Call,
    next: (release: (() => void) | undefined) => void,
  ): void {
    if (!this.o.admit) return next(undefined);
    admitThen(this.o.admit, principal, requests, input, call.deliver, this.report, next);
  }

  /** Every method but POST: GET and DELETE, else 405. Never rejects (a failure is a reply). */
  async bodiless(input: HttpInput): Promise<HttpReply> {
    try {
      if (input.method === 'GET') return await this.get(input);
      if (input.method === 'DELETE') return await this.delete(input);
      return httpError(405, 'Method Not Allowed', { allow: 'GET, POST, DELETE' });
    } catch (err) {
      return this.crash(err);
    }
  }

  /** GET: the 2025 session stream; 405 where the era or mode has none. */
  private async get(input: HttpInput): Promise<HttpReply> {
    const version = input.header('mcp-protocol-version');
    if (this.o.stateless || (version !== undefined && eraFor(version)?.modern)) {
      return httpError(405, 'Method Not Allowed', { allow: 'POST' });
    }
    if (!acceptedTypes(input.header('accept')).sse) return httpError(406, 'Not Acceptable: GET needs Accept: text/event-stream');
    const found = await this.findSession(input);
    if ('status' in found) return found;
    return this.o.hub.openSessionStream(found);
  }

  /** DELETE: ends a 2025 session. */
  private async delete(input: HttpInput): Promise<HttpReply> {
    const version = input.header('mcp-protocol-version');
    if (this.o.stateless || (version !== undefined && eraFor(version)?.modern)) {
      return httpError(405, 'Method Not Allowed', { allow: 'POST' });
    }
    const found = await this.findSession(input);
    if ('status' in found) return found;
    this.o.sessions.delete(found.id);
    return { status: 204, headers: {} };
  }

  private async findSession(input: HttpInput): Promise<Session | HttpReply> {
    const id = input.header('mcp-session-id');
    if (!id) return httpError(400, 'Bad Request: Mcp-Session-Id header is required');
    const principal = await this.o.authenticate(input);
    if ('status' in principal) return principal;
    return this.o.sessions.get(id, principalKey(principal)) ?? sessionNotFound(null);
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

  private legacy(input: HttpInput, headerEra: Era | undefined, messages: Incoming[], batch: boolean, call: Call): void {
    const init = messages.find((m): m is RpcRequest => m.kind === 'request' && m.method === 'initialize');
    if (init) {
      if (batch) return call.deliver(errorReply(init.id, invalidRequest('initialize must not be part of a batch')));
      if (input.header('mcp-session-id')) {
        return call.deliver(errorReply(init.id, invalidRequest('initialize must not carry Mcp-Session-Id')));
      }
      let negotiated: ReturnType<Engine['initialize']>;
      try {
        negotiated = this.o.engine.initialize(init.params);
      } catch (err) {
        if (err instanceof RpcError) return call.deliver(errorReply(init.id, err));
        throw err;
      }
      const { era, result, clientCapabilities, clientInfo } = negotiated;
      if (this.o.stateless) return call.deliver(jsonReply(200, resultMessage(init.id, result)));
      return this.withPrincipal(input, call, (principal) =>
        this.withAdmission(principal, [init], input, call, (release) => {
          const session = new Session(principalKey(principal), era, clientCapabilities, clientInfo, this.o.now());
          this.o.sessions.add(session);
          call.deliver(jsonReply(200, resultMessage(init.id, result), { 'mcp-session-id': session.id }));
          release?.();
        }),
      );
    }
    this.withPrincipal(input, call, (principal) => this.legacyRequests(input, headerEra, messages, batch, call, principal));
  }

  private legacyRequests(
    input: HttpInput,
    headerEra: Era | undefined,
    messages: Incoming[],
    batch: boolean,
    call: Call,
    principal: Principal,
  ): void {
    const firstId = messages.find((m) => m.kind === 'request')?.id ?? null;
    const sessionId = input.header('mcp-session-id');
    let session: Session | undefined;
    let era: Era;
    if (sessionId) {
      session = this.o.sessions.get(sessionId, principalKey(principal));
      if (!session) return call.deliver(sessionNotFound(firstId));
      // Any supported session-era version in MCP-Protocol-Version is accepted (an unsupported
      // one was refused with 400 above); the session's negotiated version governs. The 2025
      // transports only require 400 for an invalid or unsupported version, not for a supported
      // one that differs, and deployed clients do send one: the official conformance suite
      // 0.1.16 (server-sse-multiple-streams) hard-codes 2025-03-26 on a 2025-11-25 session.
      era = session.era;
    } else if (this.o.stateless) {
      era = headerEra ?? ERA_2025_03_26;
    } else {
      return call.deliver(errorReply(firstId, invalidRequest('Mcp-Session-Id header is required: send initialize first')));
    }
    if (batch && !era.batches) {
      return call.deliver(errorReply(firstId, invalidRequest(`JSON-RPC batches are not supported in ${era.version}`)));
    }

    const requests: RpcRequest[] = [];
    const errors: string[] = [];
    for (const m of messages) {
      if (m.kind === 'request') requests.push(m);
      else if (m.kind === 'invalid') errors.push(errorMessage(m.id, m.error));
      else if (m.kind === 'response') session?.settle(m.id, m.result, m.error);
      else this.notification(m.method, m.params, session);
    }
    if (!batch && errors.length) return call.deliver(jsonReply(400, errors[0]!));
    if (requests.length === 0) return call.deliver(errors.length ? jsonReply(400, `[${errors.join(',')}]`) : ACCEPTED);
    if (this.o.gate) {
      for (const r of requests) {
        const refused = this.o.gate(principal, r, input);
        if (refused) return call.deliver(refused);
      }
    }
    this.withAdmission(principal, requests, input, call, (release) =>
      this.runLegacy(requests, errors, batch, era, session, input, principal, call, release),
    );
  }

  private runLegacy(
    requests: RpcRequest[],
    errors: string[],
    batch: boolean,
    era: Era,
    session: Session | undefined,
    input: HttpInput,
    principal: Principal,
    call: Call,
    release: (() => void) | undefined,
  ): void {
    const options: ExchangeOptions = {
      era,
      principal,
      session,
      clientCapabilities: session?.clientCapabilities ?? {},
      // 2025 eras: log messages flow once the client has set a level (logging/setLevel)
      logLevel: session?.logLevel,
      streamable: !batch && acceptedTypes(input.header('accept')).sse,
      timeoutMs: this.o.timeoutMs,
      onError: this.report,
      deliver: call.deliver,
      ...(release ? { onFinish: release } : {}),
    };
    if (!batch) {
      call.cancel = runRequest(this.o.engine, requests[0]!, options);
      return;
    }
    // 2025-03-26 batch: every request runs; one JSON array answers them all.
    const bodies: string[] = new Array(requests.length);
    let pending = requests.length;
    requests.forEach((r, i) => {
      runRequest(this.o.engine, r, {
        ...options,
        deliver: (reply) => {
          bodies[i] = bodyText(reply.body ?? '');
          if (--pending === 0) call.deliver(jsonReply(200, `[${[...bodies, ...errors].join(',')}]`));
        },
      });
    });
  }

  private notification(method: string, params: Record<string, unknown> | undefined, session: Session | undefined) {
    // notifications/initialized needs nothing: requests before it are served (clients race it).
    if (session && method === 'notifications/cancelled') {
      const id = params?.requestId;
      if (typeof id === 'string' || typeof id === 'number') session.inflight?.get(id)?.abort(new CancelledError());
    }
  }

  private crash(err: unknown): HttpReply {
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

  private readonly report = (err: unknown): string => {
    const ref = errorReference();
    this.o.logger.error({ err, ref }, 'request failed');
    return ref;
  };
}

export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('Request cancelled');
  }
}

function unsupportedVersion(requested: string): RpcError {
  return new RpcError(
    RpcCode.UnsupportedProtocolVersion,
    'Unsupported protocol version',
    { supported: SUPPORTED_VERSIONS, requested: requested.slice(0, 64) },
    400,
  );
}

function sessionNotFound(id: RpcRequest['id'] | null): HttpReply {
  return errorReply(id, new RpcError(RpcCode.SessionNotFound, 'Session not found', undefined, 404));
}

const noop = () => {};

type Incoming = RpcMessage | RpcInvalid;

/** One POST in progress: where its reply goes, and how to stop its work. */
interface Call {
  readonly deliver: (reply: HttpReply) => void;
  cancel: () => void;
}
