import type { Principal } from '../auth/principal.ts';
import type { LogLevel } from '../registry/types.ts';
import type { RequestId } from '../transport/envelope.ts';
import type { Era } from './eras.ts';
import type { Session } from './session.ts';

/**
 * One JSON-RPC request as the protocol layer sees it: no HTTP in here. The transport builds
 * it; protocol/ and policy/ only read it.
 */
export interface RequestScope {
  readonly era: Era;
  readonly id: RequestId;
  readonly method: string;
  readonly principal: Principal;
  /** 2025 eras with sessions. */
  readonly session: Session | undefined;
  readonly clientCapabilities: Record<string, unknown>;
  readonly progressToken: string | number | undefined;
  /** Level enabled for notifications/message, or undefined for none. */
  readonly logLevel: LogLevel | undefined;
  /** The answer may become an SSE stream (the client accepts it and this is not a batch). */
  readonly streamable: boolean;
  /** Created on first read. */
  readonly signal: AbortSignal;
  /** True once aborted; reading it does not create the signal. */
  readonly aborted: boolean;
  /** Aborts this request's work (timeout); the transport aborts on disconnect and cancel. */
  abort(reason: Error): void;
  /**
   * Sends a message tied to this request (progress, log, a server-to-client request) on its
   * response stream, upgrading a JSON answer to SSE if the client accepts it. False when the
   * message cannot be delivered (no stream possible).
   */
  send(message: object): boolean;
  /**
   * Set by policy/ when a call carries write-only values: applied to every message sent on the
   * response stream (progress, log, server-to-client requests) before it is serialised.
   */
  outgoing: ((message: object) => object) | undefined;
  /** 2026-07-28: a digest of the signed requestState this retry carries (unique per issued state). */
  stateId: string | undefined;
  /** 2026-07-28 multi round-trip: responses the client supplied, set by the engine once verified. */
  inputResponses: Record<string, unknown> | undefined;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
const RANK = new Map(LEVELS.map((l, i) => [l, i]));

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && RANK.has(v as LogLevel);
}

export function levelEnabled(level: LogLevel, threshold: LogLevel | undefined): boolean {
  return threshold !== undefined && RANK.get(level)! >= RANK.get(threshold)!;
}
