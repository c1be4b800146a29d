import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as Client2, StreamableHTTPClientTransport as Client2Transport } from '@modelcontextprotocol/client';
import pg from 'pg';
import { hashSecret } from '../../src/auth/secrets.ts';
import { openStore } from '../../src/store/index.ts';
import type { Store } from '../../src/store/types.ts';
import { startRoundRobin } from './round-robin.ts';
import { freePort, startProxy, untilServed } from './tcp-proxy.ts';

/**
 * Issue 6: three Gangway processes on different ports behind a round-robin proxy (no sticky
 * sessions), sharing Postgres (through a TCP proxy the test can cut) and a Redis server this
 * test starts and stops itself. Each request goes to the next process, so consecutive steps of
 * a session or an OAuth flow land on different processes.
 */
const PG_URL = process.env.GANGWAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CACHE_MS = 1500;

function redisServerPath(): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

async function unavailable(): Promise<string | null> {
  if (!redisServerPath()) return 'the redis-server program is not installed (this test starts and stops its own Redis)';
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return null;
  } catch (err) {
    return `Postgres at ${PG_URL}: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const why = await unavailable();
const skip = why && process.env.CI !== 'true' ? `needs Postgres and redis-server: ${why}` : false;

/** Starts a child and resolves once a line of its stdout matches `ready`. */
function startChild(cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start: ${out}${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}: ${out}${err}`));
    });
  });
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON-RPC bodies
  json: any;
}

describe('three processes behind a round-robin proxy, on Postgres + Redis', { skip }, () => {
  const schema = `gw_mp_${randomBytes(6).toString('hex')}`;
  const children: ChildProcess[] = [];
  let redis: ChildProcess | undefined;
  let redisPort = 0;
  let rr: Awaited<ReturnType<typeof startRoundRobin>>;
  let pgProxy: Awaited<ReturnType<typeof startProxy>>;
  let store: Store;
  let base: string;
  const ports: number[] = [];
  const admin = new pg.Client({ connectionString: PG_URL });

  const startRedis = async () => {
    ({ child: redis } = await startChild(
      redisServerPath()!,
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {},
      /Ready to accept connections/,
    ));
  };

  before(async () => {
    assert.equal(why, null, `CI has Postgres and redis-server: ${why}`);
    await admin.connect();
    redisPort = await freePort();
    await startRedis();
    const pgUrl = new URL(PG_URL);
    pgProxy = await startProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    pgUrl.host = `127.0.0.1:${pgProxy.port}`;
    pgUrl.searchParams.set('schema', schema);
    rr = await startRoundRobin();
    base = `http://127.0.0.1:${rr.port}`;
    const config = {
      store: pgUrl.toString(),
      ephemeral: `redis://127.0.0.1:${redisPort}`,
      publicUrl: `${base}/mcp`,
      secret: randomBytes(32).toString('base64url'),
      cacheMs: CACHE_MS,
    };
    const script = fileURLToPath(new URL('./gangway-process.ts', import.meta.url));
    const started = await Promise.all(
      [0, 1, 2].map(() => startChild(process.execPath, ['--import', 'tsx', script], { GW_PROCESS: JSON.stringify(config) }, /listening (\d+)/)),
    );
    for (const { child, match } of started) {
      children.push(child);
      ports.push(Number(match[1]));
    }
    rr.backends.push(...ports);
    store = await openStore(pgUrl.toString());
  });

  after(async () => {
    await Promise.all(children.map(stop));
    await store?.close();
    await stop(redis);
    await Promise.all([rr?.close(), pgProxy?.close()]);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  });

  async function apiKey(scopes: string[] = ['notes:read', 'notes:write']): Promise<{ key: string; id: string; subject: string }> {
    const key = `gwk_${randomBytes(32).toString('base64url')}`;
    const rec = await store.apiKeys.create({ kind: 'api_key', keyHash: hashSecret(key), tenant: 'acme', subject: `ops-${randomBytes(3).toString('hex')}`, scopes });
    return { key, id: rec.id, subject: rec.subject };
  }

  /** The confirmed actions that ran for `subject`, from the shared audit log. */
  async function confirmRuns(subject: string): Promise<unknown[]> {
    const r = await admin.query(`SELECT resource_id, reason FROM "${schema}".audit WHERE event = 'confirm.run' AND outcome = 'ok' AND subject = $1`, [subject]);
    return r.rows;
  }

  /** One JSON-RPC POST to `url` (the proxy by default). */
  async function rpc(body: unknown, headers: Record<string, string>, url = `${base}/mcp`): Promise<Answer> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let json: unknown;
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      for (const line of text.split('\n')) if (line.startsWith('data:')) json = JSON.parse(line.slice(5));
    } else json = text ? JSON.parse(text) : undefined;
    return { status: res.status, headers: res.headers, json };
  }

  /** A 2025-11-25 initialize, through the proxy unless `url` names one process. */
  const initialize = (auth: Record<string, string>, url?: string) =>
    rpc({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mp', version: '1' } } }, auth, url);

  /** The headers of the session an initialize answered 200 made. */
  const sessionHeaders = (auth: Record<string, string>, init: Answer) => ({
    ...auth,
    'mcp-session-id': init.headers.get('mcp-session-id')!,
    'mcp-protocol-version': '2025-11-25',
  });

  /** initialize through the proxy; returns the headers of the new session. */
  async function legacySession(auth: Record<string, string>): Promise<Record<string, string>> {
    const init = await initialize(auth);
    assert.equal(init.status, 200, JSON.stringify(init.json));
    return sessionHeaders(auth, init);
  }

  const call = (name: string, args: Record<string, unknown>, headers: Record<string, string>, url?: string) =>
    rpc({ jsonrpc: '2.0', id: randomBytes(4).readUInt32BE(), method: 'tools/call', params: { name, arguments: args } }, headers, url);

  it('a 2025-11-25 session made on one process keeps working as requests rotate (official SDK client)', async () => {
    const { key } = await apiKey();
    const from = rr.log.length;
    const client = new Client({ name: 'rotating', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { 'x-api-key': key } } }));
    const pids = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = (await client.callTool({ name: 'echo', arguments: { n: `r${i}` } })) as { content: Array<{ text: string }>; isError?: boolean };
      assert.notEqual(r.isError, true, JSON.stringify(r));
      const m = /^r\d from (\d+)$/.exec(r.content[0]!.text);
      assert.ok(m, r.content[0]!.text);
      pids.add(m[1]!);
    }
    assert.equal(pids.size, 3, 'the calls of one session were answered by all three processes');
    const served = new Set(rr.log.slice(from).map((l) => l.backend));
    assert.equal(served.size, 3);
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
    await (client.transport as StreamableHTTPClientTransport).terminateSession();
    await client.close();
    // The DELETE reached one process; every process refuses the session once its copy is re-read.
    await sleep(1100);
    for (const port of ports) {
      const gone = await rpc({ jsonrpc: '2.0', id: 1, method: 'ping' }, { 'x-api-key': key, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }, `http://127.0.0.1:${port}/mcp`);
      assert.equal(gone.status, 404, `process on ${port}`);
    }
  });

  it('the OAuth flow completes with each step on a different process', async () => {
    const steps: number[] = [];
    const step = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${base}${path}`, { redirect: 'manual', ...init });
      steps.push(rr.log.at(-1)!.backend);
      return res;
    };
    const redirect = 'http://127.0.0.1:7777/callback';
    const reg = await step('/oauth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'mp', redirect_uris: [redirect], grant_types: ['authorization_code', 'refresh_token'] }),
    });
    assert.equal(reg.status, 201);
    const clientId = ((await reg.json()) as { client_id: string }).client_id;
    const verifier = randomBytes(32).toString('base64url');
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirect,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: 's1',
      resource: `${base}/mcp`,
      scope: 'notes:read notes:write',
    });
    const consent = await step(`/oauth/authorize?${q}`, { headers: { 'x-test-user': 'bob' } });
    const html = await consent.text();
    assert.equal(consent.status, 200, html.slice(0, 300));
    const cookie = consent.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
    const form = new URLSearchParams({ request: field('request'), csrf: field('csrf'), decision: 'approve' });
    form.append('scope', 'notes:read');
    form.append('scope', 'notes:write');
    const approved = await step('/oauth/authorize', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-test-user': 'bob', ...(cookie ? { cookie } : {}) },
      body: form.toString(),
    });
    assert.equal(approved.status, 303, await approved.text());
    const code = new URL(approved.headers.get('location')!).searchParams.get('code')!;
    const tokenAt = (body: Record<string, string>) =>
      step('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
    const issued = await tokenAt({ grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier, client_id: clientId, resource: `${base}/mcp` });
    const tokens = (await issued.json()) as { access_token: string; refresh_token: string };
    assert.equal(issued.status, 200, JSON.stringify(tokens));
    const headers = await legacySession({ authorization: `Bearer ${tokens.access_token}` });
    steps.push(rr.log.at(-1)!.backend);
    const used = await call('echo', { n: 'oauth' }, headers);
    steps.push(rr.log.at(-1)!.backend);
    assert.match(used.json.result.content[0].text, /^oauth from \d+$/);
    const refreshed = await tokenAt({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId });
    assert.equal(refreshed.status, 200);
    const again = await tokenAt({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId });
    assert.equal(again.status, 400, 'a rotated refresh token is refused by whichever process gets it');
    for (let i = 1; i < steps.length; i++) assert.notEqual(steps[i], steps[i - 1], `steps ${i - 1} and ${i} on one process: ${steps}`);
  });

  it('a confirmation minted on one process is confirmed on another; a second confirm fails anywhere', async () => {
    const { key, subject } = await apiKey();
    const headers = await legacySession({ 'x-api-key': key });
    const parked = await call('delete_note', { id: 'note-7' }, headers);
    const minted = rr.log.at(-1)!.backend;
    const pending = parked.json.result.structuredContent as { token: string; status: string };
    assert.ok(pending.token, JSON.stringify(parked.json));
    const confirm = () => call('confirm_destructive_action', { token: pending.token, resource_id_echo: 'note-7', reason: 'cleanup' }, headers);
    const ok = await confirm();
    assert.notEqual(rr.log.at(-1)!.backend, minted);
    assert.match(ok.json.result.content[0].text, /^deleted note-7 in \d+$/);
    for (let i = 0; i < 3; i++) {
      const replay = await confirm(); // lands on each process in turn
      assert.equal(replay.json.result.isError, true);
      assert.doesNotMatch(JSON.stringify(replay.json), /deleted note-7/);
    }
    assert.deepEqual(await confirmRuns(subject), [{ resource_id: 'note-7', reason: 'cleanup' }], 'the action ran once');
  });

  it("a confirmation form (elicitation) whose answer lands on another process runs the action once", async () => {
    const { key, subject } = await apiKey();
    const client = new Client({ name: 'form', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { resource_id_echo: 'note-9', reason: 'tidy up' } };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { 'x-api-key': key } } }));
    const from = rr.log.length;
    const r = (await client.callTool({ name: 'delete_note', arguments: { id: 'note-9' } })) as { content: Array<{ text: string }> };
    assert.match(r.content[0]!.text, /^deleted note-9 in \d+$/);
    assert.equal(asked.length, 1);
    const posts = rr.log.slice(from).filter((l) => l.method === 'POST');
    assert.ok(posts.length >= 2 && posts[0]!.backend !== posts[1]!.backend, `call and answer on different processes: ${JSON.stringify(posts)}`);
    await client.close();
    assert.deepEqual(await confirmRuns(subject), [{ resource_id: 'note-9', reason: 'tidy up' }]);
  });

  it('a 2026-07-28 client (client 2.x) confirms through input_required, each round trip on another process', async () => {
    const { key, subject } = await apiKey();
    const client = new Client2({ name: 'modern', version: '1.0.0' }, { capabilities: { elicitation: {} }, versionNegotiation: { mode: 'auto' } });
    client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { resource_id_echo: 'note-26', reason: 'modern tidy' } }));
    await client.connect(new Client2Transport(new URL(`${base}/mcp`), { requestInit: { headers: { 'x-api-key': key } } }));
    const from = rr.log.length;
    const r = (await client.callTool({ name: 'delete_note', arguments: { id: 'note-26' } })) as { content: Array<{ text: string }> };
    assert.match(r.content[0]!.text, /^deleted note-26 in \d+$/);
    const posts = rr.log.slice(from).filter((l) => l.method === 'POST');
    assert.ok(posts.length >= 2 && posts[0]!.backend !== posts[1]!.backend, `the call and its retry on different processes: ${JSON.stringify(posts)}`);
    await client.close();
    assert.deepEqual(await confirmRuns(subject), [{ resource_id: 'note-26', reason: 'modern tidy' }]);
  });

  it('a limit of 60 a minute admits at most 63 calls across the three', async () => {
    const { key } = await apiKey();
    const headers = await legacySession({ 'x-api-key': key }); // initialize counts as one call
    // Eight at a time: under the per-principal cap on concurrent calls (16 per process).
    const answers: Answer[] = [];
    for (let i = 0; i < 80; i += 8) answers.push(...(await Promise.all(Array.from({ length: 8 }, (_, j) => call('echo', { n: `l${i + j}` }, headers)))));
    const ok = answers.filter((a) => a.status === 200 && a.json.result);
    const limited = answers.filter((a) => a.status === 429);
    assert.equal(ok.length + limited.length, 80, `only 200 or 429: ${answers.map((a) => a.status)}`);
    assert.ok(ok.length <= 62 && ok.length >= 55, `${ok.length} admitted`);
    for (const a of limited) assert.ok(Number(a.headers.get('retry-after')) > 0);
  });

  it('a revoked key stops working on all three within auth.cacheMs', async () => {
    const { key, id } = await apiKey();
    const direct = ports.map((p) => `http://127.0.0.1:${p}/mcp`);
    const sessions = await Promise.all(direct.map(async (url) => {
      const init = await initialize({ 'x-api-key': key }, url);
      return sessionHeaders({ 'x-api-key': key }, init);
    }));
    for (const [i, url] of direct.entries()) assert.equal((await call('echo', { n: 'before' }, sessions[i]!, url)).status, 200); // cached now
    assert.equal(await store.apiKeys.revoke(id), true);
    await sleep(CACHE_MS + 100);
    for (const [i, url] of direct.entries()) {
      const refused = await call('echo', { n: 'after' }, sessions[i]!, url);
      assert.equal(refused.status, 401, `process ${i} still accepts the key`);
    }
  });

  /** untilServed's view of an answer through the proxy. */
  const attempt = (answer: () => Promise<Answer>) => async () => {
    const r = await answer();
    return { status: r.status, retryAfter: r.headers.get('retry-after'), body: r.json };
  };

  it('Redis stopped and restarted, then Postgres cut and restored: 503s meanwhile, served again, audit complete', { timeout: 90_000 }, async () => {
    const { key, subject } = await apiKey();
    const answered: string[] = [];
    let headers = await legacySession({ 'x-api-key': key });
    let n = 0;
    const echo = async () => {
      const tag = `f${++n}`;
      const r = await call('echo', { n: tag }, headers);
      if (r.status === 200 && typeof r.json.result?.content?.[0]?.text === 'string') answered.push(tag);
      return r;
    };
    for (let i = 0; i < 3; i++) assert.equal((await echo()).status, 200);

    await stop(redis);
    for (let i = 0; i < 6; i++) {
      const down = await echo();
      assert.equal(down.status, 503, `Redis down: ${JSON.stringify(down.json)}`);
      assert.equal(down.headers.get('retry-after'), '5');
    }
    const lost = headers;
    await startRedis();
    // Redis kept nothing: the session is gone (404 once each process re-reads it), as after any
    // Redis restart without persistence. The client starts a new one, as the spec asks, and uses
    // the one made by the first initialize answered 200 (503s until that process's Redis is back).
    await untilServed('Redis back, new session', attempt(async () => {
      const init = await initialize({ 'x-api-key': key });
      if (init.status === 200) headers = sessionHeaders({ 'x-api-key': key }, init);
      return init;
    }));
    assert.notEqual(headers['mcp-session-id'], lost['mcp-session-id'], 'a new session');
    for (let i = 0; i < 3; i++) assert.equal((await echo()).status, 200, 'all three serve again');

    pgProxy.cut();
    await sleep(CACHE_MS + 100); // the key must be looked up again, in Postgres
    for (let i = 0; i < 6; i++) {
      const down = await echo();
      assert.equal(down.status, 503, `Postgres down: ${JSON.stringify(down.json)}`);
    }
    pgProxy.restore();
    await untilServed('Postgres back', attempt(echo));
    for (let i = 0; i < 3; i++) assert.equal((await echo()).status, 200, 'all three serve again');

    const rows = await admin.query(`SELECT args FROM "${schema}".audit WHERE event = 'tool.call' AND tool = 'echo' AND outcome = 'ok' AND subject = $1`, [subject]);
    const audited = new Set(rows.rows.map((r: { args: { n: string } }) => r.args.n));
    assert.deepEqual(answered.filter((t) => !audited.has(t)), [], 'every answered call has its audit row');
    assert.deepEqual([...audited].filter((t) => !answered.includes(t)), [], 'no refused call ran');
    assert.ok(answered.length >= 10);
  });
});
