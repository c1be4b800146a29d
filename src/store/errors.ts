import { brandClass, GangwayConfigError } from '../errors.ts';

/** Storage errors. Each carries a stable `code` that callers may branch on; messages may change. */

/** A store or ephemeral spec/option that cannot work: thrown at start-up, never on a request. */
export class StoreConfigError extends GangwayConfigError {
  override readonly name = 'StoreConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('GW_CONFIG_STORE', message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

export type StoreErrorCode =
  /** The adapter was closed; the call did nothing. */
  | 'GW_STORE_CLOSED'
  /** A unique value (key hash, token hash, client id, record id) already exists; nothing was written. */
  | 'GW_STORE_CONFLICT'
  /** An argument the adapter cannot accept (bad TTL, non-integer counter, bad month); nothing was written. */
  | 'GW_STORE_INVALID'
  /** A token was inserted for a grant that does not exist or is revoked; nothing was written. */
  | 'GW_STORE_GRANT_INACTIVE'
  /** The database was migrated by a newer Gangway than this one; refusing to touch it. */
  | 'GW_STORE_SCHEMA'
  /**
   * The backing service (Postgres, Redis) could not be reached or did not answer in time. A write
   * may or may not have happened; the caller answers 503 and the adapter reconnects by itself.
   */
  | 'GW_STORE_UNAVAILABLE';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
brandClass(StoreError, 'StoreError');

export const closedError = (what: string): StoreError =>
  new StoreError('GW_STORE_CLOSED', `${what} is closed`);
