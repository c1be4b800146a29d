import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  credentialState,
  type Ephemeral,
  MemoryEphemeral,
  MemoryStore,
  openEphemeral,
  openStore,
  type Store,
  StoreConfigError,
} from '../../src/store/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'gw-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const configError = (pattern?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof StoreConfigError, String(error));
  assert.equal(error.code, 'GW_CONFIG_STORE');
  if (pattern) assert.match(error.message, pattern);
  return true;
};

describe('openStore / openEphemeral', () => {
  it('"memory" opens the in-process adapters', async () => {
    const store = await openStore('memory');
    const eph = await openEphemeral('memory');
    assert.deepEqual([store.kind, eph.kind], ['memory', 'memory']);
    await Promise.all([store.close(), eph.close()]);
  });

  it('"sqlite:<path>" creates missing parent directories; both adapters can share the file', async () => {
    const path = join(dir, 'a', 'b', 'gangway.db');
    assert.equal(existsSync(join(dir, 'a')), false);
    const store = await openStore(`sqlite:${path}`);
    const eph = await openEphemeral(`sqlite:${path}`);
    assert.deepEqual([store.kind, eph.kind], ['sqlite', 'sqlite']);
    assert.ok(existsSync(path));
    await store.ping();
    await eph.ping();
    await Promise.all([store.close(), eph.close()]);
  });

  it('"sqlite:<path>?synchronous=normal" opens the file with that setting; anything else after ? is refused', async () => {
    const path = join(dir, 'sync', 'g.db');
    const normal = (await openStore(`sqlite:${path}?synchronous=normal`)) as Store & { pragma(n: string): unknown };
    assert.equal(normal.pragma('synchronous'), 1); // NORMAL
    await normal.close();
    const full = (await openStore(`sqlite:${path}`)) as Store & { pragma(n: string): unknown };
    assert.equal(full.pragma('synchronous'), 2); // FULL, the default
    await full.close();
    assert.equal(existsSync(`${path}?synchronous=normal`), false);
    await assert.rejects(openStore(`sqlite:${join(dir, 'x.db')}?synchronous=off`), configError(/synchronous=full or \?synchronous=normal/));
    await assert.rejects(openStore(`sqlite:${join(dir, 'x.db')}?journal=delete`), configError());
    assert.equal(existsSync(join(dir, 'x.db')), false);
  });

  it('":memory:" is SQLite without a file', async () => {
    const store = await openStore(':memory:');
    assert.equal(store.kind, 'sqlite');
    await store.apiKeys.create({ kind: 'api_key', keyHash: 'h', tenant: 't', subject: 's', scopes: [] });
    assert.ok(await store.apiKeys.findByHash('h'));
    await store.close();
    const eph = await openEphemeral('sqlite::memory:');
    assert.equal(eph.kind, 'sqlite');
    await eph.close();
  });

  it('unknown or misplaced specs fail at start-up with GW_CONFIG_STORE, hiding passwords', async () => {
    await assert.rejects(openStore('mysql://db'), configError(/unknown store/));
    await assert.rejects(openStore('sqlite:'), configError());
    await assert.rejects(openStore('sqlite://host/db'), configError(/absolute/));
    await assert.rejects(openStore('./gangway.db'), configError());
    // Each engine where it belongs: Postgres for the Store, Redis for the Ephemeral state.
    await assert.rejects(openStore('redis://:hunter2@cache'), configError(/short-lived state only/));
    await assert.rejects(openEphemeral('postgres://u:hunter2@db/gw'), configError(/durable records/));
    for (const [open, spec] of [[openStore, 'redis://:hunter2@cache'], [openEphemeral, 'postgres://u:hunter2@db/gw']] as const) {
      await assert.rejects((open as (s: string) => Promise<unknown>)(spec), (e: Error) => !e.message.includes('hunter2'));
    }
    await assert.rejects(openEphemeral('nope'), configError(/unknown ephemeral/));
  });

  it('bad SQLite options are config errors and create no file', async () => {
    const path = join(dir, 'opts', 'x.db');
    const bad = [{ synchronous: 'off' }, { busyTimeoutMs: -1 }, { maxBatch: 0 }, { maxBatch: 1.5 }] as const;
    for (const options of bad) {
      await assert.rejects(
        openStore(`sqlite:${path}`, options as never),
        configError(/synchronous|busy|maxBatch/),
      );
    }
    assert.equal(existsSync(path), false);
  });

  it('an unopenable path is a config error, not a crash on first use', async () => {
    const blocker = join(dir, 'file-not-dir');
    await (await openStore(`sqlite:${blocker}`)).close();
    await assert.rejects(openStore(`sqlite:${join(blocker, 'x.db')}`), configError(/cannot open/));
  });

  it('an adapter object is passed through; an object missing methods is refused', async () => {
    const store: Store = new MemoryStore();
    assert.equal(await openStore(store), store);
    const eph: Ephemeral = new MemoryEphemeral();
    assert.equal(await openEphemeral(eph), eph);
    await assert.rejects(openStore({ ...store, audit: undefined } as unknown as Store), configError(/audit/));
    await assert.rejects(openEphemeral({ get() {} } as unknown as Ephemeral), configError(/increment/));
    await Promise.all([store.close(), eph.close()]);
  });
});

describe('credentialState', () => {
  it('revoked beats used beats expired; expiry is exclusive', () => {
    const now = 1000;
    assert.equal(credentialState({ revokedAt: null, expiresAt: null }, now), 'active');
    assert.equal(credentialState({ revokedAt: null, expiresAt: 1001 }, now), 'active');
    assert.equal(credentialState({ revokedAt: null, expiresAt: 1000 }, now), 'expired');
    assert.equal(credentialState({ revokedAt: null, expiresAt: 1, usedAt: 5 }, now), 'used');
    assert.equal(credentialState({ revokedAt: 9, expiresAt: 1, usedAt: 5 }, now), 'revoked');
  });
});
