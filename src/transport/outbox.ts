/**
 * The outgoing side of one SSE response: events queue here until the adapter attaches its
 * writer, then go straight through. `onCancel` fires when the client goes away.
 */
export class Outbox {
  private queue: string[] | undefined = [];
  private writer: ((chunk: string) => void) | undefined;
  private ender: (() => void) | undefined;
  private cancelHandlers: Array<() => void> | undefined;
  ended = false;

  /** Queues one SSE event whose data is a JSON-RPC message. False once ended. */
  push(json: string): boolean {
    if (this.ended) return false;
    const event = `event: message\ndata: ${json}\n\n`;
    if (this.writer) this.writer(event);
    else this.queue!.push(event);
    return true;
  }

  /** A comment line: keeps proxies from closing an idle stream. */
  heartbeat(): void {
    if (!this.ended && this.writer) this.writer(': keep-alive\n\n');
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.ender?.();
  }

  attach(write: (chunk: string) => void, end: () => void): void {
    for (const e of this.queue ?? []) write(e);
    this.queue = undefined;
    this.writer = write;
    this.ender = end;
    if (this.ended) end();
  }

  onCancel(fn: () => void): void {
    (this.cancelHandlers ??= []).push(fn);
  }

  /** The client disconnected: stop writing and tell whoever produces events. */
  cancel(): void {
    if (this.ended && !this.cancelHandlers) return;
    this.ended = true;
    const handlers = this.cancelHandlers;
    this.cancelHandlers = undefined;
    for (const fn of handlers ?? []) fn();
  }
}
