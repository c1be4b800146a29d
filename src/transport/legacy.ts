import { type Principal, principalKey } from '../auth/principal.ts';
import { invalidRequest, RpcCode, RpcError } from '../errors.ts';
import { ERA_2025_03_26, type Era, eraFor } from '../protocol/eras.ts';
import type { Engine } from '../protocol/engine.ts';
import { CancelledError, Session } from '../protocol/session.ts';
import type { SessionTable } from '../protocol/session-table.ts';
import type { Call, HttpInput, Incoming, McpEndpoint } from './endpoint.ts';
import type { RpcRequest } from './envelope.ts';
import { type ExchangeOptions, runRequest } from './exchange.ts';
import { acceptedTypes } from './guard.ts';
import { ACCEPTED, bodyText, errorMessage, errorReply, type HttpReply, httpError, jsonReply, resultMessage } from './replies.ts';

/** What the 2025 path borrows from the endpoint: its options and its steps. */
export type Flow = Pick<McpEndpoint, 'o' | 'withPrincipal' | 'withAdmission' | 'crash' | 'report'>;

/**
 * The 2025 eras: initialize, then requests on a session (Mcp-Session-Id), its GET stream and its
 * DELETE; or, with `http.stateless`, requests that stand alone. A session lookup is synchronous
 * when the session is known here and fresh, and reads shared storage otherwise (SessionTable).
 */
export class LegacyEndpoint {
  constructor(private readonly f: Flow) {}

  post(input: HttpInput, headerEra: Era | undefined, messages: Incoming[], batch: boolean, call: Call): void {
    const o = this.f.o;
    const init = messages.find((m): m is RpcRequest => m.kind === 'request' && m.method === 'initialize');
    if (init) {
      if (batch) return call.deliver(errorReply(init.id, invalidRequest('initialize must not be part of a batch')));
      if (input.header('mcp-session-id')) {
        return call.deliver(errorReply(init.id, invalidRequest('initialize must not carry Mcp-Session-Id')));
      }
      let negotiated: ReturnType<Engine['initialize']>;
      try {
        negotiated = o.engine.initialize(init.params);
      } catch (err) {
        if (err instanceof RpcError) return call.deliver(errorReply(init.id, err));
        throw err;
      }
      const { era, result, clientCapabilities, clientInfo } = negotiated;
      if (o.stateless) return call.deliver(jsonReply(200, resultMessage(init.id, result)));
      return this.f.withPrincipal(input, call, (principal) =>
        this.f.withAdmission(principal, [init], input, call, (release) => {
          const session = new Session(principalKey(principal), era, clientCapabilities, clientInfo, o.now());
          const answer = () => call.deliver(jsonReply(200, resultMessage(init.id, result), { 'mcp-session-id': session.id }));
          // Shared sessions: answered once another process can find the session.
          const saved = o.sessions.add(session);
          if (!saved) answer();
          else saved.then(answer, (err: unknown) => call.deliver(this.f.crash(err)));
          release?.();
        }),
      );
    }
    this.f.withPrincipal(input, call, (principal) => {
      const sessionId = input.header('mcp-session-id');
      const found = sessionId ? o.sessions.get(sessionId, principalKey(principal)) : undefined;
      if (!(found instanceof Promise)) return this.requests(input, headerEra, messages, batch, call, principal, found);
      found.then(
        (session) => this.requests(input, headerEra, messages, batch, call, principal, session),
        (err: unknown) => call.deliver(this.f.crash(err)),
      );
    });
  }

  /** GET: the 2025 session stream; 405 where the era or mode has none. */
  async get(input: HttpInput): Promise<HttpReply> {
    const o = this.f.o;
    if (o.stateless || modernHeader(input)) return httpError(405, 'Method Not Allowed', { allow: 'POST' });
    if (!acceptedTypes(input.header('accept')).sse) return httpError(406, 'Not Acceptable: GET needs Accept: text/event-stream');
    const found = await this.findSession(input);
    if ('status' in found) return found;
    return o.hub.openSessionStream(found);
  }

  /** DELETE: ends a 2025 session, in every process when sessions are shared. */
  async delete(input: HttpInput): Promise<HttpReply> {
    const o = this.f.o;
    if (o.stateless || modernHeader(input)) return httpError(405, 'Method Not Allowed', { allow: 'POST' });
    const found = await this.findSession(input);
    if ('status' in found) return found;
    await o.sessions.delete(found);
    return { status: 204, headers: {} };
  }

  private async findSession(input: HttpInput): Promise<Session | HttpReply> {
    const id = input.header('mcp-session-id');
    if (!id) return httpError(400, 'Bad Request: Mcp-Session-Id header is required');
    const principal = await this.f.o.authenticate(input);
    if ('status' in principal) return principal;
    return (await this.f.o.sessions.get(id, principalKey(principal))) ?? sessionNotFound(null);
  }

  private requests(
    input: HttpInput,
    headerEra: Era | undefined,
    messages: Incoming[],
    batch: boolean,
    call: Call,
    principal: Principal,
    session: Session | undefined,
  ): void {
    const o = this.f.o;
    const firstId = messages.find((m) => m.kind === 'request')?.id ?? null;
    let era: Era;
    if (input.header('mcp-session-id')) {
      if (!session) return call.deliver(sessionNotFound(firstId));
      // Any supported session-era version in MCP-Protocol-Version is accepted (an unsupported
      // one was refused with 400 above); the session's negotiated version governs. The 2025
      // transports only require 400 for an invalid or unsupported version, not for a supported
      // one that differs, and deployed clients do send one: the official conformance suite
      // 0.1.16 (server-sse-multiple-streams) hard-codes 2025-03-26 on a 2025-11-25 session.
      era = session.era;
    } else if (o.stateless) {
      era = headerEra ?? ERA_2025_03_26;
    } else {
      return call.deliver(errorReply(firstId, invalidRequest('Mcp-Session-Id header is required: send initialize first')));
    }
    if (batch && !era.batches) {
      return call.deliver(errorReply(firstId, invalidRequest(`JSON-RPC batches are not supported in ${era.version}`)));
    }

    const requests: RpcRequest[] = [];
    const errors: string[] = [];
    // Answers and cancellations for work another process holds are sent there (shared sessions).
    let elsewhere: Array<Promise<void>> | undefined;
    for (const m of messages) {
      let sent: Promise<void> | undefined;
      if (m.kind === 'request') requests.push(m);
      else if (m.kind === 'invalid') errors.push(errorMessage(m.id, m.error));
      else if (m.kind === 'response') {
        if (session && !session.settle(m.id, m.result, m.error)) sent = o.sessions.forward(session, m.id, m.result, m.error);
      } else sent = notification(o.sessions, m.method, m.params, session);
      if (sent) (elsewhere ??= []).push(sent);
    }
    if (!batch && errors.length) return call.deliver(jsonReply(400, errors[0]!));
    if (requests.length === 0) {
      const reply = errors.length ? jsonReply(400, `[${errors.join(',')}]`) : ACCEPTED;
      if (!elsewhere) return call.deliver(reply);
      // Acknowledged only once delivered: an answer that cannot be passed on is a 503, not a 202.
      Promise.all(elsewhere).then(() => call.deliver(reply), (err: unknown) => call.deliver(this.f.crash(err)));
      return;
    }
    // A 2025-03-26 batch mixing answers and requests is answered for its requests; a lost answer is logged.
    for (const sent of elsewhere ?? []) sent.catch(this.f.report);
    if (o.gate) {
      for (const r of requests) {
        const refused = o.gate(principal, r, input);
        if (refused) return call.deliver(refused);
      }
    }
    this.f.withAdmission(principal, requests, input, call, (release) => {
      const options: ExchangeOptions = {
        era,
        principal,
        session,
        clientCapabilities: session?.clientCapabilities ?? {},
        // 2025 eras: log messages flow once the client has set a level (logging/setLevel)
        logLevel: session?.logLevel,
        streamable: !batch && acceptedTypes(input.header('accept')).sse,
        timeoutMs: o.timeoutMs,
        onError: this.f.report,
        deliver: call.deliver,
        ...(release ? { onFinish: release } : {}),
      };
      if (batch) runBatch(o.engine, requests, errors, options, call);
      else call.cancel = runRequest(o.engine, requests[0]!, options);
    }, batch);
  }
}

/** 2025-03-26 batch: every request runs; one JSON array answers them all. */
function runBatch(engine: Engine, requests: RpcRequest[], errors: string[], options: ExchangeOptions, call: Call): void {
  const bodies: string[] = new Array(requests.length);
  let pending = requests.length;
  requests.forEach((r, i) => {
    runRequest(engine, r, {
      ...options,
      deliver: (reply) => {
        bodies[i] = bodyText(reply.body ?? '');
        if (--pending === 0) call.deliver(jsonReply(200, `[${[...bodies, ...errors].join(',')}]`));
      },
    });
  });
}

function notification(
  sessions: SessionTable,
  method: string,
  params: Record<string, unknown> | undefined,
  session: Session | undefined,
): Promise<void> | undefined {
  // notifications/initialized needs nothing: requests before it are served (clients race it).
  if (!session || method !== 'notifications/cancelled') return undefined;
  const id = params?.requestId;
  if (typeof id !== 'string' && typeof id !== 'number') return undefined;
  const running = session.inflight?.get(id);
  if (running) running.abort(new CancelledError());
  else return sessions.cancelElsewhere(session, id);
  return undefined;
}

function modernHeader(input: HttpInput): boolean {
  const version = input.header('mcp-protocol-version');
  return version !== undefined && eraFor(version)?.modern === true;
}

function sessionNotFound(id: RpcRequest['id'] | null): HttpReply {
  return errorReply(id, new RpcError(RpcCode.SessionNotFound, 'Session not found', undefined, 404));
}
