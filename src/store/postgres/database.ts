import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { closedError } from '../errors.ts';
import type { Clock } from '../types.ts';
import { rowMappers } from '../rows.ts';
import { isUnavailable, toStoreError } from './errors.ts';

/** Schema-qualified, quoted table names: every statement names its schema, so search_path never matters. */
export interface Tables {
  apiKeys: string;
  oauthClients: string;
  grants: string;
  tokens: string;
  audit: string;
  usage: string;
  migrations: string;
}

/** Row-to-record mappers: lists are text[] and JSON documents jsonb, both decoded by the driver. */
export const fromRow = rowMappers<string[], unknown>({ list: (list) => list, json: (value) => value });

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export function tablesOf(schema: string): Tables {
  const q = quoteIdent(schema);
  return {
    apiKeys: `${q}.api_keys`,
    oauthClients: `${q}.oauth_clients`,
    grants: `${q}.grants`,
    tokens: `${q}.tokens`,
    audit: `${q}.audit`,
    usage: `${q}.usage`,
    migrations: `${q}.schema_migrations`,
  };
}

/** Runs statements on one checked-out client (a transaction's). */
export type Run = <R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]) => Promise<R[]>;

/**
 * The pool shared by one adapter's repositories: open check, clock, table names, and the only place
 * that checks clients out, so every error leaves as a StoreError and a broken connection is never
 * handed out again.
 */
export class Database {
  #closed = false;

  constructor(
    readonly pool: Pool,
    readonly tables: Tables,
    readonly now: Clock,
  ) {}

  markClosed(): void {
    this.#closed = true;
  }

  assertOpen(): void {
    if (this.#closed) throw closedError('store');
  }

  /** One statement in autocommit mode; returns its rows. */
  async query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]> {
    this.assertOpen();
    return this.withClient(async (client) => (await client.query<R>(sql, params)).rows);
  }

  /** `query` as a Run, for code shared between autocommit and transactions. */
  readonly run: Run = (sql, params) => this.query(sql, params);

  /** One statement in autocommit mode; returns how many rows it changed. */
  async count(sql: string, params?: unknown[]): Promise<number> {
    this.assertOpen();
    return this.withClient(async (client) => (await client.query(sql, params)).rowCount ?? 0);
  }

  /**
   * Runs `fn` in a READ COMMITTED transaction on one client. `fn`'s statements lock what they must
   * (conditional UPDATEs, FOR SHARE): see grants.ts. Rolls back on any error and rethrows it mapped.
   */
  async transaction<T>(fn: (run: Run) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.withClient(async (client) => {
      await client.query('BEGIN');
      let value: T;
      try {
        value = await fn(async (sql, params) => (await client.query(sql, params)).rows);
      } catch (error) {
        if (!isUnavailable(error)) await client.query('ROLLBACK');
        throw error;
      }
      await commit(client);
      return value;
    });
  }

  /**
   * Checks a client out, runs `fn`, and returns the client; a client whose connection failed is
   * destroyed instead (the pool opens a new one when Postgres is back). While checked out the client
   * has an error listener: a socket that dies between two statements must not crash the process.
   */
  async withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      // A call that passed assertOpen just before close() may find the pool ended.
      throw this.pool.ending ? closedError('store') : toStoreError(error);
    }
    let broken: unknown;
    const onError = (error: unknown): void => {
      broken ??= error;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (error) {
      if (isUnavailable(error)) broken ??= error;
      throw toStoreError(error);
    } finally {
      client.off('error', onError);
      client.release(broken === undefined ? undefined : (broken as Error));
    }
  }
}

/** COMMIT of a transaction that had failed answers ROLLBACK without an error: treat that as the failure it is. */
export async function commit(client: PoolClient): Promise<void> {
  const result = await client.query('COMMIT');
  if (result.command !== 'COMMIT') throw new Error(`transaction was rolled back (${result.command})`);
}
