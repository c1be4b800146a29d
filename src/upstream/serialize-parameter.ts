import { ToolError } from '../errors.ts';
import type { ParameterPlan } from '../openapi/operation.ts';
import { encodeReserved, encodeStrict } from './percent-encode.ts';

/**
 * One parameter value on the wire, by location and OpenAPI 3 `style`/`explode`
 * (OpenAPI 3.1.1 4.8.12.4 "Style Values" and its style examples table). The styles are RFC 6570
 * expansions: simple {x}, label {.x}, matrix {;x}, form {?x}; the delimited styles and
 * deepObject are OpenAPI's own.
 */

/** A value reduced to what RFC 6570 knows: a string, a list, or an associative array. */
type Shaped =
  | { kind: 'scalar'; value: string }
  | { kind: 'list'; items: string[] }
  | { kind: 'map'; entries: Array<[string, string]> };

/** Undefined when RFC 6570 2.3 treats the value as undefined (null, empty list, empty map). */
function shape(p: ParameterPlan, value: unknown): Shaped | undefined {
  if (value === undefined || value === null) return undefined;
  if (p.contentType) return { kind: 'scalar', value: contentEncoded(p.contentType, value) };
  if (Array.isArray(value)) {
    const items = value.filter((v) => v !== null && v !== undefined).map(scalar);
    return items.length ? { kind: 'list', items } : undefined;
  }
  if (typeof value === 'object') {
    const entries: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) entries.push([k, scalar(v)]);
    return entries.length ? { kind: 'map', entries } : undefined;
  }
  return { kind: 'scalar', value: scalar(value) };
}

/** A member of a list or map. Nested structures have no RFC 6570 form: they go as JSON. */
function scalar(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** OpenAPI 3 `content` parameters: the value serialised by its media type, then encoded as a string. */
function contentEncoded(contentType: string, value: unknown): string {
  if (typeof value === 'string' && !/[/+]json\b/i.test(contentType)) return value;
  return JSON.stringify(value);
}

/** Joins list members for a non-exploded list: `,` by default, the Swagger 2.0 tsv delimiter when set. */
function listSeparator(p: ParameterPlan, enc: (s: string) => string): string {
  return p.delimiter !== undefined ? enc(p.delimiter) : ',';
}

/** `in: path`: simple, label or matrix. Undefined when the value is undefined in RFC 6570 terms. */
export function expandPath(p: ParameterPlan, value: unknown): string | undefined {
  const s = shape(p, value);
  if (!s) return undefined;
  const enc = encodeStrict;
  const name = enc(p.name);
  const sep = listSeparator(p, enc);
  switch (p.style) {
    case 'label': {
      // RFC 6570 3.2.5: `.` prefix; exploded members are `.`-separated.
      if (s.kind === 'scalar') return `.${enc(s.value)}`;
      if (s.kind === 'list') return `.${s.items.map(enc).join(p.explode ? '.' : sep)}`;
      return p.explode
        ? s.entries.map(([k, v]) => `.${enc(k)}=${enc(v)}`).join('')
        : `.${s.entries.flatMap(([k, v]) => [enc(k), enc(v)]).join(',')}`;
    }
    case 'matrix': {
      // RFC 6570 3.2.7: `;name=value`, and `;name` alone for an empty string.
      if (s.kind === 'scalar') return s.value === '' ? `;${name}` : `;${name}=${enc(s.value)}`;
      if (s.kind === 'list') {
        return p.explode ? s.items.map((v) => `;${name}=${enc(v)}`).join('') : `;${name}=${s.items.map(enc).join(sep)}`;
      }
      return p.explode
        ? s.entries.map(([k, v]) => `;${enc(k)}=${enc(v)}`).join('')
        : `;${name}=${s.entries.flatMap(([k, v]) => [enc(k), enc(v)]).join(',')}`;
    }
    default:
      // simple (RFC 6570 3.2.2), also for styles that make no sense in a path.
      return simple(s, p.explode, enc, sep);
  }
}

function simple(s: Shaped, explode: boolean, enc: (v: string) => string, sep: string): string {
  if (s.kind === 'scalar') return enc(s.value);
  if (s.kind === 'list') return s.items.map(enc).join(sep);
  return explode
    ? s.entries.map(([k, v]) => `${enc(k)}=${enc(v)}`).join(',')
    : s.entries.flatMap(([k, v]) => [enc(k), enc(v)]).join(',');
}

/** `in: query`: the `name=value` pairs, each already encoded, to be joined with `&`. */
export function expandQuery(p: ParameterPlan, value: unknown): string[] {
  const enc = p.allowReserved ? encodeReserved : encodeStrict;
  const name = encodeStrict(p.name);
  if (p.style === 'deepObject' && !p.contentType && isPlainObject(value)) return deepObject(name, value, enc);
  const s = shape(p, value);
  if (!s) return [];
  if (s.kind === 'scalar') return [`${name}=${enc(s.value)}`];
  // spaceDelimited and pipeDelimited are defined for explode=false only; exploded they are
  // sent like form (the repeated-key reading every implementation uses). So is deepObject
  // with a list, which the spec leaves undefined.
  const joiner =
    p.delimiter !== undefined
      ? enc(p.delimiter)
      : p.style === 'spaceDelimited'
        ? '%20'
        : p.style === 'pipeDelimited'
          ? '%7C'
          : ',';
  const exploded = p.explode || (p.style === 'deepObject' && s.kind === 'list');
  if (s.kind === 'list') {
    return exploded ? s.items.map((v) => `${name}=${enc(v)}`) : [`${name}=${s.items.map(enc).join(joiner)}`];
  }
  return exploded
    ? s.entries.map(([k, v]) => `${enc(k)}=${enc(v)}`)
    : [`${name}=${s.entries.flatMap(([k, v]) => [enc(k), enc(v)]).join(joiner)}`];
}

/**
 * deepObject: `name[key]=value`, brackets percent-encoded as OpenAPI 3.1.1 shows them (they
 * are not allowed raw in a query, RFC 3986 3.4). Nested objects recurse (`name[a][b]`) and
 * list members repeat the key; the spec leaves both undefined, this is the qs/Rails reading.
 */
function deepObject(prefix: string, value: Record<string, unknown>, enc: (s: string) => string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    const key = `${prefix}%5B${encodeStrict(k)}%5D`;
    if (isPlainObject(v)) out.push(...deepObject(key, v, enc));
    else if (Array.isArray(v)) for (const item of v) out.push(`${key}=${enc(scalar(item))}`);
    else out.push(`${key}=${enc(scalar(v))}`);
  }
  return out;
}

/**
 * `in: header`: simple style without percent-encoding (a header value is not a URI; OpenAPI
 * 3.1.1 Appendix E). CR, LF and NUL would split or end the header (RFC 9110 5.5): refused.
 */
export function expandHeader(p: ParameterPlan, value: unknown): string | undefined {
  const s = shape(p, value);
  if (!s) return undefined;
  const text = simple(s, p.explode, (v) => v, p.delimiter ?? ',');
  checkHeaderValue(p.name, text);
  return text;
}

/** RFC 9110 5.5: field values are visible ASCII, SP, HTAB and obs-text; anything else is refused. */
export function checkHeaderValue(name: string, value: string): void {
  if (/[\r\n\0]/.test(value)) throw new ToolError(`Header ${name} must not contain CR, LF or NUL characters.`);
  if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) {
    throw new ToolError(`Header ${name} may only contain visible ASCII characters, spaces and tabs.`);
  }
}

/**
 * `in: cookie`: form style (the OpenAPI 3 default for cookies), values percent-encoded so they
 * stay within RFC 6265 4.1.1 cookie-octets. Exploded members become separate cookies.
 */
export function expandCookie(p: ParameterPlan, value: unknown): string[] {
  const s = shape(p, value);
  if (!s) return [];
  const enc = encodeStrict;
  const name = enc(p.name);
  if (s.kind === 'scalar') return [`${name}=${enc(s.value)}`];
  const sep = listSeparator(p, enc);
  if (s.kind === 'list') return p.explode ? s.items.map((v) => `${name}=${enc(v)}`) : [`${name}=${s.items.map(enc).join(sep)}`];
  return p.explode
    ? s.entries.map(([k, v]) => `${enc(k)}=${enc(v)}`)
    : [`${name}=${s.entries.flatMap(([k, v]) => [enc(k), enc(v)]).join(',')}`];
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}
