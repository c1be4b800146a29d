import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { newSecret } from '../../src/auth/secrets.ts';
import { defineTool, type Gangway, type GangwayConfig, type Principal, ToolError } from '../../src/index.ts';
import { MemoryEphemeral } from '../../src/store/memory/ephemeral.ts';
import { MemoryStore } from '../../src/store/memory/store.ts';
import type { Ephemeral, Store } from '../../src/store/types.ts';
import { callTool, legacySession, policyApp, send, textOf } from './helpers.ts';

/**
 * SECURITY 35: the tenant comes only from the verified credential; another tenant's ids look
 * like "not found". Seed 001: one switch (`enabled: false` or GANGWAY_MCP_ENABLED=0) turns the
 * whole MCP and OAuth surface into 404s, and nothing is read or written behind it.
 */

interface Invoice {
  id: string;
  tenant: string | null;
  amount: number;
}
const invoices = new Map<string, Invoice>();
const seen: Principal[] = [];
const NOT_FOUND = 'Invoice not found';

const tools = [
  defineTool({
    name: 'create_invoice',
    scopes: ['invoices:write'],
    input: { type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'], additionalProperties: false },
    handler: ({ amount }: { amount: number }, ctx) => {
      seen.push(ctx.principal);
      const inv = { id: `inv_${randomUUID()}`, tenant: ctx.principal.tenant, amount };
      invoices.set(inv.id, inv);
      return { id: inv.id, tenant: inv.tenant };
    },
  }),
  defineTool({
    name: 'get_invoice',
    scopes: ['invoices:read'],
    input: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false },
    handler: ({ id }: { id: string }, ctx) => {
      seen.push(ctx.principal);
      const inv = invoices.get(id);
      // Another tenant's invoice reads exactly like one that does not exist.
      if (!inv || inv.tenant !== ctx.principal.tenant) throw new ToolError(NOT_FOUND);
      return { ...inv };
    },
  }),
];

describe('the tenant comes from the credential', () => {
  let app: Gangway;
  let store: Store;
  const key = async (tenant: string, subject: string) => {
    const s = newSecret('api_key');
    await store.apiKeys.create({ kind: 'api_key', keyHash: s.hash, hint: s.hint, tenant, subject, scopes: ['invoices:read', 'invoices:write'] });
    return { headers: { 'x-api-key': s.secret } };
  };
  let a: { headers: Record<string, string> };
  let b: { headers: Record<string, string> };
  before(async () => {
    app = policyApp({ tools, auth: { scopes: { 'invoices:read': 'Read invoices', 'invoices:write': 'Create invoices' } } });
    ({ store } = await app.stores());
    a = await key('tenant-a', 'ann');
    b = await key('tenant-b', 'ben');
  });
  after(() => app.close());

  it("the handler sees the verified key's tenant, whatever the request says about itself", async () => {
    seen.length = 0;
    const r = await callTool(app, 'create_invoice', { amount: 10 }, { headers: { ...b.headers, 'x-tenant-id': 'tenant-a', 'x-workspace': 'tenant-a' } });
    assert.equal(r.json.result.structuredContent.tenant, 'tenant-b', r.text);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.tenant, 'tenant-b');
    assert.equal(seen[0]!.subject, 'ben');
    assert.equal(seen[0]!.via, 'api-key');
  });

  it('an argument cannot name the tenant: a closed schema refuses it and the handler does not run', async () => {
    seen.length = 0;
    for (const args of [
      { amount: 5, tenant: 'tenant-a' },
      { amount: 5, tenant_id: 'tenant-a' },
    ]) {
      const r = await callTool(app, 'create_invoice', args, b);
      assert.equal(r.json.result?.isError, true, r.text);
      assert.match(textOf(r), /unknown property "tenant(_id)?"/);
    }
    // 2025-06-18 spells the same refusal as -32602
    const s = await legacySession(app, '2025-06-18', b);
    const old = await s.call('get_invoice', { id: 'inv_x', tenant: 'tenant-a' });
    assert.equal(old.json.error?.code, -32602, old.text);
    assert.equal(seen.length, 0);
  });

  it("another tenant's id reads as not found, exactly like an id that does not exist", async () => {
    const created = await callTool(app, 'create_invoice', { amount: 99 }, a);
    const id = created.json.result.structuredContent.id as string;
    const mine = await callTool(app, 'get_invoice', { id }, a);
    assert.equal(mine.json.result.structuredContent.amount, 99);
    const theirs = await callTool(app, 'get_invoice', { id }, b);
    const nobody = await callTool(app, 'get_invoice', { id: `inv_${randomUUID()}` }, b);
    assert.equal(theirs.json.result.isError, true);
    assert.equal(textOf(theirs), NOT_FOUND);
    assert.deepEqual(theirs.json.result, nobody.json.result, 'indistinguishable from an unknown id');
    assert.ok(!theirs.text.includes('99') && !theirs.text.includes('tenant-a'));
  });

  it("audit rows carry the credential's tenant", async () => {
    const rows = await (await app.stores()).store.audit.query({ event: 'tool.call', limit: 1000 });
    const byBen = rows.filter((r) => r.subject === 'ben');
    assert.ok(byBen.length >= 2);
    assert.ok(byBen.every((r) => r.tenant === 'tenant-b'));
  });
});

/** Records every method called on a store or an ephemeral (and their repositories). */
function spy<T extends object>(target: T, calls: string[], prefix = ''): T {
  return new Proxy(target, {
    get(t, k) {
      const v = Reflect.get(t, k, t) as unknown;
      if (typeof v === 'function') {
        return (...args: unknown[]) => {
          calls.push(`${prefix}${String(k)}`);
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      }
      if (v && typeof v === 'object' && prefix === '') return spy(v, calls, `${String(k)}.`);
      return v;
    },
  });
}

describe('the master switch', () => {
  let runs = 0;
  const switchTools = [defineTool({ name: 'status', anonymous: true, handler: () => (runs++, 'up') })];
  function build(extra: Partial<GangwayConfig>): { app: Gangway; calls: string[] } {
    const calls: string[] = [];
    const app = policyApp({
      tools: switchTools,
      auth: { scopes: { 'notes:read': 'Read notes' }, signIn: 'email', oauth: {} },
      store: spy<Store>(new MemoryStore(), calls),
      ephemeral: spy<Ephemeral>(new MemoryEphemeral(), calls),
      ...extra,
    });
    return { app, calls };
  }

  const fetch = (app: Gangway, method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    app.fetch(
      new Request(`http://localhost${path}`, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body ? { body } : {}) }),
      { ip: '127.0.0.1' },
    );
  const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  const register = JSON.stringify({ client_name: 'x', redirect_uris: ['http://127.0.0.1:9/cb'], grant_types: ['authorization_code'] });
  /** Every route of the surface, with a request that would do something real. */
  const surface: Array<[string, string, string?, Record<string, string>?]> = [
    ['POST', '/mcp', init, { accept: 'application/json, text/event-stream' }],
    // (without a session id: an unknown one would be a 404 even when on)
    ['GET', '/mcp', undefined, { accept: 'text/event-stream' }],
    ['DELETE', '/mcp'],
    ['GET', '/.well-known/oauth-protected-resource/mcp'],
    ['GET', '/.well-known/oauth-protected-resource'],
    ['GET', '/.well-known/oauth-authorization-server'],
    ['POST', '/oauth/register', register],
    ['POST', '/oauth/token', undefined, { 'content-type': 'application/x-www-form-urlencoded' }],
    ['GET', '/oauth/authorize?response_type=code&client_id=x'],
    ['GET', '/signin'],
    ['POST', '/signin', undefined, { 'content-type': 'application/x-www-form-urlencoded' }],
  ];

  it('on (the control): every route of the surface answers something other than 404, and the stores are used', async () => {
    const { app, calls } = build({});
    try {
      assert.equal(app.enabled, true);
      for (const [method, path, body, headers] of surface) {
        const res = await fetch(app, method, path, body, headers);
        assert.notEqual(res.status, 404, `${method} ${path}`);
      }
      assert.ok(calls.includes('oauthClients.register'), calls.join());
      const tool = await callTool(app, 'status', {});
      assert.equal(textOf(tool), 'up');
    } finally {
      await app.close();
    }
  });

  const off = async (app: Gangway, calls: string[]) => {
    runs = 0;
    assert.equal(app.enabled, false);
    for (const [method, path, body, headers] of surface) {
      const res = await fetch(app, method, path, body, headers);
      assert.equal(res.status, 404, `${method} ${path}`);
      await res.arrayBuffer();
    }
    const modern = await callTool(app, 'status', {});
    assert.equal(modern.status, 404);
    const stream = await send(app, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { headers: { 'mcp-protocol-version': '2025-03-26' } });
    assert.equal(stream.status, 404);
    assert.equal(runs, 0, 'no tool ran');
    assert.deepEqual(calls, [], 'nothing was read from or written to the stores');
    const health = await fetch(app, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
  };

  it('enabled: false answers 404 everywhere but /healthz, and touches no store', async () => {
    const { app, calls } = build({ enabled: false });
    try {
      await off(app, calls);
    } finally {
      await app.close();
    }
  });

  for (const value of ['0', 'false']) {
    it(`GANGWAY_MCP_ENABLED=${value} does the same`, async () => {
      const saved = process.env.GANGWAY_MCP_ENABLED;
      let built: ReturnType<typeof build>;
      process.env.GANGWAY_MCP_ENABLED = value;
      try {
        built = build({});
      } finally {
        if (saved === undefined) delete process.env.GANGWAY_MCP_ENABLED;
        else process.env.GANGWAY_MCP_ENABLED = saved;
      }
      try {
        await off(built.app, built.calls);
      } finally {
        await built.app.close();
      }
    });
  }

  it('the node:http face is switched off too', async () => {
    const { app, calls } = build({ enabled: false });
    try {
      const { url } = await app.listen({ port: 0 });
      const base = new URL(url).origin;
      for (const [method, path, body, headers] of surface) {
        const res = await globalThis.fetch(`${base}${path}`, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body ? { body } : {}) });
        assert.equal(res.status, 404, `${method} ${path}`);
        await res.arrayBuffer();
      }
      assert.equal((await globalThis.fetch(`${base}/healthz`)).status, 200);
      // listen() opens the stores (a check of their shape), and nothing is called on them
      assert.deepEqual(calls, []);
    } finally {
      await app.close();
    }
  });
});
