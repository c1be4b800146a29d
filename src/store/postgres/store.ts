import { StoreConfigError, StoreError } from '../errors.ts';
import type {
  ApiKeyRepo,
  AuditLog,
  Clock,
  GrantRepo,
  OAuthClientRepo,
  Store,
  TokenRepo,
  UsageRepo,
} from '../types.ts';
import { postgresAudit } from './audit.ts';
import { WriteBatcher } from './batcher.ts';
import { postgresApiKeys, postgresOAuthClients } from './credentials.ts';
import { Database, tablesOf } from './database.ts';
import { isUnavailable, redact } from './errors.ts';
import { postgresGrants, postgresTokens } from './grants.ts';
import { migrate } from './migrations.ts';
import { checkUrl, createPool } from './pool.ts';
import { postgresUsage } from './usage.ts';

export interface PostgresStoreOptions {
  now?: Clock;
  /** schema for the tables, default 'public'; created if missing */
  schema?: string;
  /** pool size, default 10 */
  poolMax?: number;
  /** most writes per group commit, default 256 */
  maxBatch?: number;
  /**
   * group commits running at once, each on its own pooled connection, default 1: writes queued
   * while one commits form the next batch (bench/README.md, section (e), measured 1 against 2)
   */
  maxInFlight?: number;
  /** connect timeout ms, default 5000 */
  connectTimeoutMs?: number;
  /** statement timeout ms, default 10000 */
  statementTimeoutMs?: number;
}

/** Unquoted-identifier shape; Postgres folds nothing we quote, and 63 bytes is its name limit. */
const SCHEMA = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) {
    throw new StoreConfigError(`postgres store option ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** SQLSTATEs that mean the URL names the wrong thing: bad credentials, no such database, no rights. */
const CONFIG_SQLSTATE = /^(28|3D|42501)/;

/**
 * The scale-out Store: PostgreSQL through a pg pool. Every method is one or a few round trips;
 * audit, usage and key-touch writes are group-committed (batcher.ts). Times are BIGINT
 * milliseconds from `now`, never the database clock, so every process and the tests agree.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly #db: Database;
  readonly #batcher: WriteBatcher;
  #closing: Promise<void> | undefined;
  readonly apiKeys: ApiKeyRepo;
  readonly oauthClients: OAuthClientRepo;
  readonly grants: GrantRepo;
  readonly tokens: TokenRepo;
  readonly audit: AuditLog;
  readonly usage: UsageRepo;

  private constructor(db: Database, schema: string, maxBatch: number, maxInFlight: number) {
    this.#db = db;
    this.#batcher = new WriteBatcher(db, maxBatch, maxInFlight);
    this.apiKeys = postgresApiKeys(db, this.#batcher);
    this.oauthClients = postgresOAuthClients(db);
    this.grants = postgresGrants(db);
    this.tokens = postgresTokens(db);
    this.audit = postgresAudit(db, this.#batcher, schema);
    this.usage = postgresUsage(db, this.#batcher);
  }

  /**
   * Checks the options, connects and migrates. Bad options or URL, wrong credentials or database:
   * StoreConfigError (GW_CONFIG_STORE); Postgres unreachable: GW_STORE_UNAVAILABLE; a schema from a
   * newer Gangway: GW_STORE_SCHEMA. No message ever holds the URL's password.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const shown = checkUrl(url);
    const now = options.now ?? Date.now;
    if (typeof now !== 'function') throw new StoreConfigError('postgres store option now must be a function');
    const schema = options.schema ?? 'public';
    if (typeof schema !== 'string' || !SCHEMA.test(schema)) {
      throw new StoreConfigError(
        `postgres store option schema must be a plain identifier (letters, digits, _), got ${JSON.stringify(schema)}`,
      );
    }
    const maxBatch = positiveInt('maxBatch', options.maxBatch, 256);
    const maxInFlight = positiveInt('maxInFlight', options.maxInFlight, 1);
    const pool = await createPool(url, shown, {
      poolMax: positiveInt('poolMax', options.poolMax, 10),
      connectTimeoutMs: positiveInt('connectTimeoutMs', options.connectTimeoutMs, 5000),
      statementTimeoutMs: positiveInt('statementTimeoutMs', options.statementTimeoutMs, 10_000),
    });
    const db = new Database(pool, tablesOf(schema), now);
    try {
      await db.withClient((client) => migrate(client, schema, now()));
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw openError(error, shown);
    }
    return new PostgresStore(db, schema, maxBatch, maxInFlight);
  }

  /** Group-commit transactions so far: for metrics and for the test that proves batching. */
  get groupCommits(): number {
    return this.#batcher.commits;
  }

  async ping(): Promise<void> {
    await this.#db.query('SELECT 1');
  }

  /** Stops new calls, commits the queued writes (their promises settle), then ends the pool. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#db.markClosed();
      await this.#batcher.drain();
      await this.#db.pool.end();
    })();
    return this.#closing;
  }
}

/** At start-up anything but an outage or a newer schema is the configuration's to fix. */
function openError(error: unknown, shown: string): unknown {
  if (error instanceof StoreError && error.code !== 'GW_STORE_UNAVAILABLE') return error;
  if (error instanceof StoreConfigError) return error;
  const cause = (error as { cause?: unknown }).cause ?? error;
  const message = redact(cause instanceof Error ? cause.message : String(cause));
  if (isUnavailable(error)) {
    return new StoreError('GW_STORE_UNAVAILABLE', `cannot reach Postgres at ${shown}: ${message}`, { cause });
  }
  const code = (cause as { code?: unknown } | null)?.code;
  const what = typeof code === 'string' && CONFIG_SQLSTATE.test(code) ? 'refused' : 'failed to open';
  return new StoreConfigError(`postgres store at ${shown} ${what}: ${message}`, { cause });
}
