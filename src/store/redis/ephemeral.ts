import type { Redis, RedisOptions } from 'ioredis';
import { checkIncrement, checkTtl } from '../arguments.ts';
import { closedError, StoreConfigError, StoreError } from '../errors.ts';
import { redact } from '../spec.ts';
import type { Clock, Ephemeral } from '../types.ts';
import { RedisChannels } from './channels.ts';
import { type Counter, IncrementCoalescer } from './coalesce.ts';
import { defineScripts, NOT_INTEGER, type ScriptedRedis, UNSAFE_SUM } from './scripts.ts';

export interface RedisEphemeralOptions {
  now?: Clock;
  /** key namespace, default 'gangway:' */
  keyPrefix?: string;
  /** per-command timeout, default 2000 */
  commandTimeoutMs?: number;
  /** connect timeout, default 2000 */
  connectTimeoutMs?: number;
}

/**
 * Added to every entry's TTL for Redis's own PEXPIRE. Liveness is decided by the stored expiry and
 * the adapter's clock; the slack keeps Redis from collecting an entry early when the clocks of the
 * processes sharing it differ by less than this.
 */
const GC_SLACK_MS = 60_000;
/** Reconnect backoff: soon after a blip, at most every 2 s during an outage. */
const RECONNECT_MAX_MS = 2_000;
/**
 * Redis errors that mean "not serving right now" rather than "this command is wrong": a server
 * loading its data set, a busy script, a replica after a failover, no memory left for writes.
 */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM)\b/;
/** ioredis messages for a command refused or dropped because the connection is not up. */
const OFFLINE = /Stream isn't writeable|Connection is closed|max retries per request/i;
const URL_SHAPE = 'redis[s]://[[user]:password@]host[:port][/db]';

/**
 * Ephemeral state shared by many processes through one Redis. Each operation is one command or one
 * Lua script (scripts.ts), so it is atomic across processes. While Redis is unreachable every call
 * fails fast with GW_STORE_UNAVAILABLE (the server answers 503) and the client keeps reconnecting in
 * the background, so the same adapter works again once Redis is back.
 */
export class RedisEphemeral implements Ephemeral {
  readonly kind = 'redis';
  readonly #client: ScriptedRedis;
  readonly #target: string;
  readonly #now: Clock;
  readonly #prefix: string;
  #lastError: string | undefined;
  #closing: Promise<void> | undefined;
  readonly #channels: RedisChannels;
  readonly #increments: IncrementCoalescer;

  private constructor(client: Redis, target: string, options: RedisEphemeralOptions) {
    this.#client = defineScripts(client);
    this.#target = target;
    this.#now = options.now ?? Date.now;
    this.#prefix = options.keyPrefix ?? 'gangway:';
    this.#channels = new RedisChannels(client, this.#prefix, options.commandTimeoutMs ?? 2_000);
    this.#increments = new IncrementCoalescer(
      (key, now, by, ttlMs) => this.#incrementBy(key, now, by, ttlMs),
      (write) => {
        const stream = this.#client.stream as { cork?: () => void; uncork?: () => void } | undefined;
        if (typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return write();
        stream.cork();
        try {
          write();
        } finally {
          stream.uncork();
        }
      },
    );
    // Without a listener ioredis prints every connection error; here it only feeds our messages.
    client.on('error', (error: Error) => {
      this.#lastError = redact(error.message);
    });
    client.on('ready', () => {
      this.#lastError = undefined;
    });
  }

  /**
   * Connects to `url` (waiting at most the connect timeout). A malformed URL throws StoreConfigError;
   * an unreachable Redis does not: the adapter opens, calls reject GW_STORE_UNAVAILABLE, and it
   * connects once Redis answers, so a server can start before its Redis does.
   */
  static async open(url: string, options: RedisEphemeralOptions = {}): Promise<RedisEphemeral> {
    const target = parseRedisUrl(url);
    checkTimeouts(options);
    // Loaded on demand: servers that never use Redis never load ioredis.
    const { Redis } = await import('ioredis');
    const client = new Redis({ ...target.options, ...clientOptions(options) });
    const adapter = new RedisEphemeral(client, target.display, options);
    await adapter.#connect(options.connectTimeoutMs ?? 2_000);
    return adapter;
  }

  /** Coalesced per key and event-loop turn (coalesce.ts): one script call for many callers. */
  increment(key: string, by: number, ttlMs: number): Promise<Counter> {
    try {
      this.#open();
      checkIncrement(by);
      checkTtl(ttlMs);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#increments.add(key, this.#now(), by, ttlMs);
  }

  async #incrementBy(key: string, now: number, by: number, ttlMs: number): Promise<Counter> {
    const reply = await this.#run(key, () =>
      this.#client.gwIncrement(this.#key(key), now, by, now + ttlMs, ttlMs + GC_SLACK_MS, ttlMs),
    );
    return counter(reply);
  }

  async get(key: string): Promise<string | undefined> {
    this.#open();
    const now = this.#now();
    // One HMGET is atomic by itself; liveness is then read from the expiry it returned.
    const [value, expiresAt] = await this.#run(key, () => this.#client.hmget(this.#key(key), 'v', 'x'));
    return typeof value === 'string' && Number(expiresAt) > now ? value : undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#open();
    checkTtl(ttlMs);
    const now = this.#now();
    await this.#run(key, () =>
      this.#client.gwSet(this.#key(key), now, String(value), now + ttlMs, ttlMs + GC_SLACK_MS),
    );
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    this.#open();
    checkTtl(ttlMs);
    const now = this.#now();
    const reply = await this.#run(key, () =>
      this.#client.gwSetIfAbsent(this.#key(key), now, String(value), now + ttlMs, ttlMs + GC_SLACK_MS),
    );
    return reply === 1;
  }

  async consume(key: string): Promise<string | undefined> {
    this.#open();
    const reply = await this.#run(key, () => this.#client.gwConsume(this.#key(key), this.#now()));
    return typeof reply === 'string' ? reply : undefined;
  }

  async delete(key: string): Promise<boolean> {
    this.#open();
    const reply = await this.#run(key, () => this.#client.gwDelete(this.#key(key), this.#now()));
    return reply === 1;
  }

  /** Redis PUBLISH (channels carry the key prefix): every subscribed process, at most once. */
  async publish(channel: string, message: string): Promise<void> {
    this.#open();
    await this.#run(channel, () => this.#channels.publish(channel, message));
  }

  /** On a connection of its own, opened on first use; resubscribes after a reconnect. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    this.#open();
    return this.#channels.subscribe(channel, onMessage);
  }

  async ping(): Promise<void> {
    this.#open();
    await this.#run('', () => this.#client.ping());
  }

  /**
   * Lets commands already asked for finish (this turn's increments are sent now, and QUIT queues
   * behind them), then stops reconnecting. Idempotent.
   */
  close(): Promise<void> {
    this.#increments.flush();
    this.#closing ??= this.#quit();
    return this.#closing;
  }

  async #quit(): Promise<void> {
    this.#channels.close();
    if (this.#client.status === 'ready') {
      try {
        await this.#client.quit();
        return;
      } catch {
        // Redis went away meanwhile: nothing left to say goodbye to.
      }
    }
    if (this.#client.status !== 'end') this.#client.disconnect();
  }

  /** Waits for the first connection, but never longer than the connect timeout, and never fails. */
  async #connect(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    try {
      await Promise.race([this.#client.connect().catch(() => undefined), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #run<T>(key: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw this.#storeError(error, key);
    }
  }

  /** Maps a client error to a StoreError; a Redis reply this adapter cannot explain passes through. */
  #storeError(error: unknown, key: string): unknown {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof Error && error.name === 'ReplyError') {
      if (message.includes(NOT_INTEGER))
        return new StoreError('GW_STORE_INVALID', `value at "${key}" is not an integer`, { cause: error });
      if (message.includes(UNSAFE_SUM))
        return new StoreError('GW_STORE_INVALID', `counter at "${key}" would leave the safe integer range`, {
          cause: error,
        });
      if (!TRANSIENT_REPLY.test(message)) return error;
    }
    // close() ended the connection under a call in flight.
    if (this.#closing) return closedError('ephemeral store');
    const reason = OFFLINE.test(message)
      ? `not connected (${this.#lastError ?? 'connecting'})`
      : redact(message);
    return new StoreError('GW_STORE_UNAVAILABLE', `redis at ${this.#target} is unavailable: ${reason}`, {
      cause: error,
    });
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  #open(): void {
    if (this.#closing) throw closedError('ephemeral store');
  }
}

/**
 * Fail fast instead of queueing: a request must get its 503 within the command timeout, not wait
 * for an outage to end. A command whose connection dropped is failed, never resent: it may have run,
 * and running an increment or consume twice is worse than reporting "may or may not have happened".
 */
function clientOptions(options: RedisEphemeralOptions): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, RECONNECT_MAX_MS),
    // After a failover the old primary answers READONLY: reconnect (DNS may name the new one).
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
    // RESP2: every reply read here is the same in both protocols, and every server speaks it.
    protocol: 2,
    // disconnect() arms this timer even for a socket already gone; at 2 s it holds up process exit.
    disconnectTimeout: 250,
  };
}

function checkTimeouts(options: RedisEphemeralOptions): void {
  for (const name of ['commandTimeoutMs', 'connectTimeoutMs'] as const) {
    const ms = options[name];
    if (ms !== undefined && (!Number.isSafeInteger(ms) || ms <= 0))
      throw new StoreConfigError(`redis ${name} must be a positive integer, got ${ms}`);
  }
}

/** Client options from a Redis URL, plus a form of it that is safe to show. */
function parseRedisUrl(url: string): { options: RedisOptions; display: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The text is not echoed: it may hold a password.
    throw new StoreConfigError(`redis URL is malformed, expected ${URL_SHAPE}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new StoreConfigError(`redis URL must start with redis:// or rediss://, expected ${URL_SHAPE}`);
  if (parsed.search || parsed.hash) throw new StoreConfigError('redis URL takes no query or fragment');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new StoreConfigError(`redis URL has no host, expected ${URL_SHAPE}`);
  const port = parsed.port ? Number(parsed.port) : 6379;
  if (port === 0) throw new StoreConfigError('redis URL port must be 1-65535');
  const dbText = /^\/?$/.test(parsed.pathname) ? '0' : /^\/(\d{1,5})$/.exec(parsed.pathname)?.[1];
  const db = Number(dbText ?? Number.NaN);
  if (!Number.isSafeInteger(db)) throw new StoreConfigError('redis URL path must be empty or /<db number>');
  const username = decode(parsed.username);
  const password = decode(parsed.password);
  const secret = username || password ? '***@' : '';
  return {
    options: {
      host,
      port,
      db,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    display: `${parsed.protocol}//${secret}${parsed.host}${db ? `/${db}` : ''}`,
  };
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw new StoreConfigError('redis URL has a malformed %-escape in its user or password');
  }
}


/** The increment script's `[value, remaining ttl]` reply, two decimal strings. */
function counter(reply: unknown): Counter {
  const [value = Number.NaN, ttlMs = Number.NaN] = (Array.isArray(reply) ? reply : []).map(Number);
  if (!Number.isSafeInteger(value) || !Number.isSafeInteger(ttlMs))
    throw new Error(`unexpected reply from the redis increment script: ${JSON.stringify(reply)}`);
  return { value, ttlMs };
}
