import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { RpcError, RpcCode } from '../errors.ts';

/**
 * 2026-07-28 multi round-trip requests (basic/patterns/mrtr): a handler that needs input
 * throws InputRequired; the engine answers `resultType: "input_required"` with the requests
 * and a signed `requestState`. The client retries the same request with `inputResponses` and
 * that state; the handler runs again and finds its answers. The state carries the answers of
 * earlier rounds, is bound to the caller, the method, the target and the arguments, and
 * expires. HMAC-SHA256, compared in constant time.
 */
export class InputRequired extends Error {
  constructor(readonly requests: Record<string, { method: string; params: unknown }>) {
    super('input required');
  }
}

export interface StatePayload {
  /** Binding: digest of principal, method, target name and arguments. */
  b: string;
  /** Expiry, epoch ms. */
  e: number;
  /** Answers collected in earlier rounds. */
  r: Record<string, unknown>;
}

export class RequestStateCodec {
  constructor(
    private readonly secret: Buffer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  static binding(owner: string, method: string, target: string, args: unknown): string {
    return createHash('sha256').update(JSON.stringify([owner, method, target, args ?? null])).digest('base64url');
  }

  seal(binding: string, answers: Record<string, unknown>): string {
    const body = Buffer.from(JSON.stringify({ b: binding, e: this.now() + this.ttlMs, r: answers })).toString(
      'base64url',
    );
    return `${body}.${this.mac(body)}`;
  }

  /** The answers carried by a valid state for this binding; throws -32602 otherwise. */
  open(state: unknown, binding: string): Record<string, unknown> {
    const invalid = (why: string) => new RpcError(RpcCode.InvalidParams, `Invalid requestState: ${why}`);
    if (typeof state !== 'string' || state.length > 256 * 1024) throw invalid('malformed');
    const dot = state.lastIndexOf('.');
    if (dot <= 0) throw invalid('malformed');
    const body = state.slice(0, dot);
    const mac = Buffer.from(state.slice(dot + 1), 'base64url');
    const want = Buffer.from(this.mac(body), 'base64url');
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) throw invalid('bad signature');
    let payload: StatePayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as StatePayload;
    } catch {
      throw invalid('malformed');
    }
    if (payload.e < this.now()) throw invalid('expired; call again without requestState');
    if (payload.b !== binding) throw invalid('issued for another request');
    return payload.r ?? {};
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}
