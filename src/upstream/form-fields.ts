import type { BodyEncoding, ParameterPlan } from '../openapi/operation.ts';
import { expandQuery } from './serialize-parameter.ts';

/**
 * application/x-www-form-urlencoded bodies (OpenAPI 3.1.1 4.8.15 Encoding Object). A property
 * with a `style`/`explode`/`allowReserved`/`delimiter` entry (also how Swagger 2.0 formData
 * `collectionFormat` arrives) is written exactly like a query parameter of that style (RFC 6570
 * encoding). Without one, the Encoding Object defaults apply: form style, lists repeat the key,
 * objects go as JSON (the default `contentType` for objects), and the WHATWG serialiser
 * (URLSearchParams, space as `+`) writes it.
 */
export function formUrlEncoded(value: Record<string, unknown>, encoding: Record<string, BodyEncoding> = {}): string {
  const pieces: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const e = encoding[k];
    if (e && hasStyle(e)) {
      pieces.push(...expandQuery(styled(k, e), v));
      continue;
    }
    const params = new URLSearchParams();
    for (const member of Array.isArray(v) ? v : [v]) {
      if (member === undefined || member === null) continue;
      params.append(k, typeof member === 'object' ? JSON.stringify(member) : String(member));
    }
    const text = params.toString();
    if (text) pieces.push(text);
  }
  return pieces.join('&');
}

export function hasStyle(e: BodyEncoding): boolean {
  return e.style !== undefined || e.explode !== undefined || e.allowReserved !== undefined || e.delimiter !== undefined;
}

/** An Encoding Object entry as a query parameter plan: form style, explode true unless told otherwise. */
export function styled(name: string, e: BodyEncoding): ParameterPlan {
  const style = e.style ?? 'form';
  const p: ParameterPlan = { argument: name, in: 'query', name, required: false, style, explode: e.explode ?? style === 'form' };
  if (e.allowReserved) p.allowReserved = true;
  if (e.delimiter !== undefined) p.delimiter = e.delimiter;
  return p;
}

/** The separator a non-exploded list is joined with (multipart fields, where nothing is percent-encoded). */
export function joinSeparator(e: BodyEncoding): string {
  if (e.delimiter !== undefined) return e.delimiter;
  if (e.style === 'spaceDelimited') return ' ';
  if (e.style === 'pipeDelimited') return '|';
  return ',';
}
