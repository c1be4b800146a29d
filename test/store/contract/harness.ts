import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Clock, Ephemeral, Store } from '../../../src/store/index.ts';

export type Open<T> = (options: { now: Clock }) => Promise<T>;

/** A clock the test moves by hand: TTLs are tested without sleeping. */
export class TestClock {
  constructor(public t = Date.UTC(2026, 0, 15, 12, 0, 0)) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A fresh adapter closed when the test ends. */
export async function fresh<T extends Store | Ephemeral>(
  t: TestContext,
  open: Open<T>,
): Promise<{ adapter: T; clock: TestClock }> {
  const clock = new TestClock();
  const adapter = await open({ now: clock.now });
  t.after(() => adapter.close());
  return { adapter, clock };
}

/** Asserts a promise rejects with a StoreError of this code. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code, `expected ${code}, got ${String(error)}`);
    return true;
  });
}

export const HOUR = 3_600_000;
