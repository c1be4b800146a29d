import { StoreError } from '../errors.ts';

export type Counter = { value: number; ttlMs: number };

/** One caller's increment waiting for its turn's script call. */
interface Waiter {
  by: number;
  resolve: (counter: Counter) => void;
  reject: (error: unknown) => void;
}

/** Increments of one key, TTL and clock reading, queued in one event-loop turn: one script call. */
interface Group {
  key: string;
  now: number;
  ttlMs: number;
  by: number;
  waiters: Waiter[];
}

/**
 * Increments queued in one event-loop turn for the same key, TTL and clock reading share one
 * script call (`by` is their sum), and the calls of one turn leave in one socket write: under load
 * a server handles many requests per turn, each of which counts against the same window. Each
 * caller gets the value it would have seen had the increments run one after the other in call
 * order; all of a group land in one atomic step, as if they had arrived together.
 */
export class IncrementCoalescer {
  /** This turn's increments, by key, TTL and clock reading; sent by flush. */
  #groups = new Map<string, Group>();
  #scheduled = false;

  constructor(
    /** One script call: adds `by` to `key`. */
    private readonly incrementBy: (key: string, now: number, by: number, ttlMs: number) => Promise<Counter>,
    /** Runs `write` with the socket corked, so its commands leave in one write. */
    private readonly corked: (write: () => void) => void,
  ) {}

  add(key: string, now: number, by: number, ttlMs: number): Promise<Counter> {
    return new Promise<Counter>((resolve, reject) => {
      const id = `${now} ${ttlMs} ${key}`;
      let group = this.#groups.get(id);
      if (group && !Number.isSafeInteger(group.by + by)) {
        // A sum that large is refused by the script; this caller's own increment may not be.
        this.#send([{ key, now, ttlMs, by, waiters: [{ by, resolve, reject }] }]);
        return;
      }
      if (!group) this.#groups.set(id, (group = { key, now, ttlMs, by: 0, waiters: [] }));
      group.by += by;
      group.waiters.push({ by, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends this turn's increments now (also on close). */
  flush(): void {
    this.#scheduled = false;
    if (this.#groups.size === 0) return;
    const groups = [...this.#groups.values()];
    this.#groups.clear();
    this.#send(groups);
  }

  /** One script call per group, all written to the socket at once. */
  #send(groups: readonly Group[]): void {
    const write = () => {
      for (const group of groups) {
        this.incrementBy(group.key, group.now, group.by, group.ttlMs).then(
          (counter) => settle(group, counter),
          (error: unknown) => {
            if (group.waiters.length > 1 && error instanceof StoreError && error.code === 'GW_STORE_INVALID') {
              // The counter refused the sum: run each caller's increment alone, in call order, so
              // each gets the answer it would have had by itself.
              void this.#oneByOne(group);
            } else {
              for (const w of group.waiters) w.reject(error);
            }
          },
        );
      }
    };
    if (groups.length > 1) this.corked(write);
    else write();
  }

  async #oneByOne(group: Group): Promise<void> {
    for (const w of group.waiters) {
      await this.incrementBy(group.key, group.now, w.by, group.ttlMs).then(w.resolve, w.reject);
    }
  }
}

/**
 * Each caller's share of a group's reply: the value after its own increment had they run in call
 * order (the group's sum minus what the callers after it added), and the window's remaining TTL.
 */
function settle(group: Group, counter: Counter): void {
  let value = counter.value - group.by;
  for (const w of group.waiters) {
    value += w.by;
    w.resolve({ value, ttlMs: counter.ttlMs });
  }
}
