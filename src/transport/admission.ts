import type { Principal } from '../auth/principal.ts';
import { RpcCode, RpcError, UNAVAILABLE_RETRY_S } from '../errors.ts';
import type { HttpInput } from './endpoint.ts';
import type { RpcRequest } from './envelope.ts';
import { errorMessage, errorReply, type HttpReply, jsonReply } from './replies.ts';

/** A request the admission refused: over a limit (429 with these headers), or a plan without access (403). */
export interface AdmissionRefusal {
  message: string;
  headers: Record<string, string>;
  data: Record<string, unknown>;
  /** HTTP status and JSON-RPC code; default 429 and RpcCode.RateLimited. */
  status?: 403 | 429;
  code?: number;
}

/** Admitted (with a release to call per finished request, or none), or refused. */
export type Admitted = AdmissionRefusal | (() => void) | null;

/** Rate, concurrency and quota for one POST's requests; synchronous when no store round trip was needed. */
export type Admit = (principal: Principal, requests: readonly RpcRequest[], input: HttpInput) => Admitted | Promise<Admitted>;

/**
 * Counts the requests against the limits (policy/), then continues with the release to call
 * when each has its answer. Over a limit: 429; a plan without access: 403. The limits store
 * unreachable: 503, closed (no call runs).
 */
export function admitThen(
  admit: Admit,
  principal: Principal,
  requests: readonly RpcRequest[],
  input: HttpInput,
  deliver: (reply: HttpReply) => void,
  report: (err: unknown) => string,
  next: (release: (() => void) | undefined) => void,
  batch = false,
): void {
  // A 2025-03-26 batch is answered as a batch: one error per request, in an array.
  const refuse = (err: RpcError, headers: Record<string, string>) =>
    deliver(
      batch
        ? jsonReply(err.httpStatus, `[${requests.map((r) => errorMessage(r.id, err)).join(',')}]`, headers)
        : errorReply(requests[0]?.id ?? null, err, headers),
    );
  const settle = (r: Admitted) => {
    if (r === null) return next(undefined);
    if (typeof r === 'function') return next(r);
    refuse(new RpcError(r.code ?? RpcCode.RateLimited, r.message, r.data, r.status ?? 429), r.headers);
  };
  const unavailable = (err: unknown) => {
    const ref = report(err);
    const error = new RpcError(RpcCode.InternalError, `Service unavailable: limits cannot be checked (reference ${ref})`, undefined, 503);
    refuse(error, { 'retry-after': String(UNAVAILABLE_RETRY_S) });
  };
  let admitted: Admitted | Promise<Admitted>;
  try {
    admitted = admit(principal, requests, input);
  } catch (err) {
    return unavailable(err);
  }
  if (admitted instanceof Promise) admitted.then(settle, unavailable);
  else settle(admitted);
}
