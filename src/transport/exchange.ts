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
}

/**
 * Runs one JSON-RPC request and answers it. The answer is plain JSON unless something has to
 * be sent before the result (progress, a log message, a server-to-client request) and the
 * client accepts SSE: then the reply becomes a stream at that moment. Returns a cancel
 * function for a client that disconnects.
 */
export function runRequest(engine: Engine, msg: RpcRequest, o: ExchangeOptions): () => void {
  const controller = new AbortController();
  let outbox: Outbox | undefined;
  let done = false;
  const session = o.session;

  const scope: RequestScope = {
    era: o.era,
    id: msg.id,
    method: msg.method,
    principal: o.principal,
    session,
    clientCapabilities: o.clientCapabilities,
    progressToken: progressTokenOf(msg),
    logLevel: o.logLevel,
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    inputResponses: undefined,
    send(message) {
      if (done || !o.streamable) return false;
      if (!outbox) {
        outbox = new Outbox();
        outbox.onCancel(() => controller.abort(new ClientGone()));
        o.deliver({ status: 200, headers: SSE_HEADERS, stream: outbox });
      }
      return outbox.push(JSON.stringify(message));
    },
  };

  if (session) (session.inflight ??= new Map()).set(msg.id, controller);

  const finish = (body: Body, status: number) => {
    if (done) return;
    done = true;
    if (session?.inflight?.get(msg.id) === controller) session.inflight.delete(msg.id);
    if (outbox) {
      outbox.push(bodyText(body));
      outbox.end();
    } else o.deliver({ status, headers: JSON_HEADERS, body });
  };

  const fail = (err: unknown) => {
    if (err instanceof RpcError) return finish(errorMessage(msg.id, err), err.httpStatus);
    if (controller.signal.aborted) {
      if (controller.signal.reason instanceof ClientGone) return finish('', 200); // nobody to tell
      const reason = controller.signal.reason as Error;
      const rpc =
        reason?.name === 'TimeoutError'
          ? new RpcError(RpcCode.RequestTimeout, reason.message)
          : new RpcError(RpcCode.RequestCancelled, 'Request cancelled');
      return finish(errorMessage(msg.id, rpc), 200);
    }
    const ref = o.onError(err);
    finish(errorMessage(msg.id, new RpcError(RpcCode.InternalError, `Internal error (reference ${ref})`)), 200);
  };

  try {
    const value = engine.handle(msg.method, msg.params, scope);
    if (!(value instanceof Promise)) finish(resultMessage(msg.id, value), 200);
    else if (msg.method === 'tools/call') value.then((v) => finish(resultMessage(msg.id, v), 200), fail); // tools run their own deadline
    else {
      // A resource, prompt or completion handler that never settles still gets an answer.
      const timer = setTimeout(
        () => controller.abort(new TimeoutError(`Request timed out after ${o.timeoutMs} ms`)),
        o.timeoutMs,
      );
      (untilAborted(value, controller.signal) as Promise<unknown>)
        .then((v) => finish(resultMessage(msg.id, v), 200), fail)
        .finally(() => clearTimeout(timer));
    }
  } catch (err) {
    fail(err);
  }
  return () => {
    if (!done) controller.abort(new ClientGone());
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
