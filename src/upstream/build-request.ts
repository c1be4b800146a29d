import { ToolError } from '../errors.ts';
import type { OperationPlan, ParameterPlan } from '../openapi/operation.ts';
import { encodeBody } from './encode-body.ts';
import { encodeTemplateLiteral } from './percent-encode.ts';
import { checkHeaderValue, expandCookie, expandHeader, expandPath, expandQuery } from './serialize-parameter.ts';

/** The HTTP request an operation call becomes, before the base URL and credentials are added. */
export interface UpstreamRequest {
  /** Upper case: `GET`, `POST`, ... */
  method: string;
  /** The operation's path with its variables expanded, plus `?query` when there is one. */
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string | Buffer | null;
}

export interface BuildOptions {
  /** Which header parameters the arguments may set (lower-case name). Default: every declared one. */
  allowHeader?: (name: string) => boolean;
}

/**
 * Headers no argument ever sets, whatever the spec declares: credentials (the upstream's come
 * from the credentials hook only), framing and routing headers the HTTP client owns, and
 * forwarding headers an upstream might trust for client identity. OpenAPI 3.1.1 4.8.12.1 says
 * header parameters named Accept, Content-Type or Authorization are ignored.
 */
export const NEVER_FROM_ARGUMENTS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-length',
  'content-type',
  'accept',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'forwarded',
  'via',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
]);

/** Maps a tool call's arguments to the exact HTTP request the plan describes. */
export function buildRequest(
  plan: OperationPlan,
  args: Record<string, unknown>,
  options: BuildOptions = {},
): UpstreamRequest {
  checkWellFormed(args, '');
  const query: string[] = [];
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const pathValues = new Map<string, string>();

  for (const p of plan.parameters) {
    const value = args[p.argument];
    switch (p.in) {
      case 'path':
        pathValues.set(p.name, pathValue(p, value));
        break;
      case 'query':
        query.push(...expandQuery(p, value));
        break;
      case 'header': {
        const name = p.name.toLowerCase();
        if (NEVER_FROM_ARGUMENTS.has(name) || options.allowHeader?.(name) === false) break;
        const text = expandHeader(p, value);
        if (text !== undefined) headers[name] = text;
        break;
      }
      case 'cookie':
        cookies.push(...expandCookie(p, value));
        break;
    }
  }

  let path = expandTemplate(plan.path, pathValues);
  if (query.length) path += `?${query.join('&')}`;
  if (cookies.length) {
    headers.cookie = cookies.join('; ');
    checkHeaderValue('Cookie', headers.cookie);
  }
  if (plan.produces.length) headers.accept = plan.produces.join(', ');

  let body: UpstreamRequest['body'] = null;
  const encoded = plan.body ? encodeBody(plan.body, args) : null;
  if (encoded) {
    body = encoded.body;
    headers['content-type'] = encoded.contentType;
  }
  return { method: plan.method.toUpperCase(), path, headers, body };
}

/** A path variable's expansion. Missing or empty would address another resource: refused. */
function pathValue(p: ParameterPlan, value: unknown): string {
  const text = expandPath(p, value);
  if (text === undefined || text === '') throw new ToolError(`Path parameter ${p.argument} is required and must not be empty.`);
  return text;
}

/**
 * Substitutes `{name}` in the path template. Values are percent-encoded (RFC 6570 3.2.1), so
 * `/`, `?` and `#` in a value cannot add a segment, a query or a fragment. What encoding keeps
 * is `.`: a value of `.` or `..` would make a dot-segment that URL resolution and many servers
 * collapse (RFC 3986 5.2.4), climbing out of the operation's path. Those are refused.
 */
function expandTemplate(template: string, values: Map<string, string>): string {
  let out = '';
  let last = 0;
  for (const m of template.matchAll(/\{([^{}]+)\}/g)) {
    const value = values.get(m[1]!);
    if (value === undefined) throw new ToolError(`Path parameter ${m[1]} is missing.`);
    out += encodeTemplateLiteral(template.slice(last, m.index)) + value;
    last = m.index + m[0].length;
  }
  out += encodeTemplateLiteral(template.slice(last));
  if (!out.startsWith('/')) out = `/${out}`;
  const templateDots = template.split('/').some(isDotSegment);
  if (!templateDots && out.split('/').some(isDotSegment)) {
    throw new ToolError('Path parameters must not be "." or "..".');
  }
  return out;
}

function isDotSegment(segment: string): boolean {
  return /^(?:\.|%2e){1,2}$/i.test(segment);
}

/**
 * Text that is not valid Unicode (a lone surrogate) cannot be percent-encoded (URIError) or sent
 * as UTF-8 faithfully: refuse it up front, naming the argument, so the model can fix it.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkWellFormed(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) throw new ToolError(`${path || 'an argument'} holds text that is not valid Unicode (a lone surrogate).`);
  } else if (Array.isArray(value)) value.forEach((v, i) => checkWellFormed(v, `${path}[${i}]`));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkWellFormed(v, path ? `${path}.${k}` : k);
  }
}
