import { checkIncrement, checkTtl, parseCounter } from '../arguments.ts';
import { closedError } from '../errors.ts';
import type { AdapterOptions, Clock, Ephemeral } from '../types.ts';

export interface MemoryEphemeralOptions extends AdapterOptions {
  /** How often expired entries are swept (lookups also drop them lazily). Default 30 s. */
  sweepIntervalMs?: number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * One process only. Every operation completes synchronously before its promise is created, so
 * no two operations interleave: that is what makes increment/consume/setIfAbsent atomic here.
 */
export class MemoryEphemeral implements Ephemeral {
  readonly kind = 'memory';
  readonly #entries = new Map<string, Entry>();
  readonly #channels = new Map<string, Set<(message: string) => void>>();
  readonly #now: Clock;
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(options: MemoryEphemeralOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#timer = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000);
    this.#timer.unref();
  }

  /** Entries held, expired ones included until swept. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries; returns how many. */
  sweep(): number {
    const now = this.#now();
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now) {
        this.#entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  async increment(key: string, by: number, ttlMs: number): Promise<{ value: number; ttlMs: number }> {
    return this.incrementNow(key, by, ttlMs);
  }

  incrementNow(key: string, by: number, ttlMs: number): { value: number; ttlMs: number } {
    this.#open();
    checkIncrement(by);
    checkTtl(ttlMs);
    const now = this.#now();
    const entry = this.#live(key, now);
    if (!entry) {
      this.#entries.set(key, { value: String(by), expiresAt: now + ttlMs });
      return { value: by, ttlMs };
    }
    const value = parseCounter(key, entry.value) + by;
    entry.value = String(value);
    return { value, ttlMs: entry.expiresAt - now };
  }

  async get(key: string): Promise<string | undefined> {
    this.#open();
    return this.#live(key, this.#now())?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#open();
    checkTtl(ttlMs);
    this.#entries.set(key, { value: String(value), expiresAt: this.#now() + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    this.#open();
    checkTtl(ttlMs);
    const now = this.#now();
    if (this.#live(key, now)) return false;
    this.#entries.set(key, { value: String(value), expiresAt: now + ttlMs });
    return true;
  }

  async consume(key: string): Promise<string | undefined> {
    this.#open();
    const entry = this.#live(key, this.#now());
    if (!entry) return undefined;
    this.#entries.delete(key);
    return entry.value;
  }

  async delete(key: string): Promise<boolean> {
    this.#open();
    const live = this.#live(key, this.#now()) !== undefined;
    this.#entries.delete(key);
    return live;
  }

  /** Delivered on a later turn, as a networked adapter would: never inside the publisher's call. */
  async publish(channel: string, message: string): Promise<void> {
    this.#open();
    for (const fn of this.#channels.get(channel) ?? []) setImmediate(fn, message);
  }

  async subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>> {
    this.#open();
    let set = this.#channels.get(channel);
    if (!set) this.#channels.set(channel, (set = new Set()));
    const fn = (m: string) => onMessage(m); // one registration per call, even for the same function
    set.add(fn);
    return async () => void set.delete(fn);
  }

  async ping(): Promise<void> {
    this.#open();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#entries.clear();
    this.#channels.clear();
  }

  /** The entry if present and unexpired; an expired one is dropped on the way. */
  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #open(): void {
    if (this.#closed) throw closedError('ephemeral store');
  }
}
