import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';

/**
 * `gangway serve` on SIGTERM (docs/deployment.md, graceful shutdown), as an operator runs it: the
 * CLI entry in a child process, a project with its own gangway.config.ts on the default SQLite
 * store. A call in flight when the signal arrives gets its answer and its audit row; new
 * connections are refused (or answered 503); the process exits 0 after closing the store. A call
 * still running when `http.drainMs` runs out is cut off, and the process still exits 0.
 *
 * The slow tool waits for a line on the server's stdin, so the test decides when it finishes:
 * nothing here depends on timing.
 */

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'gangway.js');
const dir = mkdtempSync(join(tmpdir(), 'gangway-shutdown-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A project whose `slow` tool says on stdout that it runs, then answers once stdin gets a line. */
function project(name: string, drainMs: number, extra = ''): string {
  const root = join(dir, name);
  mkdirSync(root, { recursive: true });
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name, private: true, type: 'module' }),
    'gangway.config.ts': `
const input = { type: 'object', properties: { n: { type: 'string' } }, required: ['n'], additionalProperties: false };
export default {
  name: ${JSON.stringify(name)},
  version: '1.0.0',
  store: 'sqlite:./data/gangway.db',
  ${extra}
  http: { stateless: true, drainMs: ${drainMs} },
  tools: [
    {
      name: 'slow',
      description: 'Answers once the test writes a line to the server stdin.',
      input,
      handler: async ({ n }: { n: string }) => {
        const released = new Promise((resolve) => process.stdin.once('data', resolve));
        process.stdout.write(\`RUNNING \${n}\\n\`);
        await released;
        return \`finished \${n}\`;
      },
    },
    { name: 'echo', description: 'Answers at once.', input, handler: ({ n }: { n: string }) => \`echo \${n}\` },
  ],
};
`,
  };
  for (const [file, text] of Object.entries(files)) writeFileSync(join(root, file), text);
  return root;
}

interface Server {
  child: ChildProcess;
  url: URL;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the server wrote so far, stdout then stderr. */
  text(): string;
  /** Resolves with the first match of `re` in everything the server wrote to stdout. */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
}

function serve(root: string): Promise<Server> {
  const child = spawn(process.execPath, [BIN, 'serve', '--cwd', root, '--port', '0'], {
    env: { ...process.env, CI: 'true' }, // JSON logs, no colours
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-4000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = (re: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = re.exec(out);
        if (m) {
          child.stdout!.off('data', check);
          resolve(m);
        }
      };
      child.stdout!.on('data', check);
      void exited.then(() => {
        const m = re.exec(out);
        if (m) resolve(m);
        else reject(new Error(`server exited without printing ${re}:\n${out}\n${err}`));
      });
      check();
    });
  return waitFor(/MCP endpoint\s+(\S+)/).then((m) => ({ child, url: new URL(m[1]!), exited, waitFor, text: () => out + err }));
}

type Outcome = { ok: true; status: number; body: string } | { ok: false; error: string };

/** One POST on its own connection; settles with the whole answer or the connection error. */
function post(url: URL, path: string, body: unknown): Promise<Outcome> {
  const text = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'mcp-protocol-version': '2025-06-18' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve(res.complete ? { ok: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') } : { ok: false, error: 'incomplete body' }),
        );
        res.on('error', (e) => resolve({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
      },
    );
    req.on('error', (e) => resolve({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(text);
  });
}

const call = (tool: string, n: string) => ({ jsonrpc: '2.0', id: n, method: 'tools/call', params: { name: tool, arguments: { n } } });

/** The tool.call rows in the project's SQLite file, read as a restarted server would. */
function auditRows(root: string): Array<{ tool: string; outcome: string; n: string }> {
  const db = new Database(join(root, 'data', 'gangway.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare(`SELECT tool, outcome, args FROM audit WHERE event = 'tool.call' ORDER BY seq`).all() as Array<{ tool: string; outcome: string; args: string }>;
    return rows.map((r) => ({ tool: r.tool, outcome: r.outcome, n: (JSON.parse(r.args) as { n: string }).n }));
  } finally {
    db.close();
  }
}

describe('gangway serve: SIGTERM', () => {
  it('lets the in-flight call finish with its audit row, refuses new work, closes the store and exits 0', { timeout: 60_000 }, async () => {
    // drainMs far beyond the test's own timeout: the call must finish by draining, not by a deadline.
    const root = project('drain', 120_000);
    const server = await serve(root);
    const nonce = randomBytes(6).toString('hex');

    const before = await post(server.url, '/mcp', call('echo', `before-${nonce}`));
    assert.ok(before.ok && before.status === 200, `the server answers before the signal: ${JSON.stringify(before)}`);

    const inflight = post(server.url, '/mcp', call('slow', nonce));
    await server.waitFor(new RegExp(`RUNNING ${nonce}\\n`));
    process.kill(server.child.pid!, 'SIGTERM');
    // serve logs this, then close() stops the listener in the same tick.
    await server.waitFor(/"signal":"SIGTERM".*shutting down/);

    // New work while draining: the listener is closed (connection refused) or, on a connection
    // that was already open, 503. Either way the tool does not run.
    const probe = await post(server.url, '/mcp', call('echo', `after-${nonce}`));
    assert.ok(
      probe.ok ? probe.status === 503 : /ECONNREFUSED|ECONNRESET|socket hang up/.test(probe.error),
      `a request after SIGTERM is refused: ${JSON.stringify(probe)}`,
    );
    const ready = await post(server.url, '/readyz', {});
    assert.ok(ready.ok ? ready.status === 503 : /ECONNREFUSED|ECONNRESET|socket hang up/.test(ready.error), `readyz while draining: ${JSON.stringify(ready)}`);
    assert.equal(server.child.exitCode, null, 'the process waits for the in-flight call');

    server.child.stdin!.write('release\n');
    const answered = await inflight;
    assert.ok(answered.ok, `the in-flight call got its answer: ${JSON.stringify(answered)}`);
    assert.equal(answered.status, 200);
    const msg = JSON.parse(answered.body) as { result?: { isError?: boolean; content?: Array<{ text?: string }> } };
    assert.equal(msg.result?.isError, undefined, answered.body);
    assert.equal(msg.result?.content?.[0]?.text, `finished ${nonce}`);

    assert.deepEqual(await server.exited, { code: 0, signal: null });
    // The store was closed, not abandoned: the last connection checkpoints and removes the WAL.
    assert.equal(existsSync(join(root, 'data', 'gangway.db-wal')), false, 'no WAL left behind after a clean close');
    assert.deepEqual(auditRows(root), [
      { tool: 'echo', outcome: 'ok', n: `before-${nonce}` },
      { tool: 'slow', outcome: 'ok', n: nonce },
    ]);
  });

  it('cuts off a call still running when http.drainMs runs out, and still exits 0 with the store closed', { timeout: 60_000 }, async () => {
    const root = project('deadline', 300);
    const server = await serve(root);
    const nonce = randomBytes(6).toString('hex');
    const inflight = post(server.url, '/mcp', call('slow', nonce)); // never released
    await server.waitFor(new RegExp(`RUNNING ${nonce}\\n`));
    process.kill(server.child.pid!, 'SIGTERM');

    const cut = await inflight;
    assert.equal(cut.ok, false, `the unfinished call is cut off, not answered: ${JSON.stringify(cut)}`);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    assert.equal(existsSync(join(root, 'data', 'gangway.db-wal')), false, 'no WAL left behind after a clean close');
    // The call never finished: no ok row (the audit guarantee runs answer => row, and there was no answer).
    assert.deepEqual(auditRows(root).filter((r) => r.outcome === 'ok'), []);
  });

  it('stops at once, exit code 1, on a second signal during the drain', { timeout: 60_000 }, async () => {
    const root = project('twice', 120_000);
    const server = await serve(root);
    const nonce = randomBytes(6).toString('hex');
    const inflight = post(server.url, '/mcp', call('slow', nonce)); // never released
    await server.waitFor(new RegExp(`RUNNING ${nonce}\\n`));
    process.kill(server.child.pid!, 'SIGTERM');
    await server.waitFor(/shutting down/);
    process.kill(server.child.pid!, 'SIGINT');
    assert.deepEqual(await server.exited, { code: 1, signal: null });
    assert.equal((await inflight).ok, false);
  });

  it('shows the store specs in its banner without their passwords', { timeout: 60_000 }, async () => {
    // Redis on port 1 is unreachable: serve starts anyway (readyz says 503) and prints its banner.
    const root = project('banner', 1000, "ephemeral: 'redis://:s3cretpw@127.0.0.1:1',");
    const server = await serve(root);
    const [, shown] = await server.waitFor(/ephemeral (\S+)/);
    assert.equal(shown, 'redis://***@127.0.0.1:1');
    process.kill(server.child.pid!, 'SIGTERM');
    await server.exited;
    assert.doesNotMatch(server.text(), /s3cretpw/);
  });
});
