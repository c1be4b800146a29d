import { randomBytes } from 'node:crypto';
import type { LogLevel } from '../registry/types.ts';
import type { RequestId } from '../transport/envelope.ts';
import { eraFor } from './eras.ts';
import { CancelledError, PROCESS_TAG, requestTag, Session, sessionDigest } from './session.ts';

export interface SessionOptions {
  /** Most live sessions in this process; the least recently used one is dropped to make room. Default 10,000. */
  max?: number;
  /** Idle time after which a session is reaped. Default 30 minutes. */
  idleMs?: number;
  /**
   * With shared sessions: how long a process trusts its copy of a session before reading it again.
   * A change made through another process (DELETE, `logging/setLevel`, subscriptions) is also
   * announced to every process at once where the store carries messages (Redis); this is the bound
   * when such a message is lost. Default 5 s.
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
 * store). Keys are digests of the sessions' ids; values are opaque strings with a time to live.
 * `send`/`listen` carry messages between processes, where the store can (Redis): a client's
 * answer to a request another process sent, a cancellation, a change, a resource update.
 */
export interface SessionShare {
  save(key: string, value: string, ttlMs: number): Promise<void>;
  load(key: string): Promise<string | undefined>;
  drop(key: string): Promise<void>;
  /** Sends `message` to the process tagged `to`, or to every process with '*'. */
  send?(to: string, message: string): Promise<void>;
  /** Delivers the messages sent to `tag` and to '*'. */
  listen?(tag: string, onMessage: (message: string) => void): Promise<void>;
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

/** Messages between processes; `s` is a session digest, `f` the sending table. */
type Message =
  | { k: 'answer'; s: string; id: string; result?: unknown; error?: { code: number; message: string } }
  | { k: 'cancel'; s: string; r: RequestId; f: string }
  | { k: 'changed'; s: string; f: string }
  | { k: 'updated'; uri: string; f: string };

/**
 * Live sessions of this process. A request only stamps `lastSeen`; the rare eviction (at the
 * cap) and the reaper scan for the oldest, so the hot path does no Map re-ordering.
 *
 * With a `SessionShare`, a session is also a descriptor in shared storage, so whichever process
 * gets the next request serves it: a process that does not know an id reads it from there, and
 * a local copy older than `revalidateMs` is read again before use. The shared copy lives while
 * any process uses the session (its TTL is the idle time, renewed as it is read); DELETE removes
 * it. Streams and in-flight requests stay with the process that holds them; messages reach them.
 */
export class SessionTable {
  private readonly sessions = new Map<string, Session>();
  /** Shared mode only: local sessions by digest, for messages. */
  private readonly byDigest = new Map<string, Session>();
  private readonly max: number;
  private readonly idleMs: number;
  private readonly revalidateMs: number;
  private readonly timer: NodeJS.Timeout;
  /** Shared reads in flight, so concurrent requests for one unknown id make one copy. */
  private readonly loading = new Map<string, Promise<Session | undefined>>();
  /** Tells this table's own broadcasts apart (two apps in one process share PROCESS_TAG). */
  private readonly self = randomBytes(6).toString('hex');
  private listening: Promise<void> | undefined;
  /** Set by the notification hub: a resource changed, as another process was told. */
  onResourceUpdated: ((uri: string) => void) | undefined;

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

  /** Adds a new session; with a share, resolves once other processes can find it. */
  add(session: Session): Promise<void> | undefined {
    this.keep(session);
    if (!this.share) return undefined;
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
    return this.load(id).then((found) => (found && found.owner === owner ? found : undefined));
  }

  /** Ends a session here and, when shared, everywhere (DELETE). */
  async delete(session: Session): Promise<void> {
    this.forget(session.id);
    if (!this.share) return;
    await this.share.drop(session.digest);
    await this.broadcast({ k: 'changed', s: session.digest, f: this.self });
  }

  /**
   * A client's answer to a server-to-client request that no local session awaits: sent to the
   * process that asked. Undefined when it cannot be routed (not ours, or no messages).
   */
  forward(session: Session, id: RequestId, result: unknown, error?: { code: number; message: string }): Promise<void> | undefined {
    const tag = requestTag(id);
    if (!tag || !this.share?.send) return undefined;
    const m: Message = { k: 'answer', s: session.digest, id: id as string, ...(error ? { error } : { result }) };
    return this.ready().then(() => this.share!.send!(tag, JSON.stringify(m)));
  }

  /** notifications/cancelled for a request this process does not run: told to the others. */
  cancelElsewhere(session: Session, requestId: RequestId): Promise<void> | undefined {
    if (!this.share?.send) return undefined;
    return this.broadcast({ k: 'cancel', s: session.digest, r: requestId, f: this.self });
  }

  /** Tells the other processes that `uri` changed (their subscribers are theirs to notify). */
  resourceUpdated(uri: string): Promise<void> | undefined {
    if (!this.share?.send) return undefined;
    return this.broadcast({ k: 'updated', uri, f: this.self });
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
    if (this.share) {
      this.byDigest.set(session.digest, session);
      session.persist = () => this.save(session).then(() => this.broadcast({ k: 'changed', s: session.digest, f: this.self }));
    }
  }

  /** Ends the local copy only. */
  private forget(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    if (this.share) this.byDigest.delete(s.digest);
    s.end();
  }

  private load(id: string): Promise<Session | undefined> {
    let pending = this.loading.get(id);
    if (!pending) {
      pending = this.read(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  /** Reads the shared copy: refreshes the local one, makes one, or drops it when gone. */
  private async read(id: string): Promise<Session | undefined> {
    const local = this.sessions.get(id);
    const raw = await this.share!.load(local?.digest ?? sessionDigest(id));
    await this.ready();
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
      this.keep(s);
    }
    s.logLevel = d.l;
    s.subscriptions = d.s?.length ? new Set(d.s) : undefined;
    s.checkedAt = t;
    // The shared TTL is renewed as the session is used, at most once per half idle time.
    if (t - d.t > this.idleMs / 2) await this.save(s);
    return s;
  }

  private async save(s: Session): Promise<void> {
    const d: Descriptor = { o: s.owner, v: s.era.version, c: s.clientCapabilities, t: this.now() };
    if (s.clientInfo) d.i = s.clientInfo;
    if (s.logLevel) d.l = s.logLevel;
    if (s.subscriptions?.size) d.s = [...s.subscriptions];
    await this.share!.save(s.digest, JSON.stringify(d), this.idleMs);
    await this.ready();
  }

  /** Subscribes to this process's messages once (again after a failure), before they can matter. */
  private ready(): Promise<void> {
    const listen = this.share?.listen;
    if (!listen) return Promise.resolve();
    this.listening ??= listen(PROCESS_TAG, (m) => this.receive(m)).catch((err: unknown) => {
      this.listening = undefined;
      throw err;
    });
    return this.listening;
  }

  /** Best effort: every process re-reads within revalidateMs anyway. */
  private broadcast(m: Message): Promise<void> {
    if (!this.share?.send) return Promise.resolve();
    return this.share.send('*', JSON.stringify(m)).catch(() => undefined);
  }

  private receive(raw: string): void {
    let m: Message;
    try {
      m = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    if (typeof m !== 'object' || m === null) return; // not ours: nothing to do, nothing to throw
    if (m.k === 'updated') {
      if (m.f !== this.self && typeof m.uri === 'string') this.onResourceUpdated?.(m.uri);
      return;
    }
    const s = this.byDigest.get(m.s);
    if (!s) return;
    if (m.k === 'answer') s.settle(m.id, m.result, m.error);
    else if (m.k === 'cancel') s.inflight?.get(m.r)?.abort(new CancelledError());
    else if (m.k === 'changed' && m.f !== this.self) {
      // Re-read now: a copy holding a stream is not otherwise re-read while the stream is open.
      s.checkedAt = 0;
      this.load(s.id).catch(() => undefined);
    }
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
