import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { JsonSchema, SchemaInput } from './types.ts';

// ajv-formats ships CJS with a default export; under NodeNext the callable sits on .default.
type AddFormats = (ajv: Ajv2020) => unknown;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

interface StandardJsonSchema {
  '~standard': { jsonSchema?: { input: (o: { target: string }) => JsonSchema } };
}

/**
 * Turns a declared schema into plain JSON Schema 2020-12. zod 4 (and any library that
 * implements Standard JSON Schema) is converted once here; handlers then see plain JSON.
 */
export function toJsonSchema(input: SchemaInput, where: string): JsonSchema {
  const std = (input as Partial<StandardJsonSchema>)['~standard'];
  if (std) {
    if (!std.jsonSchema) throw new SchemaError(`${where}: this schema library cannot emit JSON Schema`);
    return std.jsonSchema.input({ target: 'draft-2020-12' });
  }
  if ('_zod' in input) throw new SchemaError(`${where}: zod 4.2 or newer is needed (Standard JSON Schema)`);
  return input as JsonSchema;
}

export class SchemaError extends Error {}

/** One Ajv instance per registry: compiled once at start-up, shared by every request. */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    strict: false, // OpenAPI-derived schemas carry `example`, `x-*`, `nullable`: keep them legal
    allErrors: true,
    useDefaults: true,
    validateFormats: true,
    logger: false, // unknown formats (common in OpenAPI) are ignored quietly
  });
  addFormats(ajv);
  return ajv;
}

/**
 * Checks a schema against the 2020-12 meta-schema now and returns a validator that is compiled
 * on first use: generated code for thousands of OpenAPI operations would cost start-up time
 * and memory for tools that may never be called.
 */
export function compileSchema(ajv: Ajv2020, schema: JsonSchema, where: string): () => ValidateFunction {
  const { $schema, ...rest } = schema;
  if ($schema !== undefined && typeof $schema === 'string' && !$schema.includes('2020-12')) {
    throw new SchemaError(`${where}: only JSON Schema 2020-12 is supported (got ${$schema})`);
  }
  if (!ajv.validateSchema(rest)) {
    throw new SchemaError(`${where}: invalid JSON Schema: ${ajv.errorsText(ajv.errors)}`);
  }
  let compiled: ValidateFunction | undefined;
  return () => {
    if (compiled) return compiled;
    try {
      compiled = ajv.compile(rest);
    } catch (err) {
      throw new SchemaError(`${where}: invalid JSON Schema: ${(err as Error).message}`);
    }
    return compiled;
  };
}

/** "query: must be string; limit: must be <= 50" — short enough for a model to act on. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined): string {
  if (!errors?.length) return 'invalid value';
  const seen = new Set<string>();
  for (const e of errors) {
    const at = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '';
    let msg: string;
    if (e.keyword === 'required') msg = `missing required property "${(e.params as { missingProperty: string }).missingProperty}"`;
    else if (e.keyword === 'additionalProperties') {
      msg = `unknown property "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    } else if (e.keyword === 'enum') {
      msg = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
    } else msg = e.message ?? 'invalid';
    seen.add(at ? `${at}: ${msg}` : msg);
    if (seen.size >= 8) break;
  }
  return [...seen].join('; ');
}
