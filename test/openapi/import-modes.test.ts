import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANONYMOUS, type Principal } from '../../src/auth/principal.ts';
import { ToolError } from '../../src/errors.ts';
import { importSpec } from '../../src/openapi/import.ts';
import { modeCost } from '../../src/openapi/mode-tokens.ts';
import type { OperationPlan } from '../../src/openapi/operation.ts';
import { countJsonTokens } from '../../src/openapi/tokens.ts';
import { toolEntry } from '../../src/openapi/tool-entry.ts';
import { chooseMode, openapiTools, type OperationCall } from '../../src/openapi/tools.ts';
import { Registry } from '../../src/registry/registry.ts';
import type { CallToolResult, HandlerContext, ToolDefinition } from '../../src/registry/types.ts';

const petId = { name: 'petId', in: 'path', required: true, schema: { type: 'integer' } };
const doc = {
  openapi: '3.0.3',
  info: { title: 'Pet Shop', version: '1' },
  components: { securitySchemes: { o: { type: 'oauth2', flows: { implicit: { authorizationUrl: 'https://x', scopes: {} } } } } },
  paths: {
    '/pets': {
      get: { operationId: 'listPets', tags: ['pets'], summary: 'List all pets', parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', maximum: 100 } }] },
      post: { operationId: 'createPet', tags: ['pets'], summary: 'Create a pet', requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } } } },
    },
    '/pets/{petId}': {
      get: { operationId: 'showPetById', tags: ['pets'], summary: 'Info for a specific pet', parameters: [petId] },
      delete: { operationId: 'deletePet', tags: ['pets'], summary: 'Delete a pet', parameters: [petId], security: [{ o: ['pets:write'] }] },
    },
    '/store/orders': { get: { operationId: 'listOrders', tags: ['Store'], summary: 'List store orders' } },
    '/users/{username}': { get: { operationId: 'getUserByName', tags: ['user'], summary: 'Get user by user name', parameters: [{ name: 'username', in: 'path', required: true, schema: { type: 'string' } }] } },
  },
};
const manifest = importSpec(doc);

function recorder() {
  const calls: Array<{ tool: string; args: Record<string, unknown> }> = [];
  const call: OperationCall = async (plan, args) => {
    calls.push({ tool: plan.tool, args });
    return { content: [{ type: 'text', text: `called ${plan.tool}` }] };
  };
  return { calls, call };
}

/** A verified caller (an API key) with these scopes. */
const ctx = (scopes: string[] = []): HandlerContext => ({ principal: { ...ANONYMOUS, subject: 'u', via: 'api-key', scopes } as Principal }) as unknown as HandlerContext;
const tool = (tools: ToolDefinition[], name: string) => {
  const t = tools.find((x) => x.name === name);
  assert.ok(t, `no tool ${name} in ${tools.map((x) => x.name).join(', ')}`);
  return t;
};
const run = async (t: ToolDefinition, args: Record<string, unknown>, scopes?: string[]) => (await t.handler(args, ctx(scopes))) as Record<string, unknown>;

describe('openapiTools: modes', () => {
  it('all: one registry tool per operation, whose handler hands plan and arguments to call', async () => {
    const { calls, call } = recorder();
    const tools = openapiTools(manifest, { mode: 'all' }, call);
    assert.deepEqual(tools.map((t) => t.name), ['listPets', 'createPet', 'showPetById', 'deletePet', 'listOrders', 'getUserByName']);
    const del = tool(tools, 'deletePet');
    assert.equal(del.destructive, true);
    assert.deepEqual(del.scopes, ['pets:write']);
    const result = (await del.handler({ petId: 7 }, ctx())) as CallToolResult;
    assert.deepEqual(calls, [{ tool: 'deletePet', args: { petId: 7 } }]);
    assert.deepEqual(result.content, [{ type: 'text', text: 'called deletePet' }]);
    // The registry accepts them as they are (names, schemas, annotations).
    assert.equal(new Registry({ tools }).tools.size, 6);
  });

  it('toolsets: only the operations of the enabled tags (case-insensitive), optionally with the meta tools', () => {
    const { call } = recorder();
    assert.deepEqual(openapiTools(manifest, { mode: 'toolsets', toolsets: ['store', 'USER'] }, call).map((t) => t.name), ['listOrders', 'getUserByName']);
    assert.deepEqual(
      openapiTools(manifest, { mode: 'toolsets', toolsets: ['store'], meta: true }, call).map((t) => t.name),
      ['listOrders', 'search_operations', 'describe_operation', 'invoke_operation', 'invoke_destructive_operation'],
    );
    assert.throws(() => openapiTools(manifest, { mode: 'toolsets', toolsets: ['nope'] }, call), { code: 'GW_OPENAPI_MODE' });
    assert.throws(() => openapiTools(manifest, { mode: 'toolsets' }, call), { code: 'GW_OPENAPI_MODE' });
  });

  it('curated: exactly the listed tools; unknown names are refused', () => {
    const { call } = recorder();
    assert.deepEqual(openapiTools(manifest, { mode: 'curated', tools: ['getUserByName', 'listPets'] }, call).map((t) => t.name), ['getUserByName', 'listPets']);
    assert.throws(() => openapiTools(manifest, { mode: 'curated', tools: ['listPets', 'ghost'] }, call), /not in the manifest: ghost/);
    assert.throws(() => openapiTools(manifest, { mode: 'weird' as 'all' }, call), { code: 'GW_OPENAPI_MODE' });
  });

  it('auto: every operation below the token budget, the meta tools above it', () => {
    assert.equal(chooseMode(manifest, {}).mode, 'all');
    assert.equal(chooseMode(manifest, { tokenBudget: manifest.listTokens }).mode, 'all');
    const over = chooseMode(manifest, { tokenBudget: manifest.listTokens - 1 });
    assert.equal(over.mode, 'meta');
    assert.equal(over.plans.length, 0);
  });

  it('token costs: the per-tool counts add up to the list, meta costs less than all for larger APIs', () => {
    const entries = manifest.operations.map((p) => toolEntry(p));
    const whole = countJsonTokens({ tools: entries });
    assert.ok(Math.abs(manifest.listTokens - whole) / whole < 0.02, `${manifest.listTokens} vs ${whole}`);
    assert.deepEqual(manifest.operations.map((p) => p.listTokens), entries.map((e) => countJsonTokens(e)));
    const all = modeCost(manifest, { mode: 'all' });
    assert.deepEqual([all.mode, all.tools, all.tokens], ['all', 6, manifest.listTokens]);
    const toolsets = modeCost(manifest, { mode: 'toolsets', toolsets: ['store'] });
    assert.deepEqual([toolsets.tools, toolsets.tokens], [1, manifest.operations[4]!.listTokens! + 4]);
    const meta = modeCost(manifest, { mode: 'meta' });
    assert.equal(meta.tools, 4);
    assert.ok(meta.tokens > 100 && meta.tokens < 1000, String(meta.tokens));
  });
});

describe('openapiTools: meta tools', () => {
  const { calls, call } = recorder();
  const tools = openapiTools(manifest, { mode: 'meta' }, call);

  it('are four tools with honest annotations; invoke_destructive_operation is destructive', () => {
    assert.deepEqual(tools.map((t) => t.name), ['search_operations', 'describe_operation', 'invoke_operation', 'invoke_destructive_operation']);
    assert.equal(tool(tools, 'search_operations').annotations?.readOnlyHint, true);
    assert.equal(tool(tools, 'invoke_operation').annotations?.destructiveHint, false);
    assert.equal(tool(tools, 'invoke_operation').destructive, undefined);
    assert.equal(tool(tools, 'invoke_destructive_operation').destructive, true);
    assert.equal(tool(tools, 'invoke_destructive_operation').annotations?.destructiveHint, true);
    assert.equal(new Registry({ tools }).tools.size, 4);
  });

  it('search_operations ranks by relevance and filters by tag', async () => {
    const search = tool(tools, 'search_operations');
    const r = (await run(search, { query: 'delete pet' })) as { results: Array<{ name: string; destructive?: true }>; total: number };
    assert.equal(r.results[0]!.name, 'deletePet');
    assert.equal(r.results[0]!.destructive, true);
    const user = (await run(search, { query: 'user name' })) as { results: Array<{ name: string; summary: string; method: string; path: string }> };
    assert.deepEqual(user.results[0], { name: 'getUserByName', summary: 'Get user by user name', method: 'GET', path: '/users/{username}' });
    const byTag = (await run(search, { query: 'list', tag: 'store' })) as { results: Array<{ name: string }> };
    assert.deepEqual(byTag.results.map((x) => x.name), ['listOrders']);
    const limited = (await run(search, { query: 'pet', limit: 2 })) as { results: unknown[]; total: number };
    assert.equal(limited.results.length, 2);
    assert.ok(limited.total >= 4);
    const none = (await run(search, { query: 'zebra' })) as { results: unknown[] };
    assert.deepEqual(none.results, []);
  });

  it('describe_operation returns the input schema and how to invoke it', async () => {
    const d = await run(tool(tools, 'describe_operation'), { name: 'deletePet' });
    assert.equal(d.invokeWith, 'invoke_destructive_operation');
    assert.deepEqual(d.inputSchema, manifest.operations.find((p) => p.tool === 'deletePet')!.inputSchema);
    await assert.rejects(async () => run(tool(tools, 'describe_operation'), { name: 'ghost' }), ToolError);
  });

  it('invoke_operation validates arguments with the operation schema, then calls', async () => {
    const invoke = tool(tools, 'invoke_operation');
    await assert.rejects(async () => run(invoke, { name: 'listPets', arguments: { limit: 1000 } }), (e: Error) => e instanceof ToolError && /limit: must be <= 100/.test(e.message));
    await assert.rejects(async () => run(invoke, { name: 'createPet', arguments: {} }), /missing required property "name"/);
    await assert.rejects(async () => run(invoke, { name: 'createPet', arguments: { name: 'x', extra: 1 } }), /unknown property "extra"/);
    assert.equal(calls.length, 0, 'nothing was called for invalid arguments');
    await run(invoke, { name: 'createPet', arguments: { name: 'Rex' } });
    assert.deepEqual(calls, [{ tool: 'createPet', args: { name: 'Rex' } }]);
  });

  it('invoke_operation refuses destructive operations; invoke_destructive_operation only takes them, with their scopes', async () => {
    calls.length = 0;
    await assert.rejects(async () => run(tool(tools, 'invoke_operation'), { name: 'deletePet', arguments: { petId: 1 } }), /is destructive: call it with invoke_destructive_operation/);
    const destroy = tool(tools, 'invoke_destructive_operation');
    await assert.rejects(async () => run(destroy, { name: 'listPets', arguments: {} }), /is not destructive/);
    await assert.rejects(async () => run(destroy, { name: 'deletePet', arguments: { petId: 1 } }), /insufficient_scope: deletePet needs pets:write/);
    assert.equal(calls.length, 0);
    await run(destroy, { name: 'deletePet', arguments: { petId: 1 } }, ['pets:write']);
    assert.deepEqual(calls, [{ tool: 'deletePet', args: { petId: 1 } }]);
  });

  it('enforces no scopes for an anonymous caller, which only happens on a server without auth (as the gate)', async () => {
    const { calls, call } = recorder();
    const destroy = tool(openapiTools(manifest, { mode: 'meta' }, call), 'invoke_destructive_operation');
    await destroy.handler({ name: 'deletePet', arguments: { petId: 1 } }, { principal: ANONYMOUS } as unknown as HandlerContext);
    assert.deepEqual(calls, [{ tool: 'deletePet', args: { petId: 1 } }]);
  });

  it('has no invoke_destructive_operation when nothing is destructive', () => {
    const reads = importSpec({ ...doc, paths: { '/pets': doc.paths['/pets'] } });
    assert.deepEqual(openapiTools(reads, { mode: 'meta' }, recorder().call).map((t) => t.name), ['search_operations', 'describe_operation', 'invoke_operation']);
  });

  it('refuses an operation tool named like a meta tool when both are served', () => {
    const m = importSpec({ ...doc, paths: { '/s': { get: { operationId: 'search_operations', tags: ['pets'] } } } });
    assert.throws(() => openapiTools(m, { mode: 'toolsets', toolsets: ['pets'], meta: true }, recorder().call), /meta tool's name/);
  });
});

describe('openapiTools: plans stay intact', () => {
  it('a tool handler receives the very plan object from the manifest', async () => {
    let seen: OperationPlan | undefined;
    const tools = openapiTools(manifest, { mode: 'all' }, async (plan) => {
      seen = plan;
      return { content: [] };
    });
    await tool(tools, 'listOrders').handler({}, ctx());
    assert.equal(seen, manifest.operations[4]);
  });
});
