import { isIP } from 'node:net';
import { GangwayConfigError, shown } from '../errors.ts';
import { v6Groups } from '../oauth/ip-address.ts';

/**
 * The client address of a request (SECURITY 40): the socket peer, unless that peer is one of the
 * reverse proxies the operator named in `http.trustedProxies`; then `X-Forwarded-For` is read
 * from the right, each trusted hop vouching for the entry to its left, and the first address no
 * trusted proxy claims is the client. Entries left of it were written by the client and are
 * never read. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291 2.5.5.2) counts as the IPv4 address,
 * so dual-stack sockets and IPv4 rules agree. Runs on every request: rules are numbers built
 * once at start-up, and the usual case (no proxy) is one string check.
 */

/** A parsed address: exactly one of `v4` (32-bit number) or `v6` (four 32-bit words) is set. */
export interface Address {
  /** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
  readonly text: string;
  readonly v4: number | null;
  readonly v6: readonly number[] | null;
}

interface V4Rule {
  base: number;
  mask: number;
}

interface V6Rule {
  words: number[];
  masks: number[];
}

/** Far more hops than any real chain (CDN, load balancer, ingress); bounds the walk. */
const MAX_HOPS = 16;

export class TrustedProxies {
  /** No proxy configured: the socket peer is always the client. */
  readonly none: boolean;
  constructor(
    private readonly v4: readonly V4Rule[],
    private readonly v6: readonly V6Rule[],
  ) {
    this.none = v4.length === 0 && v6.length === 0;
  }

  /** Is this parsed address one of the trusted proxies? */
  includes(a: Address): boolean {
    if (a.v4 !== null) {
      for (const r of this.v4) if ((a.v4 & r.mask) >>> 0 === r.base) return true;
      return false;
    }
    const w = a.v6!;
    next: for (const r of this.v6) {
      for (let i = 0; i < 4; i++) if ((w[i]! & r.masks[i]!) >>> 0 !== r.words[i]) continue next;
      return true;
    }
    return false;
  }

  /** The same for an address as text (a socket address may carry a zone id, `fe80::1%eth0`). */
  contains(ip: string): boolean {
    const zone = ip.indexOf('%');
    const a = parseAddress(zone < 0 ? ip : ip.slice(0, zone));
    return a !== null && this.includes(a);
  }
}

const NONE = new TrustedProxies([], []);

/** `::ffff:a.b.c.d` as `a.b.c.d`; anything else unchanged. The cheap normalisation of every socket address. */
export function unmapped(ip: string): string {
  if (ip.length > 7 && (ip.startsWith('::ffff:') || ip.startsWith('::FFFF:'))) {
    const tail = ip.slice(7);
    if (v4Value(tail) >= 0) return tail;
  }
  return ip;
}

/**
 * A dotted quad as a 32-bit number, or -1: exactly four decimal parts 0-255, no leading zeros
 * (`010.0.0.1` is octal to some parsers, so it is refused, as node's isIP does). A loop, not a
 * regular expression: it runs on every request behind a proxy.
 */
function v4Value(text: string): number {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      if (c < 48 || c > 57 || (digits > 0 && part === 0)) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    }
  }
  return dots === 3 && digits > 0 ? n * 256 + part : -1;
}

/** A bare IPv4 or IPv6 literal (no brackets, port or zone id), or null. */
export function parseAddress(text: string): Address | null {
  const n = v4Value(text);
  if (n >= 0) return { text, v4: n, v6: null };
  if (isIP(text) !== 6 || text.includes('%')) return null;
  const g = v6Groups(text);
  if (!g) return null;
  // RFC 4291 2.5.5.2: ::ffff:0:0/96 carries an IPv4 address
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const n = (g[6]! * 65536 + g[7]!) >>> 0;
    return { text: v4Text(n), v4: n, v6: null };
  }
  const words = [0, 1, 2, 3].map((i) => (g[2 * i]! * 65536 + g[2 * i + 1]!) >>> 0);
  return { text: v6Text(g), v4: null, v6: words };
}

/**
 * Reads `http.trustedProxies`: addresses (`10.0.0.7`, `::1`) and CIDR ranges (`10.0.0.0/8`,
 * `fd00::/8`). A range with host bits set is refused: `10.0.0.1/8` is more likely a typo than a
 * wish to trust 16 million addresses.
 */
export function parseTrustedProxies(list: string[] | undefined): TrustedProxies {
  if (list === undefined) return NONE;
  if (!Array.isArray(list)) configError('must be an array of IP addresses or CIDR ranges');
  const v4: V4Rule[] = [];
  const v6: V6Rule[] = [];
  for (const raw of list) {
    if (typeof raw !== 'string') configError(`${shown(raw)} is not a string`);
    const entry = raw.trim();
    const slash = entry.indexOf('/');
    const a = parseAddress(slash < 0 ? entry : entry.slice(0, slash));
    if (!a) configError(`"${shown(entry)}" is not an IP address or CIDR range`);
    // `::ffff:10.0.0.0/104` is an IPv4 range written in IPv6 terms: its prefix counts the 96 mapping bits
    const written6 = entry.includes(':');
    let prefix = written6 ? 128 : 32;
    if (slash >= 0) {
      const p = entry.slice(slash + 1);
      if (!/^\d{1,3}$/.test(p) || Number(p) > prefix) configError(`"${shown(entry)}" has an invalid prefix length`);
      prefix = Number(p);
    }
    if (a.v4 === null) addV6(v6, v4, [...a.v6!], prefix, entry);
    else if (written6 && prefix < 96) addV6(v6, v4, [0, 0, 0xffff, a.v4], prefix, entry); // wider than the mapped block
    else addV4(v4, a.v4, written6 ? prefix - 96 : prefix, entry);
  }
  return v4.length + v6.length === 0 ? NONE : new TrustedProxies(v4, v6);
}

function configError(msg: string): never {
  throw new GangwayConfigError('GW_CONFIG_HTTP', `http.trustedProxies: ${msg}`);
}

function addV4(v4: V4Rule[], base: number, prefix: number, entry: string): void {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const net = (base & mask) >>> 0;
  if (net !== base) configError(`"${shown(entry)}" has host bits set (did you mean ${v4Text(net)}/${prefix}?)`);
  v4.push({ base, mask });
}

function addV6(v6: V6Rule[], v4: V4Rule[], words: number[], prefix: number, entry: string): void {
  const masks = [0, 1, 2, 3].map((i) => {
    const bits = Math.min(32, Math.max(0, prefix - 32 * i));
    return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  });
  if (words.some((w, i) => (w & masks[i]!) >>> 0 !== w)) configError(`"${shown(entry)}" has host bits set`);
  v6.push({ words, masks });
  // Mapped addresses are matched as IPv4: a range holding all of ::ffff:0:0/96 (`::/0`) trusts every IPv4 address too.
  const mapped = [0, 0, 0xffff, 0];
  if (prefix <= 96 && mapped.every((w, i) => (w & masks[i]!) >>> 0 === words[i])) v4.push({ base: 0, mask: 0 });
}

/**
 * The client address of one request. `socketIp` is the TCP peer; `forwardedFor` every
 * `X-Forwarded-For` header, comma-joined (as Node and fetch join repeated headers). Only hops
 * in `trusted` are believed; a malformed entry stops the walk at the last trusted hop, so the
 * answer is always an address some trusted party saw, never text a client chose.
 */
export function clientIp(socketIp: string, forwardedFor: string | undefined, trusted: TrustedProxies): string {
  const peer = unmapped(socketIp);
  if (trusted.none || forwardedFor === undefined || !trusted.contains(peer)) return peer;
  let view = peer;
  let end = forwardedFor.length;
  for (let hops = 0; end >= 0 && hops < MAX_HOPS; hops++) {
    const start = end === 0 ? -1 : forwardedFor.lastIndexOf(',', end - 1);
    const entry = parseAddress(withoutPort(forwardedFor.slice(start + 1, end).trim()));
    if (!entry) return view;
    if (!trusted.includes(entry)) return entry.text;
    view = entry.text;
    end = start;
  }
  return view;
}

/** Some gateways append the client's port: `1.2.3.4:5678`, `[2001:db8::1]:5678`, `[2001:db8::1]`. */
function withoutPort(entry: string): string {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    return close > 0 && (close === entry.length - 1 || /^:\d{1,5}$/.test(entry.slice(close + 1))) ? entry.slice(1, close) : entry;
  }
  const colon = entry.indexOf(':');
  return colon > 0 && colon === entry.lastIndexOf(':') && /^:\d{1,5}$/.test(entry.slice(colon)) ? entry.slice(0, colon) : entry;
}

/**
 * The key a per-address limit counts under: an IPv4 address as it is, an IPv6 address by its
 * /64 (one host is usually given a whole /64, and could rotate through it).
 */
export function addressBucket(ip: string): string {
  const a = parseAddress(ip);
  if (!a?.v6) return a?.text ?? ip;
  const [w0, w1] = a.v6 as [number, number];
  return `${[w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff].map((x) => x.toString(16)).join(':')}::/64`;
}

function v4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 4: lower case, no leading zeros, the longest run (>= 2) of zero groups as `::`. */
function v6Text(g: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (list: readonly number[]) => list.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
