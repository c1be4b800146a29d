import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GangwayConfigError } from '../../src/errors.ts';
import { OpenApiImportError } from '../../src/openapi/errors.ts';
import { importSpec } from '../../src/openapi/import.ts';

const ok = { openapi: '3.0.3', info: { title: 't', version: '1' } };
const withSchema = (schema: unknown) => ({
  ...ok,
  paths: { '/x': { post: { operationId: 'x', requestBody: { content: { 'application/json': { schema } } } } } },
});

function fails(input: unknown, code: string, message?: RegExp) {
  assert.throws(
    () => importSpec(input as object),
    (err: unknown) => {
      assert.ok(err instanceof OpenApiImportError, `expected OpenApiImportError, got ${String(err)}`);
      assert.ok(err instanceof GangwayConfigError);
      assert.equal(err.code, code);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

describe('import: clear errors on bad input', () => {
  it('refuses what is not an object: arrays, scalars, null, broken JSON/YAML', () => {
    fails('[1, 2]', 'GW_OPENAPI_PARSE', /must be an object, got an array/);
    fails('"just a string"', 'GW_OPENAPI_PARSE', /got a string/);
    fails('null', 'GW_OPENAPI_PARSE', /got null/);
    fails('openapi: 3.0.0\n  bad: indentation: here\n- x', 'GW_OPENAPI_PARSE', /not valid JSON or YAML/);
    fails(Buffer.from('42'), 'GW_OPENAPI_PARSE', /got number/);
  });

  it('refuses unknown versions and documents that are not OpenAPI', () => {
    fails({ openapi: '2.5.0', info: {} }, 'GW_OPENAPI_VERSION', /unsupported OpenAPI version "2.5.0"/);
    fails({ openapi: '3.2.0', info: {} }, 'GW_OPENAPI_VERSION');
    fails({ swagger: '1.2', info: {} }, 'GW_OPENAPI_VERSION', /only 2.0/);
    fails({ info: { title: 'x' } }, 'GW_OPENAPI_VERSION', /neither a "swagger" nor an "openapi"/);
  });

  it('accepts 2.0, 3.0.x and 3.1.x as JSON text, YAML text, bytes or objects', () => {
    assert.equal(importSpec({ swagger: '2.0', info: { title: 'a', version: '1' }, paths: {} }).operations.length, 0);
    assert.equal(importSpec('openapi: 3.1.0\ninfo: {title: a, version: "1"}\npaths: {}\n').title, 'a');
    assert.equal(importSpec(Buffer.from(JSON.stringify({ ...ok, openapi: '3.0.0', paths: {} }))).version, '1');
  });

  it('refuses external $refs, naming the reference and where it is', () => {
    fails(withSchema({ $ref: 'pet.yaml#/Pet' }), 'GW_OPENAPI_REF', /external \$ref "pet\.yaml#\/Pet".*\(at \/paths/);
    fails(
      { ...ok, paths: { '/x': { get: { parameters: [{ $ref: 'https://example.com/params.json#/limit' }] } } } },
      'GW_OPENAPI_REF',
      /external \$ref "https:\/\/example\.com/,
    );
    fails({ ...ok, paths: { '/x': { $ref: 'paths.yaml#/x' } } }, 'GW_OPENAPI_REF', /external/);
  });

  it('refuses broken local $refs and anchors', () => {
    fails(withSchema({ $ref: '#/components/schemas/Missing' }), 'GW_OPENAPI_REF', /broken \$ref "#\/components\/schemas\/Missing": "components" does not exist/);
    fails(
      { ...withSchema({ $ref: '#/components/schemas/Missing' }), components: { schemas: { Other: {} } } },
      'GW_OPENAPI_REF',
      /"Missing" does not exist/,
    );
    fails(withSchema({ $ref: '#pet' }), 'GW_OPENAPI_REF', /anchor/);
  });

  it('refuses a $ref cycle between parameters (schemas may cycle, parameters may not)', () => {
    fails(
      { ...ok, paths: { '/x': { get: { parameters: [{ $ref: '#/components/parameters/a' }] } } }, components: { parameters: { a: { $ref: '#/components/parameters/b' }, b: { $ref: '#/components/parameters/a' } } } },
      'GW_OPENAPI_REF',
      /cycle/,
    );
  });

  it('refuses structural nonsense with GW_OPENAPI_INVALID', () => {
    fails({ ...ok, paths: [] }, 'GW_OPENAPI_INVALID', /"paths" must be an object/);
    fails({ ...ok, paths: { '/x': { get: { parameters: [{ name: 'a', in: 'body2' }] } } } }, 'GW_OPENAPI_INVALID', /unknown location/);
    fails({ ...ok, paths: { '/x': { get: { parameters: {} } } } }, 'GW_OPENAPI_INVALID', /parameters must be an array/);
  });

  it('skipInvalid leaves out the broken operation, says why, and keeps the others', () => {
    const doc = {
      ...ok,
      paths: {
        '/bad': { post: { operationId: 'bad', requestBody: { content: { 'application/json': { schema: { $ref: '#/nope' } } } } } },
        '/good': { get: { operationId: 'good' } },
        // Both reach the same definition with a broken reference inside: both are left out.
        '/worse': { post: { operationId: 'worse', requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { x: { $ref: '#/components/schemas/Broken' } } } } } } } },
        '/worst': { put: { operationId: 'worst', requestBody: { content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Broken' } } } } } } },
      },
      components: { schemas: { Broken: { type: 'object', properties: { a: { $ref: '#/components/schemas/Gone' } } } } },
    };
    fails(doc, 'GW_OPENAPI_REF');
    const m = importSpec(doc, { skipInvalid: true });
    assert.deepEqual(m.operations.map((o) => o.tool), ['good']);
    assert.deepEqual(m.skipped?.map((s) => s.operation), ['POST /bad', 'POST /worse', 'PUT /worst']);
    assert.match(m.skipped?.[0]?.reason ?? '', /broken \$ref "#\/nope"/);
    assert.match(m.skipped?.[2]?.reason ?? '', /"Gone" does not exist/);
  });
});
