import type { Redis } from 'ioredis';
import { StoreError } from '../errors.ts';

/**
 * Redis pub/sub for the Ephemeral store's `publish`/`subscribe`. Publishing uses the adapter's
 * own connection (fail fast while Redis is down, as every command); subscribing needs a
 * connection of its own, opened on first use, which resubscribes by itself after a reconnect.
 * Channels carry the adapter's key prefix, so two deployments on one Redis do not hear each other
 * (pub/sub ignores the database number).
 */
export class RedisChannels {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #handlers = new Map<string, Set<(message: string) => void>>();
  #subscriber: Redis | undefined;

  constructor(client: Redis, prefix: string, timeoutMs: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.#client.publish(this.#prefix + channel, message);
  }

  /**
   * Resolves once Redis confirmed the subscription; rejects GW_STORE_UNAVAILABLE if that takes
   * longer than the command timeout (the handler is then not kept, so a retry does not double it).
   */
  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    const name = this.#prefix + channel;
    let set = this.#handlers.get(name);
    if (!set) this.#handlers.set(name, (set = new Set()));
    const fn = (m: string) => onMessage(m);
    set.add(fn);
    const stop = async () => {
      set.delete(fn);
      if (set.size === 0 && this.#handlers.get(name) === set) {
        this.#handlers.delete(name);
        await this.#subscriber?.unsubscribe(name).catch(() => undefined);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#connection().subscribe(name),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new StoreError('GW_STORE_UNAVAILABLE', `redis did not confirm the subscription within ${this.#timeoutMs} ms`)),
            this.#timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      await stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return stop;
  }

  close(): void {
    this.#handlers.clear();
    this.#subscriber?.disconnect();
  }

  #connection(): Redis {
    if (this.#subscriber) return this.#subscriber;
    // Queues SUBSCRIBE until connected and repeats every subscription after a reconnect.
    const sub = this.#client.duplicate({ lazyConnect: false, enableOfflineQueue: true, autoResubscribe: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    sub.on('error', () => {}); // the adapter's own connection reports the outage
    sub.on('message', (channel: string, message: string) => {
      for (const fn of this.#handlers.get(channel) ?? []) {
        try {
          fn(message);
        } catch {
          // one handler's failure is not another's
        }
      }
    });
    this.#subscriber = sub;
    return sub;
  }
}
