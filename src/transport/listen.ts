import { invalidParams } from '../errors.ts';
import type { Session } from '../protocol/session.ts';
import type { SessionTable } from '../protocol/session-table.ts';
import type { RpcRequest } from './envelope.ts';
import { Outbox } from './outbox.ts';
import { bodyText, errorReply, type HttpReply, httpError, resultMessage, SSE_HEADERS } from './replies.ts';

interface Listener {
  readonly id: RpcRequest['id'];
  readonly outbox: Outbox;
  readonly uris: ReadonlySet<string>;
}

const MAX_URIS = 1000;

/**
 * Long-lived notification streams: 2026-07-28 `subscriptions/listen` and the 2025 session GET
 * stream. Tools, prompts and resources are fixed at start-up, so the only notification that
 * can happen is `notifications/resources/updated`, raised by the application.
 */
export class ListenHub {
  private readonly listeners = new Set<Listener>();
  private readonly sessionStreams = new Set<Outbox>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly sessions: SessionTable,
    private readonly supportsResources: boolean,
    heartbeatMs = 20_000,
  ) {
    this.timer = setInterval(() => {
      for (const l of this.listeners) l.outbox.heartbeat();
      for (const o of this.sessionStreams) o.heartbeat();
    }, heartbeatMs).unref();
    sessions.onResourceUpdated = (uri) => this.deliver(uri);
  }

  get openStreams(): number {
    return this.listeners.size + this.sessionStreams.size;
  }

  listen(msg: RpcRequest): HttpReply {
    const filter = msg.params?.notifications;
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
      return errorReply(msg.id, invalidParams('subscriptions/listen needs params.notifications (object)'));
    }
    const wanted = (filter as { resourceSubscriptions?: unknown }).resourceSubscriptions;
    if (wanted !== undefined && (!Array.isArray(wanted) || wanted.some((u) => typeof u !== 'string'))) {
      return errorReply(msg.id, invalidParams('notifications.resourceSubscriptions must be an array of URIs'));
    }
    if (Array.isArray(wanted) && wanted.length > MAX_URIS) {
      return errorReply(msg.id, invalidParams(`at most ${MAX_URIS} resourceSubscriptions per stream`));
    }
    // Lists never change (definitions are fixed at start-up), so only resource updates are honoured.
    const uris = this.supportsResources && Array.isArray(wanted) ? new Set<string>(wanted) : new Set<string>();
    const honoured: Record<string, unknown> = uris.size ? { resourceSubscriptions: [...uris] } : {};
    const outbox = new Outbox();
    const listener: Listener = { id: msg.id, outbox, uris };
    outbox.push(
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { _meta: { 'io.modelcontextprotocol/subscriptionId': msg.id }, notifications: honoured },
      }),
    );
    this.listeners.add(listener);
    outbox.onCancel(() => this.listeners.delete(listener));
    return { status: 200, headers: SSE_HEADERS, stream: outbox };
  }

  openSessionStream(session: Session): HttpReply {
    if (session.stream) return httpError(409, 'Conflict: this session already has a GET stream open');
    const outbox = new Outbox();
    const sink = { send: (m: string) => outbox.push(m), close: () => outbox.end() };
    session.stream = sink;
    for (const m of session.held ?? []) outbox.push(m);
    session.held = undefined;
    this.sessionStreams.add(outbox);
    outbox.onCancel(() => {
      this.sessionStreams.delete(outbox);
      if (session.stream === sink) session.stream = undefined;
    });
    return { status: 200, headers: SSE_HEADERS, stream: outbox };
  }

  /**
   * Tells every subscriber of `uri` that it changed: this process's now (the count), and the
   * other processes' through the session table's messages when sessions are shared.
   */
  resourceUpdated(uri: string): number {
    void this.sessions.resourceUpdated(uri);
    return this.deliver(uri);
  }

  private deliver(uri: string): number {
    let sent = 0;
    for (const l of this.listeners) {
      if (!l.uris.has(uri)) continue;
      const params = { _meta: { 'io.modelcontextprotocol/subscriptionId': l.id }, uri };
      if (l.outbox.push(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/resources/updated', params }))) sent++;
    }
    const legacy = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri } });
    for (const s of this.sessions.subscribers(uri)) if (s.notify(legacy)) sent++;
    return sent;
  }

  /** Graceful end: each listen stream gets its result (subscriptions.mdx), then closes. */
  close(): void {
    clearInterval(this.timer);
    for (const l of this.listeners) {
      const result = { resultType: 'complete', _meta: { 'io.modelcontextprotocol/subscriptionId': l.id } };
      l.outbox.push(bodyText(resultMessage(l.id, result)));
      l.outbox.end();
    }
    this.listeners.clear();
    for (const o of this.sessionStreams) o.end();
    this.sessionStreams.clear();
  }
}
