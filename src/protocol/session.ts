import { randomBytes } from 'node:crypto';
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
  readonly id = randomBytes(32).toString('base64url');
  logLevel: LogLevel | undefined;
  lastSeen: number;
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
  private nextRequest = 0;

  constructor(
    /** The principal this session is bound to (principalKey()). */
    readonly owner: string,
    readonly era: Era,
    readonly clientCapabilities: Record<string, unknown>,
    readonly clientInfo: { name?: string; version?: string } | undefined,
    now: number,
  ) {
    this.lastSeen = now;
  }

  /** Registers a server-to-client request; the caller sends it and awaits the promise. */
  expectAnswer(signal: AbortSignal): { id: string; answer: Promise<unknown> } {
    const id = `gw-${++this.nextRequest}`;
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

export interface SessionOptions {
  /** Most live sessions; the least recently used one is ended to make room. Default 10,000. */
  max?: number;
  /** Idle time after which a session is reaped. Default 30 minutes. */
  idleMs?: number;
}

/**
 * Live sessions of this process. A request only stamps `lastSeen`; the rare eviction (at the
 * cap) and the reaper scan for the oldest, so the hot path does no Map re-ordering.
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  private readonly max: number;
  private readonly idleMs: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    options: SessionOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.max = options.max ?? 10_000;
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.timer = setInterval(() => this.reap(), Math.min(60_000, this.idleMs)).unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  add(session: Session): void {
    while (this.sessions.size >= this.max) {
      let oldest: Session | undefined;
      for (const s of this.sessions.values()) if (!oldest || s.lastSeen < oldest.lastSeen) oldest = s;
      this.delete(oldest!.id);
    }
    this.sessions.set(session.id, session);
  }

  /** The session if it exists, is not idle-expired and belongs to `owner`; else undefined. */
  get(id: string, owner: string): Session | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastSeen > this.idleMs) {
      this.delete(id);
      return undefined;
    }
    // A session bound to another principal is reported as unknown, not as forbidden.
    if (s.owner !== owner) return undefined;
    s.lastSeen = t;
    return s;
  }

  delete(id: string): boolean {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    s.end();
    return true;
  }

  /** Sessions subscribed to `uri` (resources/subscribe). */
  *subscribers(uri: string): Iterable<Session> {
    for (const s of this.sessions.values()) if (s.subscriptions?.has(uri)) yield s;
  }

  reap(): void {
    const cutoff = this.now() - this.idleMs;
    for (const s of [...this.sessions.values()]) if (s.lastSeen < cutoff) this.delete(s.id);
  }

  close(): void {
    clearInterval(this.timer);
    for (const id of [...this.sessions.keys()]) this.delete(id);
  }
}
