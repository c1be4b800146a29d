import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importSpec } from '../../src/openapi/import.ts';
import { operationHash } from '../../src/openapi/naming.ts';

type Json = Record<string, unknown>;
const info = { title: 'Pet Shop', version: '1' };
const oas3 = (paths: Json, extra: Json = {}) => importSpec({ openapi: '3.0.3', info, paths, ...extra }, (extra.__options as object) ?? {});
const names = (paths: Json) => oas3(paths).operations.map((o) => o.tool);

describe('import: tool names', () => {
  it('makes operationIds safe and falls back to method and path', () => {
    assert.deepEqual(
      names({
        '/repos/{owner}/{repo}/contents/{path}': { get: { operationId: 'repos/get-content' } },
        '/pets/{petId}': { get: {}, delete: { operationId: 'delete pet!' } },
      }),
      ['repos_get-content', 'get_pets_petId', 'delete_pet'],
    );
  });

  it('keeps names within 64 characters, with a hash of method and path when cut', () => {
    const long = 'a'.repeat(80);
    const [tool] = names({ '/long': { post: { operationId: long } } });
    assert.equal(tool, `${'a'.repeat(55)}_${operationHash('post', '/long')}`);
    assert.equal(tool!.length, 64);
  });

  it('suffixes clashing names with the hash of method and path, whatever the document order', () => {
    const a = { '/a': { get: { operationId: 'list' } }, '/b': { get: { operationId: 'list' } }, '/c': { get: { operationId: 'other' } } };
    const b = { '/c': { get: { operationId: 'other' } }, '/b': { get: { operationId: 'list' } }, '/a': { get: { operationId: 'list' } } };
    const first = oas3(a).operations.map((o) => [o.path, o.tool]);
    const second = oas3(b).operations.map((o) => [o.path, o.tool]);
    assert.deepEqual(Object.fromEntries(first), Object.fromEntries(second));
    assert.deepEqual(Object.fromEntries(first), { '/a': `list_${operationHash('get', '/a')}`, '/b': `list_${operationHash('get', '/b')}`, '/c': 'other' });
  });

  it('lets the operation whose operationId is exactly the name keep it', () => {
    const plans = oas3({ '/x': { get: { operationId: 'pets/list' } }, '/y': { get: { operationId: 'pets_list' } } }).operations;
    assert.deepEqual(plans.map((p) => p.tool), [`pets_list_${operationHash('get', '/x')}`, 'pets_list']);
  });
});

describe('import: annotations and scopes', () => {
  it('derives annotations from the method; DELETE is destructive', () => {
    const plans = oas3({ '/x': { get: {}, head: {}, put: {}, post: {}, patch: {}, delete: {} } }).operations;
    const by = Object.fromEntries(plans.map((p) => [p.method, { ...p.annotations, destructive: p.destructive }]));
    assert.deepEqual(by.get, { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true, destructive: false });
    assert.deepEqual(by.head, by.get);
    assert.deepEqual(by.put, { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true, destructive: false });
    assert.deepEqual(by.post, { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true, destructive: false });
    assert.deepEqual(by.patch, by.post);
    assert.deepEqual(by.delete, { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true, destructive: true });
  });

  it('takes OAuth2 / OpenID Connect scopes from the operation security, else the document, first requirement', () => {
    const schemes = {
      oauth: { type: 'oauth2', flows: { implicit: { authorizationUrl: 'https://x', scopes: {} } } },
      oidc: { type: 'openIdConnect', openIdConnectUrl: 'https://x' },
      key: { type: 'apiKey', in: 'header', name: 'K' },
    };
    const plans = oas3(
      {
        '/a': { get: {} },
        '/b': { get: { security: [{ oauth: ['write', 'read'], oidc: ['profile'], key: [] }, { oauth: ['admin'] }] } },
        '/c': { get: { security: [] } },
      },
      { security: [{ oauth: ['read'] }], components: { securitySchemes: schemes } },
    ).operations;
    assert.deepEqual(plans.map((p) => p.scopes), [['read'], ['profile', 'read', 'write'], []]);
  });

  it('builds the description from summary and description', () => {
    const [a, b, c] = oas3({ '/a': { get: { summary: 'List pets', description: 'All of them.' } }, '/b': { get: { summary: 'Only' } }, '/c': { get: { description: 'Desc', deprecated: true } } }).operations;
    assert.equal(a!.title, 'List pets');
    assert.equal(a!.description, 'List pets\n\nAll of them.');
    assert.equal(b!.description, 'Only');
    assert.equal(c!.description, 'Deprecated. Desc');
  });
});

describe('import: x-mcp and overrides', () => {
  const paths = {
    '/pets': { get: { operationId: 'listPets', 'x-mcp': { name: 'find_pets', description: 'Find pets.' } }, post: { operationId: 'addPet', 'x-mcp': { hidden: true } } },
    '/pets/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: { operationId: 'getPet', summary: 'One pet', parameters: [{ name: 'fields', in: 'query', schema: { type: 'string' } }], 'x-mcp': { resource: true } },
      delete: { operationId: 'deletePet', 'x-mcp': { destructive: false, scopes: ['pets:admin'] } },
      post: { operationId: 'feedPet', 'x-mcp': { destructive: true, title: 'Feed' } },
    },
  };

  it('renames, describes, hides, re-scopes, marks (non-)destructive and maps GETs to resources', () => {
    const m = oas3(paths);
    const by = Object.fromEntries(m.operations.map((p) => [p.operationId, p]));
    assert.deepEqual(m.operations.map((p) => p.tool), ['find_pets', 'getPet', 'deletePet', 'feedPet']);
    assert.equal(by.listPets!.description, 'Find pets.');
    assert.equal(by.addPet, undefined);
    assert.deepEqual(m.skipped, [{ operation: 'POST /pets', reason: 'hidden by x-mcp' }]);
    assert.equal(by.deletePet!.destructive, false);
    assert.equal(by.deletePet!.annotations.destructiveHint, false);
    assert.deepEqual(by.deletePet!.scopes, ['pets:admin']);
    assert.equal(by.feedPet!.destructive, true);
    assert.equal(by.feedPet!.annotations.destructiveHint, true);
    assert.equal(by.feedPet!.title, 'Feed');
    assert.deepEqual(by.getPet!.resource, { uriTemplate: 'pet-shop://pets/{id}{?fields}', name: 'getPet', description: 'One pet' });
  });

  it('config overrides match operationId, "METHOD /path" or tool name, and win over x-mcp', () => {
    const m = importSpec(
      { openapi: '3.0.3', info, paths },
      {
        overrides: {
          listPets: { name: 'search_pets' },
          'DELETE /pets/{id}': { destructive: true },
          feedPet: { hidden: true },
          getPet: { resource: { uriTemplate: 'pets://{id}', mimeType: 'application/json' } },
        },
      },
    );
    const by = Object.fromEntries(m.operations.map((p) => [p.operationId, p]));
    assert.equal(by.listPets!.tool, 'search_pets');
    assert.equal(by.listPets!.description, 'Find pets.', 'x-mcp fields not overridden are kept');
    assert.equal(by.deletePet!.destructive, true);
    assert.deepEqual(by.deletePet!.scopes, ['pets:admin']);
    assert.equal(by.feedPet, undefined);
    assert.deepEqual(by.getPet!.resource, { uriTemplate: 'pets://{id}', name: 'getPet', description: 'One pet', mimeType: 'application/json' });
    const byToolName = importSpec({ openapi: '3.0.3', info, paths }, { overrides: { find_pets: { title: 'T' } } });
    assert.equal(byToolName.operations[0]!.title, 'T');
  });

  it('refuses malformed or dangling overrides, unsafe and duplicate names, resources on non-GETs', () => {
    const code = (fn: () => unknown, c: string, re?: RegExp) =>
      assert.throws(fn, (e: { code?: string; message: string }) => e.code === c && (!re || re.test(e.message)));
    code(() => importSpec({ openapi: '3.0.3', info, paths }, { overrides: { nothing: { hidden: true } } }), 'GW_OPENAPI_OVERRIDE', /matches no operation/);
    code(() => importSpec({ openapi: '3.0.3', info, paths }, { overrides: { listPets: { hiden: true } as object } }), 'GW_OPENAPI_OVERRIDE', /unknown key "hiden"/);
    code(() => oas3({ '/x': { get: { 'x-mcp': { scopes: 'a' } } } }), 'GW_OPENAPI_OVERRIDE', /"scopes" has the wrong type/);
    code(() => oas3({ '/x': { get: { 'x-mcp': { name: 'bad name!' } } } }), 'GW_OPENAPI_NAME', /must be 1-64/);
    code(() => oas3({ '/x': { get: { 'x-mcp': { name: 'same' } } }, '/y': { get: { 'x-mcp': { name: 'same' } } } }), 'GW_OPENAPI_NAME', /chosen by GET \/x and GET \/y/);
    code(() => oas3({ '/x': { post: { 'x-mcp': { resource: true } } } }), 'GW_OPENAPI_OVERRIDE', /only a GET/);
    code(() => oas3({ '/x/{id}': { get: { parameters: [{ name: 'id', in: 'path', schema: {} }], 'x-mcp': { resource: { uriTemplate: 'x://all' } } } } }), 'GW_OPENAPI_OVERRIDE', /required arguments id/);
  });

  it('an explicit name wins a clash with a generated one, which then gets the hash', () => {
    const plans = oas3({ '/a': { get: { operationId: 'list' } }, '/b': { get: { operationId: 'other', 'x-mcp': { name: 'list' } } } }).operations;
    assert.deepEqual(plans.map((p) => p.tool), [`list_${operationHash('get', '/a')}`, 'list']);
  });
});
