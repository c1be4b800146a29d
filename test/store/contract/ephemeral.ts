import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Ephemeral } from '../../../src/store/index.ts';
import { fresh, type Open, rejectsWith } from './harness.ts';
import { eventually } from '../../helpers/eventually.ts';

export function ephemeralContract(name: string, open: Open<Ephemeral>): void {
  describe(`${name} Ephemeral`, () => {
    it('set then get returns the value; an unknown key reads undefined', async (t) => {
      const { adapter: e } = await fresh(t, open);
      await e.set('a', 'one', 1000);
      assert.equal(await e.get('a'), 'one');
      assert.equal(await e.get('b'), undefined);
    });

    it('an entry expires exactly at its TTL and is never returned after', async (t) => {
      const { adapter: e, clock } = await fresh(t, open);
      await e.set('k', 'v', 1000);
      clock.advance(999);
      assert.equal(await e.get('k'), 'v');
      clock.advance(1);
      assert.equal(await e.get('k'), undefined);
      assert.equal(await e.consume('k'), undefined);
      assert.equal(await e.delete('k'), false);
      await e.set('c', '5', 10);
      clock.advance(10);
      // An expired counter restarts: the old value is not added to.
      assert.deepEqual(await e.increment('c', 1, 1000), { value: 1, ttlMs: 1000 });
    });

    it('set overwrites both the value and the TTL', async (t) => {
      const { adapter: e, clock } = await fresh(t, open);
      await e.set('k', 'old', 100);
      await e.set('k', 'new', 1000);
      clock.advance(500);
      assert.equal(await e.get('k'), 'new');
    });

    it('increment sets the TTL on creation and later increments do not extend it', async (t) => {
      const { adapter: e, clock } = await fresh(t, open);
      assert.deepEqual(await e.increment('c', 1, 1000), { value: 1, ttlMs: 1000 });
      clock.advance(400);
      assert.deepEqual(await e.increment('c', 5, 60_000), { value: 6, ttlMs: 600 });
      assert.equal(await e.get('c'), '6');
      clock.advance(599);
      assert.deepEqual(await e.increment('c', -2, 60_000), { value: 4, ttlMs: 1 });
      clock.advance(1);
      assert.equal(await e.get('c'), undefined);
      assert.deepEqual(await e.increment('c', 2, 5000), { value: 2, ttlMs: 5000 });
    });

    it('200 concurrent increments add up exactly, each seeing a distinct value', async (t) => {
      const { adapter: e } = await fresh(t, open);
      const results = await Promise.all(Array.from({ length: 200 }, () => e.increment('n', 1, 60_000)));
      assert.equal(await e.get('n'), '200');
      const seen = results.map((r) => r.value).sort((a, b) => a - b);
      assert.deepEqual(
        seen,
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      assert.ok(results.every((r) => r.ttlMs > 0 && r.ttlMs <= 60_000));
    });

    it('incrementNow, where an adapter offers it, counts in the same counter with the same rules', async (t) => {
      const { adapter: e, clock } = await fresh(t, open);
      if (!e.incrementNow) {
        t.skip(`${e.kind} has no synchronous increment (a networked adapter)`);
        return;
      }
      assert.deepEqual(e.incrementNow('c', 2, 1000), { value: 2, ttlMs: 1000 });
      clock.advance(300);
      assert.deepEqual(await e.increment('c', 1, 60_000), { value: 3, ttlMs: 700 });
      assert.deepEqual(e.incrementNow('c', 1, 60_000), { value: 4, ttlMs: 700 });
      await e.set('s', 'not a number', 1000);
      assert.throws(() => e.incrementNow!('s', 1, 1000), (err: unknown) => (err as { code?: string }).code === 'GW_STORE_INVALID');
      assert.throws(() => e.incrementNow!('c', 1.5, 1000), (err: unknown) => (err as { code?: string }).code === 'GW_STORE_INVALID');
      assert.equal(await e.get('c'), '4');
    });

    it('publish reaches every current subscriber of the channel, and no other channel, until it stops', async (t) => {
      const { adapter: e } = await fresh(t, open);
      if (!e.publish || !e.subscribe) {
        t.skip(`${e.kind} carries no messages between processes (it is one process's, or a file)`);
        return;
      }
      const got: string[] = [];
      const other: string[] = [];
      const stop = await e.subscribe('ch', (m) => got.push(`1:${m}`));
      await e.subscribe('ch', (m) => got.push(`2:${m}`));
      await e.subscribe('other', (m) => other.push(m));
      await e.publish('ch', 'hello');
      await eventually(() => got.length === 2, { what: 'both messages' });
      assert.deepEqual(got.sort(), ['1:hello', '2:hello']);
      await stop();
      await e.publish('ch', 'again');
      await e.publish('other', 'ping'); // sent after 'again': once it arrives, 'again' has too
      await eventually(() => other.length === 1, { what: 'the other channel\'s message' });
      assert.deepEqual(got.slice(2), ['2:again']);
      assert.deepEqual(other, ['ping']);
    });

    it('increment refuses a non-integer value and leaves it untouched', async (t) => {
      const { adapter: e } = await fresh(t, open);
      await e.set('s', 'abc', 1000);
      await rejectsWith(e.increment('s', 1, 1000), 'GW_STORE_INVALID');
      assert.equal(await e.get('s'), 'abc');
      await e.set('f', '1.5', 1000);
      await rejectsWith(e.increment('f', 1, 1000), 'GW_STORE_INVALID');
      assert.equal(await e.get('f'), '1.5');
      await e.set('i', '41', 1000);
      assert.equal((await e.increment('i', 1, 1000)).value, 42);
    });

    it('bad TTLs and increments are refused and store nothing', async (t) => {
      const { adapter: e } = await fresh(t, open);
      await rejectsWith(e.set('k', 'v', 0), 'GW_STORE_INVALID');
      await rejectsWith(e.set('k', 'v', -5), 'GW_STORE_INVALID');
      await rejectsWith(e.setIfAbsent('k', 'v', Number.NaN), 'GW_STORE_INVALID');
      await rejectsWith(e.increment('c', 1.5, 1000), 'GW_STORE_INVALID');
      await rejectsWith(e.increment('c', 1, 0.5), 'GW_STORE_INVALID');
      assert.equal(await e.get('k'), undefined);
      assert.equal(await e.get('c'), undefined);
    });

    it('consume returns the value once; afterwards the key is gone', async (t) => {
      const { adapter: e } = await fresh(t, open);
      await e.set('tok', 'payload', 1000);
      assert.equal(await e.consume('tok'), 'payload');
      assert.equal(await e.consume('tok'), undefined);
      assert.equal(await e.get('tok'), undefined);
      assert.equal(await e.consume('never-set'), undefined);
    });

    it('of 50 concurrent consumers of one value exactly one gets it', async (t) => {
      const { adapter: e } = await fresh(t, open);
      await e.set('confirm', 'run-once', 300_000);
      const got = await Promise.all(Array.from({ length: 50 }, () => e.consume('confirm')));
      assert.deepEqual(
        got.filter((v) => v !== undefined),
        ['run-once'],
      );
    });

    it('setIfAbsent: one winner among concurrent setters, whose value stays', async (t) => {
      const { adapter: e } = await fresh(t, open);
      const won = await Promise.all(
        Array.from({ length: 20 }, (_, i) => e.setIfAbsent('lock', `v${i}`, 1000)),
      );
      const winners = won.flatMap((ok, i) => (ok ? [i] : []));
      assert.equal(winners.length, 1);
      assert.equal(await e.get('lock'), `v${winners[0]}`);
    });

    it('setIfAbsent leaves a live key and its TTL alone but takes over an expired one', async (t) => {
      const { adapter: e, clock } = await fresh(t, open);
      assert.equal(await e.setIfAbsent('k', 'first', 1000), true);
      clock.advance(600);
      assert.equal(await e.setIfAbsent('k', 'second', 60_000), false);
      assert.equal(await e.get('k'), 'first');
      clock.advance(400); // the first TTL was not extended by the refused call
      assert.equal(await e.get('k'), undefined);
      assert.equal(await e.setIfAbsent('k', 'third', 1000), true);
      assert.equal(await e.get('k'), 'third');
    });

    it('delete removes a live entry and says whether there was one', async (t) => {
      const { adapter: e } = await fresh(t, open);
      await e.set('k', 'v', 1000);
      assert.equal(await e.delete('k'), true);
      assert.equal(await e.get('k'), undefined);
      assert.equal(await e.delete('k'), false);
    });

    it('ping resolves while open; after close every operation rejects and close is idempotent', async (t) => {
      const { adapter: e } = await fresh(t, open);
      await e.ping();
      await e.set('k', 'v', 1000);
      await e.close();
      await e.close();
      await rejectsWith(e.ping(), 'GW_STORE_CLOSED');
      await rejectsWith(e.get('k'), 'GW_STORE_CLOSED');
      await rejectsWith(e.set('k', 'v', 1000), 'GW_STORE_CLOSED');
      await rejectsWith(e.increment('n', 1, 1000), 'GW_STORE_CLOSED');
      await rejectsWith(e.consume('k'), 'GW_STORE_CLOSED');
    });
  });
}

