import { checkIncrement, checkTtl, parseCounter } from '../arguments.ts';
import type { Ephemeral } from '../types.ts';
import { Connection, openDatabase, type SqliteOptions } from './database.ts';

export interface SqliteEphemeralOptions extends SqliteOptions {
  /** How often expired rows are deleted (reads ignore them regardless). Default 60 s. */
  sweepIntervalMs?: number;
}

/**
 * Ephemeral state in its own table, in its own file or the Store's. Survives restarts. Each
 * read-modify-write runs as one statement or one IMMEDIATE transaction, so it stays atomic even if a
 * second process opens the file (the supported topology is still one process).
 */
export class SqliteEphemeral implements Ephemeral {
  readonly kind = 'sqlite';
  readonly #conn: Connection;
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly path: string,
    options: SqliteEphemeralOptions = {},
  ) {
    // synchronous=NORMAL: losing the last second of rate windows or confirmation tokens to a power
    // cut is harmless (a token must be asked again), and it keeps fsync off the request path.
    this.#conn = new Connection(
      openDatabase(path, options, 'normal'),
      options.now ?? Date.now,
      'ephemeral store',
      options,
    );
    this.#timer = setInterval(() => {
      if (this.#conn.closed) return;
      try {
        this.sweep();
      } catch {
        // e.g. SQLITE_BUSY from another connection: reads skip expired rows anyway, the next sweep retries.
      }
    }, options.sweepIntervalMs ?? 60_000);
    this.#timer.unref();
  }

  /** Deletes expired rows; returns how many. */
  sweep(): number {
    return this.#conn.stmt('DELETE FROM ephemeral WHERE expires_at <= ?').run(this.#conn.now()).changes;
  }

  async increment(key: string, by: number, ttlMs: number): Promise<{ value: number; ttlMs: number }> {
    return this.incrementNow(key, by, ttlMs);
  }

  incrementNow(key: string, by: number, ttlMs: number): { value: number; ttlMs: number } {
    checkIncrement(by);
    checkTtl(ttlMs);
    const now = this.#conn.now();
    return this.#conn.write(() => {
      const row = this.#conn
        .stmt<{ value: string; expires_at: number }>(
          'SELECT value, expires_at FROM ephemeral WHERE key = ? AND expires_at > ?',
        )
        .get(key, now);
      const value = row ? parseCounter(key, row.value) + by : by;
      const expiresAt = row ? row.expires_at : now + ttlMs;
      this.#conn
        .stmt(
          `INSERT INTO ephemeral (key, value, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
        )
        .run(key, String(value), expiresAt);
      return { value, ttlMs: expiresAt - now };
    });
  }

  async get(key: string): Promise<string | undefined> {
    const row = this.#conn
      .stmt<{ value: string }>('SELECT value FROM ephemeral WHERE key = ? AND expires_at > ?')
      .get(key, this.#conn.now());
    return row?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    checkTtl(ttlMs);
    this.#conn
      .stmt(
        `INSERT INTO ephemeral (key, value, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      )
      .run(key, String(value), this.#conn.now() + ttlMs);
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    checkTtl(ttlMs);
    const now = this.#conn.now();
    // One statement: inserts, or replaces only an expired row; `changes` says which happened.
    const result = this.#conn
      .stmt(
        `INSERT INTO ephemeral (key, value, expires_at) VALUES (@key, @value, @expiresAt)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
         WHERE ephemeral.expires_at <= @now`,
      )
      .run({ key, value: String(value), expiresAt: now + ttlMs, now });
    return result.changes === 1;
  }

  async consume(key: string): Promise<string | undefined> {
    const now = this.#conn.now();
    // DELETE ... RETURNING is the atomic get-and-delete: only one statement can delete the row.
    const row = this.#conn
      .stmt<{ value: string; expires_at: number }>(
        'DELETE FROM ephemeral WHERE key = ? RETURNING value, expires_at',
      )
      .get(key);
    return row && row.expires_at > now ? row.value : undefined;
  }

  async delete(key: string): Promise<boolean> {
    const now = this.#conn.now();
    const row = this.#conn
      .stmt<{ expires_at: number }>('DELETE FROM ephemeral WHERE key = ? RETURNING expires_at')
      .get(key);
    return row !== undefined && row.expires_at > now;
  }

  async ping(): Promise<void> {
    this.#conn.stmt('SELECT 1').get();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#conn.close();
  }
}
