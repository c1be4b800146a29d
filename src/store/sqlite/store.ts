import { StoreConfigError } from '../errors.ts';
import type { Store } from '../types.ts';
import { sqliteAudit } from './audit.ts';
import { WriteBatcher } from './batcher.ts';
import { sqliteApiKeys, sqliteOAuthClients } from './credentials.ts';
import { Connection, openDatabase, type SqliteOptions } from './database.ts';
import { sqliteGrants, sqliteTokens } from './grants.ts';
import { sqliteUsage } from './usage.ts';

export interface SqliteStoreOptions extends SqliteOptions {
  /** Most writes one group commit takes before committing early. Default 256. */
  maxBatch?: number;
}

/**
 * The default Store: one embedded SQLite file in WAL mode. better-sqlite3 is synchronous, so each
 * method does its work before its promise settles; audit, usage and key-touch writes are
 * group-committed.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly #conn: Connection;
  readonly #batcher: WriteBatcher;
  readonly apiKeys;
  readonly oauthClients;
  readonly grants;
  readonly tokens;
  readonly audit;
  readonly usage;

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
  ) {
    const maxBatch = options.maxBatch ?? 256;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1) {
      throw new StoreConfigError(`maxBatch must be a positive integer, got ${maxBatch}`);
    }
    const now = options.now ?? Date.now;
    this.#conn = new Connection(openDatabase(path, options, 'full'), now, 'store', options);
    this.#batcher = new WriteBatcher(this.#conn, maxBatch);
    this.apiKeys = sqliteApiKeys(this.#conn, this.#batcher);
    this.oauthClients = sqliteOAuthClients(this.#conn);
    this.grants = sqliteGrants(this.#conn);
    this.tokens = sqliteTokens(this.#conn);
    this.audit = sqliteAudit(this.#conn, this.#batcher);
    this.usage = sqliteUsage(this.#conn, this.#batcher);
  }

  /** Group-commit transactions so far: for metrics and for the test that proves batching. */
  get groupCommits(): number {
    return this.#batcher.commits;
  }

  /** Reads (never sets) a PRAGMA on this store's own connection, e.g. `synchronous`, which is per connection. */
  pragma(name: string): unknown {
    if (!/^[a-z_]+$/.test(name)) throw new TypeError(`not a pragma name: ${name}`);
    return this.#conn.db.pragma(name, { simple: true });
  }

  async ping(): Promise<void> {
    this.#conn.stmt('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.#conn.closed) return;
    // Pending audit/usage writes commit (and their promises settle) before the handle goes.
    this.#batcher.flush();
    await this.#conn.close();
  }
}
