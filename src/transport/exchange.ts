import type { Principal } from '../auth/principal.ts';
import { RpcCode, RpcError } from '../errors.ts';
import { TimeoutError, untilAborted } from '../protocol/deadline.ts';
import type { Era } from '../protocol/eras.ts';
import type { Engine } from '../protocol/engine.ts';
import type { RequestScope } from '../protocol/scope.ts';
import type { Session } from '../protocol/session.ts';
import type { LogLevel } from '../registry/types.ts';
import type { RpcRequest } from './envelope.ts';
import { Outbox } from './outbox.ts';
import { type Body, bodyText, errorMessage, type HttpReply, JSON_HEADERS, resultMessage, SSE_HEADERS } from './replies.ts';

export interface ExchangeOptions {
  /** Deadline for methods other than tools/call (tools carry their own). */
  timeoutMs: number;
  era: Era;
  principal: Principal;
  session: Session | undefined;
  clientCapabilities: Record<string, unknown>;
  logLevel: LogLevel | undefined;
  /** The client accepts text/event-stream and this is not a batch. */
  streamable: boolean;
  onError(err: unknown): string;
  deliver(reply: HttpReply): void;
  /** Called once when the answer is complete (the concurrency cap's release). */
  onFinish?: () => void;
}

/**
 * Runs one JSON-RPC request and answers it. The answer is plain JSON unless something has to
 * be sent before the result (progress, a log message, a server-to-client request) and the
 * client accepts SSE: then the reply becomes a stream at that moment. Returns a cancel
 * function for a client that disconnects.
 */
export function runRequest(engine: Engine, msg: RpcRequest, o: ExchangeOptions): () => void {
  const x = new Exchange(msg, o);
  if (o.session) (o.session.inflight ??= new Map()).set(msg.id, x);
  try {
    const value = engine.handle(msg.method, msg.params, x);
    if (!(value instanceof Promise)) x.finish(resultMessage(msg.id, value), 200);
    else if (msg.method === 'tools/call') value.then(x.succeed, x.fail); // tools run their own deadline
    else {
      // A resource, prompt or completion handler that never settles still gets an answer.
      const timer = setTimeout(() => x.abort(new TimeoutError(`Request timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
      (untilAborted(value, x.signal) as Promise<unknown>).then(x.succeed, x.fail).finally(() => clearTimeout(timer));
    }
  } catch (err) {
    x.fail(err);
  }
  return () => {
    if (!x.done) x.abort(new ClientGone());
  };
}

/**
 * One request in flight: the RequestScope the protocol layer reads, and the way back to the
 * client. A class, not a bag of closures: this is allocated for every call. The
 * AbortController is created only when someone asks for the signal or aborts.
 */
class Exchange implements RequestScope {
  readonly era: Era;
  readonly id: RpcRequest['id'];
  readonly method: string;
  readonly principal: Principal;
  readonly session: Session | undefined;
  readonly clientCapabilities: Record<string, unknown>;
  readonly progressToken: string | number | undefined;
  readonly logLevel: LogLevel | undefined;
  inputResponses: Record<string, unknown> | undefined = undefined;
  outgoing: ((message: object) => object) | undefined = undefined;
  stateId: string | undefined = undefined;
  done = false;
  private controller: AbortController | undefined;
  private outbox: Outbox | undefined;

  constructor(
    msg: RpcRequest,
    private readonly o: ExchangeOptions,
  ) {
    this.era = o.era;
    this.id = msg.id;
    this.method = msg.method;
    this.principal = o.principal;
    this.session = o.session;
    this.clientCapabilities = o.clientCapabilities;
    this.progressToken = progressTokenOf(msg);
    this.logLevel = o.logLevel;
  }

  get streamable(): boolean {
    return this.o.streamable;
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  get aborted(): boolean {
    return this.controller?.signal.aborted ?? false;
  }

  abort(reason: Error): void {
    (this.controller ??= new AbortController()).abort(reason);
  }

  send(message: object): boolean {
    if (this.done || !this.o.streamable) return false;
    if (!this.outbox) {
      this.outbox = new Outbox();
      this.outbox.onCancel(() => this.abort(new ClientGone()));
      this.o.deliver({ status: 200, headers: SSE_HEADERS, stream: this.outbox });
    }
    return this.outbox.push(JSON.stringify(this.outgoing ? this.outgoing(message) : message));
  }

  finish(body: Body, status: number): void {
    if (this.done) return;
    this.done = true;
    this.o.onFinish?.();
    const inflight = this.session?.inflight;
    if (inflight?.get(this.id) === this) inflight.delete(this.id);
    if (this.outbox) {
      this.outbox.push(bodyText(body));
      this.outbox.end();
    } else this.o.deliver({ status, headers: JSON_HEADERS, body });
  }

  readonly succeed = (value: unknown): void => this.finish(resultMessage(this.id, value), 200);

  readonly fail = (err: unknown): void => {
    if (err instanceof RpcError) return this.finish(errorMessage(this.id, err), err.httpStatus);
    if (this.aborted) {
      const reason = this.signal.reason as Error;
      if (reason instanceof ClientGone) return this.finish('', 200); // nobody to tell
      const rpc =
        reason?.name === 'TimeoutError'
          ? new RpcError(RpcCode.RequestTimeout, reason.message)
          : new RpcError(RpcCode.RequestCancelled, 'Request cancelled');
      return this.finish(errorMessage(this.id, rpc), 200);
    }
    const ref = this.o.onError(err);
    this.finish(errorMessage(this.id, new RpcError(RpcCode.InternalError, `Internal error (reference ${ref})`)), 200);
  };
}

class ClientGone extends Error {
  override name = 'ClientGone';
}

function progressTokenOf(msg: RpcRequest): string | number | undefined {
  const meta = msg.params?._meta as { progressToken?: unknown } | undefined;
  const t = meta?.progressToken;
  return typeof t === 'string' || typeof t === 'number' ? t : undefined;
}
