import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { SqliteEphemeral, SqliteStore, StoreError } from '../../src/store/index.ts';
import { WriteBatcher } from '../../src/store/sqlite/batcher.ts';
import { Connection } from '../../src/store/sqlite/database.ts';
import { MIGRATIONS, migrate, schemaVersion } from '../../src/store/sqlite/migrations.ts';
import { rejectsWith, TestClock } from './contract/harness.ts';
import { runContract } from './contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'gw-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (): string => join(dir, `db-${++files}`, 'gangway.db');
const LATEST = MIGRATIONS.at(-1)!.version;

runContract('sqlite', {
  store: async ({ now }) => new SqliteStore(freshPath(), { now }),
  ephemeral: async ({ now }) => new SqliteEphemeral(freshPath(), { now }),
});

const scalar = (db: Database.Database, sql: string): unknown => db.prepare(sql).pluck().get();

/** A second, raw connection: sees only what was committed. */
function raw(path: string, t: { after: (fn: () => void) => void }): Database.Database {
  const db = new Database(path);
  t.after(() => db.close());
  return db;
}

describe('sqlite files and pragmas', () => {
  it('the store runs in WAL mode with synchronous=FULL and a busy timeout, in a 0600 file', async (t) => {
    const path = freshPath();
    const store = new SqliteStore(path);
    t.after(() => store.close());
    assert.equal(raw(path, t).pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.pragma('synchronous'), 2); // FULL
    assert.equal(store.pragma('busy_timeout'), 5000);
    assert.equal(store.pragma('foreign_keys'), 1);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const normal = new SqliteStore(freshPath(), { synchronous: 'normal' });
    t.after(() => normal.close());
    assert.equal(normal.pragma('synchronous'), 1);
  });

  it('migrations are idempotent: two opens of one file, then a reopen, apply each version once', async (t) => {
    const path = freshPath();
    const a = new SqliteStore(path);
    const b = new SqliteStore(path);
    const e = new SqliteEphemeral(path);
    await Promise.all([a.close(), b.close(), e.close()]);
    const again = new SqliteStore(path);
    await again.close();
    const db = raw(path, t);
    const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(
      rows,
      MIGRATIONS.map((m) => ({ version: m.version })),
    );
    assert.equal(schemaVersion(db), LATEST);
  });

  it('a failing migration leaves no trace and the version unchanged', async (t) => {
    const db = new Database(':memory:');
    t.after(() => db.close());
    assert.equal(migrate(db, 1), LATEST);
    const broken = [
      ...MIGRATIONS,
      { version: LATEST + 1, name: 'broken', sql: 'CREATE TABLE half (x); SELEC nope;' },
    ];
    assert.throws(() => migrate(db, 2, broken));
    assert.equal(schemaVersion(db), LATEST);
    assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get(), undefined);
  });

  it('refuses a database migrated by a newer Gangway, without writing to it', async (t) => {
    const path = freshPath();
    await new SqliteStore(path).close();
    const db = raw(path, t);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      99,
      'future',
      0,
    );
    assert.throws(
      () => new SqliteStore(path),
      (error: unknown) => error instanceof StoreError && error.code === 'GW_STORE_SCHEMA',
    );
    assert.equal(schemaVersion(db), 99);
  });

  it('audit rows cannot be changed or deleted even with raw SQL', async (t) => {
    const path = freshPath();
    const store = new SqliteStore(path);
    t.after(() => store.close());
    await store.audit.append({ event: 'tool.call', outcome: 'ok', reason: 'original' });
    const db = raw(path, t);
    assert.throws(() => db.exec("UPDATE audit SET reason = 'rewritten'"), /append-only/);
    assert.throws(() => db.exec('DELETE FROM audit'), /append-only/);
    assert.deepEqual(
      (await store.audit.query()).map((r) => r.reason),
      ['original'],
    );
  });
});

describe('sqlite group commit', () => {
  it('concurrent appends share one transaction, and every one is committed when it resolves', async (t) => {
    const path = freshPath();
    const store = new SqliteStore(path);
    t.after(() => store.close());
    const before = store.groupCommits;
    const appends = Array.from({ length: 50 }, (_, i) =>
      store.audit.append({ event: 'tool.call', outcome: 'ok', requestId: `r${i}` }),
    );
    const usage = store.usage.add({ tenant: 'acme', credential: 'k', tool: 'list' });
    await Promise.all([...appends, usage]);
    assert.equal(store.groupCommits - before, 1);
    // Committed means visible to another connection, not only to this one.
    const db = raw(path, t);
    assert.equal(scalar(db, 'SELECT COUNT(*) FROM audit'), 50);
    assert.equal(scalar(db, 'SELECT SUM(count) FROM usage'), 1);
  });

  it('a full batch commits early: 25 appends with maxBatch 10 take 3 transactions', async (t) => {
    const store = new SqliteStore(freshPath(), { maxBatch: 10 });
    t.after(() => store.close());
    const before = store.groupCommits;
    await Promise.all(Array.from({ length: 25 }, () => store.audit.append({ event: 'e', outcome: 'ok' })));
    assert.equal(store.groupCommits - before, 3);
    assert.equal((await store.audit.query({ limit: 100 })).length, 25);
  });

  it('one failing write in a batch rejects alone; the others commit', async (t) => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v TEXT NOT NULL)');
    const conn = new Connection(db, Date.now, 'test');
    t.after(() => conn.close());
    const batcher = new WriteBatcher(conn);
    const insert = (v: string | null) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v).changes;
    const results = await Promise.allSettled([
      batcher.enqueue(insert('a')),
      batcher.enqueue(insert(null)),
      batcher.enqueue(insert('c')),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal(batcher.commits, 1);
    assert.deepEqual(db.prepare('SELECT v FROM t').pluck().all(), ['a', 'c']);
  });
});

describe('sqlite durability', () => {
  it('every kind of record survives close and reopen; writes pending at close are kept', async () => {
    const path = freshPath();
    const clock = new TestClock();
    const s1 = new SqliteStore(path, { now: clock.now });
    const e1 = new SqliteEphemeral(path, { now: clock.now });
    const key = await s1.apiKeys.create({
      kind: 'api_key',
      keyHash: 'kh',
      tenant: 'acme',
      subject: 'a',
      scopes: ['r'],
    });
    await s1.oauthClients.register({
      clientId: 'c',
      tokenEndpointAuthMethod: 'none',
      redirectUris: ['https://x/cb'],
    });
    const grant = await s1.grants.create({
      clientId: 'c',
      subject: 'a',
      tenant: 'acme',
      scopes: ['r'],
      resource: 'r',
    });
    await s1.tokens.insert({
      tokenHash: 'code',
      kind: 'code',
      grantId: grant.id,
      expiresAt: clock.t + 60_000,
    });
    assert.equal((await s1.tokens.consume('code', 'code')).ok, true);
    await s1.usage.add({ tenant: 'acme', credential: key.id, tool: 't', count: 3 });
    await e1.increment('window', 7, 60_000);
    const pending = [1, 2, 3].map((i) => s1.audit.append({ event: 'e', outcome: 'ok', requestId: `p${i}` }));
    await Promise.all([s1.close(), e1.close()]);
    await Promise.all(pending);

    const s2 = new SqliteStore(path, { now: clock.now });
    const e2 = new SqliteEphemeral(path, { now: clock.now });
    try {
      assert.deepEqual(await s2.apiKeys.findByHash('kh'), key);
      assert.ok(await s2.oauthClients.get('c'));
      assert.deepEqual(await s2.grants.get(grant.id), grant);
      const replay = await s2.tokens.consume('code', 'code');
      assert.equal(replay.ok || replay.reason, 'reused');
      assert.equal((await s2.usage.month({ month: '2026-01' })).total, 3);
      assert.deepEqual(
        (await s2.audit.query()).map((r) => r.requestId),
        ['p1', 'p2', 'p3'],
      );
      assert.deepEqual(await e2.increment('window', 1, 60_000), { value: 8, ttlMs: 60_000 });
    } finally {
      await Promise.all([s2.close(), e2.close()]);
    }
  });

  it('the ephemeral sweep deletes expired rows and keeps live ones', async (t) => {
    const path = freshPath();
    const clock = new TestClock();
    const e = new SqliteEphemeral(path, { now: clock.now });
    t.after(() => e.close());
    await e.set('short', 'x', 100);
    await e.set('long', 'y', 10_000);
    clock.advance(100);
    const count = () => scalar(raw(path, t), 'SELECT COUNT(*) FROM ephemeral');
    assert.equal(count(), 2);
    assert.equal(e.sweep(), 1);
    assert.equal(count(), 1);
    assert.equal(await e.get('long'), 'y');
  });

  it('a second process sees what the first committed, and the first sees its writes', async (t) => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const ephemeral = new SqliteEphemeral(path);
    t.after(() => Promise.all([store.close(), ephemeral.close()]));
    const key = await store.apiKeys.create({
      kind: 'management',
      keyHash: 'peer-kh',
      tenant: 't',
      subject: 's',
      scopes: [],
    });
    await store.audit.append({ event: 'tool.call', outcome: 'ok', requestId: 'from-first' });
    const grant = await store.grants.create({
      clientId: 'c',
      subject: 's',
      tenant: 't',
      scopes: [],
      resource: 'r',
    });
    await store.tokens.insert({
      tokenHash: 'code-hash',
      kind: 'code',
      grantId: grant.id,
      expiresAt: Date.now() + 60_000,
    });
    await ephemeral.set('shared', 'hello', 60_000);
    await ephemeral.set('once', 'single-use', 60_000);

    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join('test', 'store', 'fixtures', 'peer.ts'), path, 'peer-kh'],
      { cwd: root, timeout: 20_000 },
    );
    const peer = JSON.parse(stdout);
    assert.deepEqual(peer, {
      key,
      audit: ['from-first'],
      codeOk: true,
      shared: 'hello',
      consumed: 'single-use',
    });
    // The peer's writes, through this process's connections that stayed open the whole time.
    assert.deepEqual(
      (await store.audit.query()).map((r) => r.event),
      ['tool.call', 'peer.write'],
    );
    assert.equal(await ephemeral.consume('once'), undefined);
    const code = await store.tokens.consume('code-hash', 'code');
    assert.equal(code.ok || code.reason, 'reused');
  });

  it('closed adapters reject instead of touching the file', async () => {
    const store = new SqliteStore(freshPath());
    await store.close();
    await rejectsWith(
      store.apiKeys.create({ kind: 'api_key', keyHash: 'h', tenant: 't', subject: 's', scopes: [] }),
      'GW_STORE_CLOSED',
    );
  });
});
