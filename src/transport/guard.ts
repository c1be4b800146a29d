/**
 * DNS-rebinding and cross-site defences, decided before a body is read:
 * SECURITY 1 (Origin allow-list; no Origin is fine), 2 (Host allow-list, on by default),
 * 3 (JSON content type only).
 */
export interface GuardOptions {
  /** Lower-case `host` or `host:port` entries; a bare host allows any port. */
  readonly allowedHosts: ReadonlySet<string>;
  /** Exact origins (`https://app.example.com`). */
  readonly allowedOrigins: ReadonlySet<string>;
  /** Origins on localhost / 127.0.0.1 / [::1] (true when bound to loopback). */
  readonly allowLoopbackOrigins: boolean;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK.has(hostname.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

export function hostAllowed(host: string | undefined, o: GuardOptions): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  if (o.allowedHosts.has(h)) return true;
  const colon = h.lastIndexOf(':');
  // "[::1]:3000" -> "[::1]"; "example.com:443" -> "example.com"; bare IPv6 has no port here
  const name = colon > h.lastIndexOf(']') ? h.slice(0, colon) : h;
  return o.allowedHosts.has(name);
}

export function originAllowed(origin: string | undefined, o: GuardOptions): boolean {
  if (origin === undefined) return true;
  if (o.allowedOrigins.has(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // includes the opaque "null" origin of sandboxed frames and file: pages
  }
  if (o.allowedOrigins.has(url.origin)) return true;
  return o.allowLoopbackOrigins && (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname);
}

/** `application/json`, optionally with parameters; charset, if given, must be UTF-8. */
export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (type !== 'application/json') return false;
  if (semi < 0) return true;
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(value.slice(semi));
  return !charset || /^utf-?8$/i.test(charset[1]!);
}

const JSON_ONLY = Object.freeze({ json: true, sse: false });
const acceptCache = new Map<string, { json: boolean; sse: boolean }>();

/** What the client accepts: missing Accept means JSON (curl). Cached: clients send one value. */
export function acceptedTypes(accept: string | undefined): { json: boolean; sse: boolean } {
  if (!accept) return JSON_ONLY;
  let types = acceptCache.get(accept);
  if (!types) {
    const a = accept.toLowerCase();
    types = Object.freeze({
      json: a.includes('*/*') || a.includes('application/json') || a.includes('application/*'),
      sse: a.includes('text/event-stream'),
    });
    if (acceptCache.size < 128) acceptCache.set(accept, types);
  }
  return types;
}
