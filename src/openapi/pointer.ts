import { isObject, type Json } from './document.ts';
import { OpenApiImportError } from './errors.ts';

/**
 * Local references only. A `$ref` is a URI reference (RFC 3986); a local one is a fragment that
 * is a JSON pointer (RFC 6901, percent-decoded per RFC 3986 3.5). Anything else (another file,
 * a URL, a plain-name anchor) is refused: the importer never reads the network or the disk.
 */
export function refPointer(ref: unknown, at: string): string {
  if (typeof ref !== 'string') throw new OpenApiImportError('GW_OPENAPI_REF', '$ref must be a string', at);
  if (!ref.startsWith('#')) {
    throw new OpenApiImportError(
      'GW_OPENAPI_REF',
      `external $ref "${ref}" is not supported: bundle the document into one file first (e.g. "redocly bundle")`,
      at,
    );
  }
  if (ref !== '#' && !ref.startsWith('#/')) {
    throw new OpenApiImportError('GW_OPENAPI_REF', `$ref "${ref}" is an anchor, not a JSON pointer: not supported`, at);
  }
  try {
    return decodeURIComponent(ref.slice(1));
  } catch {
    throw new OpenApiImportError('GW_OPENAPI_REF', `$ref "${ref}" is not a valid URI fragment`, at);
  }
}

/** The value a JSON pointer names in `doc`, or a GW_OPENAPI_REF error naming the missing step. */
export function resolvePointer(doc: Json, pointer: string, at: string): unknown {
  if (pointer === '') return doc;
  let node: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(key)) node = node[Number(key)];
    else if (isObject(node) && Object.hasOwn(node, key)) node = node[key];
    else node = undefined;
    if (node === undefined) {
      throw new OpenApiImportError('GW_OPENAPI_REF', `broken $ref "#${pointer}": "${key}" does not exist`, at);
    }
  }
  return node;
}

/** RFC 6901 escaping of one token. */
export function escapeToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

export function pointerOf(...tokens: Array<string | number>): string {
  return tokens.map((t) => `/${escapeToken(String(t))}`).join('');
}

/**
 * Follows `$ref` chains of a non-schema object (parameter, request body, path item, response)
 * to the object itself. Schema references are not followed here: they become `$defs`.
 */
export function derefObject(doc: Json, node: unknown, at: string): { value: unknown; at: string } {
  const seen = new Set<string>();
  let here = at;
  while (isObject(node) && node.$ref !== undefined) {
    const pointer = refPointer(node.$ref, here);
    if (seen.has(pointer)) throw new OpenApiImportError('GW_OPENAPI_REF', `$ref cycle through "#${pointer}"`, at);
    seen.add(pointer);
    node = resolvePointer(doc, pointer, here);
    here = pointer;
  }
  return { value: node, at: here };
}
