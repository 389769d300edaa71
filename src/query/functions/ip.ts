/**
 * IP address string functions of Logs Insights: validity checks and CIDR membership for IPv4 and
 * IPv6. Pure string parsing (node:net's isIP for validity, own bit arithmetic for subnets), no DNS.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** IPv4 dotted quad → 4 bytes, or null. */
function v4Bytes(s: string): number[] | null {
  if (!isIPv4(s)) return null;
  return s.split('.').map(Number);
}

/** IPv6 (incl. `::` and embedded IPv4) → 16 bytes, or null. */
function v6Bytes(s: string): number[] | null {
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
