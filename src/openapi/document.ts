import { createHash } from 'node:crypto';
import { lazyModule } from '../lazy-module.ts';

const yaml = lazyModule<typeof import('yaml')>('yaml');
import { OpenApiImportError } from './errors.ts';

/** Which dialect a document speaks; decides how parameters and schemas are translated. */
export type SpecVersion = '2.0' | '3.0' | '3.1';

export type Json = Record<string, unknown>;

export interface ParsedDocument {
  doc: Json;
  version: SpecVersion;
  /** sha256 of the bytes (or, for an object, of its JSON), hex. */
  digest: string;
}

/**
 * Parses a spec given as text, bytes or an already-parsed object. JSON is tried first when the
 * text starts with `{` (a JSON document is also YAML, but JSON.parse is ten times faster on
 * GitHub's 13 MB spec); anything else is YAML 1.2.
 */
export function parseDocument(input: string | Uint8Array | object): ParsedDocument {
  let doc: unknown;
  let digest: string;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
    digest = createHash('sha256').update(text).digest('hex');
    doc = parseText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } else {
    doc = input;
    digest = createHash('sha256').update(JSON.stringify(input) ?? '').digest('hex');
  }
  if (!isObject(doc)) {
    throw new OpenApiImportError('GW_OPENAPI_PARSE', `an OpenAPI document must be an object, got ${describe(doc)}`);
  }
  return { doc, version: detectVersion(doc), digest };
}

function parseText(text: string): unknown {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      // Not strict JSON: YAML (a superset) may still read it, e.g. trailing commas are not, but flow maps are.
    }
  }
  try {
    // maxAliasCount bounds "billion laughs" alias expansion.
    return yaml().parse(text, { maxAliasCount: 1000, prettyErrors: false });
  } catch (err) {
    throw new OpenApiImportError('GW_OPENAPI_PARSE', `not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

function detectVersion(doc: Json): SpecVersion {
  if (doc.swagger !== undefined) {
    if (String(doc.swagger) === '2.0') return '2.0';
    throw new OpenApiImportError('GW_OPENAPI_VERSION', `unsupported Swagger version ${JSON.stringify(doc.swagger)}: only 2.0`);
  }
  if (doc.openapi !== undefined) {
    const v = String(doc.openapi);
    if (/^3\.0\.\d+$/.test(v)) return '3.0';
    if (/^3\.1\.\d+$/.test(v)) return '3.1';
    throw new OpenApiImportError(
      'GW_OPENAPI_VERSION',
      `unsupported OpenAPI version ${JSON.stringify(doc.openapi)}: Swagger 2.0, OpenAPI 3.0.x and 3.1.x are supported`,
    );
  }
  throw new OpenApiImportError('GW_OPENAPI_VERSION', 'neither a "swagger" nor an "openapi" field: is this an OpenAPI document?');
}

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? 'a string' : typeof v;
}
