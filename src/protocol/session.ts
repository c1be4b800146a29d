import { randomBytes } from 'node:crypto';
import type { LogLevel } from '../registry/types.ts';
import type { RequestId } from '../transport/envelope.ts';
import { type Era, eraFor } from './eras.ts';

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
  private nextRequest = 0;

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

/** The empty result of a session change, once other processes can see the change. */
export function persisted(session: Session): object {
  return session.persist ? session.persist().then(() => ({})) : {};
}

export interface SessionOptions {
  /** Most live sessions in this process; the least recently used one is dropped to make room. Default 10,000. */
  max?: number;
  /** Idle time after which a session is reaped. Default 30 minutes. */
  idleMs?: number;
  /**
   * With shared sessions (a networked Ephemeral): how long a process trusts its local copy of a
   * session before reading it again, so a DELETE, `logging/setLevel` or subscription made through
   * another process reaches this one within this time. Default 5 s.
   */
  revalidateMs?: number;
  /**
   * Keep sessions in the Ephemeral store, so any process serves them (and a restart keeps
   * them). Default: yes when another process can read that store (Redis, a SQLite file).
   */
  shared?: boolean;
}

/**
 * Where sessions are kept for the other processes (app.ts implements it over the Ephemeral
 * store). Keys are the sessions' ids; values are opaque strings with a time to live.
 */
export interface SessionShare {
  save(id: string, value: string, ttlMs: number): Promise<void>;
  load(id: string): Promise<string | undefined>;
  drop(id: string): Promise<void>;
}

/** What another process needs to serve a session: everything but its streams. */
interface Descriptor {
  /** owner */
  o: string;
  /** negotiated version */
  v: string;
  /** client capabilities */
  c: Record<string, unknown>;
  /** clientInfo */
  i?: { name?: string; version?: string };
  /** log level */
  l?: LogLevel;
  /** subscribed URIs */
  s?: string[];
  /** when it was last written: a descriptor older than half the idle time is written again */
  t: number;
}

/**
 * Live sessions of this process. A request only stamps `lastSeen`; the rare eviction (at the
 * cap) and the reaper scan for the oldest, so the hot path does no Map re-ordering.
 *
 * With a `SessionShare`, a session is also a descriptor in shared storage, so whichever process
 * gets the next request serves it: a process that does not know an id reads it from there, and
 * a local copy older than `revalidateMs` is read again before use. The shared copy lives while
 * any process uses the session (its TTL is the idle time, renewed as it is read); DELETE removes
 * it. Streams and in-flight requests stay with the process that holds them.
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  private readonly max: number;
  private readonly idleMs: number;
  private readonly revalidateMs: number;
  private readonly timer: NodeJS.Timeout;
  /** Shared reads in flight, so concurrent requests for one unknown id make one copy. */
  private readonly loading = new Map<string, Promise<Session | undefined>>();

  constructor(
    options: SessionOptions = {},
    private readonly now: () => number = Date.now,
    private readonly share?: SessionShare,
  ) {
    this.max = options.max ?? 10_000;
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.revalidateMs = options.revalidateMs ?? 5_000;
    this.timer = setInterval(() => this.reap(), Math.min(60_000, this.idleMs)).unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  get shared(): boolean {
    return this.share !== undefined;
  }

  /** Adds a new session; with a share, resolves once other processes can find it. */
  add(session: Session): Promise<void> | undefined {
    this.keep(session);
    if (!this.share) return undefined;
    session.persist = () => this.save(session);
    return this.save(session).catch((err: unknown) => {
      this.forget(session.id);
      throw err;
    });
  }

  /**
   * The session if it exists, is not idle-expired and belongs to `owner`; else undefined.
   * Synchronous unless the shared copy must be read.
   */
  get(id: string, owner: string): Session | undefined | Promise<Session | undefined> {
    const s = this.sessions.get(id);
    const t = this.now();
    if (s && t - s.lastSeen > this.idleMs) this.forget(id);
    else if (s) {
      // A session bound to another principal is reported as unknown, not as forbidden.
      if (s.owner !== owner) return undefined;
      s.lastSeen = t;
      if (!this.share || t - s.checkedAt < this.revalidateMs) return s;
    }
    if (!this.share) return undefined;
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending.then((found) => (found && found.owner === owner ? found : undefined));
  }

  /** Ends a session here and, when shared, everywhere (DELETE). */
  async delete(id: string): Promise<void> {
    this.forget(id);
    await this.share?.drop(id);
  }

  /** Sessions of this process subscribed to `uri` (resources/subscribe). */
  *subscribers(uri: string): Iterable<Session> {
    for (const s of this.sessions.values()) if (s.subscriptions?.has(uri)) yield s;
  }

  /** Drops local copies idle for `idleMs`; shared copies expire on their own TTL. */
  reap(): void {
    const cutoff = this.now() - this.idleMs;
    for (const s of [...this.sessions.values()]) if (s.lastSeen < cutoff) this.forget(s.id);
  }

  close(): void {
    clearInterval(this.timer);
    for (const id of [...this.sessions.keys()]) this.forget(id);
  }

  private keep(session: Session): void {
    while (this.sessions.size >= this.max) {
      let oldest: Session | undefined;
      for (const s of this.sessions.values()) if (!oldest || s.lastSeen < oldest.lastSeen) oldest = s;
      this.forget(oldest!.id);
    }
    session.checkedAt = this.now();
    this.sessions.set(session.id, session);
  }

  /** Ends the local copy only. */
  private forget(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    s.end();
  }

  /** Reads the shared copy: refreshes the local one, makes one, or drops it when gone. */
  private async load(id: string): Promise<Session | undefined> {
    const raw = await this.share!.load(id);
    const d = raw === undefined ? undefined : parseDescriptor(raw);
    const era = d && eraFor(d.v);
    const t = this.now();
    let s = this.sessions.get(id);
    if (!d || !era || era.modern) {
      if (s) this.forget(id);
      return undefined;
    }
    if (!s) {
      s = new Session(d.o, era, d.c, d.i, t, id);
      s.persist = () => this.save(s!);
      this.keep(s);
    }
    s.logLevel = d.l;
    s.subscriptions = d.s?.length ? new Set(d.s) : undefined;
    s.checkedAt = t;
    s.lastSeen = t;
    // The shared TTL is renewed as the session is used, at most once per half idle time.
    if (t - d.t > this.idleMs / 2) await this.save(s);
    return s;
  }

  private save(s: Session): Promise<void> {
    const d: Descriptor = { o: s.owner, v: s.era.version, c: s.clientCapabilities, t: this.now() };
    if (s.clientInfo) d.i = s.clientInfo;
    if (s.logLevel) d.l = s.logLevel;
    if (s.subscriptions?.size) d.s = [...s.subscriptions];
    return this.share!.save(s.id, JSON.stringify(d), this.idleMs);
  }
}

function parseDescriptor(raw: string): Descriptor | undefined {
  try {
    const d = JSON.parse(raw) as Descriptor;
    return typeof d === 'object' && d !== null && typeof d.o === 'string' && typeof d.v === 'string' && typeof d.t === 'number' ? d : undefined;
  } catch {
    return undefined;
  }
}
