import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/index.ts';
import { Checkpointer } from '../../src/store/sqlite/checkpointer.ts';
import { MIGRATIONS, migrate } from '../../src/store/sqlite/migrations.ts';
import { eventually } from '../helpers/eventually.ts';

const dir = mkdtempSync(join(tmpdir(), 'gw-wal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (): string => join(dir, `db-${++files}.db`);

describe('sqlite WAL checkpoints', () => {
  it('run in a worker: the writer never checkpoints, the rows reach the main file while the store is open, and close removes the WAL', async (t) => {
    const path = freshPath();
    const store = new SqliteStore(path, { synchronous: 'normal' });
    t.after(() => store.close()); // idempotent: also when an assertion fails first
    assert.equal(store.pragma('wal_autocheckpoint'), 0);
    const empty = statSync(path).size;
    const args = { text: 'x'.repeat(400) };
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 200 }, (_, i) => store.audit.append({ event: 'tool.call', outcome: 'ok', tenant: 't', args, requestId: `${batch}-${i}` })));
    }
    // 2,000 rows of ~0.5 KB: only a checkpoint moves them from the WAL into the file itself.
    await eventually(() => statSync(path).size > empty + 800_000, { within: 5000, every: 25, what: 'the background checkpoint' });
    assert.equal((await store.audit.query({ limit: 1000, tenant: 't' })).length, 1000);
    await store.close();
    assert.equal(existsSync(`${path}-wal`), false, 'the last connection checkpointed and removed the WAL');
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.prepare('SELECT COUNT(*) FROM audit').pluck().get(), 2000);
    } finally {
      db.close();
    }
  });

  it('backgroundCheckpoint: false keeps SQLite\'s automatic checkpoint in the writer', async (t) => {
    const store = new SqliteStore(freshPath(), { backgroundCheckpoint: false });
    t.after(() => store.close());
    assert.equal(store.pragma('wal_autocheckpoint'), 1000);
  });

  it('if the worker dies, the writer takes the automatic checkpoint back', async (t) => {
    const path = freshPath();
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    const errors: string[] = [];
    const checkpointer = new Checkpointer(db, path, (m) => errors.push(m));
    t.after(async () => {
      await checkpointer.stop();
      db.close();
    });
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
    await checkpointer.kill();
    await eventually(() => db.pragma('wal_autocheckpoint', { simple: true }) === 1000, { within: 5000, every: 25, what: 'the writer to checkpoint again' });
    assert.deepEqual(errors, []);
  });
});

describe('sqlite audit schema (migration 2)', () => {
  it('a version-1 file keeps its rows and their seq; new rows continue after them; two indexes remain', async (t) => {
    const path = freshPath();
    const v1 = new Database(path);
    v1.pragma('journal_mode = WAL');
    migrate(v1, 1, MIGRATIONS.filter((m) => m.version === 1));
    const insert = v1.prepare('INSERT INTO audit (at, event, outcome, tenant, args) VALUES (?, ?, ?, ?, ?)');
    insert.run(10, 'tool.call', 'ok', 'acme', '{"a":1}');
    insert.run(20, 'auth.signin', 'denied', null, null);
    insert.run(30, 'tool.call', 'error', 'acme', null);
    v1.close();

    const store = new SqliteStore(path);
    t.after(() => store.close());
    const rec = await store.audit.append({ event: 'tool.call', outcome: 'ok', tenant: 'acme' });
    assert.equal(rec.seq, 4);
    const rows = await store.audit.query({ tenant: 'acme', order: 'desc' });
    assert.deepEqual(rows.map((r) => [r.seq, r.at, r.outcome]), [[4, rec.at, 'ok'], [3, 30, 'error'], [1, 10, 'ok']]);
    assert.deepEqual(rows.at(-1)!.args, { a: 1 });

    const raw = new Database(path);
    t.after(() => raw.close());
    const indexes = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' ORDER BY name").pluck().all();
    assert.deepEqual(indexes, ['audit_at', 'audit_tenant']);
    assert.throws(() => raw.exec('DELETE FROM audit WHERE seq = 4'), /append-only/);
    // The audit page's read: the tenant index walks seq newest first, with no sort step.
    const plan = raw
      .prepare("EXPLAIN QUERY PLAN SELECT * FROM audit WHERE tenant = 'acme' ORDER BY seq DESC LIMIT 50")
      .all()
      .map((r) => (r as { detail: string }).detail)
      .join(' | ');
    assert.match(plan, /USING INDEX audit_tenant/);
    assert.doesNotMatch(plan, /TEMP B-TREE/);
  });
});

describe('sqlite WAL left by an earlier run', () => {
  it('is checkpointed as soon as the worker starts, with no new write', async (t) => {
    const path = freshPath();
    const writer = new Database(path);
    writer.pragma('journal_mode = WAL');
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec('CREATE TABLE t (v TEXT)');
    const insert = writer.prepare('INSERT INTO t (v) VALUES (?)');
    writer.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run('x'.repeat(400));
    })();
    const before = statSync(path).size;
    const errors: string[] = [];
    const checkpointer = new Checkpointer(writer, path, (m) => errors.push(m));
    t.after(async () => {
      await checkpointer.stop();
      writer.close();
    });
    await eventually(() => statSync(path).size > before + 800_000, { within: 5000, every: 25, what: 'the first checkpoint' });
    assert.deepEqual(errors, []);
  });
});
