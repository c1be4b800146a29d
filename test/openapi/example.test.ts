import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as Client2, StreamableHTTPClientTransport as Transport2 } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { todoApi } from '../../examples/openapi/todo-api.ts';
import { createGangway, GangwayConfigError } from '../../src/index.ts';
import { type Fixture, ROOT, startServe } from '../conformance/suite.ts';

/**
 * examples/openapi end to end, through the CLI a user runs: `gangway tokens create` mints a key,
 * `gangway serve` serves the Todo API's OpenAPI document as tools and a resource template, a real
 * SDK client calls them, and the upstream sees the server's own key and the caller's tenant.
 * Then `gangway import` writes a manifest and a server starts from it.
 */

const EXAMPLE = join(ROOT, 'examples/openapi');
const UPSTREAM_KEY = 'upstream-secret-key';
let api: Server;
let apiUrl: string;
let dir: string;
let server: Fixture;

const gangway = (...args: string[]) => execFileSync(process.execPath, [join(ROOT, 'bin/gangway.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GANGWAY_LOG_LEVEL: 'silent' } });

function mint(tenant: string, scopes: string): string {
  const out = JSON.parse(gangway('tokens', 'create', '--cwd', EXAMPLE, '--store', `sqlite:${join(dir, 'g.db')}`, '--tenant', tenant, '--scopes', scopes, '--json')) as { secret: string };
  return out.secret;
}

async function connect(key: string): Promise<Client> {
  const client = new Client({ name: 'example-test', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { 'x-api-key': key } } }));
  return client;
}

const text = (r: Awaited<ReturnType<Client['callTool']>>) => (r.content as Array<{ text: string }>)[0]!.text;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gangway-openapi-example-'));
  api = todoApi(UPSTREAM_KEY);
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/v1`;
  server = await startServe(EXAMPLE, ['--store', `sqlite:${join(dir, 'g.db')}`], { TODO_API_URL: apiUrl, TODO_API_KEY: UPSTREAM_KEY });
});
after(async () => {
  await server?.stop();
  api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('examples/openapi through gangway serve', () => {
  it('serves every operation as a tool with annotations and scopes from the spec, and calls the API', async () => {
    const client = await connect(mint('acme', 'todos:read,todos:write'));
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name), ['listTodos', 'createTodo', 'getTodo', 'updateTodo', 'deleteTodo', 'confirm_destructive_action']);
    assert.equal(tools.find((t) => t.name === 'deleteTodo')!.annotations?.destructiveHint, true);
    assert.equal(tools.find((t) => t.name === 'listTodos')!.annotations?.readOnlyHint, true);

    const created = await client.callTool({ name: 'createTodo', arguments: { title: 'write docs', tags: ['work'] } });
    const todo = created.structuredContent as { id: string; title: string };
    assert.equal(todo.title, 'write docs');
    const listed = await client.callTool({ name: 'listTodos', arguments: { tag: ['work'], limit: 5 } });
    assert.deepEqual((listed.structuredContent as { total: number }).total, 1);
    const patched = await client.callTool({ name: 'updateTodo', arguments: { id: todo.id, done: true } });
    assert.equal((patched.structuredContent as { done: boolean }).done, true);

    // The GET mapped with x-mcp is also a resource template.
    const { resourceTemplates } = await client.listResourceTemplates();
    assert.deepEqual(resourceTemplates.map((t) => t.uriTemplate), ['todo://todos/{id}']);
    const read = await client.readResource({ uri: `todo://todos/${todo.id}` });
    assert.match((read.contents[0] as { text: string }).text, /write docs/);

    // DELETE is destructive: nothing happens until the operator's confirmation (seed 000).
    const pending = await client.callTool({ name: 'deleteTodo', arguments: { id: todo.id } });
    const parked = pending.structuredContent as { status: string; resourceId: string; token: string };
    assert.equal(parked.status, 'confirmation_required');
    assert.equal(parked.resourceId, todo.id);
    assert.equal((await client.callTool({ name: 'getTodo', arguments: { id: todo.id } })).isError, undefined, 'deleted before confirmation');
    const deleted = await client.callTool({
      name: 'confirm_destructive_action',
      arguments: { token: parked.token, resource_id_echo: parked.resourceId, reason: 'cleaning up the example' },
    });
    assert.equal(deleted.isError, undefined);
    const gone = await client.callTool({ name: 'getTodo', arguments: { id: todo.id } });
    assert.equal(gone.isError, true);
    assert.match(text(gone), /404/);
    assert.match(text(gone), /Todo not found/);
    await client.close();
  });

  it('serves the same tools to a 2026-07-28 client (client 2.x)', async () => {
    const client = new Client2({ name: 'example-2026', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new Transport2(new URL(server.url), { requestInit: { headers: { 'x-api-key': mint('initech', 'todos:read,todos:write') } } }));
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28');
    const created = await client.callTool({ name: 'createTodo', arguments: { title: 'from 2026' } });
    assert.equal((created.structuredContent as { title: string }).title, 'from 2026');
    const listed = await client.callTool({ name: 'listTodos', arguments: {} });
    assert.equal((listed.structuredContent as { total: number }).total, 1);
    await client.close();
  });

  it('keeps tenants apart through the credentials hook, and checks the spec scopes', async () => {
    const acme = await connect(mint('acme', 'todos:read,todos:write'));
    const globex = await connect(mint('globex', 'todos:read'));
    await acme.callTool({ name: 'createTodo', arguments: { title: 'acme only' } });
    const seen = await globex.callTool({ name: 'listTodos', arguments: {} });
    assert.equal((seen.structuredContent as { total: number }).total, 0);
    await assert.rejects(globex.callTool({ name: 'createTodo', arguments: { title: 'nope' } }), /403|insufficient_scope/);
    await acme.close();
    await globex.close();
  });
});

describe('gangway import and a server started from the manifest', () => {
  it('writes a manifest that starts a server with the same tools, without the spec', async () => {
    const manifest = join(dir, 'todo.manifest.json');
    const printed = execFileSync(process.execPath, [join(ROOT, 'bin/gangway.js'), 'import', join(EXAMPLE, 'openapi.yaml'), '--out', manifest], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.ok(statSync(manifest).size > 0);
    assert.match(printed, /5 operations/);
    assert.match(printed, /tools\/list tokens/);
    assert.equal((JSON.parse(readFileSync(manifest, 'utf8')) as { operations: unknown[] }).operations.length, 5);
    const app = createGangway({
      name: 'from-manifest',
      version: '1',
      store: 'memory',
      logger: { level: 'silent' },
      openapi: { manifest, upstream: { baseUrl: apiUrl, credentials: () => ({ 'x-api-key': UPSTREAM_KEY, 'x-tenant': 't' }) } },
    });
    assert.deepEqual(app.registry.toolList.map((t) => t.name), ['listTodos', 'createTodo', 'getTodo', 'updateTodo', 'deleteTodo', 'confirm_destructive_action']);
    await app.close();
  });

  it('leaves out header parameters that upstream.forwardHeaders would drop', () => {
    const spec = join(dir, 'headers.json');
    writeFileSync(
      spec,
      JSON.stringify({
        openapi: '3.0.3',
        info: { title: 'h', version: '1' },
        paths: {
          '/ping': {
            get: {
              operationId: 'ping',
              parameters: [
                { name: 'X-Trace', in: 'header', required: true, schema: { type: 'string' } },
                { name: 'X-Request-Id', in: 'header', schema: { type: 'string' } },
              ],
              responses: { 200: { description: 'ok' } },
            },
          },
        },
      }),
    );
    const props = (forwardHeaders?: string[]) => {
      const app = createGangway({
        name: 'h',
        version: '1',
        store: 'memory',
        logger: { level: 'silent' },
        openapi: { spec, upstream: { baseUrl: apiUrl, ...(forwardHeaders ? { forwardHeaders } : {}) } },
      });
      const schema = app.registry.tools.get('ping')!.inputSchema as { properties: object; required?: string[] };
      void app.close();
      return { names: Object.keys(schema.properties).map((k) => k.toLowerCase()), required: schema.required ?? [] };
    };
    assert.equal(props().names.length, 2);
    const narrowed = props(['x-request-id']);
    assert.equal(narrowed.names.length, 1);
    assert.match(narrowed.names[0]!, /request/);
    assert.deepEqual(narrowed.required, []);
  });

  it('refuses a config with neither or both of manifest and spec, no upstream, or overrides with a manifest', () => {
    const base = { name: 'x', version: '1', store: 'memory', logger: { level: 'silent' } } as const;
    for (const openapi of [
      { upstream: { baseUrl: apiUrl } },
      { spec: 'a', manifest: 'b', upstream: { baseUrl: apiUrl } },
      { spec: join(EXAMPLE, 'openapi.yaml') },
      { manifest: 'm.json', overrides: { listTodos: { hidden: true } }, upstream: { baseUrl: apiUrl } },
    ]) {
      assert.throws(() => createGangway({ ...base, openapi: openapi as never }), (e: unknown) => e instanceof GangwayConfigError && e.code === 'GW_CONFIG_OPENAPI');
    }
  });
});
