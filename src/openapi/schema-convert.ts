import type { JsonSchema } from '../registry/types.ts';
import { isObject, type Json, type SpecVersion } from './document.ts';
import { OpenApiImportError } from './errors.ts';
import { SchemaDefs } from './schema-defs.ts';
import { pointerOf, refPointer, resolvePointer } from './pointer.ts';

export type Schema = JsonSchema | boolean;

export interface ConvertOptions {
  /** Keep `example`/`examples` (as 2020-12 `examples`). They help a model, and cost tokens. */
  examples: boolean;
}

const TYPES = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer']);
const SUBSCHEMA = ['additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_MAPS = ['properties', 'patternProperties', 'dependentSchemas'];
const COUNTS = ['maxLength', 'minLength', 'maxItems', 'minItems', 'maxProperties', 'minProperties', 'maxContains', 'minContains'];
const NUMBERS = ['maximum', 'minimum'];
const STRINGS = ['format', 'contentEncoding', 'contentMediaType', 'title', 'description', '$comment'];
const BOOLEANS = ['uniqueItems', 'deprecated', 'readOnly', 'writeOnly'];

/**
 * Swagger 2.0 / OpenAPI 3.0 / 3.1 Schema Objects -> JSON Schema 2020-12, for tool inputs.
 *
 * Keyword-aware on purpose: only keywords known to hold schemas are walked, so a property
 * *named* `$ref` (a key of `properties`) or a `$ref` inside an `example` is data, not a reference.
 * `$ref`s become `#/$defs/<name>` (see SchemaDefs); unknown keywords, `x-*`, `discriminator`,
 * `xml` and `externalDocs` are dropped (they cost tokens and validate nothing).
 *
 * `default` is dropped everywhere: the registry's Ajv runs with `useDefaults`, which would write
 * defaults into the arguments, so a PATCH would send every defaulted field the caller left out
 * (GitHub's "update a repository" would make a repository public). Parameter defaults are told
 * to the model in the parameter's description instead (parameters.ts).
 */
export class SchemaConverter {
  readonly defs: SchemaDefs;

  constructor(
    readonly doc: Json,
    readonly version: SpecVersion,
    readonly options: ConvertOptions,
  ) {
    this.defs = new SchemaDefs((node, at, refs) => this.convert(node, at, refs));
  }

  /** Converts one schema; the pointers of the definitions it references are added to `refs`. */
  convert(node: unknown, at: string, refs: Set<string>): Schema {
    if (typeof node === 'boolean') return node;
    if (!isObject(node)) return {};
    if (Object.hasOwn(node, '$ref')) return this.reference(node, at, refs);
    const out: JsonSchema = {};
    const dropped = new Set<string>();
    for (const [key, value] of Object.entries(node)) {
      const here = `${at}${pointerOf(key)}`;
      if (key === 'type') this.type(value, out);
      else if (key === 'properties') out.properties = this.properties(value, here, refs, dropped);
      else if (SCHEMA_MAPS.includes(key)) {
        if (isObject(value)) out[key] = this.map(value, here, refs, key === 'patternProperties');
      } else if (SCHEMA_LISTS.includes(key)) {
        if (Array.isArray(value)) out[key] = value.map((s, i) => this.convert(s, `${here}/${i}`, refs));
      } else if (SUBSCHEMA.includes(key)) {
        if (typeof value === 'boolean' || isObject(value)) out[key] = this.convert(value, here, refs);
      } else if (key === 'items') this.items(node, value, here, refs, out);
      else if (key === 'required') {
        if (Array.isArray(value)) out.required = [...new Set(value.filter((v) => typeof v === 'string'))];
      } else if (key === 'enum') {
        if (Array.isArray(value)) out.enum = value;
      } else if (key === 'const' || key === 'dependentRequired') out[key] = value;
      else if (key === 'pattern') {
        if (typeof value === 'string' && isRegExp(value)) out.pattern = value;
      } else if (key === 'multipleOf') {
        if (typeof value === 'number' && value > 0) out.multipleOf = value;
      } else if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') out[key] = value;
      else if (COUNTS.includes(key)) {
        if (Number.isInteger(value) && (value as number) >= 0) out[key] = value;
      } else if (NUMBERS.includes(key)) {
        if (typeof value === 'number') out[key] = value;
      } else if (STRINGS.includes(key)) {
        if (typeof value === 'string' && key !== '$comment') out[key] = value;
      } else if (BOOLEANS.includes(key)) {
        if (typeof value === 'boolean') out[key] = value;
      } else if (key === 'examples' && this.options.examples) {
        if (Array.isArray(value)) out.examples = value;
      } else if (key === 'example' && this.options.examples && !Object.hasOwn(node, 'examples')) out.examples = [value];
      // Everything else is dropped: default (see above), nullable (below), discriminator, xml, x-*...
    }
    if (Array.isArray(out.required) && dropped.size) out.required = out.required.filter((r) => !dropped.has(r as string));
    if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
    exclusiveBounds(out);
    if (node.type === 'file') {
      // Swagger 2.0 "type: file" (formData only): the tool takes the bytes as base64.
      out.contentEncoding = 'base64';
    }
    const nullable = this.version !== '3.1' && (node.nullable === true || node['x-nullable'] === true);
    return nullable ? withNull(out) : out;
  }

  private reference(node: Json, at: string, refs: Set<string>): Schema {
    const pointer = refPointer(node.$ref, at);
    const target = resolvePointer(this.doc, pointer, at);
    refs.add(pointer);
    const out: JsonSchema = { $ref: this.defs.ensure(pointer, target) };
    if (this.version === '3.1') {
      // 3.1 (JSON Schema 2020-12): keywords next to $ref apply as well.
      const { $ref: _ref, ...rest } = node;
      if (Object.keys(rest).length) Object.assign(out, this.convert(rest, at, refs) as JsonSchema);
      return out;
    }
    // 2.0 / 3.0: siblings of $ref SHALL be ignored; a description is kept only as an annotation.
    if (typeof node.description === 'string') out.description = node.description;
    return out;
  }

  private type(value: unknown, out: JsonSchema): void {
    const list = (Array.isArray(value) ? value : [value]).map((t) => (t === 'file' ? 'string' : t));
    const valid = [...new Set(list.filter((t): t is string => typeof t === 'string' && TYPES.has(t)))];
    if (valid.length === 1) out.type = valid[0];
    else if (valid.length > 1) out.type = valid;
  }

  /**
   * readOnly properties are left out of tool inputs: OpenAPI 3.0 4.7.25.3 "SHOULD NOT be sent as
   * part of the request", and a model has no use for them. Their names leave `required` too.
   */
  private properties(value: unknown, at: string, refs: Set<string>, dropped: Set<string>): Json {
    const out: Json = {};
    if (!isObject(value)) return out;
    for (const [name, schema] of Object.entries(value)) {
      if (isObject(schema) && schema.readOnly === true && !Object.hasOwn(schema, '$ref')) {
        dropped.add(name);
        continue;
      }
      out[name] = this.convert(schema, `${at}${pointerOf(name)}`, refs);
    }
    return out;
  }

  private map(value: Json, at: string, refs: Set<string>, regexKeys: boolean): Json {
    const out: Json = {};
    for (const [key, schema] of Object.entries(value)) {
      if (regexKeys && !isRegExp(key)) continue;
      out[key] = this.convert(schema, `${at}${pointerOf(key)}`, refs);
    }
    return out;
  }

  /** Draft-4 tuple `items: [...]` (seen in 2.0/3.0 documents) is 2020-12 `prefixItems`. */
  private items(node: Json, value: unknown, at: string, refs: Set<string>, out: JsonSchema): void {
    if (Array.isArray(value)) {
      out.prefixItems = value.map((s, i) => this.convert(s, `${at}/${i}`, refs));
      const extra = node.additionalItems;
      if (extra !== undefined) out.items = this.convert(extra, `${at.replace(/\/items$/, '')}/additionalItems`, refs);
    } else if (typeof value === 'boolean' || isObject(value)) out.items = this.convert(value, at, refs);
  }
}

/** 2.0 / 3.0 boolean exclusiveMinimum/Maximum (draft 4) -> 2020-12 numeric forms. */
function exclusiveBounds(out: JsonSchema): void {
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    const v = out[flag];
    if (v === true && typeof out[bound] === 'number') {
      out[flag] = out[bound];
      delete out[bound];
    } else if (typeof v !== 'number') delete out[flag];
  }
}

/**
 * 3.0 `nullable: true` (and 2.0 `x-nullable`): null joins the type (and the enum, where null
 * must be listed to be allowed). Without a `type` (a $ref or a composition), 3.0.3 says nullable
 * has no effect; we still accept null, because that is what such documents mean, and an input
 * schema that refuses what the API accepts would block the call.
 */
function withNull(out: JsonSchema): JsonSchema {
  if (typeof out.type === 'string') out.type = out.type === 'null' ? 'null' : [out.type, 'null'];
  else if (Array.isArray(out.type)) {
    if (!out.type.includes('null')) out.type = [...out.type, 'null'];
  } else if (Object.keys(out).some((k) => k === '$ref' || k === 'allOf' || k === 'anyOf' || k === 'oneOf')) {
    return { anyOf: [out, { type: 'null' }] };
  }
  if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  return out;
}

/** Ajv compiles `pattern` with the `u` flag; a pattern that is not an ECMAScript regex is dropped. */
export function isRegExp(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}

export function throwInvalid(message: string, at: string): never {
  throw new OpenApiImportError('GW_OPENAPI_INVALID', message, at);
}
