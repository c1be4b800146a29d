import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createGangway } from '../../src/index.ts';
import { hashSecret } from '../../src/auth/secrets.ts';
import { freePort } from './tcp-proxy.ts';
import { echoN } from './echo-tool.ts';

/**
 * Issue 6, fault test: a Postgres server this test owns (initdb in a temp dir) is stopped the
 * hard way (`pg_ctl stop -m immediate`: no shutdown checkpoint, crash recovery at the next
 * start) while calls run, then started again. Gangway answers 503 meanwhile, serves again with
 * no restart, and every call it answered has its audit row after the crash recovery.
 */
const BIN = '/usr/lib/postgresql/15/bin';

function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'runs initdb as the postgres user, which needs root';
  if (!existsSync(join(BIN, 'initdb'))) return `no PostgreSQL 15 server programs in ${BIN}`;
  try {
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
  } catch {
    return 'no postgres OS user';
  }
  return null;
}

const why = unavailable();
const skip = why && process.env.CI !== 'true' ? `needs a private PostgreSQL server: ${why}` : false;

describe('Postgres stopped (crash) and started again under load', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-pg-'));
  const data = join(dir, 'data');
  let port = 0;
  const pgCtl = (...args: string[]) => execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, 'pg_ctl'), '-D', data, ...args], { stdio: 'ignore' });
  const start = () => pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-l', join(dir, 'log'), '-w', 'start');
  after(() => {
    try {
      pgCtl('-m', 'immediate', '-w', 'stop');
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('503 while it is down, served again after, every answered call audited after crash recovery', { timeout: 120_000 }, async () => {
    assert.equal(why, null, `CI runs as root with PostgreSQL 15 installed: ${why}`);
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], { stdio: 'ignore' });
    port = await freePort();
    start();
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

    const app = createGangway({
      name: 'pg-restart',
      version: '1.0.0',
      store: url,
      ephemeral: 'memory',
      logger: { level: 'silent' },
      auth: { oauth: false, cacheMs: 0 }, // every call looks its key up in Postgres
      http: { stateless: true },
      policy: { limits: { perCredential: { max: 1_000_000, windowMs: 60_000 } } },
      tools: [echoN],
    });
    const key = `gwk_${randomBytes(32).toString('base64url')}`;
    const { store } = await app.stores();
    await store.apiKeys.create({ kind: 'api_key', keyHash: hashSecret(key), tenant: 'acme', subject: 'ops', scopes: [] });
    const { port: appPort } = await app.listen({ port: 0, host: '127.0.0.1' });

    const answered: string[] = [];
    const statuses = new Map<number, number>();
    let n = 0;
    let running = true;
    const loop = async () => {
      while (running) {
        const tag = `c${++n}`;
        const res = await fetch(`http://127.0.0.1:${appPort}/mcp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', 'x-api-key': key },
          body: JSON.stringify({ jsonrpc: '2.0', id: n, method: 'tools/call', params: { name: 'echo', arguments: { n: tag } } }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = (await res.json()) as { result?: { content: Array<{ text: string }> } };
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200 && body.result?.content[0]?.text === tag) answered.push(tag);
        else if (res.status !== 200) await sleep(50);
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    await sleep(500);
    const before = answered.length;
    pgCtl('-m', 'immediate', '-w', 'stop');
    await sleep(1500);
    const during = answered.length;
    start();
    const end = Date.now() + 30_000;
    while (answered.length < during + 20 && Date.now() < end) await sleep(100);
    running = false;
    await Promise.all(loops);
    await app.close();

    assert.ok(before > 0, 'calls were answered before the stop');
    assert.ok((statuses.get(503) ?? 0) > 0, `503s while Postgres was down: ${JSON.stringify([...statuses])}`);
    assert.deepEqual([...statuses.keys()].filter((s) => s !== 200 && s !== 503), [], 'nothing but 200 and 503');
    assert.ok(answered.length >= during + 20, 'served again without a restart');

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const rows = await client.query(`SELECT args FROM audit WHERE event = 'tool.call' AND outcome = 'ok'`);
    await client.end();
    const audited = new Set(rows.rows.map((r: { args: { n: string } }) => r.args.n));
    assert.deepEqual(answered.filter((t) => !audited.has(t)), [], 'every answered call has its audit row after crash recovery');
  });
});
