import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importSpec } from '../../src/openapi/import.ts';
import type { OperationPlan, ParameterPlan } from '../../src/openapi/operation.ts';
import { createAjv } from '../../src/registry/schema.ts';

type Json = Record<string, unknown>;
const info = { title: 't', version: '1' };
const oas3 = (paths: Json, extra: Json = {}) => importSpec({ openapi: '3.0.3', info, paths, ...extra }).operations;
const swagger = (paths: Json, extra: Json = {}) => importSpec({ swagger: '2.0', info, paths, ...extra }).operations;
const param = (plan: OperationPlan, argument: string): ParameterPlan => {
  const p = plan.parameters.find((x) => x.argument === argument);
  assert.ok(p, `no parameter ${argument} in ${JSON.stringify(plan.parameters)}`);
  return p;
};
const props = (plan: OperationPlan) => plan.inputSchema.properties as Json;

describe('import: parameters', () => {
  it('applies the OpenAPI 3 style defaults and keeps explicit styles', () => {
    const [plan] = oas3({
      '/items/{id}': {
        get: {
          parameters: [
            { name: 'id', in: 'path', schema: { type: 'integer' } },
            { name: 'tags', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
            { name: 'filter', in: 'query', style: 'deepObject', explode: true, schema: { type: 'object' } },
            { name: 'q', in: 'query', allowReserved: true, schema: { type: 'string' } },
            { name: 'X-Trace', in: 'header', schema: { type: 'string' } },
            { name: 'session', in: 'cookie', schema: { type: 'string' } },
            { name: 'coords', in: 'query', content: { 'application/json': { schema: { type: 'object' } } } },
            { name: 'ids', in: 'query', style: 'pipeDelimited', explode: false, schema: { type: 'array' } },
          ],
        },
      },
    });
    const p = plan!;
    assert.deepEqual(param(p, 'id'), { argument: 'id', in: 'path', name: 'id', required: true, style: 'simple', explode: false });
    assert.deepEqual(param(p, 'tags'), { argument: 'tags', in: 'query', name: 'tags', required: false, style: 'form', explode: true });
    assert.equal(param(p, 'filter').style, 'deepObject');
    assert.equal(param(p, 'q').allowReserved, true);
    assert.deepEqual(param(p, 'X-Trace'), { argument: 'X-Trace', in: 'header', name: 'X-Trace', required: false, style: 'simple', explode: false });
    assert.deepEqual(param(p, 'session'), { argument: 'session', in: 'cookie', name: 'session', required: false, style: 'form', explode: true });
    assert.equal(param(p, 'coords').contentType, 'application/json');
    assert.deepEqual(props(p).coords, { type: 'object' });
    assert.equal(param(p, 'ids').style, 'pipeDelimited');
    assert.equal(param(p, 'ids').explode, false);
    assert.deepEqual(p.inputSchema.required, ['id']);
  });

  it('translates Swagger 2.0 collectionFormat (csv is the 2.0 default and does not explode)', () => {
    const arr = (name: string, where: string, collectionFormat?: string) => ({ name, in: where, type: 'array', items: { type: 'string' }, ...(collectionFormat ? { collectionFormat } : {}) });
    const [plan] = swagger({
      '/x/{p}': {
        get: {
          parameters: [
            arr('csv', 'query'),
            arr('ssv', 'query', 'ssv'),
            arr('tsv', 'query', 'tsv'),
            arr('pipes', 'query', 'pipes'),
            arr('multi', 'query', 'multi'),
            { ...arr('p', 'path', 'csv'), required: true },
            arr('H-Ssv', 'header', 'ssv'),
          ],
        },
      },
    });
    const p = plan!;
    const wire = (a: string) => {
      const { style, explode, delimiter } = param(p, a);
      return delimiter === undefined ? { style, explode } : { style, explode, delimiter };
    };
    assert.deepEqual(wire('csv'), { style: 'form', explode: false });
    assert.deepEqual(wire('ssv'), { style: 'spaceDelimited', explode: false });
    assert.deepEqual(wire('tsv'), { style: 'form', explode: false, delimiter: '\t' });
    assert.deepEqual(wire('pipes'), { style: 'pipeDelimited', explode: false });
    assert.deepEqual(wire('multi'), { style: 'form', explode: true });
    assert.deepEqual(wire('p'), { style: 'simple', explode: false });
    assert.deepEqual(wire('H-Ssv'), { style: 'simple', explode: false, delimiter: ' ' });
    assert.deepEqual(props(p).csv, { type: 'array', items: { type: 'string' } });
  });

  it('merges path-item parameters, the operation winning on the same name and location', () => {
    const [plan] = oas3({
      '/x/{id}': {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'verbose', in: 'query', description: 'path level', schema: { type: 'boolean' } },
        ],
        get: { parameters: [{ name: 'verbose', in: 'query', description: 'operation level', schema: { type: 'integer' } }] },
      },
    });
    assert.deepEqual(plan!.parameters.map((p) => p.argument), ['id', 'verbose']);
    assert.deepEqual(props(plan!).verbose, { type: 'integer', description: 'operation level' });
  });

  it('never takes credentials or content negotiation from arguments', () => {
    const [plan] = oas3(
      {
        '/x': {
          get: {
            parameters: [
              { name: 'Authorization', in: 'header', schema: { type: 'string' } },
              { name: 'accept', in: 'header', schema: { type: 'string' } },
              { name: 'Content-Type', in: 'header', schema: { type: 'string' } },
              { name: 'x-api-key', in: 'header', schema: { type: 'string' } },
              { name: 'api_key', in: 'query', schema: { type: 'string' } },
              { name: 'X-Request-Id', in: 'header', schema: { type: 'string' } },
            ],
          },
        },
      },
      { components: { securitySchemes: { key: { type: 'apiKey', in: 'header', name: 'X-API-Key' }, q: { type: 'apiKey', in: 'query', name: 'api_key' } } } },
    );
    assert.deepEqual(plan!.parameters.map((p) => p.name), ['X-Request-Id']);
  });

  it('mentions a parameter default in its description instead of keeping `default`', () => {
    const [plan] = oas3({ '/x': { get: { parameters: [{ name: 'per_page', in: 'query', description: 'Page size.', schema: { type: 'integer', default: 30 } }] } } });
    assert.deepEqual(props(plan!).per_page, { type: 'integer', description: 'Page size. Default: 30.' });
  });
});

describe('import: collisions between locations', () => {
  it('path id vs body property id: the path keeps "id", the body field becomes "body_id"', () => {
    const [plan] = oas3({
      '/users/{id}': {
        put: {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, name: { type: 'string' } } } } } },
        },
      },
    });
    const p = plan!;
    assert.deepEqual(Object.keys(props(p)), ['id', 'body_id', 'name']);
    assert.deepEqual(props(p).id, { type: 'integer' });
    assert.deepEqual(props(p).body_id, { type: 'string' });
    assert.deepEqual(p.body?.properties, { body_id: 'id', name: 'name' });
    assert.deepEqual(param(p, 'id').name, 'id');
    assert.deepEqual(p.inputSchema.required, ['id', 'body_id']);
  });

  it('query "body" vs the whole body: the parameter keeps "body", the body becomes "request_body"', () => {
    const [plan] = oas3({
      '/x': {
        post: {
          parameters: [{ name: 'body', in: 'query', schema: { type: 'string' } }],
          requestBody: { content: { 'application/json': { schema: { type: 'array', items: { type: 'integer' } } } } },
        },
      },
    });
    const p = plan!;
    assert.equal(param(p, 'body').in, 'query');
    assert.equal(p.body?.mode, 'whole');
    assert.equal(p.body?.argument, 'request_body');
    assert.deepEqual(props(p).request_body, { type: 'array', items: { type: 'integer' } });
  });

  it('same name in query, header and cookie: query wins, the others are prefixed; a prefixed name never steals a real one', () => {
    const [plan] = oas3({
      '/x': {
        get: {
          parameters: [
            { name: 'id', in: 'cookie', schema: { type: 'string' } },
            { name: 'id', in: 'header', schema: { type: 'string' } },
            { name: 'id', in: 'query', schema: { type: 'string' } },
            { name: 'header_id', in: 'query', schema: { type: 'string' } },
          ],
        },
      },
    });
    const byArg = Object.fromEntries(plan!.parameters.map((p) => [p.argument, `${p.in}:${p.name}`]));
    assert.deepEqual(byArg, { id: 'query:id', header_id: 'query:header_id', header_id_2: 'header:id', cookie_id: 'cookie:id' });
  });

  it('makes wire names that are not portable into safe argument names, mapped back exactly', () => {
    const [plan] = oas3({ '/x': { get: { parameters: [{ name: 'ids[]', in: 'query', schema: { type: 'array' } }, { name: 'page[size]', in: 'query', schema: { type: 'integer' } }] } } });
    assert.deepEqual(plan!.parameters.map((p) => [p.argument, p.name]), [['ids', 'ids[]'], ['page_size', 'page[size]']]);
  });
});

describe('import: request bodies', () => {
  it('Swagger 2.0 formData: urlencoded fields, collectionFormat as encoding', () => {
    const [plan] = swagger({
      '/x': { post: { parameters: [{ name: 'name', in: 'formData', type: 'string', required: true }, { name: 'tags', in: 'formData', type: 'array', items: { type: 'string' }, collectionFormat: 'multi' }] } },
    });
    assert.deepEqual(plan!.body, {
      mode: 'spread',
      required: true,
      mediaType: 'application/x-www-form-urlencoded',
      properties: { name: 'name', tags: 'tags' },
      encoding: { tags: { style: 'form', explode: true } },
    });
    assert.deepEqual(plan!.inputSchema.required, ['name']);
  });

  it('Swagger 2.0 type: file makes the body multipart, the file a base64 string listed in fileFields', () => {
    const [plan] = swagger({
      '/upload': { post: { consumes: ['multipart/form-data'], parameters: [{ name: 'file', in: 'formData', type: 'file', required: true, description: 'The file.' }, { name: 'note', in: 'formData', type: 'string' }] } },
    });
    assert.equal(plan!.body?.mediaType, 'multipart/form-data');
    assert.deepEqual(plan!.body?.fileFields, ['file']);
    assert.deepEqual(props(plan!).file, { type: 'string', description: 'The file.', contentEncoding: 'base64' });
  });

  it('OpenAPI 3 multipart: format binary fields (and arrays of them) are files; encoding is kept', () => {
    const [plan] = oas3({
      '/upload': {
        post: {
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: { type: 'object', properties: { avatar: { type: 'string', format: 'binary' }, extra: { type: 'array', items: { type: 'string', format: 'binary' } }, meta: { type: 'object' } } },
                encoding: { meta: { contentType: 'application/json' }, avatar: { contentType: 'image/png' } },
              },
            },
          },
        },
      },
    });
    const b = plan!.body!;
    assert.deepEqual(b.fileFields, ['avatar', 'extra']);
    assert.deepEqual(b.encoding, { meta: { contentType: 'application/json' }, avatar: { contentType: 'image/png' } });
    assert.deepEqual(props(plan!).avatar, { type: 'string', contentEncoding: 'base64' });
    assert.deepEqual(props(plan!).extra, { type: 'array', items: { type: 'string', contentEncoding: 'base64' } });
  });

  it('a binary body is one base64 argument; text is a string', () => {
    const [bin, txt] = oas3({
      '/blob': { put: { requestBody: { content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } } } },
      '/note': { put: { requestBody: { content: { 'text/plain': { schema: { type: 'string' } } } } } },
    });
    assert.deepEqual(bin!.body, { mode: 'whole', required: false, mediaType: 'application/octet-stream', contentEncoding: 'base64', argument: 'body' });
    assert.deepEqual(props(bin!).body, { type: 'string', contentEncoding: 'base64', contentMediaType: 'application/octet-stream' });
    assert.deepEqual(txt!.body, { mode: 'whole', required: false, mediaType: 'text/plain', argument: 'body' });
  });

  it('prefers JSON, then merge-patch among +json types; */* means JSON', () => {
    const [patch, any] = swagger({
      '/a': { patch: { consumes: ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'], parameters: [{ name: 'body', in: 'body', required: true, schema: { type: 'object' } }] } },
      '/b': { put: { consumes: ['*/*'], parameters: [{ name: 'body', in: 'body', schema: { type: 'object', properties: { a: { type: 'string' } } } }] } },
    });
    assert.equal(patch!.body?.mediaType, 'application/merge-patch+json');
    assert.equal(patch!.body?.mode, 'whole'); // an object without properties cannot be spread
    assert.equal(any!.body?.mediaType, 'application/json');
    assert.equal(any!.body?.mode, 'spread');
  });

  it('an optional body spreads into optional arguments; an open map stays whole', () => {
    const [opt, open] = oas3({
      '/a': { post: { requestBody: { content: { 'application/json': { schema: { type: 'object', required: ['a'], properties: { a: { type: 'string' } } } } } } } },
      '/b': { post: { requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } } } } } } },
    });
    assert.equal(opt!.body?.mode, 'spread');
    assert.equal(opt!.inputSchema.required, undefined);
    assert.equal(open!.body?.mode, 'whole');
    assert.deepEqual(open!.inputSchema.required, ['body']);
    assert.ok(createAjv().compile(open!.inputSchema)({ body: { a: 'x', b: 'y' } }));
  });

  it('records the success media types for the Accept header', () => {
    const [plan] = oas3({ '/x': { get: { responses: { '200': { description: 'ok', content: { 'application/json': {}, 'text/csv': {} } }, '404': { description: 'no', content: { 'application/problem+json': {} } } } } } });
    assert.deepEqual(plan!.produces, ['application/json', 'text/csv']);
  });
});
