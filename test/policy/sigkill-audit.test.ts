import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';

/**
 * An answered call is an audited call, even when the process dies the hard way. A real server
 * (fixtures/sigkill-server.ts: SQLite store, API key, scopes, rate window, usage, audit on) takes
 * tools/call from 16 keep-alive connections, each call carrying a unique nonce; under that load it
 * is SIGKILLed while calls are in flight, one of them a call whose handler the server has reported
 * running and which never answers (so the kill surely cuts a call off, whatever the timing of the
 * others). Then the database file is opened as a restarted server would open it, and every nonce
 * whose complete, successful response reached the client must have its `tool.call` row with
 * outcome ok. Calls cut off by the kill may or may not have a row: the guarantee runs one way
 * (response => row), not the other; the held call, which never finished, has none.
 *
 * SIGKILL ends the process, not the machine: the OS still holds what was written, so this proves
 * the order (the row is committed before the answer is sent), not the fsync; it runs with
 * synchronous=FULL (the default) and NORMAL (`sqlite:<path>?synchronous=normal`).
 */

const FIXTURE = join(import.meta.dirname, 'fixtures', 'sigkill-server.ts');
const ROOT = join(import.meta.dirname, '..', '..');
const LOOPS = 16;
/** Load runs at least this long, and until MIN_ACKED calls were answered (a slow machine waits longer). */
const LOAD_MS = 1500;
const MIN_ACKED = 500;
const MAX_LOAD_MS = 8000;
/** The kill waits for an answer that arrives with at least this many other calls in flight. */
const MIN_IN_FLIGHT = 8;
const MODERN = '2026-07-28';

const dir = mkdtempSync(join(tmpdir(), 'gangway-sigkill-'));
let child: ChildProcess | undefined;
after(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Server {
  child: ChildProcess;
  url: URL;
  /** Resolves with the first match of `re` in the server's stdout (from its start), or rejects after `ms`. */
  waitFor(re: RegExp, ms: number): Promise<RegExpExecArray>;
}

function startServer(db: string, key: string, sync: 'full' | 'normal'): Promise<Server> {
  const proc = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, SIGKILL_DB: db, SIGKILL_KEY: key, SIGKILL_SYNC: sync },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err = (err + c).slice(-4000)));
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const waitFor = (re: RegExp, ms: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const started = Date.now();
      const poll = () => {
        const m = re.exec(out);
        if (m) return resolve(m);
        if (proc.exitCode !== null || proc.signalCode !== null) return reject(new Error(`server exited (${proc.signalCode ?? proc.exitCode}): ${err}`));
        if (Date.now() - started > ms) return reject(new Error(`no ${re} on the server's stdout within ${ms} ms: ${err}`));
        setTimeout(poll, 5);
      };
      poll();
    });
  return waitFor(/LISTENING (\S+)\n/, 10_000).then(
    (m) => ({ child: proc, url: new URL(m[1]!), waitFor }),
    (e: unknown) => {
      proc.kill('SIGKILL');
      throw e;
    },
  );
}

/** A 2026-07-28 tools/call (stateless: the `_meta` envelope and the Mcp-* headers) with the API key. */
function toolCall(key: string, tool: string, n: string, id: string): { headers: Record<string, string>; body: string } {
  return {
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': tool,
      'x-api-key': key,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: {
        name: tool,
        arguments: { n },
        _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} },
      },
    }),
  };
}

type Outcome = { ok: true; status: number; body: string } | { ok: false; error: string };

/** One POST on a keep-alive socket; settles once, with the whole body or the connection error. */
function postOnce(agent: Agent, url: URL, headers: Record<string, string>, body: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: Outcome) => {
      if (!settled) {
        settled = true;
        resolve(o);
      }
    };
    const req = request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          settle(res.complete ? { ok: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') } : { ok: false, error: 'incomplete body' }),
        );
        res.on('error', (e) => settle({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
        res.on('close', () => settle({ ok: false, error: 'closed mid-response' }));
      },
    );
    req.on('error', (e) => settle({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

describe('SIGKILL under load (audit durability)', () => {
  // NORMAL skips the fsync per commit: a process crash must still lose no acknowledged row.
  for (const sync of ['full', 'normal'] as const)
  it(`every call whose response the client received has its audit row after a SIGKILL (synchronous=${sync})`, { timeout: 30_000 }, async (t) => {
    const db = join(dir, `audit-${sync}.db`);
    const key = `gwk_${randomBytes(32).toString('base64url')}`;
    const server = await startServer(db, key, sync);
    child = server.child;
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => server.child.once('exit', (code, signal) => resolve(signal ?? code)));
    const agent = new Agent({ keepAlive: true, maxSockets: LOOPS });

    const acked = new Map<string, string>(); // nonce -> tool
    const sent = new Set<string>();
    const refused: string[] = []; // complete answers that were not a successful result
    const errors = new Map<string, number>(); // connection errors by code
    let inFlight = 0;
    let stop = false;
    let inFlightAtKill = -1;
    let ackedAtKill = -1;
    /** Set once the kill is armed; called on the next answer with enough calls in flight. */
    let killNow: (() => void) | undefined;

    const loop = async (i: number) => {
      const tool = i % 4 === 0 ? 'work_slow' : 'work';
      for (let seq = 0; !stop; seq++) {
        const n = `${i}.${seq}.${randomBytes(4).toString('hex')}`;
        const id = `${i}-${seq}`;
        const { headers, body } = toolCall(key, tool, n, id);
        sent.add(n);
        inFlight++;
        const o = await postOnce(agent, server.url, headers, body);
        inFlight--;
        if (!o.ok) {
          errors.set(o.error, (errors.get(o.error) ?? 0) + 1);
          continue; // after the kill every try fails at once; `stop` is already set by then
        }
        let msg: { id?: unknown; result?: { isError?: boolean; content?: Array<{ text?: string }> } } | undefined;
        try {
          msg = JSON.parse(o.body) as typeof msg;
        } catch {
          msg = undefined;
        }
        if (o.status === 200 && msg?.id === id && msg.result && !msg.result.isError && msg.result.content?.[0]?.text === `done ${n}`) {
          acked.set(n, tool);
          if (killNow && inFlight >= MIN_IN_FLIGHT) killNow();
        } else {
          refused.push(`${o.status} ${o.body.slice(0, 200)}`);
        }
      }
    };

    const started = performance.now();
    const loops = Array.from({ length: LOOPS }, (_, i) => loop(i));
    // Load until there is enough to check, then park one call that never answers (the server says
    // on stdout when its handler runs): whatever the timing, at least that call is cut off.
    await new Promise<void>((resolve) => {
      const tick = () => {
        const elapsed = performance.now() - started;
        if ((elapsed >= LOAD_MS && acked.size >= MIN_ACKED) || elapsed >= MAX_LOAD_MS) resolve();
        else setTimeout(tick, 20);
      };
      setTimeout(tick, LOAD_MS);
    });
    const held = `hold.${randomBytes(4).toString('hex')}`;
    const holdAgent = new Agent({ keepAlive: true });
    const hold = toolCall(key, 'hold', held, 'hold');
    const holdOutcome = postOnce(holdAgent, server.url, hold.headers, hold.body);
    try {
      await server.waitFor(new RegExp(`HOLDING ${held.replace('.', '\\.')}\\n`), 5000);
    } catch (err) {
      stop = true; // the loops end once the after() hook has killed the server
      throw err;
    }
    // Kill right as an answer arrives: the server has just sent a batch of answers, so a server that
    // answered before its audit rows were committed would be caught with those rows still unwritten.
    await new Promise<void>((resolve) => {
      killNow = () => {
        killNow = undefined;
        clearTimeout(fallback);
        stop = true;
        inFlightAtKill = inFlight + 1; // the held call
        ackedAtKill = acked.size;
        process.kill(server.child.pid!, 'SIGKILL');
        resolve();
      };
      const fallback = setTimeout(() => killNow?.(), 2000);
    });
    const loadMs = performance.now() - started;
    await Promise.all(loops);
    const heldResult = await holdOutcome;
    agent.destroy();
    holdAgent.destroy();
    assert.equal(await exited, 'SIGKILL');

    // The file as a restarting server finds it (the WAL is read, nothing is written).
    const conn = new Database(db, { readonly: true, fileMustExist: true });
    let rows: Array<{ tool: string; outcome: string; args: string | null; via: string; subject: string }>;
    let journal: unknown;
    let usage: number;
    try {
      journal = conn.pragma('journal_mode', { simple: true });
      rows = conn.prepare(`SELECT tool, outcome, args, via, subject FROM audit WHERE event = 'tool.call'`).all() as typeof rows;
      usage = (conn.prepare(`SELECT COALESCE(SUM(count), 0) AS n FROM usage WHERE tool IN ('work', 'work_slow')`).get() as { n: number }).n;
    } finally {
      conn.close();
    }

    const byNonce = new Map<string, typeof rows>();
    for (const r of rows) {
      const n = (r.args ? (JSON.parse(r.args) as { n?: unknown }).n : undefined) as string | undefined;
      assert.notEqual(n, held, 'the call that never finished has no audit row');
      assert.ok(typeof n === 'string' && sent.has(n), `an audit row for a call nobody sent: ${r.args}`);
      byNonce.set(n, [...(byNonce.get(n) ?? []), r]);
    }
    const missing = [...acked.keys()].filter((n) => !byNonce.has(n));
    const wrong = [...acked].filter(([n, tool]) => {
      const mine = byNonce.get(n);
      return mine && !(mine.length === 1 && mine[0]!.outcome === 'ok' && mine[0]!.tool === tool && mine[0]!.via === 'api-key' && mine[0]!.subject === 'loadgen');
    });
    const unacked = [...byNonce.keys()].filter((n) => !acked.has(n)).length;
    const failed = [...errors.values()].reduce((a, b) => a + b, 0);

    t.diagnostic(
      `load ${Math.round(loadMs)} ms; sent ${sent.size}, acknowledged ${acked.size} (${ackedAtKill} before the kill), ` +
        `in flight at kill ${inFlightAtKill} (one held), connection errors ${failed} + the held call (${heldResult.ok ? 'answered!' : heldResult.error}) ` +
        `(${[...errors].map(([c, k]) => `${c} x${k}`).join(', ') || 'none'}); ` +
        `tool.call rows ${rows.length}: ${rows.length - unacked} acknowledged + ${unacked} whose answer was lost; usage counted ${usage}; journal ${String(journal)}`,
    );

    assert.deepEqual(refused.slice(0, 3), [], `${refused.length} calls were answered without a successful result`);
    assert.ok(acked.size >= MIN_ACKED, `only ${acked.size} calls acknowledged: the test would prove nothing`);
    assert.equal(heldResult.ok, false, 'the held call was cut off by the kill');
    assert.ok(inFlightAtKill > MIN_IN_FLIGHT, `the kill must cut calls off (in flight ${inFlightAtKill})`);
    assert.equal(String(journal), 'wal');
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${acked.size} acknowledged calls have no audit row`);
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} acknowledged calls have a wrong or duplicated audit row`);
    assert.ok(rows.length <= sent.size);
  });
});
