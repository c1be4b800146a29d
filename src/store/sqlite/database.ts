import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import Database from 'better-sqlite3';
import { closedError, StoreConfigError, StoreError } from '../errors.ts';
import { rowMappers } from '../rows.ts';
import type { Clock } from '../types.ts';
import { Checkpointer } from './checkpointer.ts';
import { migrate } from './migrations.ts';

export interface SqliteOptions {
  now?: Clock;
  /**
   * `full` (default for the Store): in WAL mode every commit fsyncs the WAL, so an acknowledged
   * audit record survives power loss, not only a process crash; group commit pays one fsync per
   * batch. `normal` survives process crashes (SIGKILL) but may lose the last commits on power loss.
   */
  synchronous?: 'full' | 'normal';
  /** How long a writer waits for another connection's lock before SQLITE_BUSY. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * WAL checkpoints in a worker thread (default true for files): commits never stall on the
   * checkpoint's fsyncs. False: SQLite's automatic checkpoint, inside the commit that crosses it.
   */
  backgroundCheckpoint?: boolean;
}

/** Opens (creating it and its parent directories if needed), configures and migrates a database. */
export function openDatabase(path: string, options: SqliteOptions, defaultSync: 'full' | 'normal'): BetterSqlite3.Database {
  const sync = options.synchronous ?? defaultSync;
  if (sync !== 'full' && sync !== 'normal') {
    throw new StoreConfigError(`synchronous must be "full" or "normal", got ${JSON.stringify(sync)}`);
  }
  const timeout = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(timeout) || timeout < 0) {
    throw new StoreConfigError(`busyTimeoutMs must be a non-negative integer, got ${timeout}`);
  }
  const inMemory = path === ':memory:';
  let db: BetterSqlite3.Database;
  try {
    if (!inMemory) {
      mkdirSync(dirname(path), { recursive: true });
      // Token and key hashes live here: keep the file private to the service user. SQLite gives the
      // -wal and -shm files the main file's permissions.
      if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
    }
    db = new Database(path, { timeout });
  } catch (cause) {
    throw new StoreConfigError(`cannot open SQLite database at ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    // WAL: readers never block the writer, and one fsync of the WAL per commit (no rollback journal).
    if (!inMemory && mode !== 'wal') {
      throw new StoreConfigError(`SQLite at ${path} refused WAL mode (got ${String(mode)})`);
    }
    db.pragma(`synchronous = ${sync.toUpperCase()}`);
    db.pragma('foreign_keys = ON');
    migrate(db, (options.now ?? Date.now)());
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A connection shared by one adapter's repositories: open check, clock, statement cache, checkpoints. */
export class Connection {
  readonly #db: BetterSqlite3.Database;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  readonly #checkpointer: Checkpointer | null;
  #closed = false;

  constructor(
    db: BetterSqlite3.Database,
    readonly now: Clock,
    readonly what: string,
    options: SqliteOptions = {},
  ) {
    this.#db = db;
    const file = db.memory ? null : db.name;
    this.#checkpointer =
      file && options.backgroundCheckpoint !== false
        ? new Checkpointer(db, file, (message) => process.emitWarning(message, { code: 'GW_STORE_CHECKPOINT' }))
        : null;
  }

  get closed(): boolean {
    return this.#closed;
  }

  assertOpen(): void {
    if (this.#closed) throw closedError(this.what);
  }

  /** The database handle; throws GW_STORE_CLOSED after close. */
  get db(): BetterSqlite3.Database {
    if (this.#closed) throw closedError(this.what);
    return this.#db;
  }

  /** A prepared statement, compiled once per connection. */
  stmt<Row = unknown>(sql: string): BetterSqlite3.Statement<unknown[], Row> {
    const db = this.db;
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement as BetterSqlite3.Statement<unknown[], Row>;
  }

  /** Runs `fn` in an IMMEDIATE transaction: takes the write lock first, so no other process interleaves. */
  write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Closes the handle after the checkpoint worker's, so this last connection checkpoints and removes the WAL. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    await this.#checkpointer?.stop();
    this.#db.close();
  }
}

/** Maps a UNIQUE/PRIMARY KEY violation to GW_STORE_CONFLICT; rethrows anything else. */
export function conflict(error: unknown, what: string): never {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    throw new StoreError('GW_STORE_CONFLICT', `${what} already exists`, { cause: error });
  }
  throw error;
}

export const json = (value: unknown): string => JSON.stringify(value);
export const parseList = (text: string): string[] => JSON.parse(text) as string[];

/** Row-to-record mappers: lists and JSON documents are stored as JSON text. */
export const fromRow = rowMappers<string, string>({ list: parseList, json: (text) => JSON.parse(text) });
