import { createHash, randomBytes } from 'node:crypto';
import type { LogLevel } from '../registry/types.ts';
import type { RequestId } from '../transport/envelope.ts';
import type { Era } from './eras.ts';

/** Where notifications unrelated to a request go: the GET stream of a session. */
export interface EventSink {
  send(message: string): boolean;
  close(): void;
}

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
}

/**
 * A 2025-era session: only what differs per client (protocol version, capabilities, log
 * level, subscriptions, open streams). Everything shared lives in the registry. Maps are
 * created on first use so an idle session costs a few hundred bytes.
 */
export class Session {
  /** 256 random bits, base64url: unguessable, and never a credential by itself. */
  readonly id: string;
  logLevel: LogLevel | undefined;
  lastSeen: number;
  /** When this copy was last read from (or written to) the shared store, if sessions are shared. */
  checkedAt = 0;
  /**
   * Stores what changed (log level, subscriptions) for the other processes: set by the table
   * when sessions are shared; the change is answered once this resolves.
   */
  persist: (() => Promise<void>) | undefined;
  stream: EventSink | undefined;
  /**
   * Notifications raised while no GET stream was open (a client subscribes, then opens its
   * stream in the background): kept, up to MAX_HELD, and sent when the stream opens.
   */
  held: string[] | undefined;
  subscriptions: Set<string> | undefined;
  /** In-flight client requests, for notifications/cancelled. */
  inflight: Map<RequestId, { abort(reason: Error): void }> | undefined;
  /** Server-to-client requests awaiting the client's answer. */
  pending: Map<string, Pending> | undefined;

  constructor(
    /** The principal this session is bound to (principalKey()). */
    readonly owner: string,
    readonly era: Era,
    readonly clientCapabilities: Record<string, unknown>,
    readonly clientInfo: { name?: string; version?: string } | undefined,
    now: number,
    /** Given when the session comes from shared storage; new sessions get a fresh one. */
    id?: string,
  ) {
    this.id = id ?? randomBytes(32).toString('base64url');
    this.lastSeen = now;
  }

  /** The name of this session outside the process (sessionDigest). */
  get digest(): string {
    return (this.#digest ??= sessionDigest(this.id));
  }
  #digest: string | undefined;

  /** Registers a server-to-client request; the caller sends it and awaits the promise. */
  expectAnswer(signal: AbortSignal): { id: string; answer: Promise<unknown> } {
    const id = `gw-${PROCESS_TAG}-${++nextRequest}`;
    this.pending ??= new Map();
    const pending = this.pending;
    const answer = new Promise<unknown>((resolve, reject) => {
      const onAbort = () => {
        pending.delete(id);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      pending.set(id, {
        resolve: (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      });
    });
    return { id, answer };
  }

  /** Routes a client's JSON-RPC response to the request that awaits it; false if none does. */
  settle(id: RequestId, result: unknown, error?: { code: number; message: string }): boolean {
    const p = typeof id === 'string' ? this.pending?.get(id) : undefined;
    if (!p) return false;
    this.pending!.delete(id as string);
    if (error) p.reject(Object.assign(new Error(error.message), { code: error.code }));
    else p.resolve(result);
    return true;
  }

  /** Sends a notification on the GET stream, or holds it until one opens. */
  notify(message: string): boolean {
    if (this.stream?.send(message)) return true;
    this.held ??= [];
    if (this.held.length >= MAX_HELD) this.held.shift(); // the oldest goes first
    this.held.push(message);
    return false;
  }

  end(): void {
    this.stream?.close();
    this.stream = undefined;
    for (const c of this.inflight?.values() ?? []) c.abort(new Error('session ended'));
    for (const p of this.pending?.values() ?? []) p.reject(new Error('session ended'));
    this.pending?.clear();
  }
}

const MAX_HELD = 100;

/** Why a request stopped when its client sent notifications/cancelled. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor() {
    super('Request cancelled');
  }
}

/**
 * Names this process in the ids of its server-to-client requests (`gw-<tag>-<n>`), so a client's
 * answer that reaches another process can be sent on to this one.
 */
export const PROCESS_TAG = randomBytes(6).toString('hex');
let nextRequest = 0;

/** The process that sent server-to-client request `id`, if one of ours did. */
export function requestTag(id: unknown): string | undefined {
  return typeof id === 'string' ? /^gw-([0-9a-f]{12})-\d+$/.exec(id)?.[1] : undefined;
}

/** How sessions are named outside this process: shared storage and messages never see an id. */
export function sessionDigest(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** The empty result of a session change, once other processes can see the change. */
export function persisted(session: Session): object {
  return session.persist ? session.persist().then(() => ({})) : {};
}
