import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEphemeral, MemoryStore } from '../../src/store/index.ts';
import { TestClock } from './contract/harness.ts';
import { runContract } from './contract.ts';

runContract('memory', {
  store: async ({ now }) => new MemoryStore({ now }),
  ephemeral: async ({ now }) => new MemoryEphemeral({ now }),
});

describe('memory Ephemeral housekeeping', () => {
  it('sweep drops expired entries and keeps live ones', async (t) => {
    const clock = new TestClock();
    const e = new MemoryEphemeral({ now: clock.now });
    t.after(() => e.close());
    await e.set('short', 'x', 100);
    await e.increment('window', 1, 100);
    await e.set('long', 'y', 10_000);
    clock.advance(100);
    assert.equal(e.size, 3, 'nothing read yet, nothing dropped yet');
    assert.equal(e.sweep(), 2);
    assert.equal(e.size, 1);
    assert.equal(await e.get('long'), 'y');
  });

  it('a read of an expired entry drops it (lazy expiry)', async (t) => {
    const clock = new TestClock();
    const e = new MemoryEphemeral({ now: clock.now });
    t.after(() => e.close());
    await e.set('k', 'v', 10);
    clock.advance(10);
    assert.equal(await e.get('k'), undefined);
    assert.equal(e.size, 0);
  });
});
