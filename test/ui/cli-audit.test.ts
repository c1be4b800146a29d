import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { auditCommand } from '../../src/cli/audit.ts';
import { SqliteStore } from '../../src/store/index.ts';
import type { AuditRecord } from '../../src/store/types.ts';

const BIN = join(import.meta.dirname, '../../bin/gangway.js');
const project = mkdtempSync(join(tmpdir(), 'gangway-audit-'));
const DB = join(project, 'g.db');
const T0 = Date.parse('2026-03-01T00:00:00Z');

/** The real CLI, as an operator runs it, from another working directory. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'audit', ...args, '--cwd', project], { encoding: 'utf8', cwd: tmpdir() });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
/** The same command in-process, for the many refusals (a spawn costs most of a second). */
async function inProcess(...args: string[]) {
  let out = '';
  let err = '';
  const write = (to: 'out' | 'err') => ({ write: (s: string) => (to === 'out' ? (out += s) : (err += s)) });
  const code = await auditCommand([...args, '--cwd', project], { stdout: write('out'), stderr: write('err') });
  return { code, out, err };
}
const lines = (text: string) => text.split('\n').filter(Boolean);
const seqOf = (line: string) => Number(/ #(\d+) /.exec(line)?.[1]);

let store: SqliteStore;
let seeded: AuditRecord[];

before(async () => {
  // The project's own package.json makes its gangway.config.ts an ES module, as `gangway init` does.
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(join(project, 'gangway.config.ts'), `export default { name: 'shop', version: '1.0.0', store: 'sqlite:${DB}', logger: { level: 'silent' } };\n`);
  store = new SqliteStore(DB);
  seeded = await store.audit.appendMany([
    // seq 1-10: acme's tool calls, one a minute; every third denied
    ...Array.from({ length: 10 }, (_, i) => ({
      at: T0 + i * 60_000,
      event: 'tool.call',
      outcome: i % 3 === 0 ? 'denied' : 'ok',
      subject: 'ada',
      tenant: 'acme',
      via: 'api-key',
      client: 'key-1',
      tool: 'read_items',
      args: { page: i },
      latencyMs: i,
    })),
    // seq 11-15: globex's confirmations
    ...Array.from({ length: 5 }, (_, i) => ({
      at: T0 + (10 + i) * 60_000,
      event: 'confirm.run',
      outcome: 'pending_confirmation',
      subject: 'gus',
      tenant: 'globex',
      tool: 'delete_items',
      resourceId: `item-${i}`,
    })),
    // seq 16: a reason that would drive the terminal if printed raw
    { at: T0 + 15 * 60_000, event: 'tool.call', outcome: 'error', subject: 'ada', tenant: 'acme', tool: 'write_items', reason: 'line\nbreak \u001b[31mred "quoted"' },
  ]);
});
after(async () => {
  await store?.close();
  rmSync(project, { recursive: true, force: true });
});

describe('gangway audit', () => {
  it('tail: the last N records, oldest first, one line each', () => {
    const all = cli('tail');
    assert.equal(all.code, 0, all.err);
    assert.deepEqual(lines(all.out).map(seqOf), seeded.map((r) => r.seq), 'fewer than 20: all of them');
    const three = cli('tail', '-n', '3');
    assert.equal(three.code, 0, three.err);
    const [a, b, c] = lines(three.out);
    assert.deepEqual([a, b, c].map((l) => seqOf(l!)), [14, 15, 16]);
    assert.equal(a, '2026-03-01T00:13:00.000Z  #14  confirm.run  pending_confirmation  gus@globex  -  delete_items  item-3  -  -');
    assert.equal(c, '2026-03-01T00:15:00.000Z  #16  tool.call  error  ada@acme  -  write_items  -  "line\\nbreak \\u001b[31mred \\"quoted\\""  -');
    assert.ok(!three.out.includes('\u001b'), 'no raw control character reaches the terminal');
    const denied = cli('tail', '-n', '2', '--outcome', 'denied', '--tenant', 'acme');
    assert.deepEqual(lines(denied.out).map(seqOf), [7, 10]);
    assert.match(lines(denied.out)[1]!, /^2026-03-01T00:09:00\.000Z {2}#10 {2}tool\.call {2}denied {2}ada@acme {2}api-key\/key-1 {2}read_items {2}- {2}- {2}9ms$/);
  });

  it('query: store filters, time bounds, order and --json as the records are stored', () => {
    const json = cli('query', '--tenant', 'globex', '--json');
    assert.equal(json.code, 0, json.err);
    const records = lines(json.out).map((l) => JSON.parse(l) as AuditRecord);
    assert.deepEqual(records, seeded.filter((r) => r.tenant === 'globex'));
    assert.equal(json.err, '', 'no hint: that was all');

    const window = cli('query', '--tool', 'read_items', '--event', 'tool.call', '--subject', 'ada', '--from', '2026-03-01T00:02:00Z', '--to', String(T0 + 5 * 60_000));
    assert.deepEqual(lines(window.out).map(seqOf), [3, 4, 5], '--from inclusive, --to exclusive');

    const desc = cli('query', '--order', 'desc', '--limit', '4', '--json');
    assert.deepEqual(lines(desc.out).map((l) => (JSON.parse(l) as AuditRecord).seq), [16, 15, 14, 13]);
    assert.equal(desc.err, 'next: --after 13\n');
    const on = cli('query', '--order', 'desc', '--limit', '4', '--after', '13');
    assert.deepEqual(lines(on.out).map(seqOf), [12, 11, 10, 9]);

    const none = cli('query', '--tenant', 'nobody');
    assert.equal(none.code, 0);
    assert.equal(none.out, '');
    assert.match(none.err, /No records/);
  });

  it('query --outcome filters here yet --limit still counts records printed, with a next hint', () => {
    const first = cli('query', '--outcome', 'denied', '--limit', '2');
    assert.equal(first.code, 0, first.err);
    assert.deepEqual(lines(first.out).map(seqOf), [1, 4]);
    assert.equal(first.err, 'next: --after 4\n');
    const rest = cli('query', '--outcome', 'denied', '--limit', '2', '--after', '4', '--json');
    assert.deepEqual(lines(rest.out).map((l) => JSON.parse(l).seq), [7, 10]);
    assert.equal(rest.err, '', 'no further denied record: no hint');
    const plain = cli('query', '--limit', '15');
    assert.equal(lines(plain.out).length, 15);
    assert.equal(plain.err, 'next: --after 15\n');
  });

  it('refuses bad options with exit code 2, one message and no stack', async () => {
    for (const [args, message] of [
      [['query', '--order', 'sideways'], /--order must be asc or desc/],
      [['query', '--limit', '0'], /--limit must be a whole number from 1 to 1000/],
      [['query', '--after', '1.5'], /--after must be a whole number 0 or more/],
      [['query', '--from', 'yesterday'], /--from must be an ISO 8601 time/],
      [['query', '--from', '2026-03-02', '--to', '2026-03-01'], /--from must be before --to/],
      [['query', '-n', '5'], /-n does not apply to "audit query"/],
      [['query', '--follow'], /--follow does not apply to "audit query"/],
      [['tail', '--limit', '5'], /--limit does not apply to "audit tail"/],
      [['tail', '-n', 'many'], /-n must be a whole number/],
      [['tail', '--tool', ''], /--tool must be 1 to 200 printable characters/],
      [['query', '--bogus'], /Unknown option '--bogus'/],
      [['frobnicate'], /unknown subcommand "frobnicate"/],
    ] as const) {
      const r = await inProcess(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
      assert.match(r.err, /Usage:\n {2}gangway audit tail/);
      assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
      assert.equal(r.out, '');
    }
    // The real CLI too: exit code, message, no stack.
    for (const args of [['query', '--order', 'sideways'], ['tail', '--bogus']]) {
      const r = cli(...args);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /^gangway audit: .*\n\nUsage:/);
      assert.doesNotMatch(r.err, /\n\s+at /);
    }
    const bare = spawnSync(process.execPath, [BIN, 'audit'], { encoding: 'utf8' });
    assert.equal(bare.status, 2);
    assert.match(bare.stderr, /gangway audit query/);
    assert.match(spawnSync(process.execPath, [BIN, 'help'], { encoding: 'utf8' }).stdout, /gangway audit tail .*--follow/);
  });

  it('reports a store it cannot read with the store\'s message and exit code 1, creating nothing', async () => {
    const unknown = cli('query', '--store', 'bogus:x');
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /unknown store "bogus:x".*\[GW_CONFIG_STORE\]/);
    const missing = join(project, 'missing.db');
    const absent = await inProcess('tail', '--store', `sqlite:${missing}`);
    assert.equal(absent.code, 1);
    assert.match(absent.err, /no SQLite database at .*missing\.db/);
    assert.ok(!existsSync(missing), 'reading never creates a database');
    const memory = await inProcess('tail', '--store', 'memory');
    assert.equal(memory.code, 1);
    assert.match(memory.err, /lives only inside the serving process/);
    for (const r of [unknown, absent, memory]) assert.doesNotMatch(r.err, /\n\s+at /);
  });

  it('tail --follow prints records appended later, by another process, until SIGTERM; then exits 0', async () => {
    const child = spawn(process.execPath, [BIN, 'audit', 'tail', '-n', '1', '--follow', '--tenant', 'acme', '--cwd', project]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const waitFor = async (re: RegExp) => {
      const until = Date.now() + 20_000;
      while (!re.test(out)) {
        if (Date.now() > until || child.exitCode !== null) throw new Error(`waiting for ${re}:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await waitFor(/ #16 /);
      const [other, mine] = await store.audit.appendMany([
        { event: 'tool.call', outcome: 'ok', subject: 'gus', tenant: 'globex', tool: 'read_items' },
        { event: 'auth.key.create', outcome: 'ok', subject: 'ada', tenant: 'acme', via: 'cli', resourceId: 'key-9' },
      ]);
      await waitFor(new RegExp(` #${mine!.seq} {2}auth\\.key\\.create {2}ok {2}ada@acme {2}cli/- {2}- {2}key-9 `));
      assert.doesNotMatch(out, new RegExp(` #${other!.seq} `), 'the filter holds while following');
      assert.equal(lines(out).length, 2);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, err);
    assert.equal(err, '');
  });
});
