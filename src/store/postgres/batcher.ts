import type { PoolClient, QueryConfig } from 'pg';
import { commit, type Database } from './database.ts';
import { isUnavailable, toStoreError } from './errors.ts';

/**
 * A kind of group-committed write (audit rows, usage increments, key touches). Each kind writes any
 * number of inputs with one data-modifying statement, used as one member of the batch's WITH
 * clause: a batch of 200 appends and a usage row is one statement, not 200 round trips.
 */
export interface WriteKind<I, O> {
  /**
   * Kinds appear in ascending `order` in every batch, and each orders its rows by key: every
   * process takes row locks in one global order, so two batches never deadlock each other.
   */
  readonly order: number;
  /** The advisory lock (its two keys) the batch takes before writing any row, when it holds this kind. */
  readonly lock?: readonly [number, number];
  /** How many parameters `sql` uses. */
  readonly params: number;
  /**
   * The statement, its parameters numbered from `$first`. `from` is either empty or a FROM item
   * followed by a comma (the batch's lock) that the statement must read its rows through, so that
   * no row is written, and no row lock taken, before the advisory lock is held.
   */
  sql(first: number, from: string): string;
  /** The `params` parameter values for these inputs. */
  values(inputs: readonly I[]): unknown[];
  /**
   * Writes of this kind may wait up to this long for a batch to ride (usage): at most one batch per
   * `lingerMs` carries them, instead of every batch. One that waits alone is sent when it is due.
   */
  readonly lingerMs?: number;
  /** Set by at most one kind (audit): the statement ends in `RETURNING seq`, and `outputs` reads those. */
  readonly returning?: boolean;
  /** One output per input; `seqs` are the RETURNING values when `returning`, else empty. */
  outputs(inputs: readonly I[], seqs: number[]): O[];
}

type AnyKind = WriteKind<unknown, unknown>;

interface Pending {
  kind: AnyKind;
  input: unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A batch's writes of one kind: one member of the WITH clause. */
interface Group {
  kind: AnyKind;
  pendings: Pending[];
}

/** SQLSTATE invalid_sql_statement_name: "prepared statement ... does not exist". */
const UNKNOWN_STATEMENT = '26000';

/** The FROM item that makes a statement wait for the batch's advisory lock. */
const LOCKED_FROM = 'gw_lock, ';

/**
 * Group commit: writes queued in the same event-loop turn (or until `maxBatch` are waiting) go in
 * ONE statement, the batch's kinds as members of one WITH clause, run in autocommit mode: its own
 * transaction, committed at the protocol's Sync, and every promise settles only after the server's
 * ReadyForQuery that follows the commit (durable under Postgres's default synchronous_commit=on).
 * One round trip per batch, its messages corked into one socket write, the statement prepared once
 * per connection.
 *
 * Up to `maxInFlight` batches run at once (default 1), each on its own pooled connection: writes
 * queued while one commits form the next, so batches grow with load instead of connections. A
 * batch with audit rows reads them through `pg_advisory_xact_lock` (a MATERIALIZED CTE), so audit
 * batches of every process take turns from lock to commit: seqs commit in order. A second batch
 * in flight only waits for that lock on the server, and halves the batches: measured slower
 * (bench/README.md, section (e)).
 *
 * If the statement fails, nothing of it was written, and the batch runs again in a transaction with
 * each write in its own savepoint, so one failing write rejects alone and the others still commit.
 * A failed commit, or a lost connection anywhere, rejects every write of the batch
 * (GW_STORE_UNAVAILABLE: it may or may not have committed).
 */
export class WriteBatcher {
  readonly #db: Database;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  #queue: Pending[] = [];
  #scheduled = false;
  readonly #running = new Set<Promise<void>>();
  #commits = 0;
  /** Writes of lingering kinds not yet queued, when such writes were last queued, and the timer that queues them. */
  #lingering: Pending[] = [];
  #lingered = -Infinity;
  #lingerTimer: NodeJS.Timeout | undefined;
  #draining = false;
  /** Each combination of kinds' statement, built once: its text and its prepared statement's name. */
  readonly #statements = new Map<string, { text: string; name: string }>();
  /**
   * Batches run as named (prepared) statements: Postgres parses and plans each combination once
   * per connection instead of once per batch. Turned off for good when the server says it does not
   * know a name it was given (a pooler in transaction mode that drops them between transactions).
   */
  #prepared = true;

  constructor(db: Database, maxBatch: number, maxInFlight = 1) {
    this.#db = db;
    this.#maxBatch = maxBatch;
    this.#maxInFlight = maxInFlight;
  }

  /** Batches committed so far (observability, and how tests see that batching happened). */
  get commits(): number {
    return this.#commits;
  }

  enqueue<I, O>(kind: WriteKind<I, O>, input: I): Promise<O> {
    this.#db.assertOpen(); // GW_STORE_CLOSED before anything is queued
    return new Promise<O>((resolve, reject) => {
      const pending: Pending = {
        kind: kind as unknown as AnyKind,
        input,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      if (kind.lingerMs) this.#lingering.push(pending);
      else this.#queue.push(pending);
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

  /** Commits everything queued now (lingering writes too) and waits for it; used by close. */
  async drain(): Promise<void> {
    this.#draining = true;
    while (this.#queue.length > 0 || this.#lingering.length > 0 || this.#running.size > 0) {
      this.#start();
      await Promise.all(this.#running);
    }
  }

  /**
   * Starts batches while fewer than `maxInFlight` run; each finished batch starts the next.
   * Lingering writes join the queue once their kind's interval since the last batch that took
   * such writes has passed; if they are all there is, a timer sends them when it has.
   */
  #start(): void {
    if (this.#lingering.length > 0) {
      const now = performance.now();
      const wait = this.#lingered + this.#lingering[0]!.kind.lingerMs! - now;
      if (wait <= 0 || this.#draining) {
        clearTimeout(this.#lingerTimer);
        this.#lingerTimer = undefined;
        this.#queue.push(...this.#lingering);
        this.#lingering = [];
        this.#lingered = now;
      } else if (this.#queue.length === 0 && this.#running.size === 0 && !this.#lingerTimer) {
        this.#lingerTimer = setTimeout(() => {
          this.#lingerTimer = undefined;
          this.#start();
        }, wait);
      }
    }
    while (this.#running.size < this.#maxInFlight && this.#queue.length > 0) {
      const run: Promise<void> = this.#commit(this.#queue.splice(0, this.#maxBatch)).finally(() => {
        this.#running.delete(run);
        this.#start();
      });
      this.#running.add(run);
    }
  }

  /** Settles every write of the batch; never throws. */
  async #commit(batch: Pending[]): Promise<void> {
    // Stable sort: within a kind, queue order (so audit seqs follow append order).
    const ordered = batch.slice().sort((a, b) => a.kind.order - b.kind.order);
    let outcomes: Outcome[];
    try {
      outcomes = await this.#db.withClient(async (client) => {
        try {
          return await this.#fast(client, ordered);
        } catch (error) {
          if (isUnavailable(error)) throw error;
          this.#forgotten(error);
          // The statement failed as a whole and wrote nothing: find the write(s) to blame.
          return this.#oneByOne(client, ordered);
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

  /** The batch as one statement in autocommit mode: written and committed, or nothing written. */
  async #fast(client: PoolClient, ordered: Pending[]): Promise<Outcome[]> {
    const groups: Group[] = [];
    for (const p of ordered) {
      const last = groups.at(-1);
      if (last?.kind === p.kind) last.pendings.push(p);
      else groups.push({ kind: p.kind, pendings: [p] });
    }
    const inputs = groups.map((g) => g.pendings.map((p) => p.input));
    const seqs = await this.#run(client, groups, inputs);
    const outcomes: Outcome[] = [];
    groups.forEach((g, i) => {
      for (const value of g.kind.outputs(inputs[i]!, g.kind.returning ? seqs : [])) outcomes.push({ ok: true, value });
    });
    return outcomes;
  }

  /** Writes `groups` with one statement; returns the RETURNING seqs (of the one kind that has them). */
  async #run(client: PoolClient, groups: readonly Group[], inputs: readonly unknown[][]): Promise<number[]> {
    const lock = groups.find((g) => g.kind.lock)?.kind.lock;
    const values: unknown[] = lock ? [lock[0], lock[1]] : [];
    for (let i = 0; i < groups.length; i++) values.push(...groups[i]!.kind.values(inputs[i]!));
    const { text, name } = this.#statement(groups, lock);
    const result = await send<{ seq: number }>(client, this.#prepared ? { name, text, values } : { text, values });
    return result.rows.map((r) => r.seq);
  }

  /**
   * `WITH gw_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock($1, $2)), w0 AS (...), ... SELECT
   * seq FROM w<returning>`. Every member reads through gw_lock when there is one; members that the
   * main query does not read still run to completion (Postgres runs every data-modifying CTE).
   */
  #statement(groups: readonly Group[], lock: readonly [number, number] | undefined): { text: string; name: string } {
    const key = `${lock ? 'L' : ''}${groups.map((g) => g.kind.order).join(',')}`;
    const known = this.#statements.get(key);
    if (known) return known;
    const members: string[] = lock ? ['gw_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock($1, $2))'] : [];
    let next = lock ? 3 : 1;
    let returning = -1;
    groups.forEach((g, i) => {
      members.push(`w${i} AS (${g.kind.sql(next, lock ? LOCKED_FROM : '')})`);
      next += g.kind.params;
      if (g.kind.returning) returning = i;
    });
    // SELECT with no columns: one row of nothing, for a batch without RETURNING.
    const text = `WITH ${members.join(',\n')}\nSELECT ${returning >= 0 ? `seq FROM w${returning}` : ''}`;
    // Unique per pool (this batcher's store has its own), and the same name always means the same text.
    const statement = { text, name: `gw_batch_${this.#statements.size}` };
    this.#statements.set(key, statement);
    return statement;
  }

  /** True (once) when the server did not know a prepared statement: from now on none are used. */
  #forgotten(error: unknown): boolean {
    if (!this.#prepared || (error as { code?: unknown }).code !== UNKNOWN_STATEMENT) return false;
    this.#prepared = false;
    return true;
  }

  /**
   * The slow path after a failed statement: a transaction holding the lock, each write alone in a
   * savepoint (and alone in its statement), then COMMIT. Only the writes that fail reject.
   */
  async #oneByOne(client: PoolClient, ordered: Pending[]): Promise<Outcome[]> {
    const lock = ordered.find((p) => p.kind.lock)?.kind.lock;
    try {
      await client.query('BEGIN');
      if (lock) await client.query('SELECT pg_advisory_xact_lock($1, $2)', [lock[0], lock[1]]);
      const outcomes: Outcome[] = [];
      for (let i = 0; i < ordered.length; i++) {
        const p = ordered[i]!;
        await client.query('SAVEPOINT gw_write');
        try {
          const groups = [{ kind: p.kind, pendings: [p] }];
          const inputs = [[p.input]];
          const seqs = await this.#run(client, groups, inputs);
          await client.query('RELEASE SAVEPOINT gw_write');
          outcomes.push({ ok: true, value: p.kind.outputs(inputs[0]!, p.kind.returning ? seqs : [])[0] });
        } catch (error) {
          if (isUnavailable(error)) throw error;
          await client.query('ROLLBACK TO SAVEPOINT gw_write');
          if (this.#forgotten(error)) i--; // the same write again, unprepared
          else outcomes.push({ ok: false, error });
        }
      }
      await commit(client); // if this fails, every write of the batch rejects
      return outcomes;
    } catch (error) {
      // Never hand a client back to the pool inside a transaction.
      if (!isUnavailable(error)) await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

/**
 * One statement, its protocol messages (Parse, Bind, Describe, Execute, Sync: pg writes each on its
 * own) corked into one socket write. pg submits at once on an idle client, which a checked-out
 * client between statements is.
 */
export function send<R extends object>(client: PoolClient, config: QueryConfig): Promise<{ rows: R[] }> {
  const stream = client.connection?.stream as { cork?: () => void; uncork?: () => void } | undefined;
  if (!stream?.cork || !stream.uncork) return client.query<R & Record<string, unknown>>(config);
  stream.cork();
  try {
    return client.query<R & Record<string, unknown>>(config);
  } finally {
    stream.uncork();
  }
}
