/**
 * IP address string functions of Logs Insights: validity checks and CIDR membership for IPv4 and
 * IPv6. Pure string parsing (node:net's isIP for validity, own bit arithmetic for subnets), no DNS.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** IPv4 dotted quad → 4 bytes, or null. */
export function v4Bytes(s: string): number[] | null {
  if (!isIPv4(s)) return null;
  return s.split('.').map(Number);
}

/** IPv6 (incl. `::` and embedded IPv4) → 16 bytes, or null. */
export function v6Bytes(s: string): number[] | null {
  const zone = s.indexOf('%');
  const addr = zone >= 0 ? s.slice(0, zone) : s;
  if (!isIPv6(addr)) return null;
  let head = addr;
  let tailV4: number[] = [];
  const lastColon = addr.lastIndexOf(':');
  if (addr.slice(lastColon + 1).includes('.')) {
    const v4 = v4Bytes(addr.slice(lastColon + 1));
    if (!v4) return null;
    tailV4 = v4;
    head = `${addr.slice(0, lastColon + 1)}0:0`;
  }
  const [l, r] = head.includes('::') ? head.split('::') : [head, undefined];
  const left = l ? l.split(':') : [];
  const right = r !== undefined && r !== '' ? r.split(':') : [];
  const fill = r === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array(fill).fill('0'), ...right].map((g) => Number.parseInt(g, 16));
  if (groups.length !== 8) return null;
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 255);
  if (tailV4.length) bytes.splice(12, 4, ...tailV4);
  return bytes;
}

export function isValidIpV4(s: unknown): boolean {
  return typeof s === 'string' && isIPv4(s);
}

export function isValidIpV6(s: unknown): boolean {
  return typeof s === 'string' && v6Bytes(s) !== null;
}

export function isValidIp(s: unknown): boolean {
  return isValidIpV4(s) || isValidIpV6(s);
}

function inSubnet(ip: number[], net: number[], prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit++) {
    const byte = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((ip[byte] & mask) !== (net[byte] & mask)) return false;
  }
  return true;
}

function parseCidr(subnet: string, family: 4 | 6): { net: number[]; prefix: number } | null {
  const slash = subnet.indexOf('/');
  const addr = slash >= 0 ? subnet.slice(0, slash) : subnet;
  const net = family === 4 ? v4Bytes(addr) : v6Bytes(addr);
  if (!net) return null;
  const max = family === 4 ? 32 : 128;
  // Decimal digits only: Number('') is 0, so '10.0.0.0/' would otherwise mean /0 (every address),
  // and Number() also takes ' 8', '0x8', '8.0' or '1e1'.
  const digits = slash >= 0 ? subnet.slice(slash + 1) : String(max);
  if (!/^\d{1,3}$/.test(digits)) return null;
  const prefix = Number(digits);
  if (prefix > max) return null;
  return { net, prefix };
}

export function isIpv4InSubnet(ip: unknown, subnet: unknown): boolean {
  if (typeof ip !== 'string' || typeof subnet !== 'string') return false;
  const a = v4Bytes(ip);
  const c = parseCidr(subnet, 4);
  return !!a && !!c && inSubnet(a, c.net, c.prefix);
}

export function isIpv6InSubnet(ip: unknown, subnet: unknown): boolean {
  if (typeof ip !== 'string' || typeof subnet !== 'string') return false;
  const a = v6Bytes(ip);
  const c = parseCidr(subnet, 6);
  return !!a && !!c && inSubnet(a, c.net, c.prefix);
}

export function isIpInSubnet(ip: unknown, subnet: unknown): boolean {
  return isIpv4InSubnet(ip, subnet) || isIpv6InSubnet(ip, subnet);
}

/** `a.b.c.d` → a·2²⁴ + b·2¹⁶ + c·2⁸ + d, or null when not a valid IPv4 address. */
export function ipv4ToNumber(s: unknown): number | null {
  const b = typeof s === 'string' ? v4Bytes(s) : null;
  return b ? ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3] : null;
}

type Range = [bytes: number[], prefix: number];

function cidrs(list: string[], family: 4 | 6): Range[] {
  return list.map((c) => {
    const p = parseCidr(c, family)!;
    return [p.net, p.prefix];
  });
}

/** RFC 1918 private networks and IPv6 unique local addresses (RFC 4193). */
const PRIVATE_V4 = cidrs(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], 4);
const PRIVATE_V6 = cidrs(['fc00::/7'], 6);

/**
 * IANA special-purpose registries (RFC 6890 and successors) other than the private networks above:
 * "this network", shared address space, loopback, link-local, IETF protocol assignments,
 * documentation, 6to4 relay, benchmarking, multicast, reserved and broadcast; for IPv6 the
 * unspecified and loopback addresses, IPv4-translation prefixes, discard-only, IETF protocol
 * assignments (incl. Teredo), documentation, 6to4, link-local and multicast.
 */
const RESERVED_V4 = cidrs(
  [
    '0.0.0.0/8',
    '100.64.0.0/10',
    '127.0.0.0/8',
    '169.254.0.0/16',
    '192.0.0.0/24',
    '192.0.2.0/24',
    '192.88.99.0/24',
    '198.18.0.0/15',
    '198.51.100.0/24',
    '203.0.113.0/24',
    '224.0.0.0/4',
    '240.0.0.0/4',
  ],
  4,
);
const RESERVED_V6 = cidrs(
  [
    '::/128',
    '::1/128',
    '64:ff9b::/96',
    '64:ff9b:1::/48',
    '100::/64',
    '2001::/23',
    '2001:db8::/32',
    '2002::/16',
    'fe80::/10',
    'ff00::/8',
  ],
  6,
);

function v4OfMapped(b: number[]): number[] | null {
  // ::ffff:a.b.c.d is the IPv4 address a.b.c.d.
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return null;
  return b[10] === 255 && b[11] === 255 ? b.slice(12) : null;
}

function classify(s: unknown): 'private' | 'reserved' | 'public' | null {
  if (typeof s !== 'string') return null;
  let b = v4Bytes(s);
  let family: 4 | 6 = 4;
  if (!b) {
    const b6 = v6Bytes(s);
    if (!b6) return null;
    const mapped = v4OfMapped(b6);
    if (mapped) b = mapped;
    else {
      b = b6;
      family = 6;
    }
  }
  const bytes = b;
  const hit = (rs: Range[]) => rs.some(([net, prefix]) => inSubnet(bytes, net, prefix));
  if (hit(family === 4 ? PRIVATE_V4 : PRIVATE_V6)) return 'private';
  if (hit(family === 4 ? RESERVED_V4 : RESERVED_V6)) return 'reserved';
  return 'public';
}

/** True for RFC 1918 IPv4 and fc00::/7 IPv6 addresses; false for other valid ones; null when not an IP. */
export function isPrivateIp(s: unknown): boolean | null {
  const c = classify(s);
  return c === null ? null : c === 'private';
}

/** True for IANA special-purpose addresses that are not private (loopback, link-local, multicast, …). */
export function isReservedIp(s: unknown): boolean | null {
  const c = classify(s);
  return c === null ? null : c === 'reserved';
}

/** True for valid addresses that are neither private nor reserved. */
export function isPublicIp(s: unknown): boolean | null {
  const c = classify(s);
  return c === null ? null : c === 'public';
}
