import type { Pool } from 'pg';
import { StoreConfigError } from '../errors.ts';
import { redact } from './errors.ts';

export interface PoolSettings {
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
}

/**
 * Checks the URL's shape without echoing its password: `postgres://` or `postgresql://`, which pg
 * then reads (host, port, database, sslmode, ...). Returns it as messages may show it: no password,
 * no query string.
 */
export function checkUrl(url: unknown): string {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new StoreConfigError('postgres store needs a URL like postgres://user@host:5432/database');
  }
  // The query string stays out of messages too: pg accepts `?password=` there.
  const shown = redact(url.split('?')[0]!);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreConfigError(`postgres store URL "${shown}" is not a valid URL`);
  }
  if ((parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') || !url.includes('//')) {
    throw new StoreConfigError(`postgres store URL "${shown}" must start with postgres:// or postgresql://`);
  }
  return shown;
}

/**
 * Loads pg on first use only (servers on SQLite never do) and builds the pool. BIGINT (int8)
 * columns come back as numbers: every one holds milliseconds, a seq or a count, all far below 2^53.
 * The parser is the pool's own, never pg's global one, so other pg users in the process are unaffected.
 */
export async function createPool(url: string, shown: string, settings: PoolSettings): Promise<Pool> {
  let pg: typeof import('pg').default;
  try {
    pg = (await import('pg')).default;
  } catch (cause) {
    throw new StoreConfigError('the postgres store needs the "pg" package: npm install pg', { cause });
  }
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (text: string) => Number(text));
  let pool: Pool;
  try {
    pool = new pg.Pool({
      connectionString: url,
      max: settings.poolMax,
      connectionTimeoutMillis: settings.connectTimeoutMs,
      // Server side: a slow statement is cancelled and the connection kept.
      statement_timeout: settings.statementTimeoutMs,
      // Client side, a little later: a server that stopped answering (a dead network path) is
      // given up and its connection destroyed; statement_timeout cannot fire on a dead link.
      query_timeout: settings.statementTimeoutMs + settings.connectTimeoutMs,
      keepAlive: true,
      application_name: 'gangway',
      types,
    });
  } catch (cause) {
    throw new StoreConfigError(`postgres store URL "${shown}": ${redact((cause as Error).message)}`);
  }
  // An idle client whose connection dies (a restart, a proxy timeout) is dropped by the pool,
  // which then emits 'error': without a listener that would crash the process. Nothing to do
  // here: the next call opens a new connection or fails with GW_STORE_UNAVAILABLE.
  pool.on('error', () => undefined);
  return pool;
}
