import type { JsonSchema } from '../registry/types.ts';
import { isObject, type Json } from './document.ts';
import type { BodyPlan, ParameterStyle } from './operation.ts';
import { pointerOf, refPointer, resolvePointer } from './pointer.ts';
import type { Schema, SchemaConverter } from './schema-convert.ts';
import { collectionEncoding } from './body-encoding.ts';

/** A body field that becomes its own argument (spread mode). */
export interface BodyField {
  property: string;
  schema: Schema;
  required: boolean;
}

/** The request body, before argument names are chosen (arguments.ts). */
export interface BodyCandidate {
  plan: Omit<BodyPlan, 'argument' | 'properties'>;
  /** Spread: the fields; whole: the body's schema. */
  fields?: BodyField[];
  schema?: Schema;
  description?: string;
  refs: Set<string>;
}

const COMPOSED = ['allOf', 'anyOf', 'oneOf', 'not', 'if', 'patternProperties', 'dependentSchemas', 'unevaluatedProperties', 'nullable', 'x-nullable'];

export const isJsonMedia = (m: string) => m === 'application/json' || /^application\/[^;]*\+json\b/.test(m) || m === '*/*';
const isForm = (m: string) => m === 'application/x-www-form-urlencoded' || m === 'multipart/form-data';

/**
 * The media type the tool sends. JSON first (what a model writes best); among +json types a
 * merge patch (an object, like the arguments) before the others (Kubernetes lists json-patch,
 * an array, first); then forms, text, bytes; `*` wildcards mean JSON.
 */
export function pickMediaType(types: string[]): string {
  const clean = types.map((t) => t.split(';')[0]!.trim().toLowerCase()).filter(Boolean);
  const rank = (m: string): number => {
    if (m === 'application/json') return 0;
    if (m === 'application/merge-patch+json') return 1;
    if (/^application\/[^;]*\+json$/.test(m)) return 2;
    if (m === 'application/x-www-form-urlencoded') return 3;
    if (m === 'multipart/form-data') return 4;
    if (m === '*/*' || m === 'application/*') return 5;
    if (m.startsWith('text/')) return 6;
    if (m === 'application/octet-stream') return 7;
    return 8;
  };
  const best = [...clean].sort((a, b) => rank(a) - rank(b))[0];
  if (best === undefined || best === '*/*' || best === 'application/*') return 'application/json';
  return best;
}

/** Follows a pure `$ref` chain (no siblings that matter) to the schema object itself. */
function resolveSchema(conv: SchemaConverter, node: unknown, at: string): { node: unknown; at: string } {
  for (let i = 0; i < 32 && isObject(node) && typeof node.$ref === 'string'; i++) {
    const siblings = Object.keys(node).filter((k) => k !== '$ref' && k !== 'description' && k !== 'summary');
    if (conv.version === '3.1' && siblings.length) break;
    at = refPointer(node.$ref, at);
    node = resolvePointer(conv.doc, at, at);
  }
  return { node, at };
}

/** Is this (resolved) schema a plain object whose properties can be top-level arguments? */
function spreadable(node: unknown): node is Json & { properties: Json } {
  if (!isObject(node) || !isObject(node.properties) || !Object.keys(node.properties).length) return false;
  if (node.type !== undefined && node.type !== 'object') return false;
  if (COMPOSED.some((k) => node[k] !== undefined && node[k] !== false)) return false;
  // An open map (additionalProperties: true or a schema) cannot be spread without losing keys.
  return node.additionalProperties === undefined || node.additionalProperties === false;
}

/** A multipart field that carries bytes: 2.0 `type: file`, `format: binary`, 3.1 `contentMediaType`. */
function fileSchema(conv: SchemaConverter, raw: unknown, at: string): JsonSchema | null {
  const { node } = resolveSchema(conv, raw, at);
  if (!isObject(node)) return null;
  if (node.type === 'array') {
    const item = fileSchema(conv, node.items, `${at}/items`);
    return item ? { type: 'array', items: item, ...(typeof node.description === 'string' ? { description: node.description } : {}) } : null;
  }
  const binary = node.type === 'file' || node.format === 'binary' || (typeof node.contentMediaType === 'string' && node.contentEncoding === undefined);
  if (!binary) return null;
  const out: JsonSchema = { type: 'string', contentEncoding: 'base64' };
  if (typeof node.contentMediaType === 'string') out.contentMediaType = node.contentMediaType;
  if (typeof node.description === 'string') out.description = node.description;
  return out;
}

function fields(conv: SchemaConverter, schema: Json & { properties: Json }, at: string, multipart: boolean, refs: Set<string>) {
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const out: BodyField[] = [];
  const files: string[] = [];
  for (const [property, raw] of Object.entries(schema.properties)) {
    if (isObject(raw) && raw.readOnly === true && raw.$ref === undefined) continue; // request side only
    const here = `${at}/properties${pointerOf(property)}`;
    const file = multipart ? fileSchema(conv, raw, here) : null;
    if (file) files.push(property);
    out.push({ property, schema: file ?? conv.convert(raw, here, refs), required: required.has(property) });
  }
  return { fields: out, files };
}

/** OpenAPI 3.x `requestBody` (already dereferenced). */
export function bodyFrom3(conv: SchemaConverter, body: Json, at: string): BodyCandidate | null {
  const content = isObject(body.content) ? body.content : {};
  const types = Object.keys(content);
  if (!types.length) return null;
  const mediaType = pickMediaType(types);
  const key = types.find((t) => t.split(';')[0]!.trim().toLowerCase() === mediaType) ?? types[0]!;
  const media = isObject(content[key]) ? (content[key] as Json) : {};
  const here = `${at}/content${pointerOf(key)}/schema`;
  const refs = new Set<string>();
  const required = body.required === true;
  const description = typeof body.description === 'string' ? body.description : undefined;
  const { node, at: resolvedAt } = resolveSchema(conv, media.schema, here);
  if ((isJsonMedia(mediaType) || isForm(mediaType)) && spreadable(node)) {
    const { fields: list, files } = fields(conv, node, resolvedAt, mediaType === 'multipart/form-data', refs);
    const plan: BodyCandidate['plan'] = { mode: 'spread', required, mediaType };
    if (files.length) plan.fileFields = files;
    const encoding = encodingOf(media.encoding);
    if (encoding) plan.encoding = encoding;
    return { plan, fields: list, description, refs };
  }
  return whole(conv, media.schema, here, mediaType, required, description, refs);
}

function whole(conv: SchemaConverter, raw: unknown, at: string, mediaType: string, required: boolean, description: string | undefined, refs: Set<string>): BodyCandidate {
  const plan: BodyCandidate['plan'] = { mode: 'whole', required, mediaType };
  if (isJsonMedia(mediaType) || isForm(mediaType)) {
    return { plan, schema: raw === undefined ? {} : conv.convert(raw, at, refs), description, refs };
  }
  // Anything else is sent as it is: text as a string, bytes as base64 (decoded by the proxy).
  const binary = !mediaType.startsWith('text/') && !/[/+](xml|yaml|csv)$/.test(mediaType) ? true : fileSchema(conv, raw, at) !== null;
  if (binary) plan.contentEncoding = 'base64';
  const schema: JsonSchema = binary ? { type: 'string', contentEncoding: 'base64', contentMediaType: mediaType } : { type: 'string' };
  return { plan, schema, description, refs };
}

/** 3.x Encoding Objects of a form body, kept per body property. */
function encodingOf(raw: unknown): BodyPlan['encoding'] | undefined {
  if (!isObject(raw)) return undefined;
  const out: NonNullable<BodyPlan['encoding']> = {};
  for (const [property, e] of Object.entries(raw)) {
    if (!isObject(e)) continue;
    const entry: NonNullable<BodyPlan['encoding']>[string] = {};
    if (typeof e.contentType === 'string') entry.contentType = e.contentType;
    if (typeof e.style === 'string') entry.style = e.style as ParameterStyle;
    if (typeof e.explode === 'boolean') entry.explode = e.explode;
    if (e.allowReserved === true) entry.allowReserved = true;
    if (Object.keys(entry).length) out[property] = entry;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Swagger 2.0: one `in: body` parameter, or `in: formData` parameters, and `consumes`. */
export function bodyFrom2(conv: SchemaConverter, bodyParam: Json | undefined, formData: Json[], consumes: string[], at: string): BodyCandidate | null {
  const refs = new Set<string>();
  if (bodyParam) {
    const mediaType = pickMediaType(consumes.length ? consumes : ['application/json']);
    const here = `${at}/schema`;
    const required = bodyParam.required === true;
    const description = typeof bodyParam.description === 'string' ? bodyParam.description : undefined;
    const { node, at: resolvedAt } = resolveSchema(conv, bodyParam.schema, here);
    if (isJsonMedia(mediaType) && spreadable(node)) {
      const { fields: list } = fields(conv, node, resolvedAt, false, refs);
      return { plan: { mode: 'spread', required, mediaType }, fields: list, description, refs };
    }
    return whole(conv, bodyParam.schema, here, mediaType, required, description, refs);
  }
  if (!formData.length) return null;
  // 2.0: formData needs urlencoded or multipart; a file forces multipart.
  const multipart = formData.some((p) => p.type === 'file') || consumes.some((c) => c.startsWith('multipart/form-data'));
  const mediaType = multipart ? 'multipart/form-data' : 'application/x-www-form-urlencoded';
  const list: BodyField[] = [];
  const files: string[] = [];
  const encoding: NonNullable<BodyPlan['encoding']> = {};
  for (const p of formData) {
    const property = p.name as string;
    if (p.type === 'file') files.push(property);
    const schema = conv.convert(p, `${at}/formData/${property}`, refs);
    list.push({ property, schema, required: p.required === true });
    if (p.type === 'array') encoding[property] = collectionEncoding(p.collectionFormat);
  }
  const plan: BodyCandidate['plan'] = { mode: 'spread', required: list.some((f) => f.required), mediaType };
  if (files.length) plan.fileFields = files;
  if (Object.keys(encoding).length) plan.encoding = encoding;
  return { plan, fields: list, refs };
}
