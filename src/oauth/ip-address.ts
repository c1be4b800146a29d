import { isIP } from 'node:net';

/**
 * What an IP address is, for the Client ID Metadata Document fetcher (SECURITY 15, SSRF): only
 * `public` addresses may be fetched (plus `loopback` in tests). Ranges from the IANA IPv4 and IPv6
 * Special-Purpose Address Registries (RFC 6890 and its updates). IPv6 forms that embed an IPv4
 * address (mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that address,
 * so `::ffff:127.0.0.1` is loopback and `::ffff:169.254.169.254` link-local.
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared' // RFC 6598 carrier-grade NAT
  | 'unique-local'
  | 'multicast'
  | 'unspecified'
  | 'reserved'
  | 'invalid';

const V4_RANGES: [string, number, AddressClass][] = [
  ['0.0.0.0', 8, 'unspecified'], // RFC 791 "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8, 'private'], // RFC 1918
  ['100.64.0.0', 10, 'shared'], // RFC 6598
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // RFC 3927, incl. cloud metadata 169.254.169.254
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'reserved'], // TEST-NET-1
  ['192.88.99.0', 24, 'reserved'], // 6to4 relay anycast (deprecated)
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'reserved'], // TEST-NET-2
  ['203.0.113.0', 24, 'reserved'], // TEST-NET-3
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // incl. 255.255.255.255 broadcast
];

function v4Number(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

const V4_TABLE = V4_RANGES.map(([base, bits, cls]) => ({ base: v4Number(base)!, size: 2 ** (32 - bits), cls }));

function classifyV4(n: number): AddressClass {
  for (const r of V4_TABLE) if (n >= r.base && n < r.base + r.size) return r.cls;
  return 'public';
}

/**
 * Eight 16-bit groups, or null. Accepts `::` compression, an embedded dotted IPv4 tail and a zone
 * id. Also used by policy/client-ip.ts.
 */
export function v6Groups(ip: string): number[] | null {
  let s = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // a dotted IPv4 tail (::ffff:1.2.3.4) becomes its two hex groups
    const v4 = v4Number(last);
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  for (const g of [...head, ...rest]) if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
  const hex = (list: string[]) => list.map((g) => parseInt(g, 16));
  if (halves.length === 1) return head.length === 8 ? hex(head) : null;
  const zeros = 8 - head.length - rest.length;
  if (zeros < 1) return null;
  return [...hex(head), ...new Array<number>(zeros).fill(0), ...hex(rest)];
}

function classifyV6(g: number[]): AddressClass {
  const embedded = (hi: number, lo: number) => classifyV4(hi * 65536 + lo);
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroTo(8)) return 'unspecified';
  if (zeroTo(7) && g[7] === 1) return 'loopback';
  if (zeroTo(5) && g[5] === 0xffff) return embedded(g[6]!, g[7]!); // ::ffff:0:0/96 IPv4-mapped
  if (zeroTo(6)) return 'reserved'; // ::/96 IPv4-compatible (deprecated)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return embedded(g[6]!, g[7]!); // NAT64 (RFC 6052)
  if (g[0] === 0x2002) return embedded(g[1]!, g[2]!); // 6to4 (RFC 3056)
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique-local'; // fc00::/7
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((g[0]! & 0xffc0) === 0xfec0) return 'private'; // fec0::/10 site-local (deprecated)
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  if ((g[0]! & 0xe000) !== 0x2000) return 'reserved'; // outside 2000::/3 global unicast (incl. 64:ff9b:1::/48, 100::/64)
  if (g[0] === 0x2001 && g[1]! < 0x200) return 'reserved'; // 2001::/23 IETF protocol assignments (Teredo, ...)
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved'; // documentation
  if ((g[0]! & 0xfff0) === 0x3ff0) return 'reserved'; // 3fff::/20 documentation
  if (g[0] === 0x5f00) return 'reserved'; // SRv6 SIDs
  return 'public';
}

export function classifyAddress(ip: string): AddressClass {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const family = isIP(bare.split('%')[0]!);
  if (family === 4) return classifyV4(v4Number(bare)!);
  if (family === 6) {
    const g = v6Groups(bare);
    return g ? classifyV6(g) : 'invalid';
  }
  return 'invalid';
}

/** May the server connect there? Public addresses only; loopback too when tests allow it. */
export function addressAllowed(ip: string, allowLoopback: boolean): boolean {
  const c = classifyAddress(ip);
  return c === 'public' || (allowLoopback && c === 'loopback');
}
