import type { Connection } from './database.ts';

interface Pending {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes queued in the same event-loop turn (or until `maxBatch` are waiting) run in
 * ONE transaction, and every promise settles only after that transaction has committed. Under
 * synchronous=FULL that is one fsync for the whole batch instead of one per write.
 *
 * The fast path runs the batch's writes back to back in one transaction, with no savepoints (a
 * savepoint per write cost more than the write). If any write throws, that transaction rolls back
 * and the batch runs again with each write in its own savepoint, so one failing write rejects
 * alone and the others still commit. If the commit itself fails, every write rejects.
 */
export class WriteBatcher {
  readonly #conn: Connection;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #scheduled = false;
  #commits = 0;
  /** Built once: better-sqlite3 compiles BEGIN/COMMIT for each transaction function it makes. */
  #fast: ((batch: Pending[]) => unknown[]) | undefined;

  constructor(conn: Connection, maxBatch = 256) {
    this.#conn = conn;
    this.#maxBatch = maxBatch;
  }

  /** Writes one transaction takes before it commits early (an adapter that merges writes counts its rows). */
  get maxBatch(): number {
    return this.#maxBatch;
  }

  /** Transactions committed so far (observability, and how tests see that batching happened). */
  get commits(): number {
    return this.#commits;
  }

  enqueue<T>(run: () => T): Promise<T> {
    this.#conn.assertOpen(); // GW_STORE_CLOSED before anything is queued
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (this.#queue.length >= this.#maxBatch) this.flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.flush();
        });
      }
    });
  }

  /** Commits whatever is queued now. Called by the timer, when a batch is full, and on close. */
  flush(): void {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    let values: unknown[];
    try {
      const db = this.#conn.db;
      this.#fast ??= db
        .transaction((ops: Pending[]) => {
          const out = new Array<unknown>(ops.length);
          for (let i = 0; i < ops.length; i++) out[i] = ops[i]!.run();
          return out;
        })
        .immediate.bind(undefined) as (batch: Pending[]) => unknown[];
      values = this.#fast(batch);
      this.#commits++;
    } catch {
      // A write failed (the transaction rolled back) or the commit did: go one savepoint per write.
      return this.flushOneByOne(batch);
    }
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(values[i]);
  }

  private flushOneByOne(batch: Pending[]): void {
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      const db = this.#conn.db;
      this.#conn.write(() => {
        for (const op of batch) {
          try {
            outcomes.push({ ok: true, value: db.transaction(op.run)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
      this.#commits++;
    } catch (error) {
      for (const op of batch) op.reject(error);
      return;
    }
    batch.forEach((op, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) op.resolve(outcome.value);
      else op.reject(outcome.error);
    });
  }
}
