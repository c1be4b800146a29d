import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importSpec, type ImportOptions } from '../../src/openapi/import.ts';
import type { OperationPlan } from '../../src/openapi/operation.ts';
import { createAjv } from '../../src/registry/schema.ts';

type Json = Record<string, unknown>;
const info = { title: 't', version: '1' };

/** One POST /x whose JSON body is `schema`, in OpenAPI `version`. */
function bodyTool(schema: unknown, components: Json = {}, version = '3.0.3', options?: ImportOptions): OperationPlan {
  const doc = {
    openapi: version,
    info,
    paths: { '/x': { post: { operationId: 'x', requestBody: { required: true, content: { 'application/json': { schema } } } } } },
    components: { schemas: components },
  };
  return importSpec(doc, options).operations[0]!;
}

const validator = (plan: OperationPlan) => createAjv().compile(plan.inputSchema);
const props = (plan: OperationPlan) => plan.inputSchema.properties as Json;

describe('import: schemas become JSON Schema 2020-12', () => {
  it('keeps $refs as local $defs, only those the tool reaches', () => {
    const doc = {
      openapi: '3.0.3',
      info,
      paths: {
        '/pets': { post: { operationId: 'addPet', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } } } },
        '/ping': { get: { operationId: 'ping' } },
      },
      components: {
        schemas: {
          Pet: { type: 'object', properties: { name: { type: 'string' }, tag: { $ref: '#/components/schemas/Tag' } } },
          Tag: { type: 'object', properties: { label: { type: 'string' } } },
          Order: { type: 'object' },
        },
      },
    };
    const [add, ping] = importSpec(doc).operations;
    // Pet is spread into arguments; Tag is reached through it; Order is not reached.
    assert.deepEqual(props(add!).tag, { $ref: '#/$defs/Tag' });
    assert.deepEqual(Object.keys(add!.inputSchema.$defs as Json), ['Tag']);
    assert.equal(ping!.inputSchema.$defs, undefined);
    const v = validator(add!);
    assert.equal(v({ name: 'rex', tag: { label: 'dog' } }), true);
    assert.equal(v({ tag: { label: 3 } }), false);
  });

  it('leaves cycles as references (direct and through another definition)', () => {
    const plan = bodyTool(
      { $ref: '#/components/schemas/Node' },
      {
        Node: { type: 'object', properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#/components/schemas/Node' } }, owner: { $ref: '#/components/schemas/Person' } } },
        Person: { type: 'object', properties: { best: { $ref: '#/components/schemas/Node' } } },
      },
    );
    const defs = plan.inputSchema.$defs as Record<string, Json>;
    assert.deepEqual(Object.keys(defs), ['Node', 'Person']);
    assert.deepEqual((defs.Node!.properties as Json).children, { type: 'array', items: { $ref: '#/$defs/Node' } });
    assert.deepEqual((defs.Person!.properties as Json).best, { $ref: '#/$defs/Node' });
    const v = validator(plan);
    assert.equal(v({ value: 1, children: [{ value: 2, children: [{ value: 3 }] }], owner: { best: { value: 4 } } }), true);
    assert.equal(v({ children: [{ children: [{ value: 'deep' }] }] }), false);
  });

  it('treats a property named "$ref" as a property, and $ref inside an example as data', () => {
    const plan = bodyTool({
      type: 'object',
      required: ['$ref'],
      properties: {
        $ref: { type: 'string', example: { $ref: '#/not/a/reference' } },
        nested: { type: 'object', required: ['$ref'], properties: { $ref: { type: 'integer' } } },
      },
    });
    // At the top the argument name is made portable (`ref`); the plan maps it back to "$ref".
    assert.deepEqual(props(plan).ref, { type: 'string', examples: [{ $ref: '#/not/a/reference' }] });
    assert.deepEqual(plan.body?.properties, { ref: '$ref', nested: 'nested' });
    assert.deepEqual(plan.inputSchema.required, ['ref']);
    // Inside the body it stays a property called "$ref".
    assert.deepEqual(props(plan).nested, { type: 'object', required: ['$ref'], properties: { $ref: { type: 'integer' } } });
    const v = validator(plan);
    assert.equal(v({ ref: 'abc', nested: { $ref: 1 } }), true);
    assert.equal(v({ ref: 5 }), false);
    assert.equal(v({ ref: 'abc', nested: { $ref: 'x' } }), false);
    assert.equal(v({ ref: 'abc', nested: {} }), false);
  });

  it('translates 3.0 nullable (type, enum, and $ref/composition)', () => {
    const plan = bodyTool(
      {
        type: 'object',
        properties: {
          a: { type: 'string', nullable: true },
          b: { type: 'string', enum: ['x', 'y'], nullable: true },
          c: { allOf: [{ $ref: '#/components/schemas/C' }], nullable: true },
          d: { type: 'string', nullable: false },
        },
      },
      { C: { type: 'object' } },
    );
    const p = props(plan);
    assert.deepEqual(p.a, { type: ['string', 'null'] });
    assert.deepEqual(p.b, { type: ['string', 'null'], enum: ['x', 'y', null] });
    assert.deepEqual(p.c, { anyOf: [{ allOf: [{ $ref: '#/$defs/C' }] }, { type: 'null' }] });
    assert.deepEqual(p.d, { type: 'string' });
    const v = validator(plan);
    assert.equal(v({ a: null, b: null, c: null }), true);
    assert.equal(v({ d: null }), false);
  });

  it('does not apply nullable in 3.1 (it is not a 3.1 keyword; type arrays are)', () => {
    const plan = bodyTool({ type: 'object', properties: { a: { type: 'string', nullable: true }, b: { type: ['string', 'null'] } } }, {}, '3.1.0');
    assert.deepEqual(props(plan).a, { type: 'string' });
    assert.deepEqual(props(plan).b, { type: ['string', 'null'] });
  });

  it('turns example into examples, or drops examples when asked', () => {
    const schema = { type: 'object', properties: { n: { type: 'integer', example: 3 } } };
    assert.deepEqual(props(bodyTool(schema)).n, { type: 'integer', examples: [3] });
    assert.deepEqual(props(bodyTool(schema, {}, '3.0.3', { examples: false })).n, { type: 'integer' });
  });

  it('converts boolean exclusiveMinimum/Maximum (draft 4) to numbers', () => {
    const plan = bodyTool({
      type: 'object',
      properties: { a: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 10, exclusiveMaximum: false }, b: { type: 'number', exclusiveMaximum: true } },
    });
    assert.deepEqual(props(plan).a, { type: 'number', exclusiveMinimum: 0, maximum: 10 });
    assert.deepEqual(props(plan).b, { type: 'number' });
    const v = validator(plan);
    assert.equal(v({ a: 0 }), false);
    assert.equal(v({ a: 10 }), true);
  });

  it('keeps 3.1 keywords next to $ref, drops them in 3.0 (where they SHALL be ignored) except description', () => {
    const components = { S: { type: 'string' } };
    const schema = { type: 'object', properties: { s: { $ref: '#/components/schemas/S', maxLength: 3, description: 'd' } } };
    assert.deepEqual(props(bodyTool(schema, components, '3.1.0')).s, { $ref: '#/$defs/S', maxLength: 3, description: 'd' });
    assert.deepEqual(props(bodyTool(schema, components, '3.0.3')).s, { $ref: '#/$defs/S', description: 'd' });
  });

  it('drops default (so the registry cannot write it into a PATCH), readOnly properties, vendor and OpenAPI-only keywords', () => {
    const plan = bodyTool({
      type: 'object',
      required: ['id', 'private'],
      discriminator: { propertyName: 'kind' },
      'x-internal': true,
      properties: {
        id: { type: 'integer', readOnly: true },
        private: { type: 'boolean', default: false, xml: { name: 'p' }, externalDocs: { url: 'https://x' } },
      },
    });
    assert.deepEqual(props(plan), { private: { type: 'boolean' } });
    assert.deepEqual(plan.inputSchema.required, ['private']);
    const args = { private: true };
    validator(plan)(args);
    assert.deepEqual(args, { private: true });
    // And no default survives to be filled in by the registry's useDefaults Ajv:
    const empty: Json = {};
    createAjv().compile(bodyTool({ type: 'object', properties: { p: { type: 'boolean', default: false } } }).inputSchema)(empty);
    assert.deepEqual(empty, {});
  });

  it('drops a pattern that is not an ECMAScript (u-flag) regex, keeps a valid one', () => {
    const plan = bodyTool({ type: 'object', properties: { bad: { type: 'string', pattern: '(?<!x' }, good: { type: 'string', pattern: '^[a-z]+$' } } });
    assert.deepEqual(props(plan).bad, { type: 'string' });
    assert.deepEqual(props(plan).good, { type: 'string', pattern: '^[a-z]+$' });
  });

  it('turns draft-4 tuple items into prefixItems', () => {
    const plan = bodyTool({ type: 'object', properties: { t: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] } } });
    assert.deepEqual(props(plan).t, { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }] });
  });

  it('refuses unknown arguments (additionalProperties false at the top)', () => {
    const plan = bodyTool({ type: 'object', properties: { a: { type: 'string' } } });
    assert.equal(plan.inputSchema.additionalProperties, false);
    assert.equal(validator(plan)({ a: 'x', typo: 1 }), false);
  });

  it('translates Swagger 2.0 definitions, x-nullable and type: file', () => {
    const doc = {
      swagger: '2.0',
      info,
      consumes: ['application/json'],
      paths: {
        '/x': { post: { operationId: 'x', parameters: [{ name: 'body', in: 'body', required: true, schema: { $ref: '#/definitions/Thing' } }] } },
      },
      definitions: {
        Thing: { type: 'object', properties: { note: { type: 'string', 'x-nullable': true }, part: { $ref: '#/definitions/Part' } } },
        Part: { type: 'object', properties: { n: { type: 'integer', minimum: 1, exclusiveMinimum: true } } },
      },
    };
    const plan = importSpec(doc).operations[0]!;
    assert.deepEqual(props(plan).note, { type: ['string', 'null'] });
    assert.deepEqual(props(plan).part, { $ref: '#/$defs/Part' });
    assert.deepEqual(plan.inputSchema.$defs, { Part: { type: 'object', properties: { n: { type: 'integer', exclusiveMinimum: 1 } } } });
  });

  it('names definitions that are not plain components by a readable stem and a hash', () => {
    const plan = bodyTool({ type: 'object', properties: { inner: { $ref: '#/components/schemas/Box/properties/size' }, odd: { $ref: '#/components/schemas/we ird' } } }, {
      Box: { type: 'object', properties: { size: { type: 'integer' } } },
      'we ird': { type: 'string' },
    });
    const inner = (props(plan).inner as Json).$ref as string;
    const odd = (props(plan).odd as Json).$ref as string;
    assert.match(inner, /^#\/\$defs\/components_schemas_Box_properties_size_[0-9a-f]{8}$/);
    assert.match(odd, /^#\/\$defs\/we_ird_[0-9a-f]{8}$/);
    assert.equal(validator(plan)({ inner: 2, odd: 'x' }), true);
    assert.equal(validator(plan)({ inner: 'two' }), false);
  });
});
