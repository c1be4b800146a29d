import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type Fixture, ROOT, startServe } from '../conformance/suite.ts';

/**
 * The demo of the README's first command (`npm run demo`), through `gangway serve` as a user
 * runs it: anonymous browsing, ordering with an API key minted by `gangway tokens`, a
 * destructive cancel that waits for confirmation, and the usage tool. The store is a temporary
 * file so the test leaves examples/demo untouched.
 */
const DEMO = join(ROOT, 'examples/demo');
let dir: string;
let server: Fixture;

const gangway = (...args: string[]) =>
  execFileSync(process.execPath, [join(ROOT, 'bin/gangway.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GANGWAY_LOG_LEVEL: 'silent' } });

async function connect(headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'demo-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers } }));
  return client;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gangway-demo-'));
  server = await startServe(DEMO, ['--store', `sqlite:${join(dir, 'g.db')}`], {});
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the demo shop through gangway serve', () => {
  it('browses anonymously, orders with a key, cancels only after confirmation, reports usage', async () => {
    const anonymous = await connect();
    const found = await anonymous.callTool({ name: 'search_products', arguments: { query: 'markdown' } });
    assert.equal((found.structuredContent as { total: number }).total, 1);
    await assert.rejects(anonymous.callTool({ name: 'create_order', arguments: { merchant_id: 'acme-corp', sku: 'json-wizard' } }), /401|Unauthorized/);
    await anonymous.close();

    const minted = JSON.parse(
      gangway('tokens', 'create', '--cwd', DEMO, '--store', `sqlite:${join(dir, 'g.db')}`, '--tenant', 'acme', '--scopes', 'orders:read,orders:write', '--json'),
    ) as { secret: string };
    const client = await connect({ 'x-api-key': minted.secret });
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('confirm_destructive_action') && names.includes('get_api_usage'), names.join(', '));

    const order = (await client.callTool({ name: 'create_order', arguments: { merchant_id: 'acme-corp', sku: 'json-wizard' } })).structuredContent as { order_id: string };
    const pending = await client.callTool({ name: 'cancel_order', arguments: { order_id: order.order_id } });
    const parked = pending.structuredContent as { status: string; resourceId: string; token: string };
    assert.equal(parked.status, 'confirmation_required');
    assert.equal(parked.resourceId, order.order_id);
    const still = await client.callTool({ name: 'get_order_status', arguments: { order_id: order.order_id } });
    assert.equal((still.structuredContent as { status: string }).status, 'pending', 'cancelled before the confirmation');

    const wrong = await client.callTool({
      name: 'confirm_destructive_action',
      arguments: { token: parked.token, resource_id_echo: order.order_id.toUpperCase(), reason: 'customer asked' },
    });
    assert.equal(wrong.isError, true);
    assert.match(JSON.stringify(wrong.structuredContent), /GW_CONFIRM_ECHO_MISMATCH/);
    const after = await client.callTool({ name: 'get_order_status', arguments: { order_id: order.order_id } });
    assert.equal((after.structuredContent as { status: string }).status, 'pending', 'a wrong echo must not cancel the order');

    const again = (await client.callTool({ name: 'cancel_order', arguments: { order_id: order.order_id } })).structuredContent as { token: string };
    const done = await client.callTool({
      name: 'confirm_destructive_action',
      arguments: { token: again.token, resource_id_echo: order.order_id, reason: 'customer asked' },
    });
    assert.equal((done.structuredContent as { status: string }).status, 'cancelled');

    const usage = (await client.callTool({ name: 'get_api_usage', arguments: {} })).structuredContent as {
      tenant: string;
      quota: number;
      used: number;
      byTool: Record<string, number>;
    };
    assert.equal(usage.tenant, 'acme');
    assert.equal(usage.quota, 10_000);
    assert.equal(usage.byTool.cancel_order, 2);
    assert.ok(usage.used >= 8, `used ${usage.used}`);
    await client.close();

    // The audit log holds the cancel with its reason, read through the CLI.
    const rows = gangway('audit', 'query', '--cwd', DEMO, '--store', `sqlite:${join(dir, 'g.db')}`, '--event', 'confirm.run', '--json')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { tool: string; resourceId: string; reason: string });
    assert.deepEqual(rows.map((r) => [r.tool, r.resourceId, r.reason]), [['cancel_order', order.order_id, 'customer asked']]);
  });
});
