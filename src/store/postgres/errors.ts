import { StoreError } from '../errors.ts';
import { redact } from '../spec.ts';

/** How pg and node:net report that the server is gone or did not answer; each maps to GW_STORE_UNAVAILABLE. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: the server is stopping or the backend was terminated
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or in recovery
  '57014', // query_canceled: statement_timeout fired
]);
/** SQLSTATE classes: 08 connection exception, 53 insufficient resources (too many connections, disk full). */
const UNAVAILABLE_CLASSES = new Set(['08', '53']);
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** pg's own messages: it throws plain Errors without a code for these. */
const UNAVAILABLE_MESSAGES = new RegExp(
  '^(Connection terminated|timeout exceeded when trying to connect|Query read timeout' +
    '|Client has encountered a connection error|Client was closed)',
);

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * True when the server is gone or did not answer in time (not when it refused the statement): the
 * connection is dropped, and retrying the same write on it is pointless.
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof StoreError) return error.code === 'GW_STORE_UNAVAILABLE';
  const code = codeOf(error);
  if (code !== undefined) {
    if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && UNAVAILABLE_CLASSES.has(code.slice(0, 2))) return true;
  }
  if (error instanceof AggregateError) return error.errors.some(isUnavailable); // happy-eyeballs connects
  return error instanceof Error && UNAVAILABLE_MESSAGES.test(error.message);
}


/**
 * Maps what pg threw to the store's codes: the server unreachable or too slow -> GW_STORE_UNAVAILABLE;
 * a value Postgres cannot hold or check (a NUL in text, a bad number) -> GW_STORE_INVALID. Unique
 * violations are left to `conflict`, which knows what was being written; anything else is rethrown.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreError) return error;
  if (isUnavailable(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new StoreError('GW_STORE_UNAVAILABLE', `Postgres is unavailable: ${redact(message)}`, { cause: error });
  }
  const code = codeOf(error);
  if (code === '22021') {
    // Postgres text has no U+0000; SQLite's does. Refused, not silently altered (audit text fields are the exception: audit.ts stores U+FFFD, so a call stays recordable).
    return new StoreError('GW_STORE_INVALID', 'Postgres cannot store a NUL (U+0000) character in text', {
      cause: error,
    });
  }
  if (code !== undefined && (code.startsWith('22') || code === '23514') && code.length === 5) {
    return new StoreError('GW_STORE_INVALID', `Postgres refused a value: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return error;
}

/** Maps a unique violation to GW_STORE_CONFLICT, anything else through `toStoreError`; always throws. */
export function conflict(error: unknown, what: string): never {
  if (codeOf(error) === '23505') {
    throw new StoreError('GW_STORE_CONFLICT', `${what} already exists`, { cause: error });
  }
  throw toStoreError(error);
}

export { redact };
