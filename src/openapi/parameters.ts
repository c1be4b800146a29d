import { NEVER_FROM_ARGUMENTS } from '../upstream/build-request.ts';
import type { JsonSchema } from '../registry/types.ts';
import { isObject, type Json } from './document.ts';
import type { ParameterLocation, ParameterPlan, ParameterStyle } from './operation.ts';
import type { SchemaConverter } from './schema-convert.ts';
import { throwInvalid } from './schema-convert.ts';

/** One non-body parameter, before its argument name is chosen (arguments.ts). */
export interface ParameterCandidate {
  plan: Omit<ParameterPlan, 'argument'>;
  schema: JsonSchema;
  refs: Set<string>;
}

const LOCATIONS = new Set(['path', 'query', 'header', 'cookie']);

/**
 * OpenAPI 3.x 4.8.12.1: header parameters named Accept, Content-Type or Authorization SHALL be
 * ignored. The proxy never takes those, credentials (Cookie, Proxy-Authorization), framing or
 * forwarding headers from arguments (upstream/build-request.ts), so they are not offered to the
 * model at all: an argument that does nothing only misleads it.
 */
const IGNORED_HEADERS = NEVER_FROM_ARGUMENTS;

/** 2.0 collectionFormat -> 3.x style/explode (plus a delimiter where 3.x has no style). */
function collectionStyle(format: unknown, location: ParameterLocation): Pick<ParameterPlan, 'style' | 'explode' | 'delimiter'> {
  const query = location === 'query';
  switch (format) {
    case 'multi':
      return { style: 'form', explode: true };
    case 'ssv':
      return query ? { style: 'spaceDelimited', explode: false } : { style: 'simple', explode: false, delimiter: ' ' };
    case 'pipes':
      return query ? { style: 'pipeDelimited', explode: false } : { style: 'simple', explode: false, delimiter: '|' };
    case 'tsv':
      return { style: query ? 'form' : 'simple', explode: false, delimiter: '\t' };
    default: // csv, the 2.0 default (note: not the 3.x default, which explodes)
      return { style: query || location === 'cookie' ? 'form' : 'simple', explode: false };
  }
}

const STYLES = new Set<ParameterStyle>(['simple', 'label', 'matrix', 'form', 'spaceDelimited', 'pipeDelimited', 'deepObject']);

/** 3.x defaults (4.8.12.4): form for query and cookie, simple for path and header; explode iff form. */
function style3(param: Json, location: ParameterLocation): Pick<ParameterPlan, 'style' | 'explode'> {
  const style =
    typeof param.style === 'string' && STYLES.has(param.style as ParameterStyle)
      ? (param.style as ParameterStyle)
      : location === 'query' || location === 'cookie'
        ? 'form'
        : 'simple';
  const explode = typeof param.explode === 'boolean' ? param.explode : style === 'form';
  return { style, explode };
}

/**
 * One parameter (already dereferenced) -> candidate, or null when it is deliberately not an
 * argument (ignored headers, API keys the credential hook supplies).
 */
export function parameterCandidate(
  param: Json,
  at: string,
  conv: SchemaConverter,
  apiKeys: ReadonlySet<string>,
): ParameterCandidate | null {
  const location = param.in as ParameterLocation;
  const name = param.name;
  if (typeof name !== 'string' || !name) throwInvalid('a parameter needs a name', at);
  if (!LOCATIONS.has(location)) throwInvalid(`parameter "${name}" has unknown location ${JSON.stringify(param.in)}`, at);
  if (location === 'header' && IGNORED_HEADERS.has(name.toLowerCase())) return null;
  if (apiKeys.has(`${location}:${location === 'header' ? name.toLowerCase() : name}`)) return null;

  const refs = new Set<string>();
  const v2 = conv.version === '2.0';
  let schema: JsonSchema;
  let contentType: string | undefined;
  let rawDefault: unknown;
  let wire: Pick<ParameterPlan, 'style' | 'explode' | 'delimiter'>;
  if (v2) {
    // A 2.0 parameter is itself schema-like (type, items, enum...); the converter keeps only schema keywords.
    schema = conv.convert(param, at, refs) as JsonSchema;
    rawDefault = param.default;
    wire = param.type === 'array' ? collectionStyle(param.collectionFormat, location) : collectionStyle('csv', location);
  } else {
    let raw = param.schema;
    if (raw === undefined && isObject(param.content)) {
      // 4.8.12.2: `content` holds exactly one media type; the value is serialised with it.
      const [media] = Object.keys(param.content);
      contentType = media;
      raw = media ? (param.content[media] as Json | undefined)?.schema : undefined;
    }
    const converted = conv.convert(raw ?? {}, `${at}/schema`, refs);
    schema = typeof converted === 'boolean' ? {} : converted;
    if (isObject(raw)) rawDefault = raw.default;
    wire = style3(param, location);
    if (conv.options.examples && param.example !== undefined && schema.examples === undefined) schema.examples = [param.example];
  }
  schema = describe(schema, param, rawDefault);
  if (param.deprecated === true) schema.deprecated = true;

  const plan: Omit<ParameterPlan, 'argument'> = {
    in: location,
    name,
    // 4.8.12.2: a path parameter is always required.
    required: location === 'path' || param.required === true,
    ...wire,
  };
  if (location === 'query' && param.allowReserved === true) plan.allowReserved = true;
  if (contentType) plan.contentType = contentType;
  return { plan, schema, refs };
}

/** The parameter's description (and its default, now that `default` itself is dropped). */
function describe(schema: JsonSchema, param: Json, rawDefault: unknown): JsonSchema {
  const parts: string[] = [];
  if (typeof param.description === 'string' && param.description.trim()) parts.push(param.description.trim());
  else if (typeof schema.description === 'string') parts.push(schema.description);
  if (rawDefault !== undefined && rawDefault !== null) {
    const shown = JSON.stringify(rawDefault);
    if (shown.length <= 60 && !parts.some((p) => p.toLowerCase().includes('default'))) parts.push(`Default: ${shown}.`);
  }
  const out = { ...schema };
  if (parts.length) out.description = parts.join(' ');
  return out;
}
