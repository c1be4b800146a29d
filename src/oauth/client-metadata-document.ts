import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import type { Dispatcher } from 'undici';
import { lazyModule } from '../lazy-module.ts';
import { addressAllowed, classifyAddress } from './ip-address.ts';
import { type ClientMetadata, validateClientMetadata } from './client-metadata.ts';
import { OAuthError } from './oauth-error.ts';

const undici = lazyModule<typeof import('undici')>('undici');

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP 2025-11-25
 * authorization, "Client ID Metadata Documents"; SECURITY 15). The client id is an https URL;
 * the document found there is the client's registration. Fetching a URL a stranger chose is an
 * SSRF risk, so:
 * - the URL: https, a path, no userinfo, no fragment, already in normal form (the document's
 *   `client_id` must equal it character for character);
 * - DNS is resolved here and EVERY address checked (no loopback, private, link-local incl.
 *   169.254.169.254, CGNAT, unique-local, multicast, unspecified, IPv4-mapped forms); then the
 *   connection goes to that checked address through a pinned `lookup`, so a second DNS answer
 *   (rebinding between check and connect) is never used;
 * - no redirect is followed (a 3xx is refused), one deadline covers DNS, connect and body, the
 *   body is streamed and abandoned past `maxBytes`;
 * - documents are cached per their Cache-Control (default 5 minutes, at most 1 hour).
 * `allowLoopback` (tests only) additionally permits http: and loopback addresses, nothing else.
 */
export interface DocumentOptions {
  timeoutMs: number;
  maxBytes: number;
  allowLoopback: boolean;
  /** Extra trusted CA certificates (PEM), in addition to Node's bundled roots. */
  ca?: readonly string[];
}

export interface ClientDocument extends ClientMetadata {
  clientId: string;
  /** Host the document was fetched from: shown on the consent page. */
  host: string;
}

const DEFAULT_TTL_MS = 5 * 60_000;
const MAX_TTL_MS = 3600_000;
const CACHE_MAX = 1000;
const MAX_URL_LENGTH = 2048;

const refuse = (why: string): never => {
  throw new OAuthError('invalid_client', `client metadata document refused: ${why}`);
};

/** True when `clientId` is meant as a metadata document URL (whether or not it is acceptable). */
export function looksLikeDocumentUrl(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

/** The URL, checked; throws `invalid_client` when it cannot be a client id. */
export function documentUrl(clientId: string, allowLoopback: boolean): URL {
  if (clientId.length > MAX_URL_LENGTH) refuse('the client id URL is too long');
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return refuse('the client id is not a URL');
  }
  if (url.protocol !== 'https:' && !(allowLoopback && url.protocol === 'http:')) refuse('the client id must be an https URL');
  if (url.username || url.password) refuse('the client id URL must not contain user information');
  if (clientId.includes('#')) refuse('the client id URL must not contain a fragment');
  if (url.pathname === '/' || url.pathname === '') refuse('the client id URL must contain a path');
  // Dot segments, case, default ports, stray encodings: the id must already be the normal form.
  if (url.href !== clientId) refuse('the client id URL is not in normal form');
  return url;
}

/** The checked addresses of `hostname`; throws when any of them is not allowed. */
async function checkedAddresses(hostname: string, o: DocumentOptions, http: boolean): Promise<LookupAddress[]> {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  let addresses: LookupAddress[];
  if (isIP(bare)) addresses = [{ address: bare, family: isIP(bare) }];
  else {
    try {
      addresses = await dnsLookup(bare, { all: true, verbatim: true });
    } catch {
      return refuse('the host name does not resolve');
    }
  }
  if (addresses.length === 0) refuse('the host name does not resolve');
  for (const a of addresses) {
    if (!addressAllowed(a.address, o.allowLoopback)) refuse(`the host resolves to a ${classifyAddress(a.address)} address`);
    // http (tests only) never leaves the machine.
    if (http && classifyAddress(a.address) !== 'loopback') refuse('http is allowed only to loopback addresses');
  }
  return addresses;
}

/** A `lookup` for net/tls.connect that answers with the address already checked, never asking DNS again. */
function pinnedLookup(pinned: LookupAddress): LookupFunction {
  return (_host, options, callback) => {
    // net.connect asks for every address when it races families (autoSelectFamily): give the one.
    if ((options as { all?: boolean } | undefined)?.all) (callback as (e: null, a: LookupAddress[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

function cacheTtl(cacheControl: string | undefined): number {
  if (!cacheControl) return DEFAULT_TTL_MS;
  if (/(?:^|,)\s*(?:no-store|no-cache)\b/i.test(cacheControl)) return 0;
  const m = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cacheControl);
  return m ? Math.min(Number(m[1]) * 1000, MAX_TTL_MS) : DEFAULT_TTL_MS;
}

async function download(url: URL, o: DocumentOptions, signal: AbortSignal): Promise<{ text: string; ttlMs: number }> {
  const addresses = await checkedAddresses(url.hostname, o, url.protocol === 'http:');
  signal.throwIfAborted();
  const agent = new (undici().Agent)({
    connect: {
      lookup: pinnedLookup(addresses[0]!),
      timeout: o.timeoutMs,
      // tls `ca` replaces the default roots: keep them and add the configured ones.
      ...(o.ca?.length ? { ca: [...rootCertificates, ...o.ca] } : {}),
    },
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
    connections: 1,
  });
  let res: Dispatcher.ResponseData | undefined;
  // Abandoning a body must not surface later as an unhandled 'error' (undici reports the abort).
  const abandon = () => res?.body.on('error', () => {}).destroy();
  try {
    res = await undici().request(url, {
      method: 'GET',
      dispatcher: agent,
      signal,
      headers: { accept: 'application/json' },
    });
    // undici's request() follows no redirect; a 3xx is refused outright (SECURITY 15).
    if (res.statusCode !== 200) {
      abandon();
      return refuse(res.statusCode >= 300 && res.statusCode < 400 ? 'redirects are not followed' : `HTTP status ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > o.maxBytes) {
      abandon();
      return refuse(`the document is larger than ${o.maxBytes} bytes`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > o.maxBytes) {
        abandon();
        return refuse(`the document is larger than ${o.maxBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const cc = res.headers['cache-control'];
    return { text: Buffer.concat(chunks).toString('utf8'), ttlMs: cacheTtl(Array.isArray(cc) ? cc.join(',') : cc) };
  } catch (err) {
    abandon();
    throw err;
  } finally {
    agent.destroy().catch(() => {});
  }
}

export class ClientMetadataDocuments {
  private readonly cache = new Map<string, { doc: ClientDocument; until: number }>();
  private readonly inflight = new Map<string, Promise<ClientDocument>>();

  constructor(
    private readonly o: DocumentOptions,
    private readonly now: () => number,
  ) {}

  /** The validated document for `clientId`; throws OAuthError `invalid_client` with the reason. */
  async get(clientId: string): Promise<ClientDocument> {
    const url = documentUrl(clientId, this.o.allowLoopback);
    const hit = this.cache.get(clientId);
    if (hit && hit.until > this.now()) return hit.doc;
    let p = this.inflight.get(clientId);
    if (!p) {
      p = this.load(url).finally(() => this.inflight.delete(clientId));
      this.inflight.set(clientId, p);
    }
    return p;
  }

  private async load(url: URL): Promise<ClientDocument> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.o.timeoutMs);
    let fetched: { text: string; ttlMs: number };
    try {
      fetched = await Promise.race([
        download(url, this.o, controller.signal),
        // DNS lookups cannot be aborted: the deadline wins the race instead.
        new Promise<never>((_, reject) =>
          controller.signal.addEventListener('abort', () => reject(new OAuthError('invalid_client', 'client metadata document refused: timed out'))),
        ),
      ]);
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      return refuse(controller.signal.aborted ? 'timed out' : 'the document could not be fetched');
    } finally {
      clearTimeout(timer);
    }
    let body: unknown;
    try {
      body = JSON.parse(fetched.text);
    } catch {
      return refuse('the document is not JSON');
    }
    const doc = validateDocument(body, url);
    if (fetched.ttlMs > 0) {
      if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(url.href, { doc, until: this.now() + fetched.ttlMs });
    }
    return doc;
  }
}

function validateDocument(body: unknown, url: URL): ClientDocument {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return refuse('the document must be a JSON object');
  const d = body as Record<string, unknown>;
  // CIMD 4.1: the document's client_id MUST equal the URL it was fetched from, exactly.
  if (d.client_id !== url.href) refuse('its client_id does not match the URL it was fetched from');
  // CIMD 4.1: no shared secrets; this server supports only public document clients.
  if ('client_secret' in d || 'client_secret_expires_at' in d) refuse('a metadata document must not carry a client secret');
  let meta: ClientMetadata;
  try {
    meta = validateClientMetadata(d, ['none']);
  } catch (err) {
    return refuse(err instanceof OAuthError ? err.description : 'invalid metadata');
  }
  return { ...meta, clientId: url.href, host: url.host };
}
