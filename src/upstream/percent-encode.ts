/**
 * Percent-encoding as RFC 6570 expansion does it (section 3.2.1): in ordinary expansion every
 * character outside RFC 3986 `unreserved` is encoded; with `allowReserved` (OpenAPI 3 Parameter
 * Object) the `reserved` set and existing pct-encoded triplets pass through as well.
 */

/** RFC 3986 2.3 unreserved only: `encodeURIComponent` also leaves `!'()*` alone, so those are added. */
export function encodeStrict(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, hex);
}

/**
 * RFC 6570 3.2.3 reserved expansion: `:/?#[]@!$&'()*+,;=` and `%XX` kept. One exception: `#`
 * is still encoded, because in a request-target it would end the query and start a fragment
 * that HTTP never sends (OpenAPI 3.1.1, Parameter Object `allowReserved` warns about this).
 */
export function encodeReserved(value: string): string {
  let out = '';
  // Split on existing pct-encoded triplets so they are copied as they are.
  for (const piece of value.split(/(%[0-9A-Fa-f]{2})/)) {
    if (/^%[0-9A-Fa-f]{2}$/.test(piece)) out += piece;
    else out += encodeURI(piece).replace(/%5B/g, '[').replace(/%5D/g, ']').replace(/[#]/g, hex);
  }
  return out;
}

/**
 * Literal parts of a path template (`/repos/{owner}`): kept as written, except characters no
 * request-target may contain raw (space, quotes, controls, non-ASCII), which are encoded.
 */
export function encodeTemplateLiteral(value: string): string {
  return value.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu, (c) => encodeURIComponent(c));
}

function hex(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}
