import type { PoolClient } from 'pg';
import { commit, type Database } from './database.ts';
import { isUnavailable, toStoreError } from './errors.ts';

/**
 * A kind of group-committed write (audit rows, usage increments, key touches). `write` stores any
 * number of inputs in one statement and returns one output per input, in order: a batch of 200
 * appends is one INSERT, not 200 round trips.
 */
export interface WriteKind<I, O> {
  /**
   * Kinds run in ascending `order` in every batch, and `write` orders rows by key: every process
   * takes row locks in one global order, so two batches never deadlock each other.
   */
  readonly order: number;
  /** Run once right after BEGIN (outside every savepoint) when the batch holds this kind. */
  readonly lock?: string;
  write(client: PoolClient, inputs: readonly I[]): Promise<O[]>;
}

interface Pending {
  kind: WriteKind<unknown, unknown>;
  input: unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: writes queued in the same event-loop turn (or until `maxBatch` are waiting) go in
 * ONE transaction on one pooled client, and every promise settles only after COMMIT (durable under
 * Postgres's default synchronous_commit=on). One batch is in flight at a time: writes queued while
 * it commits form the next one, so batches grow with load instead of connections.
 *
 * The fast path writes each kind's inputs with one statement. If a statement fails, the
 * transaction rolls back and the batch runs again with each write alone in its own savepoint, so
 * one failing write rejects alone and the others still commit. A failed COMMIT, or a lost
 * connection anywhere, rejects every write of the batch (GW_STORE_UNAVAILABLE: it may or may not
 * have committed).
 */
export class WriteBatcher {
  readonly #db: Database;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #scheduled = false;
  #running: Promise<void> | null = null;
  #commits = 0;

  constructor(db: Database, maxBatch: number) {
    this.#db = db;
    this.#maxBatch = maxBatch;
  }

  /** Transactions committed so far (observability, and how tests see that batching happened). */
  get commits(): number {
    return this.#commits;
  }

  enqueue<I, O>(kind: WriteKind<I, O>, input: I): Promise<O> {
    this.#db.assertOpen(); // GW_STORE_CLOSED before anything is queued
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({
        kind: kind as unknown as WriteKind<unknown, unknown>,
        input,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (this.#queue.length >= this.#maxBatch) this.#start();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#start();
        });
      }
    });
  }

  /** Commits everything queued now and waits for it; used by close. */
  async drain(): Promise<void> {
    while (this.#queue.length > 0 || this.#running) {
      this.#start();
      await this.#running;
    }
  }

  #start(): void {
    if (this.#running || this.#queue.length === 0) return;
    this.#running = (async () => {
      while (this.#queue.length > 0) await this.#commit(this.#queue.splice(0, this.#maxBatch));
    })().finally(() => {
      this.#running = null;
    });
  }

  /** Settles every write of the batch; never throws. */
  async #commit(batch: Pending[]): Promise<void> {
    // Stable sort: within a kind, queue order (so audit seqs follow append order).
    const ordered = batch.slice().sort((a, b) => a.kind.order - b.kind.order);
    const locks = [...new Set(ordered.flatMap((p) => (p.kind.lock ? [p.kind.lock] : [])))];
    let outcomes: Outcome[];
    try {
      outcomes = await this.#db.withClient(async (client) => {
        try {
          let done: Outcome[];
          try {
            done = await this.#fast(client, ordered, locks);
          } catch (error) {
            if (isUnavailable(error)) throw error;
            await client.query('ROLLBACK');
            done = await this.#oneByOne(client, ordered, locks);
          }
          await commit(client); // if this fails, every write of the batch rejects
          return done;
        } catch (error) {
          // Never hand a client back to the pool inside a transaction.
          if (!isUnavailable(error)) await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
      this.#commits++;
    } catch (error) {
      const mapped = toStoreError(error);
      for (const p of ordered) p.reject(mapped);
      return;
    }
    ordered.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) p.resolve(outcome.value);
      else p.reject(toStoreError(outcome.error));
    });
  }

  async #begin(client: PoolClient, locks: string[]): Promise<void> {
    await client.query('BEGIN');
    for (const lock of locks) await client.query(lock);
  }

  async #fast(client: PoolClient, ordered: Pending[], locks: string[]): Promise<Outcome[]> {
    await this.#begin(client, locks);
    const outcomes: Outcome[] = [];
    for (let i = 0; i < ordered.length; ) {
      const kind = ordered[i]!.kind;
      let end = i;
      while (end < ordered.length && ordered[end]!.kind === kind) end++;
      const values = await kind.write(client, ordered.slice(i, end).map((p) => p.input));
      for (const value of values) outcomes.push({ ok: true, value });
      i = end;
    }
    return outcomes;
  }

  async #oneByOne(client: PoolClient, ordered: Pending[], locks: string[]): Promise<Outcome[]> {
    await this.#begin(client, locks);
    const outcomes: Outcome[] = [];
    for (const p of ordered) {
      await client.query('SAVEPOINT gw_write');
      try {
        const [value] = await p.kind.write(client, [p.input]);
        await client.query('RELEASE SAVEPOINT gw_write');
        outcomes.push({ ok: true, value });
      } catch (error) {
        if (isUnavailable(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT gw_write');
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
}
